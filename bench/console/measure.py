#!/usr/bin/env python3
"""Drives the real console on a pseudo-terminal and times it from the frame trace it writes
(SWITCHBOARD_TRACE_FRAMES: one line per frame written, `UNIX-TIME CELLS COMPLETE ROWS`).

usage: measure.py BINARY COLS ROWS IDLE_SECONDS STARTS
Prints `key value` lines: start_ms (median of STARTS starts), filter_ms (each keystroke), pagedown_ms,
sort_ms, rss_mb, hwm_mb, idle_bytes, idle_frames.
"""
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import sys
import tempfile
import termios
import threading
import time

binary, cols, rows, idle_seconds, starts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])


class Console:
    def __init__(self):
        fd, self.trace = tempfile.mkstemp(prefix="sb-frames-")
        os.close(fd)
        env = dict(os.environ, TERM="xterm-256color", SWITCHBOARD_TRACE_FRAMES=self.trace, LANG="C.UTF-8", LC_ALL="C.UTF-8")
        self.started = time.time()
        self.pid, self.master = pty.fork()
        if self.pid == 0:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.execve(binary, [binary, "console"], env)
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.bytes = 0
        self.lock = threading.Lock()
        self.alive = True
        self.reader_state = "running"
        threading.Thread(target=self.reader, daemon=True).start()

    def reader(self):
        while self.alive:
            r, _, _ = select.select([self.master], [], [], 0.2)
            if not r:
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError as e:
                self.reader_state = f"error {e}"
                return
            if not data:
                self.reader_state = "eof"
                return
            with self.lock:
                self.bytes += len(data)

    def frames(self):
        with open(self.trace) as f:
            out = []
            for line in f:
                p = line.split()
                if len(p) == 4:
                    out.append((float(p[0]), int(p[1]), p[2] == "1", int(p[3])))
            return out

    def wait_frame(self, after_count, condition=lambda f: True, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            fr = self.frames()
            for f in fr[after_count:]:
                if condition(f):
                    return f, len(fr)
            time.sleep(0.001)
        raise SystemExit(f"no frame within {timeout}s")

    def key(self, text, condition=lambda f: True):
        """Sends keys; the time from sending to the first frame written after it that satisfies condition."""
        n = len(self.frames())
        sent = time.time()
        os.write(self.master, text.encode())
        f, _ = self.wait_frame(n, condition)
        return (f[0] - sent) * 1000, f

    def rss(self):
        vals = {}
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    vals[k] = int(v.split()[0]) / 1024
        return vals["VmRSS"], vals["VmHWM"]

    def quit(self):
        os.write(self.master, b"q")
        deadline = time.time() + 10
        while time.time() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                break
            time.sleep(0.05)
        else:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        self.alive = False
        os.unlink(self.trace)


# Start to first complete frame (header and the 80,000-row device table loaded and drawn).
start_times = []
for _ in range(starts):
    c = Console()
    f, _ = c.wait_frame(0, lambda f: f[2] and f[3] > 0, timeout=60)
    start_times.append((f[0] - c.started) * 1000)
    c.quit()
print("start_ms", " ".join(f"{t:.0f}" for t in start_times))

c = Console()
f, n = c.wait_frame(0, lambda f: f[2] and f[3] > 0, timeout=60)
total_rows = f[3]
time.sleep(1)
rss_loaded, _ = c.rss()
# Filter: each keystroke of `d7999`, then of a substring that matches everywhere (`1`), each to its frame.
c.key("/")
filter_ms = []
for ch in "d7999":
    ms, f = c.key(ch)
    filter_ms.append(ms)
narrowed = f[3]
ms, f = c.key("\x1b", lambda f: f[3] == total_rows)  # Esc: back to every row
filter_ms.append(ms)
c.key("/")
for ch in "12":
    ms, f = c.key(ch)
    filter_ms.append(ms)
ms, f = c.key("\x1b", lambda f: f[3] == total_rows)
filter_ms.append(ms)
print("filter_ms", " ".join(f"{t:.1f}" for t in filter_ms), f"(d7999 leaves {narrowed} of {total_rows})")
# Page down through the table, from its first row (the filter left the cursor near d7999, at the end).
os.write(c.master, b"g")
time.sleep(0.3)
pagedown = []
for i in range(30):
    try:
        ms, _ = c.key("\x1b[6~")
    except SystemExit:
        print(f"page down {i}: no frame; last frames {c.frames()[-5:]} now {time.time()} bytes {c.bytes} reader {c.reader_state}", file=sys.stderr)
        raise
    pagedown.append(ms)
print("pagedown_ms", " ".join(f"{t:.1f}" for t in pagedown))
# Sorting by the next column (on the input thread).
sort_ms = []
for _ in range(2):
    ms, _ = c.key(">")
    sort_ms.append(ms)
print("sort_ms", " ".join(f"{t:.0f}" for t in sort_ms))
rss, hwm = c.rss()
print("rss_mb", f"{rss_loaded:.0f} {rss:.0f}")
print("hwm_mb", f"{hwm:.0f}")
# Idle: a 1-second refresh of unchanged data; count what reaches the terminal.
c.key(":refresh 1\r")
time.sleep(7)   # the ":refresh" flash expires after 5 s
with c.lock:
    b0 = c.bytes
n0 = len(c.frames())
time.sleep(idle_seconds)
with c.lock:
    idle = c.bytes - b0
print("idle_bytes", idle)
print("idle_frames", len(c.frames()) - n0)
_, hwm = c.rss()
print("hwm_after_idle_mb", f"{hwm:.0f}")
c.quit()
