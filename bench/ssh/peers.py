#!/usr/bin/env python3
"""Peer side of the SSH transport benchmark: the same lab, driven by Nornir+Netmiko or by scrapli.

    python bench/ssh/peers.py --status lab.json --tool nornir|scrapli --workers N --devices COUNT \
        [--command "show version"] [--timeout 30] [--scrapli-transport bin|ssh2]
        [--platforms cisco_ios,arista_eos,juniper_junos,cisco_nxos] [--debug-dir DIR]

`lab.json` is `switchboard lab status --json`. The devices are the first COUNT lab devices that are
plain SSH targets: no fault device (`fault-*`, or any non-empty `faults`), no keyboard-interactive
device (`kbdint-*`), nothing behind a jump host, no `linux` platform. Each gets one SSH session, one
command, and a clean close; everything (connect, authenticate, session preparation, command, close)
is inside the measured wall time.

  nornir   Nornir's threaded runner (num_workers=N) running nornir_netmiko's `netmiko_send_command`;
           netmiko device types cisco_ios / arista_eos / juniper_junos / cisco_nxos; key auth
           (use_keys + key_file, no agent), no host-key checking (paramiko AutoAddPolicy).
  scrapli  scrapli 2 (libscrapli) `Cli` objects driven from a ThreadPoolExecutor of N threads, one
           device per task: open() (which runs the definition's on-open: enter privileged_exec via
           `enable`, then term width / term len, or the Junos `set cli ...` lines), send_input(),
           close(). scrapli 2 also has an asyncio API (open_async/send_input_async); the thread
           pool is used because libscrapli already runs each connection's I/O on its own native
           threads (an operation thread and a read thread per Cli) and the Python thread only
           blocks on the driver's poll fd -- and it keeps the concurrency model Nornir's. Platform
           definitions cisco_iosxe / arista_eos / juniper_junos / cisco_nxos; key auth; the `enable` lookup
           gets the lab password (any non-empty secret is accepted by the lab unless
           SWITCHBOARD_LAB_ENABLE is set). Transport `bin` (scrapli's default: the system OpenSSH
           client in a PTY, so its CPU shows up under children) or `ssh2` (libssh2, in process).

Prints exactly one JSON line on stdout:
  {"tool", "workers", "devices", "successes", "failures": {reason: count}, "wall_s", "cpu_s",
   "peak_rss_mb": {"self", "children"}, ...extra context keys}
wall_s covers the sessions only (libraries imported before the clock starts). cpu_s is user+sys of
this process and its reaped children (the ssh clients of scrapli's bin transport) over the whole
run, interpreter start included; cpu_run_s is the part inside wall_s. peak_rss_mb.children is the
largest single child (what RUSAGE_CHILDREN reports), not a sum. "devices" is how many were
actually run (fewer than --devices when the lab has fewer eligible ones). A success is a session
whose output contains the device's hostname (outside a prompt) or a version line. Exit status 0
only when every device succeeded. Device output is never printed (library logging is discarded).
--debug-dir writes per-device transcripts there (netmiko session_log, scrapli recorder, and a
DEBUG log of both libraries), for looking at prompt and paging problems.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import resource
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

NETMIKO_TYPES = {
    "cisco_ios": "cisco_ios",
    "arista_eos": "arista_eos",
    "juniper_junos": "juniper_junos",
    "cisco_nxos": "cisco_nxos",
}
SCRAPLI_DEFINITIONS = {
    "cisco_ios": "cisco_iosxe",
    "arista_eos": "arista_eos",
    "juniper_junos": "juniper_junos",
    "cisco_nxos": "cisco_nxos",
}
# "Cisco IOS Software, ... Version 15.9(3)M4", "Software image version: 4.28.3M",
# "NXOS: version 9.3(10)", "Junos: 21.4R3.15".
VERSION_LINE = re.compile(r"(?im)^(?:.*\bversion\b.*|\s*junos:\s*\S+.*)$")


def select_devices(status: dict[str, Any], count: int, platforms: set[str]) -> list[dict[str, Any]]:
    chosen = []
    for device in status.get("devices", []):
        name = device.get("name", "")
        if name.startswith(("fault-", "kbdint-")):
            continue
        if device.get("faults"):
            continue
        if device.get("jump"):
            continue
        if device.get("platform") not in platforms:  # never linux, nor anything unknown
            continue
        chosen.append(device)
        if len(chosen) == count:
            break
    return chosen


def judge(device: dict[str, Any], output: Any) -> str | None:
    """None for a success, else the failure reason.

    The hostname only counts outside a prompt (`r1>`, `r1#`, `user@r1>`): a session that got out
    of step with the device can hand back a stray prompt as the "output" of a command.
    """
    if not isinstance(output, str):
        return "non_text_output"
    name = re.escape(device["name"])
    text = re.sub(rf"(?:\S+@)?{name}(?:\([^)\n]*\))?[>#%$]", "", output)
    if VERSION_LINE.search(text) or device["name"] in text:
        return None
    return "unexpected_output" if text.strip() else "empty_output"


def reason_of(error: BaseException, host: str = "") -> str:
    """A short, bounded failure reason: the exception type, plus the first line of the message
    for the kinds whose type alone says little (host names and numbers masked, so that one
    cause is one bucket)."""
    name = type(error).__name__
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if name in {"OperationException", "ReadTimeout", "ValueError", "OSError", "Exception",
                "TimeoutException"} and lines:
        text = lines[0]
        if host:
            text = text.replace(re.escape(host), "<host>").replace(host, "<host>")
        text = re.sub(r"\d+(\.\d+)?", "N", text)
        return f"{name}: {text[:100]}"
    return name

# --------------------------------------------------------------------------------------------- nornir


def run_nornir(devices, status, args) -> tuple[int, Counter]:
    from nornir import InitNornir
    from nornir.core.inventory import (
        ConnectionOptions,
        Defaults,
        Groups,
        Host,
        Hosts,
        Inventory,
    )
    from nornir.core.plugins.inventory import InventoryPluginRegister
    from nornir_netmiko.tasks import netmiko_send_command

    extras_common = {
        "fast_cli": True,  # Netmiko's fastest pacing (its default since 4.0; explicit for the comparison)
        "use_keys": True,
        "key_file": status["userKeyPath"],
        "allow_agent": False,
        "ssh_strict": False,  # paramiko AutoAddPolicy: no host-key checking
        "system_host_keys": False,
        "alt_host_keys": False,
        "conn_timeout": args.timeout,
        "auth_timeout": args.timeout,
        "banner_timeout": args.timeout,
        "timeout": args.timeout,
    }

    class LabInventory:
        def __init__(self, **_: Any) -> None:
            pass

        def load(self) -> Inventory:
            hosts = Hosts()
            for d in devices:
                extras = dict(extras_common)
                if args.debug_dir:
                    extras["session_log"] = str(Path(args.debug_dir) / f"netmiko-{d['name']}.log")
                hosts[d["name"]] = Host(
                    name=d["name"],
                    hostname=d["address"],
                    port=int(d["port"]),
                    username=status["username"],
                    password=None,
                    platform=NETMIKO_TYPES[d["platform"]],
                    connection_options={"netmiko": ConnectionOptions(extras=extras)},
                )
            return Inventory(hosts=hosts, groups=Groups(), defaults=Defaults())

    InventoryPluginRegister.register("SwitchboardLabInventory", LabInventory)
    nr = InitNornir(
        runner={"plugin": "threaded", "options": {"num_workers": args.workers}},
        inventory={"plugin": "SwitchboardLabInventory"},
        logging={"enabled": False},
        ssh={"config_file": os.devnull},  # no ~/.ssh/config surprises
    )

    def task(t):
        return netmiko_send_command(t, command_string=args.command, read_timeout=args.timeout)

    results = nr.run(task=task, on_failed=True)
    nr.close_connections(on_good=True, on_failed=True)

    failures: Counter = Counter()
    successes = 0
    by_name = {d["name"]: d for d in devices}
    for name, multi in results.items():
        if multi.failed:
            errors = [r.exception for r in multi if r.exception is not None]
            failures[reason_of(errors[-1], name) if errors else "failed"] += 1
            continue
        reason = judge(by_name[name], multi[0].result)
        if reason is None:
            successes += 1
        else:
            failures[reason] += 1
    return successes, failures


# -------------------------------------------------------------------------------------------- scrapli


def run_scrapli(devices, status, args) -> tuple[int, Counter]:
    from concurrent.futures import ThreadPoolExecutor

    from scrapli import (
        AuthOptions,
        Cli,
        LookupKeyValue,
        SessionOptions,
        TransportBinOptions,
        TransportSsh2Options,
    )
    from scrapli.exceptions import FFIException

    enable_secret = args.enable_secret or status.get("password") or "switchboard-lab"
    timeout_ns = int(args.timeout * 1_000_000_000)

    def one(device: dict[str, Any]) -> str | None:
        name = device["name"]
        if args.scrapli_transport == "ssh2":
            transport = TransportSsh2Options()
        else:
            # enable_strict_key=False makes libscrapli add `-o StrictHostKeyChecking=no
            # -o UserKnownHostsFile=/dev/null`; ignore ~/.ssh/config and keep ssh's warnings out
            # of the session.
            transport = TransportBinOptions(
                enable_strict_key=False,
                extra_open_args=["-o", "LogLevel=ERROR", "-F", "/dev/null"],
            )
        session = SessionOptions(operation_timeout_ns=timeout_ns)
        if args.debug_dir:
            session = SessionOptions(operation_timeout_ns=timeout_ns,
                                     recorder_path=str(Path(args.debug_dir) / f"scrapli-{name}.log"))
        cli = Cli(
            device["address"],
            port=int(device["port"]),
            definition_file_or_name=SCRAPLI_DEFINITIONS[device["platform"]],
            auth_options=AuthOptions(
                username=status["username"],
                private_key_path=status["userKeyPath"],
                lookups=[LookupKeyValue(key="enable", value=enable_secret)],
            ),
            session_options=session,
            transport_options=transport,
            logging_uid=name,
        )
        try:
            cli.open()
        except Exception as error:  # noqa: BLE001 -- every failure is a counted reason
            # An FFIException from the open call itself has already freed the driver; anything
            # later (prompt, on-open) leaves a live session -- and with `bin` an ssh child.
            if not isinstance(error, FFIException) and cli.ptr is not None:
                try:
                    cli.close(force=True)
                except Exception:  # noqa: BLE001
                    pass
            return "open: " + reason_of(error, name)
        try:
            result = cli.send_input(args.command)
            if result.failed:
                logging.getLogger("peers").warning("%s: failure indicator in %r", name, result.result[-300:])
                return "failure_indicator"
            return judge(device, result.result)
        except Exception as error:  # noqa: BLE001
            return "send_input: " + reason_of(error, name)
        finally:
            try:
                cli.close()
            except Exception:  # noqa: BLE001 -- a failed close does not undo the answer
                pass

    failures: Counter = Counter()
    successes = 0
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        for reason in pool.map(one, devices):
            if reason is None:
                successes += 1
            else:
                failures[reason] += 1
    return successes, failures


# ----------------------------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--status", required=True, help="`switchboard lab status --json` output")
    parser.add_argument("--tool", required=True, choices=["nornir", "scrapli"])
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--devices", type=int, required=True, help="how many lab devices")
    parser.add_argument("--command", default="show version")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds: connect/auth/banner/read (netmiko), operation timeout (scrapli)")
    parser.add_argument("--scrapli-transport", choices=["bin", "ssh2"], default="bin")
    parser.add_argument("--enable-secret", help="scrapli's `enable` lookup (default: the lab password)")
    parser.add_argument("--platforms", default=",".join(NETMIKO_TYPES),
                        help="comma-separated lab platforms to include (default: all four network OSes)")
    parser.add_argument("--debug-dir", help="write per-device session transcripts here")
    args = parser.parse_args()
    if args.workers < 1 or args.devices < 1:
        parser.error("--workers and --devices must be at least 1")

    if args.debug_dir:
        Path(args.debug_dir).mkdir(parents=True, exist_ok=True)
        logging.basicConfig(filename=str(Path(args.debug_dir) / f"{args.tool}.log"), level=logging.DEBUG,
                            format="%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s")
    else:
        # Nothing from the libraries reaches the terminal: their messages quote device output.
        root = logging.getLogger()
        root.setLevel(logging.CRITICAL)  # also keeps libscrapli's own logging quiet
        root.addHandler(logging.NullHandler())

    status = json.loads(Path(args.status).read_text())
    platforms = {p.strip() for p in args.platforms.split(",") if p.strip()}
    if not platforms <= set(NETMIKO_TYPES):
        parser.error(f"--platforms: choose among {', '.join(NETMIKO_TYPES)}")
    devices = select_devices(status, args.devices, platforms)
    if not devices:
        print("no eligible devices in the lab status", file=sys.stderr)
        return 2

    runner = run_nornir if args.tool == "nornir" else run_scrapli
    # Import the library before the clock starts: the comparison is about the transport.
    if args.tool == "nornir":
        import nornir_netmiko.tasks  # noqa: F401
    else:
        import scrapli  # noqa: F401

    def cpu_now() -> float:
        a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime

    cpu_start = cpu_now()
    start = time.perf_counter()
    successes, failures = runner(devices, status, args)
    wall = time.perf_counter() - start
    cpu_run = cpu_now() - cpu_start

    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    versions = {}
    for module in ("nornir", "netmiko", "nornir_netmiko", "scrapli", "paramiko"):
        try:
            from importlib.metadata import version

            versions[module] = version(module.replace("_", "-"))
        except Exception:  # noqa: BLE001
            pass
    report = {
        "tool": args.tool,
        "workers": args.workers,
        "devices": len(devices),
        "successes": successes,
        "failures": dict(sorted(failures.items())),
        "wall_s": round(wall, 3),
        "cpu_s": round(me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime, 3),
        "cpu_run_s": round(cpu_run, 3),  # the part of cpu_s spent inside wall_s
        "cpu_self_s": round(me.ru_utime + me.ru_stime, 3),
        "cpu_children_s": round(kids.ru_utime + kids.ru_stime, 3),
        # Linux reports ru_maxrss in KiB.
        "peak_rss_mb": {"self": round(me.ru_maxrss / 1024, 1), "children": round(kids.ru_maxrss / 1024, 1)},
        "devices_requested": args.devices,
        "command": args.command,
        "transport": "paramiko" if args.tool == "nornir" else f"scrapli-{args.scrapli_transport}",
        "versions": versions,
    }
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()
    return 0 if successes == len(devices) else 1


if __name__ == "__main__":
    sys.exit(main())
