// TextModel module: see the issue that builds it. Nothing here yet.
