// SokobanTests: tests of the module arrive with the issue that builds it.
