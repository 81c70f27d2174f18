#!/usr/bin/env python3
"""`:pulse` on the real console over a database (the console benchmark's 80,000 devices): the time
from Enter to the frame with the pulse's figures, RSS, and the bytes written while the pulse sits
idle with a 1-second refresh. Timed from the frame trace (SWITCHBOARD_TRACE_FRAMES), as measure.py.

usage: pulse.py BINARY COLS ROWS IDLE_SECONDS REPEATS   (SWITCHBOARD_DB etc. from the environment)
Prints `key value` lines: pulse_ms, rss_mb, idle_bytes, idle_frames.
"""
import fcntl
import os
import pty
import select
import struct
import sys
import tempfile
import termios
import threading
import time

binary, cols, rows, idle_seconds, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])

fd, trace = tempfile.mkstemp(prefix="sb-pulse-frames-")
os.close(fd)
env = dict(os.environ, TERM="xterm-256color", SWITCHBOARD_TRACE_FRAMES=trace, LANG="C.UTF-8", LC_ALL="C.UTF-8")
pid, master = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    os.execve(binary, [binary, "console"], env)
fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
state = {"bytes": 0, "alive": True}
lock = threading.Lock()


def reader():
    while state["alive"]:
        r, _, _ = select.select([master], [], [], 0.2)
        if not r:
            continue
        try:
            data = os.read(master, 65536)
        except OSError:
            return
        if not data:
            return
        with lock:
            state["bytes"] += len(data)


threading.Thread(target=reader, daemon=True).start()


def frames():
    with open(trace) as f:
        return [(float(p[0]), p[2] == "1") for p in (line.split() for line in f) if len(p) == 4]


def wait_frame(after, condition, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for f in frames()[after:]:
            if condition(f):
                return f
        time.sleep(0.001)
    raise SystemExit(f"no frame within {timeout}s")


def key(text, condition=lambda f: True):
    n = len(frames())
    sent = time.time()
    os.write(master, text.encode())
    f = wait_frame(n, condition)
    return (f[0] - sent) * 1000


def rss():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k == "VmRSS":
                return int(v.split()[0]) / 1024


wait_frame(0, lambda f: f[1])  # the device table, loaded
times = []
for _ in range(repeats):
    os.write(master, b":pulse")
    time.sleep(0.5)
    times.append(key("\r", lambda f: f[1]))  # the first complete frame: the pulse read and drawn
    time.sleep(0.5)
    os.write(master, b":dev\r")
    wait_frame(len(frames()), lambda f: f[1])
    time.sleep(0.5)
print("pulse_ms", " ".join(f"{t:.0f}" for t in times))
os.write(master, b":pulse\r")
time.sleep(2)
print("rss_mb", f"{rss():.0f}")
os.write(master, b":refresh 1\r")
time.sleep(7)  # the flash expires
with lock:
    b0 = state["bytes"]
n0 = len(frames())
time.sleep(idle_seconds)
with lock:
    print("idle_bytes", state["bytes"] - b0)
print("idle_frames", len(frames()) - n0)
os.write(master, b"q")
time.sleep(1)
state["alive"] = False
try:
    os.waitpid(pid, 0)
finally:
    os.unlink(trace)
