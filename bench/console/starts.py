#!/usr/bin/env python3
"""Where the console's start goes: runs the real console on a pseudo-terminal STARTS times (as
measure.py's start_ms does) with SWITCHBOARD_TRACE_START set, and prints for each mark the median
time from launch (before fork) to that mark, then start_ms (launch to the first complete frame with
rows) as measure.py reports it. The database comes from SWITCHBOARD_DB or the settings, as for
measure.py.

usage: starts.py BINARY STARTS [COLS ROWS]
"""
import os
import statistics
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
binary, starts = sys.argv[1], int(sys.argv[2])
cols, rows = (sys.argv[3], sys.argv[4]) if len(sys.argv) > 4 else ("120", "40")
# measure.py's Console class (pseudo-terminal, frame trace), without running its measurements.
sys.argv = [sys.argv[0], binary, cols, rows, "0", "0"]
source = open(os.path.join(here, "measure.py")).read().split("# Start to first complete frame")[0]
namespace = {"__name__": "measure"}
exec(compile(source, "measure.py", "exec"), namespace)
Console = namespace["Console"]

marks = {}      # name -> [ms from launch], in first-seen order
order = []
totals = []
for _ in range(starts):
    fd, trace = tempfile.mkstemp(prefix="sb-start-")
    os.close(fd)
    os.environ["SWITCHBOARD_TRACE_START"] = trace
    c = Console()
    f, _ = c.wait_frame(0, lambda f: f[2] and f[3] > 0, timeout=60)
    totals.append((f[0] - c.started) * 1000)
    time.sleep(0.3)
    c.quit()
    seen = {}
    with open(trace) as t:
        for line in t:
            stamp, _, name = line.strip().partition(" ")
            # Repeated marks (two connects, several frames) are numbered in the order they came.
            base = name.split(" ")[0] if name.startswith(("frame", "pg-devices-answered")) else name
            seen[base] = seen.get(base, 0) + 1
            key = base if seen[base] == 1 else f"{base} #{seen[base]}"
            if key not in marks:
                marks[key] = []
                order.append(key)
            marks[key].append((float(stamp) - c.started) * 1000)
    os.unlink(trace)
    time.sleep(0.2)

for key in sorted(order, key=lambda k: statistics.median(marks[k])):
    v = marks[key]
    print(f"{statistics.median(v):8.1f} ms  {key}  ({len(v)} of {starts})")
print("start_ms median %.0f (min %.0f, max %.0f):" % (statistics.median(totals), min(totals), max(totals)),
      " ".join("%.0f" % t for t in totals))
