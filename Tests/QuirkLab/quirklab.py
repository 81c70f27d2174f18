#!/usr/bin/env python3
"""Brings the quirk lab up and down: every device of quirkdev.py on two SSH servers.

  quirklab.py up --dir DIR --base-port PORT   asyncssh on PORT+i, OpenSSH sshd on PORT+100+i
  quirklab.py down --dir DIR                  kills what `up` started (by pid)
  quirklab.py status --dir DIR                says whether every pid lives and every port answers

The launcher itself needs only the standard library; the asyncssh server runs under the first of
$QUIRKLAB_PYTHON, this interpreter (if it has asyncssh), and REPO/.venv-quirklab/bin/python.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import quirkdev  # noqa: E402

SSHD_OFFSET = 100


def fail(msg):
    print("quirklab: " + msg, file=sys.stderr)
    sys.exit(1)


def server_python():
    env = os.environ.get("QUIRKLAB_PYTHON")
    if env:
        return env
    import importlib.util
    if importlib.util.find_spec("asyncssh") is not None:
        return sys.executable
    venv = os.path.join(REPO, ".venv-quirklab", "bin", "python")
    if os.path.exists(venv):
        return venv
    fail("asyncssh is missing: run scripts/install-deps (it makes .venv-quirklab) or set QUIRKLAB_PYTHON")


def shell_python():
    """The ForceCommand shell is stdlib only: the system python is the steadiest choice."""
    return "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def find_sshd():
    for path in ("/usr/sbin/sshd", shutil.which("sshd") or ""):
        if path and os.path.exists(path):
            return path
    fail("sshd not found (Debian package openssh-server; scripts/install-deps installs it)")


def sshd_version(sshd):
    out = subprocess.run([sshd, "-V"], capture_output=True, text=True).stderr + \
        subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr
    m = re.search(r"OpenSSH_(\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def keygen(path, bits=2048):
    if not os.path.exists(path):
        subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", str(bits), "-N", "", "-C", "quirklab", "-f", path],
                       check=True, stdin=subprocess.DEVNULL)
    os.chmod(path, 0o600)
    with open(path + ".pub") as f:
        return " ".join(f.read().split()[:2])


def port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def port_open(port, timeout=0.2):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours counts as dead
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def login_user():
    import pwd
    return pwd.getpwuid(os.getuid()).pw_name


def write_sshd_config(d, devices, user, version, index=0):
    lines = ["# written by quirklab.py up"]
    for dev in devices:
        lines.append("Port %d" % dev["port"])
    cmd = "%s -I %s shell --config %s" % (shell_python(), os.path.join(HERE, "quirkdev.py"),
                                          os.path.join(d, "devices.json"))
    lines += [
        "ListenAddress 127.0.0.1",
        "HostKey " + os.path.join(d, "ssh_host_rsa_key"),
        "PidFile " + os.path.join(d, "sshd.%d.pid" % index),
        "AuthorizedKeysFile " + os.path.join(d, "authorized_keys"),
        "StrictModes no",
        "UsePAM no",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin " + ("prohibit-password" if user == "root" else "no"),
        "AllowUsers " + user,
        "ForceCommand " + cmd,
        "AllowTcpForwarding no",
        "AllowAgentForwarding no",
        "X11Forwarding no",
        "PermitTTY yes",
        "PrintMotd no",
        "PrintLastLog no",
        "UseDNS no",
        "MaxStartups 200",
        "MaxSessions 10",
        "LoginGraceTime 60",
        "LogLevel INFO",
        "Subsystem sftp internal-sftp",
    ]
    if version >= (9, 8):
        lines.append("PerSourcePenalties no")
    # Match blocks last: everything after a Match belongs to it.
    for dev in devices:
        q = set(dev["quirks"])
        if "one-channel" in q:
            lines += ["Match LocalPort %d" % dev["port"], "  MaxSessions 1"]
        if "auth-banner" in q:
            lines += ["Match LocalPort %d" % dev["port"], "  Banner " + os.path.join(d, "banner.txt")]
    path = os.path.join(d, "sshd_config.%d" % index)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def stop_pids(pids):
    for pid in pids:
        for target in (lambda: os.killpg(pid, signal.SIGTERM), lambda: os.kill(pid, signal.SIGTERM)):
            try:
                target()
            except OSError:
                pass
    deadline = time.time() + 3
    while time.time() < deadline and any(alive(p) for p in pids):
        for p in pids:
            try:
                os.waitpid(p, os.WNOHANG)
            except ChildProcessError:
                pass
        time.sleep(0.05)
    for pid in pids:
        if alive(pid):
            for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
                try:
                    target()
                except OSError:
                    pass


def cmd_up(args):
    started = time.time()
    d = os.path.abspath(args.dir)
    os.makedirs(os.path.join(d, "state"), exist_ok=True)
    status_path = os.path.join(d, "status.json")
    if os.path.exists(status_path):
        with open(status_path) as f:
            old = json.load(f)
        if any(alive(p) for p in old.get("pids", [])):
            fail("a lab is already up in %s (pids %s): run `quirklab.py down --dir %s` first" % (d, old["pids"], d))
        os.remove(status_path)

    devices = quirkdev.device_table(args.base_port, SSHD_OFFSET)
    busy = [dev for dev in devices if not port_free(dev["port"])]
    if busy:
        fail("port(s) already in use: " + ", ".join("%d (%s)" % (dev["port"], dev["name"]) for dev in busy))

    sshd = find_sshd()
    version = sshd_version(sshd)
    py = server_python()
    user = login_user()
    host_pub = keygen(os.path.join(d, "ssh_host_rsa_key"))
    user_pub = keygen(os.path.join(d, "id_rsa"))
    with open(os.path.join(d, "authorized_keys"), "w") as f:
        f.write(user_pub + " quirklab\n")
    with open(os.path.join(d, "banner.txt"), "w") as f:
        f.write(quirkdev.AUTH_BANNER)
    config = {"devices": devices, "host_key": os.path.join(d, "ssh_host_rsa_key"),
              "state_dir": os.path.join(d, "state")}
    with open(os.path.join(d, "devices.json"), "w") as f:
        json.dump(config, f, indent=1)
    os.chmod(os.path.join(d, "devices.json"), 0o644)
    known = os.path.join(d, "known_hosts")
    with open(known, "w") as f:
        for dev in devices:
            f.write("[127.0.0.1]:%d %s\n" % (dev["port"], host_pub))
    # sshd listens on at most 16 ports (MAX_LISTEN_SOCKS): one process per 16 devices.
    openssh = [x for x in devices if x["server"] == "openssh"]
    groups = [openssh[i:i + 16] for i in range(0, len(openssh), 16)]
    sshd_confs = [write_sshd_config(d, group, user, version, index) for index, group in enumerate(groups)]
    if os.getuid() == 0:
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation directory
    for sshd_conf in sshd_confs:
        test = subprocess.run([sshd, "-t", "-f", sshd_conf], capture_output=True, text=True)
        if test.returncode != 0:
            fail("sshd rejects %s: %s" % (sshd_conf, test.stderr.strip()))

    procs = []
    logs = {"asyncssh": os.path.join(d, "asyncssh.log")}
    with open(logs["asyncssh"], "ab") as log:
        procs.append(("asyncssh", subprocess.Popen(
            [py, os.path.join(HERE, "quirkdev.py"), "serve", "--config", os.path.join(d, "devices.json")],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)))
    for index, sshd_conf in enumerate(sshd_confs):
        name = "openssh" if index == 0 else "openssh-%d" % index
        logs[name] = os.path.join(d, "sshd.log" if index == 0 else "sshd.%d.log" % index)
        sshd_cmd = [sshd, "-D", "-f", sshd_conf, "-E", logs[name]]
        if version < (9, 8):
            sshd_cmd.insert(1, "-r")  # no re-exec per connection (the flag is gone in 9.8)
        with open(logs[name], "ab") as log:
            procs.append((name, subprocess.Popen(sshd_cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                                 start_new_session=True)))
    pids = [p.pid for _, p in procs]

    deadline = time.time() + 10
    pending = list(devices)
    while pending and time.time() < deadline:
        for name, p in procs:
            if p.poll() is not None:
                stop_pids(pids)
                with open(logs[name], errors="replace") as f:
                    tail = f.read()[-1500:]
                fail("the %s server exited (status %s) before all ports were up; %s says:\n%s"
                     % (name, p.returncode, logs[name], tail))
        pending = [dev for dev in pending if not port_open(dev["port"])]
        if pending:
            time.sleep(0.03)
    if pending:
        stop_pids(pids)
        fail("ports not accepting connections after 10 s: " +
             ", ".join("%d (%s)" % (x["port"], x["name"]) for x in pending) + "; see " + d + "/*.log")

    status = {
        "pids": pids,
        "servers": {name: p.pid for name, p in procs},
        "host_key_rsa_pub": host_pub,
        "known_hosts": known,
        "user_key": os.path.join(d, "id_rsa"),
        "login_user": user,
        "password": quirkdev.PASSWORD,
        "password_user": quirkdev.PASSWORD_USER,
        "enable_secret": quirkdev.ENABLE_SECRET,
        "base_port": args.base_port,
        "sshd_version": "%d.%d" % version,
        "devices": [{k: dev[k] for k in ("name", "server", "port", "personality", "quirks", "expected_platform")}
                    for dev in devices],
    }
    with open(status_path + ".tmp", "w") as f:
        json.dump(status, f, indent=1)
    os.replace(status_path + ".tmp", status_path)
    print("quirklab up in %.1fs: %d devices, asyncssh %d-%d (password %s/%s), openssh %d-%d (key %s, user %s)" % (
        time.time() - started, len(devices), args.base_port, args.base_port + len(quirkdev.CATALOG) - 1,
        quirkdev.PASSWORD_USER, quirkdev.PASSWORD, args.base_port + SSHD_OFFSET,
        args.base_port + SSHD_OFFSET + len(quirkdev.CATALOG) - 1, status["user_key"], user))
    return 0


def read_status(d):
    path = os.path.join(os.path.abspath(d), "status.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def cmd_down(args):
    st = read_status(args.dir)
    if st is None:
        print("quirklab: nothing up in %s" % os.path.abspath(args.dir))
        return 0
    stop_pids(st["pids"])
    left = [p for p in st["pids"] if alive(p)]
    if left:
        fail("still alive after SIGKILL: %s" % left)
    os.remove(os.path.join(os.path.abspath(args.dir), "status.json"))
    print("quirklab down (killed %s)" % st["pids"])
    return 0


def cmd_status(args):
    st = read_status(args.dir)
    if st is None:
        print("quirklab: down (no status.json in %s)" % os.path.abspath(args.dir))
        return 1
    ok = True
    for name, pid in st.get("servers", {}).items():
        a = alive(pid)
        ok &= a
        print("%-9s pid %-7d %s" % (name, pid, "running" if a else "DEAD"))
    for dev in st["devices"]:
        up = port_open(dev["port"])
        ok &= up
        print("  %-18s %-9s %5d  %-13s %s%s" % (dev["name"], dev["server"], dev["port"], dev["expected_platform"],
                                               ",".join(dev["quirks"]), "" if up else "  NOT ANSWERING"))
    return 0 if ok else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("up")
    s.add_argument("--dir", required=True)
    s.add_argument("--base-port", type=int, required=True)
    for name in ("down", "status"):
        sub.add_parser(name).add_argument("--dir", required=True)
    args = ap.parse_args(argv)
    return {"up": cmd_up, "down": cmd_down, "status": cmd_status}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
