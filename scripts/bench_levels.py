"""Helpers shared by the environment benchmarks: level reading and the action stream."""


def read_levels(path):
    """Boards of a Boxoban or XSB file as lists of rows (board lines contain '#')."""
    levels, board = [], []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if "#" in line and not line.lstrip().startswith((";", "Title", "Comment", "Solution")):
            board.append(line)
        elif board:
            levels.append(board)
            board = []
    if board:
        levels.append(board)
    return levels


def splitmix64(seed):
    mask = (1 << 64) - 1
    while True:
        seed = (seed + 0x9E3779B97F4A7C15) & mask
        z = seed
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        yield z ^ (z >> 31)
