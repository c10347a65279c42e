#!/usr/bin/env python3
"""Folds `perf script -F comm,ip,sym,dso` output (stdin) into one line per distinct stack (stdout):

    thread;outermost frame;...;leaf frame COUNT

Frames are "symbol [dso]" (the dso only when the symbol is unknown). Standard library only.
"""

import sys
from collections import Counter


def frame(line):
    text = line.strip()
    _, _, rest = text.partition(" ")  # drop the instruction pointer
    symbol, _, dso = rest.rpartition(" (")
    dso = dso.rstrip(")")
    if not symbol or symbol == "[unknown]":
        symbol = f"[unknown] [{dso.rsplit('/', 1)[-1]}]"
    return symbol.replace(";", ",")


def main():
    stacks = Counter()
    comm, frames = None, []
    for line in sys.stdin:
        if not line.strip():
            if comm is not None:
                stacks[";".join([comm] + frames[::-1])] += 1
            comm, frames = None, []
        elif line[0] == "\t":
            frames.append(frame(line))
        else:
            comm = line.strip().replace(";", ",")
    if comm is not None:
        stacks[";".join([comm] + frames[::-1])] += 1
    for stack, count in stacks.most_common():
        print(f"{stack} {count}")


if __name__ == "__main__":
    main()
