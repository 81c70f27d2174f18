#!/usr/bin/env python3
"""Self-test of the quirk lab: brings it up, logs in to every device on both SSH servers with the
asyncssh client and with the system OpenSSH client, checks each quirk, brings the lab down.

  selftest.py [--base-port 47000] [--dir DIR] [--netmiko] [--only NAME-SUBSTRING]

Run it with a python that has asyncssh (.venv-quirklab/bin/python). --netmiko also drives the
devices with Netmiko's ConnectHandler (needs netmiko in that python). Ends with "N passed, N failed".
"""
import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

warnings.filterwarnings("ignore", message=".*DSA is deprecated.*")
import asyncssh  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LAB = os.path.join(HERE, "quirklab.py")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

results = []


def record(name, ok, detail=""):
    results.append((name, ok, detail))
    print("%s %s%s" % ("ok  " if ok else "FAIL", name, (": " + detail) if detail and not ok else ""), flush=True)


class Timeout(Exception):
    pass


class Term:
    """expect() over the bytes a shell channel sends, whichever client carries them."""

    def __init__(self, reader, writer, closer):
        self._reader, self._writer, self._closer = reader, writer, closer
        self.buf = ""
        self.transcript = ""
        self.eof = False

    async def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise Timeout()
        try:
            data = await asyncio.wait_for(self._reader(), left)
        except asyncio.TimeoutError:
            raise Timeout()
        if not data:
            self.eof = True
            return
        text = data.decode("latin-1") if isinstance(data, bytes) else data
        self.buf += text
        self.transcript += text

    async def expect(self, pattern, timeout=5.0):
        rx = re.compile(pattern, re.S)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                before = self.buf[:m.end()]
                self.buf = self.buf[m.end():]
                return before
            if self.eof:
                raise Timeout("EOF before %r; got %r" % (pattern, self.buf[-300:]))
            try:
                await self._fill(deadline)
            except Timeout:
                raise Timeout("no %r in %.0fs; got %r" % (pattern, timeout, self.buf[-300:]))

    async def expect_eof(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while not self.eof:
            await self._fill(deadline)
        out, self.buf = self.buf, ""
        return out

    def send(self, text):
        self._writer(text.encode() if isinstance(text, str) else text)

    async def close(self):
        await self._closer()


async def asyncssh_login(st, dev, **kw):
    if dev["server"] == "asyncssh":
        auth = dict(username=st["password_user"], password=st["password"], client_keys=None)
    else:
        auth = dict(username=st["login_user"], client_keys=[st["user_key"]], password=None)
    auth.update(kw)
    return await asyncssh.connect("127.0.0.1", dev["port"], known_hosts=st["known_hosts"], **auth)


async def asyncssh_shell(st, dev):
    banner = []

    class Client(asyncssh.SSHClient):
        def auth_banner_received(self, msg, lang):
            banner.append(msg)

    conn = await asyncssh_login(st, dev, client_factory=Client)
    proc = await conn.create_process(term_type="vt100", term_size=(200, 48), encoding=None)

    async def closer():
        conn.close()
        await conn.wait_closed()

    term = Term(lambda: proc.stdout.read(65536), proc.stdin.write, closer)
    term.banner = "".join(banner)
    term.proc = proc
    return term


def ssh_base(st, dev, d):
    base = ["ssh", "-p", str(dev["port"]), "-o", "UserKnownHostsFile=" + st["known_hosts"],
            "-o", "StrictHostKeyChecking=yes", "-o", "LogLevel=INFO", "-o", "ConnectTimeout=5", "-F", "/dev/null"]
    env = dict(os.environ)
    if dev["server"] == "asyncssh":
        askpass = os.path.join(d, "askpass.sh")
        if not os.path.exists(askpass):
            with open(askpass, "w") as f:
                f.write("#!/bin/sh\necho '%s'\n" % st["password"])
            os.chmod(askpass, 0o700)
        env.update(SSH_ASKPASS=askpass, SSH_ASKPASS_REQUIRE="force", DISPLAY=":0")
        base += ["-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no",
                 "-o", "NumberOfPasswordPrompts=1", st["password_user"] + "@127.0.0.1"]
    else:
        base += ["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-i", st["user_key"], st["login_user"] + "@127.0.0.1"]
    return base, env


async def openssh_shell(st, dev, d):
    base, env = ssh_base(st, dev, d)
    proc = await asyncio.create_subprocess_exec(*base[:1], "-tt", *base[1:], stdin=subprocess.PIPE,
                                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                                start_new_session=True)

    async def closer():
        if proc.returncode is None:
            proc.kill()
        await proc.wait()

    term = Term(lambda: proc.stdout.read(65536), proc.stdin.write, closer)
    term.proc = proc
    return term


async def openssh_exec(st, dev, d, command):
    base, env = ssh_base(st, dev, d)
    proc = await asyncio.create_subprocess_exec(*base, command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                                stderr=subprocess.PIPE, env=env, start_new_session=True)
    out, err = await asyncio.wait_for(proc.communicate(), 20)
    return proc.returncode, out.decode("latin-1"), err.decode("latin-1")


VERSION_MARK = {"ios": "Cisco IOS Software, C2900 Software", "xe": "Cisco IOS XE Software, Version 17.03.04a",
                "nxos": "Cisco Nexus Operating System (NX-OS) Software", "eos": "Software image version: 4.28.3M",
                "junos": "Model: mx204", "huawei": "VRP (R) software, Version 8.180", "linux": "GNU/Linux"}
VERSION_CMD = {"huawei": "display version", "linux": "uname -a"}


def prompt_rx(dev, term_char):
    host = re.escape(dev["name"])
    if "ansi-prompt" in dev["quirks"]:
        host = r"\x1b\[\?2004h\x1b\[1;32m" + host + r"\x1b\[0m"
    return host + r"(\([a-z-]+\))?" + re.escape(term_char) + r"$"


async def check_cisco_like(t, dev, st, who):
    q = set(dev["quirks"])
    nl = "\n" if "lf-only" in q else "\r\n"
    user_mode = "user-mode" in q
    head = await t.expect(prompt_rx(dev, ">" if user_mode else "#"), 8)
    if "double-prompt" in q:
        # The second prompt follows 80 ms later: a client that sends at the first sees it as the
        # answer to its first command.
        head += await t.expect(r"\n" + prompt_rx(dev, ">" if user_mode else "#"), 2)
    if "motd" in q:
        for line in ("# Authorised access only #", "Router> do not type here", "Switch#1 is in rack 4",
                     "$ cost center 42"):
            assert line in head, "MOTD line %r missing" % line
        if who == "asyncssh":
            assert "authorised access only" in t.banner, "auth banner missing: %r" % t.banner
    if "close-after-command" in q:
        t.send("show clock\r")
        out = await t.expect_eof(5)
        assert re.search(prompt_rx(dev, "#").rstrip("$"), ANSI.sub("", out)), "no prompt before close: %r" % out
        return
    if "slow-echo" in q:
        cmd = "terminal width 511"
        start = time.monotonic()
        t.send(cmd + "\r")
        await t.expect(re.escape(cmd), 5)
        took = time.monotonic() - start
        assert took >= 0.1, "echo of %d bytes took only %.3fs" % (len(cmd), took)
        await t.expect(prompt_rx(dev, ">" if user_mode else "#"))
    if user_mode:
        t.send("show running-config\r")
        out = await t.expect(prompt_rx(dev, ">"))
        assert "% Invalid input" in out, "user mode show running-config: %r" % out
        if "enable-password" in q:
            t.send("enable\r")
            await t.expect(r"Password: $")
            t.send("wrong-secret\r")
            out = await t.expect(prompt_rx(dev, ">"))
            assert "% Access denied" in out and "wrong-secret" not in out, "wrong secret: %r" % out
            t.send("enable\r")
            await t.expect(r"Password: $")
            t.send(st["enable_secret"] + "\r")
            out = await t.expect(prompt_rx(dev, "#"))
            assert st["enable_secret"] not in out, "secret echoed"
        else:
            t.send("enable\r")
            await t.expect(prompt_rx(dev, "#"))
    t.send("terminal length 0\r")
    await t.expect(prompt_rx(dev, "#"))
    t.send("show version\r")
    out = await t.expect(prompt_rx(dev, "#") + r"| --More-- $", 8)
    if "pager-ignores-term-len" in q:
        assert " --More-- " in out, "q-pager did not page show version"
        out = await page_through(t, dev, out, 8)
    assert VERSION_MARK[dev["personality"]] in out, "show version: %r" % out[-300:]
    t.send("show running-config\r")
    if "pager-ignores-term-len" in q:
        out = await t.expect(r" --More-- $", 8)
        t.send(" ")
        out = await t.expect(r" --More-- $", 8)
        assert out.startswith("\b" * 9 + " " * 8 + "\b" * 9), "no IOS erase after space: %r" % out[:40]
        t.send("q")
        out = await t.expect(prompt_rx(dev, "#"), 5)
        assert out.startswith("\b" * 9) and "end" + nl not in out, "q did not abort: %r" % out[-200:]
    else:
        out = await t.expect(prompt_rx(dev, "#"), 15)
        assert " --More-- " not in out, "paged after terminal length 0"
        assert "end" + nl in out and len(out.split(nl)) > 150, "running-config too short or cut"
        if dev["personality"] in ("ios", "xe"):
            assert "Building configuration..." in out and "Current configuration : " in out
    t.send("foo bar\r")
    out = await t.expect(prompt_rx(dev, "#"))
    marker = {"nxos": "% Invalid command at '^' marker.", "eos": "% Invalid input"}.get(
        dev["personality"], "% Invalid input detected at '^' marker.")
    assert marker in out, "unknown command: %r" % out
    if dev["personality"] in ("ios", "xe"):
        caret = [l for l in out.split(nl) if l.strip() == "^"]
        assert caret and len(caret[0]) - 1 == len(dev["name"]) + 1, "caret column: %r" % out
    t.send("configure terminal\r")
    await t.expect(prompt_rx(dev, "#").replace(r"(\([a-z-]+\))?", r"\(config\)"))
    t.send("interface GigabitEthernet0/7\r")
    await t.expect(prompt_rx(dev, "#").replace(r"(\([a-z-]+\))?", r"\(config-if\)"))
    t.send(" description set by selftest\r\n")  # \r\n is one Enter: exactly one prompt follows
    await t.expect(prompt_rx(dev, "#").replace(r"(\([a-z-]+\))?", r"\(config-if\)"))
    t.send("end\r")
    await t.expect(prompt_rx(dev, "#"))
    assert t.buf == "", "\\r\\n gave more than one Enter: %r" % t.buf
    if "lf-only" in q:
        assert "\r" not in t.transcript, "q-lf sent a CR"
    else:
        assert "\r\n" in t.transcript
    if "ansi-output" in q:
        assert "\x1b[?2004l" in t.transcript, "no bracketed-paste off after Enter"
        t.send("show ip interface brief\r")
        out = await t.expect(prompt_rx(dev, "#"))
        assert "\x1b[32mup\x1b[0m" in out, "no colour in show ip interface brief"
    t.send("exit\r")
    await t.expect_eof(5)


async def page_through(t, dev, out, timeout):
    while " --More-- " in out[-12:]:
        t.send(" ")
        out += await t.expect(prompt_rx(dev, "#") + "|" + r" --More-- $", timeout)
    return out


async def check_junos(t, dev, st, who):
    await t.expect(re.escape(dev["name"]) + "> $", 8)
    assert "@" + dev["name"] not in t.transcript
    t.send("set cli screen-length 0\r")
    out = await t.expect(re.escape(dev["name"]) + "> $")
    assert "Screen length set to 0" in out
    t.send("show version\r")
    out = await t.expect(re.escape(dev["name"]) + "> $")
    for s in ("Hostname: " + dev["name"], "Model: mx204", "Junos: 21.4R3", "JUNOS OS Kernel"):
        assert s in out, "show version lacks %r" % s
    t.send("configure\r")
    out = await t.expect(re.escape(dev["name"]) + "# $")
    assert "[edit]" in out
    t.send("set system host-name selftest\r")
    await t.expect(r"\[edit\]\r\n" + re.escape(dev["name"]) + "# $")
    t.send("exit\r")
    await t.expect(re.escape(dev["name"]) + "> $")
    t.send("foo\r")
    out = await t.expect(re.escape(dev["name"]) + "> $")
    assert "unknown command." in out
    t.send("exit\r")
    await t.expect_eof(5)


async def check_huawei(t, dev, st, who):
    user = "<%s>$" % re.escape(dev["name"])
    await t.expect(user, 8)
    t.send("screen-length 0 temporary\r")
    out = await t.expect(user)
    assert "Info: The configuration takes effect" in out
    t.send("display version\r")
    out = await t.expect(user)
    assert "Huawei Versatile Routing Platform Software\r\nVRP (R) software, Version 8.180" in out
    t.send("system-view\r")
    await t.expect(r"\[~%s\]$" % re.escape(dev["name"]))
    t.send("return\r")
    await t.expect(user)
    t.send("foo\r")
    out = await t.expect(user)
    lines = out.split("\r\n")
    i = lines.index("Error: Unrecognized command found at '^' position.")
    assert lines[i - 1] == " " * (len(dev["name"]) + 2) + "^", "caret: %r" % lines[i - 1]
    t.send("quit\r")
    await t.expect_eof(5)


async def check_linux(t, dev, st, who):
    user = st["password_user"] if dev["server"] == "asyncssh" else st["login_user"]
    p = r"%s@%s:~[$#] $" % (re.escape(user), re.escape(dev["name"]))
    await t.expect(p, 8)
    t.send("uname -a\r")
    out = await t.expect(p)
    assert "Linux " + dev["name"] in out and "GNU/Linux" in out
    t.send("frobnicate\r")
    out = await t.expect(p)
    assert "frobnicate: command not found" in out
    t.send("exit\r")
    await t.expect_eof(5)


CHECKS = {"junos": check_junos, "huawei": check_huawei, "linux": check_linux}


async def shell_check(st, dev, d, who):
    name = "%s shell via %s client" % (dev["name"], who)
    t = None
    try:
        t = await (asyncssh_shell(st, dev) if who == "asyncssh" else openssh_shell(st, dev, d))
        if who == "openssh" and "auth-banner" in dev["quirks"]:
            t.banner = ""
        await CHECKS.get(dev["personality"], check_cisco_like)(t, dev, st, who)
        if who == "openssh" and "auth-banner" in dev["quirks"]:
            err = (await t.proc.stderr.read()).decode("latin-1")
            assert "authorised access only" in err, "banner not shown by ssh: %r" % err
        record(name, True)
    except (AssertionError, Timeout, OSError, asyncssh.Error, ValueError) as e:
        record(name, False, "%s %s" % (type(e).__name__, e))
    finally:
        if t is not None:
            await t.close()


async def exec_checks(st, dev, d):
    cmd = VERSION_CMD.get(dev["personality"], "show version")
    mark = VERSION_MARK[dev["personality"]]
    q = set(dev["quirks"])
    # asyncssh client
    name = "%s exec via asyncssh client" % dev["name"]
    try:
        async with await asyncssh_login(st, dev) as conn:
            if "no-exec" in q and dev["server"] == "asyncssh":
                try:
                    await conn.run(cmd)
                    record(name, False, "exec was accepted")
                except asyncssh.ChannelOpenError:
                    record(name, True)
            else:
                r = await asyncio.wait_for(conn.run(cmd), 15)
                if "no-exec" in q:
                    ok = r.exit_status == 1 and "% exec not supported" in r.stdout
                else:
                    ok = r.exit_status == 0 and mark in r.stdout
                record(name, ok, "status %s, %r" % (r.exit_status, r.stdout[:200]))
            if "one-channel" in q:
                # asyncssh: any second session on the connection is refused, even after the first
                # closed. sshd's MaxSessions 1 counts open sessions only (one_channel_after_shell).
                n2 = "%s second channel after the first closed" % dev["name"]
                if dev["server"] == "openssh":
                    await asyncio.sleep(0.3)  # sshd frees the closed session asynchronously
                try:
                    await conn.run(cmd)
                    record(n2 + " opens (MaxSessions counts open ones)", dev["server"] == "openssh",
                           "a second session channel opened")
                except asyncssh.ChannelOpenError as e:
                    record(n2 + " is refused", dev["server"] == "asyncssh" and
                           e.code == asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED, "code %s %s" % (e.code, e.reason))
    except (OSError, asyncssh.Error, asyncio.TimeoutError) as e:
        record(name, False, "%s %s" % (type(e).__name__, e))
    # system ssh client
    name = "%s exec via openssh client" % dev["name"]
    try:
        rc, out, err = await openssh_exec(st, dev, d, cmd)
        if "no-exec" in q:
            ok = rc != 0 and ("exec request failed" in err or "% exec not supported" in out)
        else:
            ok = rc == 0 and mark in out
        record(name, ok, "rc %s out %r err %r" % (rc, out[:150], err[-200:]))
    except (OSError, asyncio.TimeoutError) as e:
        record(name, False, "%s %s" % (type(e).__name__, e))


async def one_channel_after_shell(st, dev):
    """The rule holds after a shell too: the second open on the same connection is refused."""
    name = "%s shell then a second channel" % dev["name"]
    try:
        async with await asyncssh_login(st, dev) as conn:
            proc = await conn.create_process(term_type="vt100")
            await asyncio.wait_for(proc.stdout.read(10), 5)
            try:
                await conn.create_process()
                record(name, False, "second channel opened")
            except asyncssh.ChannelOpenError:
                record(name, True)
    except (OSError, asyncssh.Error, asyncio.TimeoutError) as e:
        record(name, False, "%s %s" % (type(e).__name__, e))


def netmiko_checks(st):
    from netmiko import ConnectHandler
    expect_fail = {"q-pager": "pages show version despite terminal length 0",
                   "q-close": "closes the channel after the first command"}
    for dev in st["devices"]:
        base = dev["name"][:-2] if dev["server"] == "openssh" else dev["name"]
        params = dict(device_type=dev["expected_platform"], host="127.0.0.1", port=dev["port"],
                      secret=st["enable_secret"], conn_timeout=10, auth_timeout=10, fast_cli=False)
        if dev["server"] == "asyncssh":
            params.update(username=st["password_user"], password=st["password"], use_keys=False)
        else:
            params.update(username=st["login_user"], key_file=st["user_key"], use_keys=True,
                          disabled_algorithms={})
        cmd = VERSION_CMD.get(dev["personality"], "show version")
        name = "%s netmiko %s send_command(%r)" % (dev["name"], dev["expected_platform"], cmd)
        try:
            c = ConnectHandler(**params)
            try:
                if "enable-password" in dev["quirks"] or "enable-no-password" in dev["quirks"]:
                    c.enable()
                    assert c.check_enable_mode(), "enable failed"
                out = c.send_command(cmd, read_timeout=10)
                assert VERSION_MARK[dev["personality"]] in out, "output %r" % out[:200]
            finally:
                try:
                    c.disconnect()
                except Exception:
                    pass
            ok = True
            detail = ""
        except Exception as e:  # netmiko raises many kinds
            ok = False
            detail = "%s %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")
        if base in expect_fail:
            record(name + " fails as expected (%s)" % expect_fail[base], not ok, "netmiko succeeded")
        else:
            record(name, ok, detail)


async def run_all(st, d, only):
    devices = [x for x in st["devices"] if only in x["name"]]
    sem = asyncio.Semaphore(6)

    async def one(dev):
        async with sem:
            await shell_check(st, dev, d, "asyncssh")
            await shell_check(st, dev, d, "openssh")
            await exec_checks(st, dev, d)
            if "one-channel" in dev["quirks"]:
                await one_channel_after_shell(st, dev)

    await asyncio.gather(*(one(dev) for dev in devices))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base-port", type=int, default=47000)
    ap.add_argument("--dir")
    ap.add_argument("--netmiko", action="store_true")
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    d = args.dir or tempfile.mkdtemp(prefix="quirklab-")
    started = time.monotonic()
    up = subprocess.run([sys.executable, LAB, "up", "--dir", d, "--base-port", str(args.base_port)])
    took = time.monotonic() - started
    if up.returncode != 0:
        print("0 passed, 1 failed")
        return 1
    record("quirklab up returned in %.2fs (< 3 s)" % took, took < 3.0)
    try:
        import json
        with open(os.path.join(d, "status.json")) as f:
            st = json.load(f)
        if hasattr(asyncio, "PidfdChildWatcher") and sys.version_info < (3, 12):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                asyncio.set_child_watcher(asyncio.PidfdChildWatcher())
        asyncio.run(run_all(st, d, args.only))
        if args.netmiko:
            netmiko_checks(dict(st, devices=[x for x in st["devices"] if args.only in x["name"]]))
        # a second `up` on the same ports names the busy port and fails
        again = subprocess.run([sys.executable, LAB, "up", "--dir", d + "-again", "--base-port", str(args.base_port)],
                               capture_output=True, text=True)
        record("second up on busy ports fails naming the port", again.returncode == 1 and
               str(args.base_port) in again.stderr and "in use" in again.stderr, again.stderr.strip())
        shutil.rmtree(d + "-again", ignore_errors=True)
    finally:
        down = subprocess.run([sys.executable, LAB, "down", "--dir", d], capture_output=True, text=True)
        record("quirklab down", down.returncode == 0, down.stderr)
        status = subprocess.run([sys.executable, LAB, "status", "--dir", d], capture_output=True, text=True)
        record("status says down after down", status.returncode == 1)
    if not args.dir:
        shutil.rmtree(d, ignore_errors=True)
    failed = [r for r in results if not r[1]]
    for name, _, detail in failed:
        print("FAILED: %s: %s" % (name, detail))
    print("%d passed, %d failed" % (len(results) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
