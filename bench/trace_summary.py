#!/usr/bin/env python3
"""Where a step's time went, from a profiler trace (`ijepa bench --trace FILE`, or torch.profiler's
export_chrome_trace). Usage: bench/trace_summary.py TRACE.json [TOP]

CPU: the operators by self time (their time less that of the operators they call), per thread.
CUDA: the kernels' busy time against the span they cover (a GPU busy a small part of its span
waits on the host), the kernels by time, and the CUDA runtime calls by count (synchronisations
and copies show up there).
"""
import collections, json, sys

trace = json.load(open(sys.argv[1]))  # Kineto: {"traceEvents": [...]}; the legacy profiler: [...]
events = [e for e in (trace["traceEvents"] if isinstance(trace, dict) else trace) if e.get("ph") == "X"]
top = int(sys.argv[2]) if len(sys.argv) > 2 else 15


def self_times(ops):
    """Self time of each operator name: nested events (same thread) are subtracted from their parent."""
    own = collections.Counter(); count = collections.Counter()
    by_thread = collections.defaultdict(list)
    for e in ops:
        by_thread[e["tid"]].append(e)
    for evs in by_thread.values():
        evs.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack = []  # [end, name]
        for e in evs:
            while stack and e["ts"] >= stack[-1][0]:
                stack.pop()
            if stack:
                own[stack[-1][1]] -= e["dur"]
            own[e["name"]] += e["dur"]; count[e["name"]] += 1
            stack.append([e["ts"] + e["dur"], e["name"]])
    return own, count


ops = [e for e in events if e.get("cat", "cpu_op") == "cpu_op"]
if ops:
    span = max(e["ts"] + e["dur"] for e in ops) - min(e["ts"] for e in ops)
    own, count = self_times(ops)
    total = sum(own.values())
    print(f"CPU operators: {len(ops)} calls, {total / 1e3:.1f} ms of self time (all threads) over a {span / 1e3:.1f} ms span")
    for name, t in own.most_common(top):
        print(f"{t / 1e3:10.1f} ms {t / total:6.1%} {count[name]:7d}x  {name}")
kernels = [e for e in events if e.get("cat") == "kernel"]
if kernels:
    span = max(e["ts"] + e["dur"] for e in kernels) - min(e["ts"] for e in kernels)
    busy = sum(e["dur"] for e in kernels)
    print(f"CUDA kernels: {len(kernels)}, busy {busy / 1e3:.1f} ms over a {span / 1e3:.1f} ms span ({busy / span:.0%})")
    t = collections.Counter(); n = collections.Counter()
    for e in kernels:
        t[e["name"][:100]] += e["dur"]; n[e["name"][:100]] += 1
    for name, d in t.most_common(top):
        print(f"{d / 1e3:10.1f} ms {n[name]:7d}x  {name}")
    calls = collections.Counter(e["name"] for e in events if e.get("cat") == "cuda_runtime")
    print("CUDA runtime calls:", ", ".join(f"{name} {c}" for name, c in calls.most_common(10)))
