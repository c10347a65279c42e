#!/usr/bin/env python3
"""Where one proxy spends more CPU per request than another, from one bench/proxy/run.sh profile run.

    perf_diff.py OUT_DIR TARGET BASELINE [--inclusive] [--top N] [--match TEXT ...]

Reads OUT_DIR/perf/cpu.tsv (requests and CPU ticks of each profiled run) and OUT_DIR/perf/TARGET.folded.gz (whole
stacks, perf record -g). Each frame's share of the samples times the process' CPU per request gives µs per request,
so two targets profiled at different request rates compare per request. Prints the frames with the largest
difference (self time, or inclusive with --inclusive), and with --match the frames whose name contains any TEXT.
Standard library only.
"""

import argparse
import collections
import csv
import gzip
import os


def per_request(out_dir, target, inclusive):
    with open(os.path.join(out_dir, "perf", "cpu.tsv"), newline="") as f:
        runs = [r for r in csv.DictReader(f, delimiter="\t") if r["target"] == target and r["accepted"] == "1"]
    if not runs:
        raise SystemExit(f"perf_diff: no accepted profile of '{target}' in {out_dir}/perf/cpu.tsv")
    run = runs[-1]
    cpu_us_per_request = int(run["ticks"]) * 1e6 / os.sysconf("SC_CLK_TCK") / int(run["requests"])
    samples = collections.Counter()
    total = 0
    with gzip.open(os.path.join(out_dir, "perf", f"{target}.folded.gz"), "rt", errors="replace") as f:
        for line in f:
            stack, _, count = line.rstrip().rpartition(" ")
            frames = stack.split(";")
            total += int(count)
            for frame in (set(frames) if inclusive else frames[-1:]):
                samples[frame] += int(count)
    return {frame: n / total * cpu_us_per_request for frame, n in samples.items()}, cpu_us_per_request


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument("target")
    parser.add_argument("baseline")
    parser.add_argument("--inclusive", action="store_true")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--match", nargs="*", default=[])
    args = parser.parse_args()
    target, target_us = per_request(args.out_dir, args.target, args.inclusive)
    baseline, baseline_us = per_request(args.out_dir, args.baseline, args.inclusive)
    print(f"CPU µs/request under perf: {args.target} {target_us:.1f}, {args.baseline} {baseline_us:.1f}")
    print(f"{'diff':>7} {args.target[:10]:>10} {args.baseline[:10]:>10}  frame ({'inclusive' if args.inclusive else 'self'} µs/request)")
    frames = set(target) | set(baseline)
    by_difference = sorted(frames, key=lambda fr: target.get(fr, 0) - baseline.get(fr, 0), reverse=True)
    shown = by_difference[:args.top] + [fr for fr in by_difference if any(m in fr for m in args.match)]
    for frame in dict.fromkeys(shown):
        t, b = target.get(frame, 0), baseline.get(frame, 0)
        print(f"{t - b:7.2f} {t:10.2f} {b:10.2f}  {frame[:150]}")


if __name__ == "__main__":
    main()
