#!/usr/bin/env python3
"""Summarises one bench/proxy/run.sh run directory as markdown (stdout).

    summarize.py OUT_DIR CLK_TCK

Reads OUT_DIR/runs.tsv (one row per measured wrk run), OUT_DIR/environment.txt and, when present, OUT_DIR/perf/
(cpu.tsv and perf's flat profiles). Every figure is a median over the rounds; nothing is rounded before the median.
Standard library only.
"""

import csv
import os
import re
import statistics
import sys
from collections import defaultdict

LABEL = {
    "direct": "direct (backend 1)",
    "haproxy": "HAProxy",
    "nginx": "nginx",
    "stockyarp": "stock YARP 2.3",
    "gateway": "gateway",
    "gateway_bare": "gateway, request telemetry off",
    "gateway_traced": "gateway, traces exported (OTLP, default sampling)",
}
ORDER = ["direct", "haproxy", "nginx", "stockyarp", "gateway_bare", "gateway", "gateway_traced"]
# Pairs whose per-round req/s ratio is printed (when both ran): against the baselines, and the telemetry's cost.
RATIO_PAIRS = [("gateway", "stockyarp"), ("gateway_bare", "stockyarp"), ("gateway", "haproxy"), ("stockyarp", "haproxy"),
               ("gateway", "gateway_bare"), ("gateway_traced", "gateway_bare")]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def num(text):
    return None if text in ("", "-") else float(text)


def fmt(value, digits=0, suffix=""):
    if value is None:
        return "–"
    return f"{value:,.{digits}f}{suffix}"


def ratio(a, b):
    return None if a is None or not b else a / b


def load_runs(out_dir, clk_tck):
    """Accepted runs by (concurrency, target), and how many runs were rejected as disturbed."""
    runs = defaultdict(list)  # (concurrency, target) -> [row]
    every = defaultdict(list)  # the same, with the rejected runs
    rejected = defaultdict(int)
    with open(os.path.join(out_dir, "runs.tsv"), newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            r = {k: num(v) if k != "target" else v for k, v in row.items()}
            requests = r["requests"]
            tick_us = 1e6 / clk_tck
            r["proxy_us_per_req"] = None if r["proxy_ticks"] is None else r["proxy_ticks"] * tick_us / requests
            r["backend_us_per_req"] = r["backend_ticks"] * tick_us / requests
            ctx = r.get("proxy_ctx_switches")
            r["ctx_per_req"] = None if ctx is None else ctx / requests
            ours = (r["proxy_ticks"] or 0) + r["backend_ticks"] + r["wrk_ticks"]
            # Busy CPU on the machine that was neither wrk, the backends nor the target (other sessions, the idle
            # proxies' timers, the gateway's health probes), as a share of all CPUs.
            r["foreign_pct"] = 100.0 * (r["system_busy_ticks"] - ours) / r["system_total_ticks"]
            r["busy_pct"] = 100.0 * r["system_busy_ticks"] / r["system_total_ticks"]
            key = (int(r["concurrency"]), r["target"])
            every[key].append(r)
            if r["accepted"] == 0:
                rejected[key] += 1
            else:
                runs[key].append(r)
    return runs, every, rejected


def summarise(runs):
    summary = {}
    for key, rows in runs.items():
        summary[key] = {
            field: median([r.get(field) for r in rows])
            for field in ("rps", "p50_us", "p99_us", "mean_us", "proxy_us_per_req", "backend_us_per_req",
                          "proxy_rss_kib", "foreign_pct", "busy_pct", "loadavg1", "ctx_per_req", "proxy_threads")
        }
        summary[key]["rounds"] = len(rows)
        summary[key]["errors"] = int(sum(r["errors"] + r["non2xx"] for r in rows))
        summary[key]["rps_min"] = min(r["rps"] for r in rows)
        summary[key]["rps_max"] = max(r["rps"] for r in rows)
    return summary


def print_ratios(runs, conc, title):
    """
    The per-round ratios of every pair in RATIO_PAIRS that ran, with their medians: req/s, and the proxy's CPU per
    request. The second moves far less from run to run (it does not depend on how much of the two shared cores the
    proxy got), so a difference of a few per cent shows there first.
    """
    for a, b in RATIO_PAIRS:
        for field, what in (("rps", "req/s ratio"), ("proxy_us_per_req", "proxy CPU µs/req ratio")):
            ratios = per_round_ratios(runs, conc, a, b, field)
            if ratios:
                print()
                print(f"{title} {what} {LABEL[a]} / {LABEL[b]}: "
                      + ", ".join(f"{x:.3f}" for x in ratios)
                      + f" (median {statistics.median(ratios):.3f})")


def per_round_ratios(runs, conc, a, b, field="rps"):
    by_round_a = {r["round"]: r[field] for r in runs.get((conc, a), []) if r[field]}
    by_round_b = {r["round"]: r[field] for r in runs.get((conc, b), []) if r[field]}
    return [by_round_a[k] / by_round_b[k] for k in sorted(by_round_a) if k in by_round_b]


def throughput_table(summary, conc, targets):
    s = lambda t: summary.get((conc, t))
    haproxy, stock, direct = s("haproxy"), s("stockyarp"), s("direct")
    lines = [
        f"| target | req/s | min–max req/s | × HAProxy | × stock YARP | p50 µs | added p50 µs vs direct | p99 µs "
        f"| proxy CPU µs/req | proxy ctx switches/req | proxy threads | backend CPU µs/req "
        f"| RSS MiB{' (after run)' if conc == 32 else ''} | other CPU % | runs | errors |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for t in targets:
        m = s(t)
        if m is None:
            continue
        added = None if direct is None or t == "direct" else m["p50_us"] - direct["p50_us"]
        rss = None if m["proxy_rss_kib"] is None else m["proxy_rss_kib"] / 1024
        lines.append(
            f"| {LABEL[t]} | {fmt(m['rps'])} | {fmt(m['rps_min'])}–{fmt(m['rps_max'])} "
            f"| {fmt(ratio(m['rps'], haproxy and haproxy['rps']), 2)} | {fmt(ratio(m['rps'], stock and stock['rps']), 2)} "
            f"| {fmt(m['p50_us'])} | {fmt(added, 0, '') if t != 'direct' else '–'} | {fmt(m['p99_us'])} "
            f"| {fmt(m['proxy_us_per_req'], 1)} | {fmt(m['ctx_per_req'], 2)} | {fmt(m['proxy_threads'])} | {fmt(m['backend_us_per_req'], 1)} | {fmt(rss, 1)} "
            f"| {fmt(m['foreign_pct'], 1)} | {m['rounds']} | {m['errors']} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------------
# perf

ASSEMBLY = re.compile(r"\[([A-Za-z0-9_.]+)\]\s+([A-Za-z0-9_.`+<>]+)")
KERNEL_NET = re.compile(
    r"^_*(tcp|inet|ip_|ipv[46]|sock|sk_|skb|kfree_skb|consume_skb|alloc_skb|napi|net|loopback|dev_|nf_|neigh|dst_|"
    r"fib|rt_|csum|process_backlog|validate_xmit|lock_sock|release_sock|bbr|sys_(send|recv)|x64_sys_(send|recv)|"
    r"do_softirq|copy_(to|from)_iter|rep_movs|raw_local_deliver|ip|eth|tso|gso|gro)")
KERNEL_EPOLL = re.compile(r"epoll|^_*ep_|poll")
KERNEL_SCHED = re.compile(r"sched|futex|wake|finish_task_switch|switch_to|switch_mm|pick_next|enqueue|dequeue|"
                          r"update_curr|update_load|hrtimer|timer|_raw_spin|psi_|idle|yield|select_task")

BUCKETS = [
    "kernel: TCP/IP & sockets (loopback)",
    "kernel: epoll",
    "kernel: scheduler, wake-ups, futex, spinlocks",
    "kernel: other (syscall entry/exit, interrupts, memory, …)",
    "Kestrel + System.IO.Pipelines (server-side HTTP/1.1)",
    "ASP.NET Core other (hosting, routing, host filtering, HttpContext)",
    "YARP (Yarp.ReverseProxy)",
    "Gateway (our code: Gateway.*)",
    "HttpClient / SocketsHttpHandler (System.Net.Http)",
    "managed sockets (System.Net.Sockets/Primitives)",
    "CoreLib: async, tasks, thread pool",
    "CoreLib: other (strings, memory, collections, …)",
    "other managed (Microsoft.Extensions.*, other BCL)",
    "runtime: GC (server GC threads)",
    "runtime: libcoreclr on request threads (allocation, casts, stubs; stripped)",
    "JIT & tiered compilation",
    "System.Native (P/Invoke shims)",
    "libc / other native",
    "managed, unresolved (no perf map entry)",
]


def classify(comm, dso, kind, symbol):
    if "GC" in comm:
        return "runtime: GC (server GC threads)"
    if kind == "k" or dso.startswith("[kernel"):
        if KERNEL_EPOLL.search(symbol):
            return "kernel: epoll"
        if KERNEL_NET.search(symbol):
            return "kernel: TCP/IP & sockets (loopback)"
        if KERNEL_SCHED.search(symbol):
            return "kernel: scheduler, wake-ups, futex, spinlocks"
        return "kernel: other (syscall entry/exit, interrupts, memory, …)"
    if dso == "libclrjit.so" or comm.startswith(".NET Tiered"):
        return "JIT & tiered compilation"
    if dso == "libcoreclr.so":
        return "runtime: libcoreclr on request threads (allocation, casts, stubs; stripped)"
    if dso == "libSystem.Native.so":
        return "System.Native (P/Invoke shims)"
    m = ASSEMBLY.search(symbol)
    if m:
        assembly, type_name = m.group(1), m.group(2)
        if assembly == "Gateway":
            return "Gateway (our code: Gateway.*)"
        if assembly.startswith("Yarp"):
            return "YARP (Yarp.ReverseProxy)"
        if assembly.startswith("Microsoft.AspNetCore.Server.Kestrel") or assembly == "System.IO.Pipelines":
            return "Kestrel + System.IO.Pipelines (server-side HTTP/1.1)"
        if assembly.startswith("Microsoft.AspNetCore"):
            return "ASP.NET Core other (hosting, routing, host filtering, HttpContext)"
        if assembly == "System.Net.Http":
            return "HttpClient / SocketsHttpHandler (System.Net.Http)"
        if assembly in ("System.Net.Sockets", "System.Net.Primitives"):
            return "managed sockets (System.Net.Sockets/Primitives)"
        if assembly == "System.Private.CoreLib":
            if type_name.startswith(("System.Threading", "System.Runtime.CompilerServices")):
                return "CoreLib: async, tasks, thread pool"
            return "CoreLib: other (strings, memory, collections, …)"
        return "other managed (Microsoft.Extensions.*, other BCL)"
    if dso.startswith(("libc", "libpthread", "ld-linux", "libm", "libstdc++", "libgcc", "[vdso]")):
        return "libc / other native"
    if symbol.startswith(("stub<", "[stub")):
        # Runtime-generated stubs in the perf map: "stub<1> AllocateTemporaryEntryPoints<...>" and the like.
        return "runtime: libcoreclr on request threads (allocation, casts, stubs; stripped)"
    if dso.startswith(("perf-", "memfd:", "[JIT]", "[unknown]")) or dso.endswith(".dll"):
        return "managed, unresolved (no perf map entry)"
    return "libc / other native"


def load_profile(path):
    """perf report -F overhead,comm,dso,sym -t TAB: [(percent, comm, dso, kind, symbol)]"""
    entries = []
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            parts = [p.strip() for p in line.rstrip("\n").split("\t")]
            if len(parts) < 4 or not parts[0].endswith("%"):
                continue
            kind, _, symbol = parts[3].partition("] ")
            entries.append((float(parts[0].rstrip("%")), parts[1], parts[2], kind.lstrip("["), symbol))
    return entries


INCLUSIVE = [
    ("Gateway.Database.* and Gateway.Coordinator.* (background: database observer, supervisor)",
     r"\[Gateway\] Gateway\.(Database|Coordinator)\."),
    ("System.Diagnostics Activity / DiagnosticSource / Metrics", r"System\.Diagnostics\.(Activity|DiagnosticListener|DiagnosticSource|Metrics)"),
    ("Microsoft.Extensions.Logging", r"Microsoft\.Extensions\.Logging"),
    ("YARP active health checks", r"Yarp\.ReverseProxy\.Health\.Active"),
    ("YARP transforms (X-Forwarded etc.)", r"Yarp\.ReverseProxy\.Transforms"),
    ("host filtering", r"HostFiltering"),
    ("sched_yield syscall (any caller)", r"__x64_sys_sched_yield"),
    ("idle thread-pool workers spinning (LowLevelLifoSemaphore.Wait → sched_yield)",
     r"LowLevelLifoSemaphore::Wait.*__x64_sys_sched_yield"),
    ("epoll_wait syscall (socket engine waiting, incl. the switch away)", r"__x64_sys_epoll_wait"),
]


def inclusive_shares(path):
    """Share of samples (%) with at least one frame matching each INCLUSIVE pattern."""
    import gzip
    patterns = [re.compile(p) for _, p in INCLUSIVE]
    hits = [0] * len(patterns)
    total = 0
    with gzip.open(path, "rt", errors="replace") as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            n = int(count)
            total += n
            for i, p in enumerate(patterns):
                if p.search(stack):
                    hits[i] += n
    return [100.0 * h / total if total else 0.0 for h in hits]


def load_perf_cpu(out_dir, clk_tck):
    cpu = {}
    path = os.path.join(out_dir, "perf", "cpu.tsv")
    if not os.path.exists(path):
        return cpu
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            # The last attempt per target is the one whose perf data was kept.
            cpu[row["target"]] = {
                "us_per_req": float(row["ticks"]) * 1e6 / clk_tck / float(row["requests"]),
                "rps": float(row["rps"]),
                "other_pct": float(row.get("other_pct") or "nan"),
                "attempt": int(row.get("attempt") or 1),
            }
    return cpu


def perf_section(out_dir, clk_tck):
    cpu = load_perf_cpu(out_dir, clk_tck)
    profiled = [t for t in ("gateway", "stockyarp")
                if t in cpu and os.path.exists(os.path.join(out_dir, "perf", f"{t}.symbols.tsv"))]
    if not profiled:
        return ""
    profiles = {t: load_profile(os.path.join(out_dir, "perf", f"{t}.symbols.tsv")) for t in profiled}
    buckets = {t: defaultdict(float) for t in profiled}
    for t, entries in profiles.items():
        total = sum(e[0] for e in entries) or 1.0
        for pct, comm, dso, kind, symbol in entries:
            buckets[t][classify(comm, dso, kind, symbol)] += pct * 100.0 / total

    out = ["## Where the CPU goes (perf, one extra c32 run per .NET proxy)", ""]
    perf_args = "-F 999 -g"
    env_path = os.path.join(out_dir, "environment.txt")
    if os.path.exists(env_path):
        m = re.search(r'PERF_ARGS="([^"]*)"', open(env_path).read())
        perf_args = m.group(1) if m else perf_args
    out.append(f"Self time by bucket (`perf record -e cpu-clock {perf_args} -p <pid>`, flat profile by shared object and "
               "symbol, JIT-compiled code named through `DOTNET_PerfMapEnabled=1`). µs/req = share × the process's "
               "CPU per request measured from /proc during that same profiled run; perf's sampling inflates that "
               "figure, so compare shares, and take absolute CPU per request from the unprofiled tables.")
    out.append("")
    header = "| bucket | " + " | ".join(f"{LABEL[t]} % | {LABEL[t]} µs/req" for t in profiled)
    if len(profiled) == 2:
        header += " | gateway − stock µs/req"
    out.append(header + " |")
    out.append("|---|" + "--:|--:|" * len(profiled) + ("--:|" if len(profiled) == 2 else ""))
    for bucket in BUCKETS:
        if all(buckets[t][bucket] < 0.05 for t in profiled):
            continue
        cells = []
        for t in profiled:
            share = buckets[t][bucket]
            cells += [fmt(share, 1), fmt(share / 100 * cpu[t]["us_per_req"], 2)]
        if len(profiled) == 2:
            delta = (buckets["gateway"][bucket] / 100 * cpu["gateway"]["us_per_req"]
                     - buckets["stockyarp"][bucket] / 100 * cpu["stockyarp"]["us_per_req"])
            cells.append(fmt(delta, 2))
        out.append(f"| {bucket} | " + " | ".join(cells) + " |")
    cells = []
    for t in profiled:
        cells += ["100", fmt(cpu[t]["us_per_req"], 2)]
    if len(profiled) == 2:
        cells.append(fmt(cpu["gateway"]["us_per_req"] - cpu["stockyarp"]["us_per_req"], 2))
    out.append("| **total** | " + " | ".join(cells) + " |")
    out.append("")
    for t in profiled:
        threads = defaultdict(float)
        total = sum(e[0] for e in profiles[t]) or 1.0
        for pct, comm, *_ in profiles[t]:
            threads[comm] += pct * 100.0 / total
        out.append(f"Threads, {LABEL[t]}: " + ", ".join(
            f"{name} {share:.1f}%" for name, share in sorted(threads.items(), key=lambda kv: -kv[1]) if share >= 0.1) + ".")
        out.append("")
    out.append("Under perf: " + ", ".join(
        f"{LABEL[t]} {fmt(cpu[t]['rps'])} req/s and {fmt(cpu[t]['us_per_req'], 1)} CPU µs/req, other CPU "
        f"{fmt(cpu[t]['other_pct'], 0)}% (attempt {cpu[t]['attempt']})" for t in profiled) + ".")
    out.append("")

    folded = {t: os.path.join(out_dir, "perf", f"{t}.folded.gz") for t in profiled}
    folded = {t: p for t, p in folded.items() if os.path.exists(p)}
    if folded:
        shares = {t: inclusive_shares(p) for t, p in folded.items()}
        names = [t for t in profiled if t in shares]
        out.append("Inclusive view: share of samples with such a frame anywhere on the stack (the work those frames "
                   "did plus what they called synchronously). Not shown for the gateway's middleware: the outermost "
                   "one calls the whole forwarding path synchronously up to its first await, so its inclusive share "
                   "says nothing about its own cost; its self time is in the table above and listed below.")
        out.append("")
        out.append("| frames on the stack | " + " | ".join(f"{LABEL[t]} % | {LABEL[t]} µs/req" for t in names) + " |")
        out.append("|---|" + "--:|--:|" * len(names))
        for i, (label, _) in enumerate(INCLUSIVE):
            cells = []
            for t in names:
                cells += [fmt(shares[t][i], 1), fmt(shares[t][i] / 100 * cpu[t]["us_per_req"], 2)]
            out.append(f"| {label} | " + " | ".join(cells) + " |")
        out.append("")

    for t in profiled:
        entries = sorted(profiles[t], key=lambda e: -e[0])
        total = sum(e[0] for e in entries) or 1.0
        out.append(f"Top symbols, {LABEL[t]} (self %):")
        out.append("")
        out.append("| % | thread | bucket | symbol |")
        out.append("|--:|---|---|---|")
        for pct, comm, dso, kind, symbol in entries[:25]:
            out.append(f"| {pct * 100 / total:.2f} | {comm} | {classify(comm, dso, kind, symbol)} | `{short(symbol, dso)}` |")
        out.append("")
    if "gateway" in profiles:
        ours = [e for e in profiles["gateway"] if classify(*e[1:]).startswith("Gateway")]
        total = sum(e[0] for e in profiles["gateway"]) or 1.0
        out.append("Every Gateway.* symbol in the gateway's profile (self %):")
        out.append("")
        for pct, comm, dso, kind, symbol in sorted(ours, key=lambda e: -e[0]):
            out.append(f"- {pct * 100 / total:.2f}% `{short(symbol, dso)}`")
        if not ours:
            out.append("- (none sampled)")
        out.append("")
    return "\n".join(out)


def short(symbol, dso):
    symbol = symbol.replace("|", "\\|")
    if len(symbol) > 150:
        symbol = symbol[:147] + "..."
    return symbol if symbol and not symbol.startswith("0x") else f"{dso} {symbol}"


# ---------------------------------------------------------------------------------------------------------------


def main():
    out_dir, clk_tck = sys.argv[1], float(sys.argv[2])
    runs, every, rejected = load_runs(out_dir, clk_tck)
    summary = summarise(runs)
    targets = [t for t in ORDER if any(k[1] == t for k in summary)]
    rounds = max((m["rounds"] for m in summary.values()), default=0)

    env = {}
    with open(os.path.join(out_dir, "environment.txt")) as f:
        for line in f:
            key, _, value = line.partition(": ")
            env[key] = value.strip()

    print(f"# Proxy benchmark, {env.get('date_utc', '?')}")
    print()
    print(f"`{env.get('command', '?')}` — {env.get('cpus', '?')}, {env.get('os', '?')}, kernel {env.get('kernel', '?')}")
    print()
    if not summary:
        print("No measured rounds (ROUNDS=0): profiles only.")
    print(f"Medians over {rounds} interleaved rounds. wrk: `{env.get('wrk c32', '?')}` and `{env.get('wrk c1', '?')}`.")
    if rejected:
        print("Runs disturbed by other work on the machine (other CPU > the limit) were run again; left out: "
              + ", ".join(f"{LABEL[t]} c{c}: {n}" for (c, t), n in sorted(rejected.items())) + ".")
    else:
        print("No run was rejected as disturbed by other work.")
    print("Proxy CPU µs/req: utime+stime of the proxy's processes (all threads, nginx master+workers) during the run "
          "÷ requests. Other CPU %: busy CPU on the machine that was not wrk, the backends or the target, as a share "
          "of all CPUs.")
    for conc in sorted({k[0] for k in summary}, reverse=True):
        print()
        print(f"## Concurrency {conc} (wrk {'-t2 -c32' if conc == 32 else '-t1 -c1'})")
        print()
        print(f"Machine load average (1 min) at the runs' start: median "
              f"{median([r['loadavg1'] for k, rows in runs.items() if k[0] == conc for r in rows]):.2f}.")
        print()
        print(throughput_table(summary, conc, targets))
        print_ratios(runs, conc, "Per-round")
    limit = re.search(r"MAX_OTHER_PCT=(\d+)", env.get("settings", ""))
    if limit and rejected:
        limit = int(limit.group(1))
        clean = {k: [r for r in rows if r["other_pct"] <= limit] for k, rows in every.items()}
        clean = {k: rows for k, rows in clean.items() if rows}
        clean_summary = summarise(clean)
        print()
        print(f"## Undisturbed runs only (other CPU ≤ {limit}% of the machine)")
        print()
        print("The same figures over only the runs, accepted or repeated, during which other work on the machine took "
              f"at most {limit}% of its CPU; `runs` says how many each median rests on.")
        for conc in sorted({k[0] for k in clean_summary}, reverse=True):
            print()
            print(f"### Concurrency {conc}, undisturbed runs")
            print()
            print(throughput_table(clean_summary, conc, targets))
            print_ratios(clean, conc, "Rounds where both were undisturbed,")
    perf = perf_section(out_dir, clk_tck)
    if perf:
        print()
        print(perf)


if __name__ == "__main__":
    main()
