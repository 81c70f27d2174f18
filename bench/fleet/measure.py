#!/usr/bin/env python3
"""The measurements of bench/fleet/run (see its header), run by it with the lab, the cluster, the
inventory and the environment in place. Prints the Markdown section."""
import datetime
import json
import os
import platform
import signal
import subprocess
import sys
import time

BIN, WORK = os.environ["BIN"], os.environ["WORK"]
N = int(os.environ["DEVICES"])
ENGINES = [int(x) for x in os.environ["ENGINES"].split()]
KILL, KILL_ENGINES, KILL_LEASE = os.environ["KILL"] != "0", int(os.environ["KILL_ENGINES"]), os.environ["KILL_LEASE"]
TICK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count()
LAB = json.load(open(f"{WORK}/lab.json"))
LEDGER = LAB.get("ledgerPath") or sys.exit("the lab keeps no ledger (ledgerPath missing from lab status)")
DEVICES = json.load(open(f"{WORK}/inventory.json"))["pools"][0]["manual_devices"]
PIDS_FILE = f"{WORK}/engine.pids"


def psql(sql):
    cmd = [os.path.join(os.environ["SWITCHBOARD_TEST_PG_BIN"], "psql"), "-X", "-q", "-At", "-F", "|",
           "-h", os.environ["SWITCHBOARD_TEST_PG_SOCKET"], "-p", os.environ["SWITCHBOARD_TEST_PG_PORT"], "-d", "bench", "-c", sql]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    return [row.split("|") for row in out.splitlines()] if out else []


def one(sql):
    rows = psql(sql)
    return rows[0] if rows else []


# ---- CPU from /proc: a process and its live descendants (user + system, with reaped children) ----

def proc_table():
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = open(f"/proc/{entry}/stat").read()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        # after the name: state ppid ... utime(14) stime(15) cutime(16) cstime(17), 1-based in proc(5)
        table[int(entry)] = (int(fields[1]), sum(int(v) for v in fields[11:15]))
    return table


def tree_cpu(roots, table):
    """CPU seconds of `roots` and every live descendant; descendants that ended are in their
    parent's cutime/cstime once reaped (sshd reaps its sessions, a session its device process)."""
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, stack, seen = 0, list(roots), set()
    while stack:
        pid = stack.pop()
        if pid in seen or pid not in table:
            continue
        seen.add(pid)
        total += table[pid][1]
        stack += children.get(pid, [])
    return total / TICK


def machine_busy():
    fields = [int(v) for v in open("/proc/stat").readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / TICK


def postmaster():
    pid = int(one("SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")[0])
    return proc_table()[pid][0]


def sample(engines, pg):
    t = proc_table()
    return {"engines": [tree_cpu([p.pid], t) for p in engines], "lab": tree_cpu(LAB["pids"], t),
            "pg": tree_cpu([pg], t), "machine": machine_busy(), "time": time.time()}


# ---- engines ----

def start_engines(n, tag, extra_env=None):
    env = dict(os.environ, SWITCHBOARD_TRACE_CLAIMS="1", **(extra_env or {}))
    engines = []
    for i in range(n):
        log = open(f"{WORK}/{tag}-engine{i}.log", "w")
        engines.append(subprocess.Popen([BIN, "engine"], env=env, stdout=subprocess.DEVNULL, stderr=log))
    with open(PIDS_FILE, "a") as f:
        for p in engines:
            f.write(f"{p.pid}\n")
    deadline = time.time() + 60
    while time.time() < deadline:
        if one("SELECT count(*) FROM engine")[0] == str(n):
            return engines
        time.sleep(0.1)
    sys.exit(f"{n} engines did not register within 60 s (see {WORK}/{tag}-engine*.log)")


def stop_engines(engines):
    for p in engines:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in engines:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    deadline = time.time() + 10
    while time.time() < deadline and one("SELECT count(*) FROM engine")[0] != "0":
        time.sleep(0.1)
    psql("DELETE FROM engine")  # the registration of a killed engine (its heartbeat stopped)


def enqueue():
    out = subprocess.run([BIN, "run", "fleet version", "--json"], capture_output=True, text=True, check=True).stdout
    return json.loads(out)["id"]


RUN_TIMEOUT = float(os.environ.get("RUN_TIMEOUT", "900"))


def wait_run(run_id, every=0.1, until=None):
    deadline = time.time() + RUN_TIMEOUT
    while time.time() < deadline:
        status = one(f"SELECT status FROM run WHERE id = {run_id}")[0]
        if status not in ("queued", "running"):
            return status
        if until and until():
            return None
        time.sleep(every)
    sys.exit(f"run {run_id} did not end within {RUN_TIMEOUT:.0f} s (RUN_TIMEOUT); engine logs in {WORK} (KEEP=1 keeps them)")


def claim_passes(tag, n, start_ms, end_ms):
    """(passes, wall s, cpu s) of every engine's claim passes that started within the run."""
    passes, wall, cpu = 0, 0.0, 0.0
    for i in range(n):
        for line in open(f"{WORK}/{tag}-engine{i}.log"):
            parts = line.split()
            if len(parts) == 4 and parts[0] == "claim" and start_ms <= int(parts[1]) <= end_ms:
                passes += 1
                wall += int(parts[2]) / 1e6
                cpu += int(parts[3]) / 1e6
    return passes, wall, cpu


def ledger_counts():
    counts, logins = {}, 0
    for line in open(LEDGER):
        f = line.rstrip("\n").split("\t")
        if len(f) != 5:
            continue
        if f[3] == "command" and f[4] == "show version":
            counts[f[1]] = counts.get(f[1], 0) + 1
        elif f[3] == "login":
            logins += 1
    return counts, logins


def reset_ledger():
    with open(LEDGER, "r+") as f:
        f.truncate(0)


def run_figures(run_id):
    status, done, total, failed, started, ended, wall = one(
        "SELECT status, progress_done, progress_total, progress_failed, extract(epoch FROM started_at), "
        f"extract(epoch FROM ended_at), extract(epoch FROM ended_at - started_at) FROM run WHERE id = {run_id}")
    results, ok = one(f"SELECT count(*), coalesce(sum(success::int), 0) FROM result WHERE run_id = {run_id}")
    # Each unit logs one "success in N ms" line: a unit's lines lost between engines would show here.
    success_lines = int(one(f"SELECT count(*) FROM run_log WHERE run_id = {run_id} AND message LIKE 'success in %'")[0])
    per_engine = [int(r[0]) for r in psql(f"SELECT count(*) FROM run_unit WHERE run_id = {run_id} GROUP BY engine_id ORDER BY 1 DESC")]
    return {"status": status, "done": int(done), "total": int(total), "failed": int(failed), "started": float(started),
            "ended": float(ended), "wall": float(wall), "results": int(results), "ok": int(ok), "per_engine": per_engine,
            "success_lines": success_lines}


# ---- phase 1: 1, 2, 3 engines ----

pg = postmaster()
rows = {}
for n in ENGINES:
    reset_ledger()
    tag = f"e{n}"
    engines = start_engines(n, tag)
    before = sample(engines, pg)
    run_id = enqueue()
    wait_run(run_id)
    after = sample(engines, pg)
    stop_engines(engines)
    r = run_figures(run_id)
    counts, logins = ledger_counts()
    r["duplicates"] = sum(c - 1 for c in counts.values() if c > 1)
    r["missing"] = len([d for d in DEVICES if d not in counts])
    r["logins"] = logins
    r["cpu"] = {k: (after[k] - before[k]) if k != "engines" else [a - b for a, b in zip(after[k], before[k])]
                for k in ("engines", "lab", "pg", "machine")}
    r["span"] = after["time"] - before["time"]
    r["claims"] = claim_passes(tag, n, int(r["started"] * 1000), int(r["ended"] * 1000))
    rows[n] = r

# ---- phase 2: kill -9 one engine mid-run ----

kill = None
if KILL:
    reset_ledger()
    engines = start_engines(KILL_ENGINES, "kill", {"SWITCHBOARD_ENGINE_ACTIVE_THRESHOLD_S": KILL_LEASE})
    run_id = enqueue()
    third = N // 3
    status = wait_run(run_id, every=0.05,
                      until=lambda: int(one(f"SELECT count(*) FROM run_unit WHERE run_id = {run_id} AND status = 'succeeded'")[0]) >= third)
    if status is not None:
        sys.exit(f"the kill phase's run ended ({status}) before a third of its units were done: use more DEVICES")
    ids = {int(e): int(p) for e, p in psql("SELECT id, pid FROM engine")}
    busiest = []
    while not busiest:  # the moment between two claims, when no unit is in flight, is brief
        busiest = one(f"SELECT engine_id, count(*) FROM run_unit WHERE run_id = {run_id} AND status = 'claimed' GROUP BY 1 ORDER BY 2 DESC LIMIT 1")
    victim_pid = ids[int(busiest[0])]
    victim = next(p for p in engines if p.pid == victim_pid)
    victim.kill()
    killed_at = time.time()
    victim.wait()
    in_flight = int(busiest[1])
    status = wait_run(run_id)
    stop_engines(engines)
    r = run_figures(run_id)
    retry = one(f"""SELECT count(*), extract(epoch FROM min(claimed_at)), extract(epoch FROM min(ended_at)),
                    extract(epoch FROM max(ended_at)) FROM run_unit WHERE run_id = {run_id} AND attempts >= 2""")
    counts, _ = ledger_counts()
    kill = dict(r, in_flight=in_flight, retried=int(retry[0]),
                first_claim=float(retry[1]) - killed_at if retry[1] else None,
                first_result=float(retry[2]) - killed_at if retry[2] else None,
                last_result=float(retry[3]) - killed_at if retry[3] else None,
                twice=sum(c - 1 for c in counts.values() if c > 1), missing=len([d for d in DEVICES if d not in counts]),
                attempts2=int(one(f"SELECT count(*) FROM result WHERE run_id = {run_id} AND attempts >= 2")[0]),
                doubled=int(one(f"SELECT count(*) FROM (SELECT device_name FROM result WHERE run_id = {run_id} "
                                "GROUP BY device_name HAVING count(*) > 1) d")[0]))

# ---- report ----

cpu_model = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
build = "release build" if "/release/" in BIN else f"build {BIN}"
print(f"\n## Fleet: one `cli` `show version` run over {N} lab devices spread over 1–{max(ENGINES)} engines ({datetime.date.today()})")
print(f"Machine: {CORES} cores, {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, {cpu_model}, "
      f"Linux {platform.release()}; {build}. PostgreSQL {os.environ.get('PG_VERSION', '')} in a throwaway cluster (scripts/pg-cluster: "
      f"fsync off) over its Unix socket. Lab: OpenSSH sshd on 127.0.0.1 (`lab up --crypto p256`), no added latency, at nice "
      f"{os.environ['LAB_NICE']}. `engine.unit_queue` on; the service allows {os.environ['MAX_PROCESSES']} units in flight across "
      f"the engines, each engine {os.environ['PER_ENGINE']} (`automation.max_process`). All on this one machine.")
print()
cols = [f"{n} engine{'s' if n > 1 else ''}" for n in ENGINES]
print("| measure | " + " | ".join(cols) + " |")
print("| --- | " + " | ".join("---" for _ in cols) + " |")


def row(label, cells):
    print(f"| {label} | " + " | ".join(cells) + " |")


R = [rows[n] for n in ENGINES]
row("run", [f"{r['status']}, {r['done']}/{r['total']} done, {r['failed']} failed; {r['ok']}/{r['results']} results ok" for r in R])
row("wall time (run started → ended)", [f"{r['wall']:.2f} s" for r in R])
row("units per second", [f"{r['total'] / r['wall']:.1f}" for r in R])
row("speed-up over 1 engine", [f"{R[0]['wall'] / r['wall']:.2f}×" if ENGINES[0] == 1 else "–" for r in R])
row("units per engine", [" / ".join(str(x) for x in r["per_engine"]) for r in R])
row("CPU per engine (during the run)", [" / ".join(f"{c:.2f} s" for c in r["cpu"]["engines"]) for r in R])
row("engines' CPU per unit (all engines)", [f"{sum(r['cpu']['engines']) / r['total'] * 1000:.2f} ms" for r in R])
row("lab CPU (sshd + devices) / per unit", [f"{r['cpu']['lab']:.2f} s / {r['cpu']['lab'] / r['total'] * 1000:.2f} ms" for r in R])
row("PostgreSQL CPU / per unit", [f"{r['cpu']['pg']:.2f} s / {r['cpu']['pg'] / r['total'] * 1000:.2f} ms" for r in R])
row(f"machine busy (of {CORES} cores × the measured span)",
    [f"{r['cpu']['machine']:.2f} s of {CORES * r['span']:.2f} s ({r['cpu']['machine'] / (CORES * r['span']) * 100:.0f} %)" for r in R])
row("CPU floor: (engines + lab + PostgreSQL CPU) / cores",
    [f"{(sum(r['cpu']['engines']) + r['cpu']['lab'] + r['cpu']['pg']) / CORES:.2f} s" for r in R])
row("claim passes during the run (all engines)", [str(r["claims"][0]) for r in R])
row("claim overhead per unit: wall / engine CPU", [f"{r['claims'][1] / r['total'] * 1000:.3f} ms / {r['claims'][2] / r['total'] * 1000:.3f} ms" for r in R])
row("duplicates (ledger: a device's `show version` beyond its first)", [str(r["duplicates"]) for r in R])
row("devices without `show version` (ledger)", [str(r["missing"]) for r in R])
row("logins seen by the lab", [str(r["logins"]) for r in R])
row("units' `success in …` log lines (one per unit expected)", [str(r["success_lines"]) for r in R])

if kill:
    k = kill
    fmt = lambda v: "–" if v is None else f"{v:.2f} s"
    print(f"\nkill -9 of one of {KILL_ENGINES} engines when a third of the units were done (lease: engine.active_threshold_s = "
          f"{KILL_LEASE} s): it held {k['in_flight']} units in flight. Run {k['status']}, {k['done']}/{k['total']} done, "
          f"{k['failed']} failed; {k['ok']}/{k['results']} results ok, {k['attempts2']} of them counting a second attempt; "
          f"{k['doubled']} device(s) with more than one result (one per device expected).")
    print()
    print("| from the engine's death to | time |")
    print("| --- | --- |")
    print(f"| the first retry claim of its units | {fmt(k['first_claim'])} |")
    print(f"| the first retried result | {fmt(k['first_result'])} |")
    print(f"| the last retried result | {fmt(k['last_result'])} |")
    print(f"\nRetried units: {k['retried']}. Lab ledger: {k['twice']} device(s) received `show version` twice (a retried unit "
          f"whose first attempt had already sent it before the kill: read-only units are retried by design), {k['missing']} none.")

# Where the ceiling comes from: the shares of the machine's busy CPU.
print("\nWhere the CPU went (share of the machine's busy time during each run): " + "; ".join(
    f"{n} engine{'s' if n > 1 else ''}: engines {sum(r['cpu']['engines']) / r['cpu']['machine'] * 100:.0f} %, "
    f"lab {r['cpu']['lab'] / r['cpu']['machine'] * 100:.0f} %, PostgreSQL {r['cpu']['pg'] / r['cpu']['machine'] * 100:.0f} %, "
    f"anything else on the machine {max(0.0, 1 - (sum(r['cpu']['engines']) + r['cpu']['lab'] + r['cpu']['pg']) / r['cpu']['machine']) * 100:.0f} %"
    for n, r in zip(ENGINES, R)) + ".")
last = R[-1]
parts = {"the lab": last["cpu"]["lab"], "the engines": sum(last["cpu"]["engines"]), "PostgreSQL": last["cpu"]["pg"]}
largest = max(parts, key=parts.get)
print(f"On one {CORES}-core machine the engines, the lab (a real sshd login and a device process per unit) and PostgreSQL "
      "share the same cores: once the machine is busy, more engines cannot make the run faster, only move CPU between "
      f"processes. With {ENGINES[-1]} engine{'s' if ENGINES[-1] > 1 else ''} the largest consumer was {largest} "
      f"({parts[largest]:.2f} s of CPU); the lab alone needs {last['cpu']['lab'] / last['total'] * 1000:.2f} ms of CPU per unit, "
      f"so {N} units cannot take less than {last['cpu']['lab'] / CORES:.2f} s here even with engines that cost nothing, and the "
      f"whole CPU floor (engines + lab + PostgreSQL over {CORES} cores) is {sum(parts.values()) / CORES:.2f} s against a wall of "
      f"{last['wall']:.2f} s. The speed-up of several engines is that of several hosts, each with its own cores and its own "
      "share of the network; this benchmark shows the cost of spreading (claims, duplicates) and where the single "
      "machine's ceiling lies, not that speed-up.")
