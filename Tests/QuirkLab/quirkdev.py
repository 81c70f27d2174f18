#!/usr/bin/env python3
"""Quirky simulated network devices: a CLI engine (stdlib only) and an asyncssh server.

  quirkdev.py serve --config DIR/devices.json     asyncssh server, one port per device (needs asyncssh)
  quirkdev.py shell --config DIR/devices.json [--device NAME]
        the login shell that OpenSSH's ForceCommand runs; without --device the device is the one
        whose port is the 4th field of SSH_CONNECTION. SSH_ORIGINAL_COMMAND set = an exec request.
  quirkdev.py catalog                             the device table as JSON (used by quirklab.py)

The CLI engine only knows "read bytes" and "write bytes", so both SSH servers drive the same code.
"""
import argparse
import asyncio
import json
import os
import random
import sys
import time

PASSWORD_USER = "netops"
PASSWORD = "quirk-pass"
ENABLE_SECRET = "enable-secret"

# name, personality, quirks, expected platform (Netmiko device_type names), what it does.
CATALOG = [
    ("q-ios-user", "ios", ["user-mode", "enable-no-password"], "cisco_ios",
     "lands in user mode `>`; `enable` asks nothing and gives `#`"),
    ("q-ios-enpw", "ios", ["user-mode", "enable-password"], "cisco_ios",
     "user mode; `enable` asks `Password: ` (no echo); enable-secret gives `#`, a wrong one `% Access denied`, 3 wrong `% Bad secrets`"),
    ("q-junos-bare", "junos", ["bare-prompt"], "juniper_junos",
     "Junos prompt without `user@`: `q-junos-bare> `, `configure` gives `[edit]` + `q-junos-bare# `"),
    ("q-banner", "ios", ["auth-banner", "motd"], "cisco_ios",
     "SSH auth banner and a MOTD with prompt-like lines (`Router> ...`, `Switch#1 ...`, `$ ...`)"),
    ("q-slow-echo", "ios", ["slow-echo", "chunked-output"], "cisco_ios",
     "echoes one byte per 10 ms and writes output in 48-byte chunks 8 ms apart"),
    ("q-no-exec", "ios", ["no-exec"], "cisco_ios",
     "refuses exec requests (asyncssh: channel request failure; OpenSSH: `% exec not supported`, exit 1)"),
    ("q-one-channel", "ios", ["one-channel"], "cisco_ios",
     "one session channel per connection; the next channel open is refused (administratively prohibited / MaxSessions 1)"),
    ("q-pager", "ios", ["pager-ignores-term-len"], "cisco_ios",
     "accepts `terminal length 0` but still pages every 24 lines with ` --More-- `; space = page, Enter = line, q = abort"),
    ("q-ansi", "ios", ["ansi-prompt", "ansi-output", "bracketed-paste"], "cisco_ios",
     "prompt `\\e[1;32mq-ansi\\e[0m#` after `\\e[?2004h`, colour in output"),
    ("q-lf", "ios", ["lf-only"], "cisco_ios",
     "LF-only line endings, no CR anywhere in its output"),
    ("q-eos-user", "eos", ["user-mode", "enable-no-password"], "arista_eos",
     "Arista EOS 4.28.3M DCS-7050TX-64, user mode `>`, `enable` without password"),
    ("q-huawei", "huawei", ["vrp8"], "huawei_vrp",
     "Huawei VRP 8.180 `<q-huawei>`, `screen-length 0 temporary`, `system-view` gives `[~q-huawei]`"),
    ("q-linux", "linux", ["bash-prompt"], "linux",
     "bash-like `USER@q-linux:~$ ` (`#` for root), `uname -a`, `command not found`"),
    ("q-nxos", "nxos", [], "cisco_nxos",
     "NX-OS `q-nxos#`, `Cisco Nexus Operating System (NX-OS) Software`"),
    ("q-xe", "xe", ["enable-at-login"], "cisco_xe",
     "IOS-XE 17.03.04a (Amsterdam, CSR1000V), enable mode at login"),
    ("q-double-prompt", "ios", ["double-prompt"], "cisco_ios",
     "prints its prompt, then 80 ms later a blank line and the prompt again, as some devices do at login"),
    ("q-close", "ios", ["close-after-command"], "cisco_ios",
     "after any command's output and the next prompt, closes the channel (no exit-status on asyncssh)"),
]

# The MOTD that fools "the last line ending in > or # is the prompt".
MOTD = """
####################
# Authorised access only #
####################
Router> do not type here
Switch#1 is in rack 4
$ cost center 42
"""

AUTH_BANNER = """*******************************************
* q-banner: authorised access only.       *
* Disconnect now if you are not netops.   *
*******************************************
"""


def device_table(base_port, sshd_offset=100, state_dir=None):
    """Every device twice: asyncssh on base+i, OpenSSH on base+sshd_offset+i (name suffixed -o)."""
    devices = []
    for server, offset, suffix in (("asyncssh", 0, ""), ("openssh", sshd_offset, "-o")):
        for i, (name, personality, quirks, platform, about) in enumerate(CATALOG):
            devices.append({
                "name": name + suffix, "base": name, "server": server, "port": base_port + offset + i,
                "offset": offset + i, "personality": personality, "quirks": quirks,
                "expected_platform": platform, "about": about,
                "hostname": name + suffix,
            })
    return devices


def now_ios():
    return time.strftime("%H:%M:%S UTC %a %b %d %Y", time.gmtime())


class Engine:
    """One CLI session. `read` returns the next chunk of bytes (None at EOF); `write` takes bytes."""

    PERSONALITY = "ios"

    def __init__(self, dev, read, write, user="netops", state_dir=None):
        self.dev = dev
        self.quirks = set(dev.get("quirks", []))
        self.host = dev["hostname"]
        self._read = read
        self._write = write
        self.user = user
        self.state_dir = state_dir
        self.nl = "\n" if "lf-only" in self.quirks else "\r\n"
        self.slow = "slow-echo" in self.quirks
        self.buf = b""
        self.last = ""
        self.eof = False
        self.closed = False
        self.term_len = 24
        self.shell = True
        self.close_after = False

    # ---- byte I/O ----
    async def getch(self):
        while True:
            if not self.buf:
                if self.eof:
                    return None
                data = await self._read()
                if not data:
                    self.eof = True
                    return None
                self.buf = data if isinstance(data, bytes) else data.encode("utf-8", "replace")
                continue
            ch = chr(self.buf[0])
            self.buf = self.buf[1:]
            prev, self.last = self.last, ch
            if ch == "\n" and prev == "\r":
                continue  # \r\n is one Enter
            return ch

    async def raw(self, text):
        data = text.encode("utf-8", "replace")
        if self.slow and len(data) > 48:
            for i in range(0, len(data), 48):
                await self._write(data[i:i + 48])
                await asyncio.sleep(0.008)
        else:
            await self._write(data)

    async def out(self, text):
        """Text with \\n line ends, sent with the device's line ending."""
        await self.raw(text.replace("\r\n", "\n").replace("\n", self.nl))

    async def echo(self, ch):
        if self.slow:
            await asyncio.sleep(0.010)
        await self.raw(ch)

    # ---- session ----
    async def readline(self, echo=True, prompt_len=0):
        line = ""
        while True:
            ch = await self.getch()
            if ch is None:
                return None
            if ch in "\r\n":
                return line
            if ch in "\x7f\x08":
                if line:
                    line = line[:-1]
                    if echo:
                        await self.raw("\b \b")
                continue
            if ch == "\x03":
                if echo:
                    await self.raw("^C")
                return "\x03"
            if ch == "\x1a":
                if echo:
                    await self.raw("^Z")
                return "\x1a"
            if ch == "\x15":  # ^U
                if echo and line:
                    await self.raw("\b \b" * len(line))
                line = ""
                continue
            if ch < " " and ch != "\t":
                continue
            line += ch
            if echo:
                await self.echo(ch)

    def prompt(self):
        raise NotImplementedError

    def greeting(self):
        return "\n"

    async def enter_hook(self):
        """Written after Enter and before the newline (q-ansi's bracketed-paste off)."""

    async def run_shell(self):
        if "motd" in self.quirks:
            await self.out(MOTD)
        await self.out(self.greeting())
        await self.raw(self.render_prompt())
        if "double-prompt" in self.quirks:
            await asyncio.sleep(0.08)
            await self.out("\n")
            await self.raw(self.render_prompt())
        while not self.closed:
            line = await self.readline()
            if line is None:
                break
            await self.enter_hook()
            await self.out("\n")
            if line in ("\x03", "\x1a"):
                self.control(line)
                await self.raw(self.render_prompt())
                continue
            output = await self.command(line)
            if self.closed:
                if output:
                    await self.out(output)
                break
            if output:
                await self.page(output)
            await self.raw(self.render_prompt())
            if "close-after-command" in self.quirks and line.strip():
                self.closed = True
                self.close_after = True
        return 0

    async def run_exec(self, command):
        self.shell = False
        output = await self.command(command.strip())
        if output:
            await self.out(output)
        return 0

    def control(self, key):
        pass

    def render_prompt(self):
        return self.prompt()

    async def page(self, text):
        """Paging with ` --More-- ` as IOS does it; term_len 0 disables it (unless the device ignores that)."""
        length = self.term_len
        if "pager-ignores-term-len" in self.quirks:
            length = 24
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines = lines[:-1]
            tail = "\n"
        else:
            tail = ""
        if not self.shell or length <= 0 or len(lines) <= length:
            await self.out(text)
            return
        shown = 0
        budget = length - 1
        more = " --More-- "
        erase = "\b" * 9 + " " * 8 + "\b" * 9
        while shown < len(lines):
            chunk = lines[shown:shown + budget]
            shown += len(chunk)
            await self.out("\n".join(chunk) + ("\n" if shown < len(lines) else tail))
            if shown >= len(lines):
                return
            await self.raw(more)
            ch = await self.getch()
            await self.raw(erase)
            if ch == " ":
                budget = length - 1
            elif ch in ("\r", "\n"):
                budget = 1
            else:  # q or anything else ends the output
                return
        return

    async def command(self, line):
        raise NotImplementedError

    # ---- persisted config lines ----
    def state_path(self):
        if not self.state_dir:
            return None
        return os.path.join(self.state_dir, self.host + ".cfg")

    def load_state(self):
        path = self.state_path()
        if path and os.path.exists(path):
            with open(path) as f:
                return [l.rstrip("\n") for l in f if l.strip()]
        return []

    def save_state(self, lines):
        path = self.state_path()
        if not path:
            return
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a") as f:
            for l in lines:
                f.write(l + "\n")


def match_words(words, pattern):
    """IOS-style abbreviation: each typed word is a prefix of the keyword. Returns the index of the
    first word that does not match (len(pattern) when all of pattern matched), and whether it matched."""
    for i, key in enumerate(pattern):
        if i >= len(words):
            return i, False
        if key == "*":
            continue
        if not key.lower().startswith(words[i].lower()):
            return i, False
    return len(pattern), True


class Ios(Engine):
    """Cisco IOS 15 (and the base of XE, NX-OS, EOS)."""

    VERSION_LINE = "Cisco IOS Software, C2900 Software (C2900-UNIVERSALK9-M), Version 15.7(3)M5, RELEASE SOFTWARE (fc1)"

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.mode = "user" if "user-mode" in self.quirks else "enable"
        self.config_ctx = None  # e.g. "interface GigabitEthernet0/1"
        self.bad_secrets = 0
        self.session_lines = []

    def prompt_host(self):
        return self.host

    def prompt(self):
        h = self.prompt_host()
        if self.mode == "user":
            return h + ">"
        if self.mode == "config":
            return h + "(config)#"
        if self.mode == "config-if":
            return h + "(config-if)#"
        if self.mode == "config-line":
            return h + "(config-line)#"
        if self.mode == "config-router":
            return h + "(config-router)#"
        return h + "#"

    def render_prompt(self):
        if "ansi-prompt" in self.quirks:
            p = self.prompt()
            h = self.prompt_host()
            return "\x1b[?2004h\x1b[1;32m" + h + "\x1b[0m" + p[len(h):]
        return self.prompt()

    async def enter_hook(self):
        if "bracketed-paste" in self.quirks:
            await self.raw("\x1b[?2004l")

    def control(self, key):
        if self.mode.startswith("config"):
            self.mode = "enable"
            self.config_ctx = None

    def invalid(self, line, words, index):
        """IOS's caret under the word that went wrong."""
        pos = 0
        rest = line
        offset = 0
        for i, w in enumerate(words):
            at = rest.find(w)
            offset += at
            if i == index:
                pos = offset
                break
            offset += len(w)
            rest = rest[at + len(w):]
        else:
            pos = len(line.rstrip())
        col = len(self.prompt()) + pos if self.shell else pos
        return " " * col + "^\n% Invalid input detected at '^' marker.\n\n"

    def incomplete(self):
        return "% Incomplete command.\n\n"

    async def command(self, line):
        words = line.split()
        if not words:
            return ""
        if words[0].startswith("!"):
            return ""
        if self.mode.startswith("config"):
            return await self.config_command(line, words)
        return await self.exec_command(line, words)

    async def ask_enable(self):
        """`enable`: with enable-password, asks `Password: ` without echo. A wrong secret gives
        `% Access denied` and the `>` prompt again; the third failure in a session `% Bad secrets`."""
        if "enable-password" not in self.quirks:
            self.mode = "enable"
            return ""
        if not self.shell:
            return "% Password required, but none set\n"
        await self.raw("Password: ")
        secret = await self.readline(echo=False)
        await self.out("\n")
        if secret is None:
            self.closed = True
            return ""
        if secret == ENABLE_SECRET:
            self.mode = "enable"
            self.bad_secrets = 0
            return ""
        self.bad_secrets += 1
        if self.bad_secrets >= 3:
            self.bad_secrets = 0
            return "% Bad secrets\n\n"
        return "% Access denied\n\n"

    def commands(self):
        """(pattern, handler, needs-enable) for the exec modes; first match wins."""
        return [
            (["show", "version"], lambda: self.show_version(), False),
            (["show", "running-config"], lambda: self.show_running(), True),
            (["show", "startup-config"], lambda: self.show_running(), True),
            (["show", "ip", "interface", "brief"], lambda: self.show_ip_int_brief(), False),
            (["show", "clock"], lambda: "*" + time.strftime("%H:%M:%S.000 UTC %a %b %d %Y", time.gmtime()) + "\n", False),
            (["show", "privilege"], lambda: "Current privilege level is %d\n" % (1 if self.mode == "user" else 15), False),
            (["terminal", "length", "*"], None, False),
            (["terminal", "width", "*"], lambda: "", False),
            (["terminal", "no", "monitor"], lambda: "", False),
            (["write", "memory"], lambda: "Building configuration...\n[OK]\n", True),
            (["copy", "running-config", "startup-config"], lambda: "Destination filename [startup-config]? \nBuilding configuration...\n[OK]\n", True),
            (["configure", "terminal"], None, True),
            (["enable"], None, False),
            (["disable"], None, False),
            (["exit"], None, False),
            (["logout"], None, False),
            (["ping", "*"], lambda: self.ping(), False),
        ]

    def ping(self):
        return ("Type escape sequence to abort.\nSending 5, 100-byte ICMP Echos to 192.0.2.1, timeout is 2 seconds:\n"
                "!!!!!\nSuccess rate is 100 percent (5/5), round-trip min/avg/max = 1/1/2 ms\n")

    async def exec_command(self, line, words):
        best = (-1, None)
        for pattern, handler, needs_enable in self.commands():
            n, ok = match_words(words, pattern)
            if ok and len(words) > len(pattern) and pattern[-1] != "*":
                # extra words: "write memory foo" is invalid at the extra word
                best = max(best, (len(pattern), None), key=lambda b: b[0])
                continue
            if ok:
                if needs_enable and self.mode == "user":
                    # IOS user mode: the privileged keyword is unknown, the caret sits under it.
                    bad = 0 if pattern[0] != "show" else 1
                    return self.invalid(line, words, bad)
                return await self.run(pattern, handler, words)
            if n > best[0]:
                best = (n, None)
        if best[0] >= 1 and best[0] >= len(words):
            return self.incomplete()
        return self.invalid(line, words, max(best[0], 0))

    async def run(self, pattern, handler, words):
        key = pattern[0]
        if key == "terminal" and pattern[1] == "length":
            try:
                n = int(words[2])
            except ValueError:
                return self.invalid(" ".join(words), words, 2)
            self.term_len = n  # q-pager accepts it and ignores it in page()
            return ""
        if key == "configure":
            self.mode = "config"
            return "Enter configuration commands, one per line.  End with CNTL/Z.\n"
        if key == "enable":
            if self.mode == "user":
                return await self.ask_enable()
            return ""
        if key == "disable":
            self.mode = "user"
            return ""
        if key in ("exit", "logout"):
            self.closed = True
            return ""
        return handler()

    async def config_command(self, line, words):
        w0 = words[0].lower()
        if "end".startswith(w0) and len(w0) >= 2 and len(words) == 1:
            self.mode = "enable"
            self.config_ctx = None
            return ""
        if w0 == "exit":
            if self.mode == "config":
                self.mode = "enable"
            else:
                self.mode = "config"
                self.config_ctx = None
            return ""
        if w0 == "do" and len(words) > 1:
            saved = self.mode
            self.mode = "enable"
            out = await self.exec_command(line.split(None, 1)[1], words[1:])
            self.mode = saved
            return out
        known = ("interface", "hostname", "description", "ip", "no", "shutdown", "logging", "ntp", "snmp-server",
                 "router", "network", "line", "username", "banner", "service", "vlan", "name", "switchport",
                 "access-list", "spanning-tree", "cdp", "lldp", "clock", "transport", "exec-timeout",
                 "login", "password", "enable", "aaa", "duplex", "speed", "mtu", "standby", "neighbor")
        cands = [k for k in known if k.startswith(w0)]
        if not cands:
            return self.invalid(line, words, 0)
        key = cands[0] if len(cands) == 1 or w0 in cands else None
        if key is None:
            return "% Ambiguous command:  \"%s\"\n" % line.strip()
        rest = " ".join(words[1:])
        if key == "interface":
            if not rest:
                return self.incomplete()
            name = expand_interface(rest)
            self.mode = "config-if"
            self.config_ctx = "interface " + name
            self.remember([self.config_ctx])
            return ""
        if key == "router":
            self.mode = "config-router"
            self.config_ctx = "router " + rest
            self.remember([self.config_ctx])
            return ""
        if key == "line":
            self.mode = "config-line"
            self.config_ctx = "line " + rest
            self.remember([self.config_ctx])
            return ""
        if key == "hostname" and rest:
            self.remember(["hostname " + rest])
            return ""
        text = key + ((" " + rest) if rest else "")
        if self.config_ctx:
            self.remember([" " + text])
        else:
            self.remember([text])
        return ""

    def remember(self, lines):
        self.session_lines.extend(lines)
        self.save_state(lines)

    # ---- outputs ----
    def show_version(self):
        return ios_show_version(self.host, self.VERSION_LINE)

    def interfaces(self):
        return [("GigabitEthernet0/0", "192.0.2.11", "up"), ("GigabitEthernet0/1", "198.51.100.1", "up"),
                ("GigabitEthernet0/2", "unassigned", "administratively down"), ("Loopback0", "10.255.0.11", "up")]

    def show_ip_int_brief(self):
        rows = ["Interface              IP-Address      OK? Method Status                Protocol"]
        for name, ip, status in self.interfaces():
            proto = "up" if status == "up" else "down"
            st = status
            if "ansi-output" in self.quirks:
                colour = "\x1b[32m" if status == "up" else "\x1b[31m"
                st = colour + status + "\x1b[0m" + " " * (22 - len(status))
                proto = colour + proto + "\x1b[0m"
                rows.append("%-22s %-15s YES NVRAM  %s %s" % (name, ip, st, proto))
            else:
                rows.append("%-22s %-15s YES NVRAM  %-21s %s" % (name, ip, st, proto))
        return "\n".join(rows) + "\n"

    def config_body(self):
        return ios_config_body(self.host, self.interfaces(), self.load_state() or self.session_lines)

    def show_running(self):
        body = self.config_body()
        header = "Building configuration...\n\n"
        text = "!\n! Last configuration change at %s by netops\n! NVRAM config last updated at %s by netops\n!\n%s" % (
            now_ios(), now_ios(), body)
        return header + "Current configuration : %d bytes\n" % len(text) + text


def expand_interface(name):
    for short, full in (("gi", "GigabitEthernet"), ("g", "GigabitEthernet"), ("te", "TenGigabitEthernet"),
                        ("lo", "Loopback"), ("vl", "Vlan"), ("fa", "FastEthernet"), ("eth", "Ethernet"),
                        ("e", "Ethernet"), ("po", "Port-channel")):
        low = name.lower()
        for i, ch in enumerate(low):
            if ch.isdigit():
                prefix = low[:i].strip()
                if prefix and full.lower().startswith(prefix) and (prefix.startswith(short) or prefix == short):
                    return full + name[i:].strip()
                break
    return name


def ios_show_version(host, version_line):
    return f"""{version_line}
Technical Support: http://www.cisco.com/techsupport
Copyright (c) 1986-2019 by Cisco Systems, Inc.
Compiled Tue 19-Nov-19 06:01 by prod_rel_team

ROM: System Bootstrap, Version 15.0(1r)M16, RELEASE SOFTWARE (fc1)

{host} uptime is 12 weeks, 3 days, 4 hours, 17 minutes
System returned to ROM by power-on
System restarted at 09:14:02 UTC Mon Jan 8 2024
System image file is "flash0:c2900-universalk9-mz.SPA.157-3.M5.bin"
Last reload type: Normal Reload
Last reload reason: power-on

This product contains cryptographic features and is subject to United
States and local country laws governing import, export, transfer and
use. Delivery of Cisco cryptographic products does not imply
third-party authority to import, export, distribute or use encryption.

Cisco CISCO2911/K9 (revision 1.0) with 487424K/36864K bytes of memory.
cisco C2911 (revision 1.0) with 487424K/36864K bytes of memory.
Processor board ID FTX1840ALBF
3 Gigabit Ethernet interfaces
1 terminal line
DRAM configuration is 64 bits wide with parity enabled.
255K bytes of non-volatile configuration memory.
250880K bytes of ATA System CompactFlash 0 (Read/Write)

License Info:
License UDI:
-------------------------------------------------
Device#   PID                   SN
-------------------------------------------------
*0        CISCO2911/K9          FTX1840ALBF

Configuration register is 0x2102
"""


def ios_config_body(host, interfaces, extra):
    lines = ["version 15.7", "service timestamps debug datetime msec", "service timestamps log datetime msec",
             "no service password-encryption", "!", "hostname " + host, "!", "boot-start-marker", "boot-end-marker",
             "!", "logging buffered 51200 warnings", "enable secret 9 $9$quirkquirkquirk$Qx1yZ2a3B4c5D6e7F8g9H0", "!",
             "no aaa new-model", "!", "ip domain name lab.example", "ip cef", "no ipv6 cef", "!",
             "multilink bundle-name authenticated", "!", "username netops privilege 15 secret 9 $9$abc$defghijk", "!",
             "redundancy", "!", "!"]
    for name, ip, status in interfaces:
        lines.append("interface " + name)
        lines.append(" description uplink " + name.lower())
        if ip == "unassigned":
            lines.append(" no ip address")
        else:
            lines.append(" ip address %s 255.255.255.0" % ip)
        if status != "up":
            lines.append(" shutdown")
        lines += [" duplex auto", " speed auto", "!"]
    for v in range(10, 10 + 18):
        lines += ["interface Vlan%d" % v, " description vlan %d svi" % v,
                  " ip address 10.%d.0.1 255.255.255.0" % v, " ip helper-address 10.0.0.53", "!"]
    lines += ["router ospf 1", " router-id 10.255.0.11", " passive-interface default",
              " network 10.0.0.0 0.255.255.255 area 0", "!", "ip forward-protocol nd", "!",
              "no ip http server", "no ip http secure-server", "ip ssh version 2", "!"]
    for n in range(1, 31):
        lines.append("access-list 110 permit tcp 10.%d.0.0 0.0.255.255 any eq 22" % n)
    lines += ["!", "snmp-server community quirkRO RO", "snmp-server location rack 4", "!",
              "control-plane", "!", "banner motd ^C", "Authorised access only", "^C", "!"]
    if extra:
        lines.append("! lines configured in this lab")
        lines += extra
        lines.append("!")
    lines += ["line con 0", " exec-timeout 0 0", "line aux 0", "line vty 0 4", " login local",
              " transport input ssh", "!", "scheduler allocate 20000 1000",
              "ntp clock-period %d" % random.randint(17179000, 17179999), "ntp server 192.0.2.123", "!", "end"]
    return "\n".join(lines) + "\n"


class Xe(Ios):
    VERSION_LINE = ("Cisco IOS XE Software, Version 17.03.04a\n"
                    "Cisco IOS Software [Amsterdam], Virtual XE Software (X86_64_LINUX_IOSD-UNIVERSALK9-M), "
                    "Version 17.3.4a, RELEASE SOFTWARE (fc3)")

    def show_version(self):
        return f"""{self.VERSION_LINE}
Technical Support: http://www.cisco.com/techsupport
Copyright (c) 1986-2021 by Cisco Systems, Inc.
Compiled Tue 20-Jul-21 04:59 by mcpre


Cisco IOS-XE software, Copyright (c) 2005-2021 by cisco Systems, Inc.
All rights reserved.  Certain components of Cisco IOS-XE software are
licensed under the GNU General Public License ("GPL") Version 2.0.

ROM: IOS-XE ROMMON

{self.host} uptime is 3 days, 2 hours, 11 minutes
Uptime for this control processor is 3 days, 2 hours, 13 minutes
System returned to ROM by reload
System image file is "bootflash:packages.conf"
Last reload reason: reload

cisco CSR1000V (VXE) processor (revision VXE) with 2072007K/3075K bytes of memory.
Processor board ID 9ESGOBARV9D
Router operating mode: Autonomous
3 Gigabit Ethernet interfaces
32768K bytes of non-volatile configuration memory.
3978412K bytes of physical memory.
6188032K bytes of virtual hard disk at bootflash:.

Configuration register is 0x2102
"""


class Nxos(Ios):
    def invalid(self, line, words, index):
        text = super().invalid(line, words, index)
        return text.replace("% Invalid input detected at '^' marker.", "% Invalid command at '^' marker.")

    def show_version(self):
        return f"""Cisco Nexus Operating System (NX-OS) Software
TAC support: http://www.cisco.com/tac
Documents: http://www.cisco.com/en/US/products/ps9372/tsd_products_support_series_home.html
Copyright (c) 2002-2022, Cisco Systems, Inc. All rights reserved.
The copyrights to certain works contained herein are owned by
other third parties and are used and distributed under license.

Software
  BIOS: version 05.45
  NXOS: version 9.3(10)
  BIOS compile time:  11/22/2020
  NXOS image file is: bootflash:///nxos.9.3.10.bin
  NXOS compile time:  6/28/2022 23:00:00 [06/29/2022 07:57:20]

Hardware
  cisco Nexus9000 C93180YC-EX chassis
  Intel(R) Xeon(R) CPU  @ 1.80GHz with 24632252 kB of memory.
  Processor Board ID FDO21120U7Y

  Device name: {self.host}
  bootflash: 53298520 kB

Kernel uptime is 41 day(s), 6 hour(s), 2 minute(s), 19 second(s)

Last reset at 627466 usecs after Mon Jan  8 09:14:02 2024
  Reason: Reset Requested by CLI command reload
"""

    def show_running(self):
        body = self.config_body()
        return ("\n!Command: show running-config\n!Running configuration last done at: %s\n!Time: %s\n\n"
                "version 9.3(10) Bios:version 05.45\n%s" % (time.ctime(), time.ctime(), body))

    def interfaces(self):
        return [("mgmt0", "192.0.2.21", "up"), ("Ethernet1/1", "198.51.100.21", "up"),
                ("Ethernet1/2", "unassigned", "administratively down"), ("loopback0", "10.255.0.21", "up")]


class Eos(Ios):
    def invalid(self, line, words, index):
        return "% Invalid input\n"

    def commands(self):
        cmds = super().commands()
        return [(p, h, e) for (p, h, e) in cmds if p[0] not in ("terminal",)] + [
            (["terminal", "length", "*"], None, False),
            (["terminal", "width", "*"], lambda: "Width set to %s columns.\n" % self.last_words[-1], False),
        ]

    async def exec_command(self, line, words):
        self.last_words = words
        if self.mode == "user":
            for pattern in (["show", "running-config"], ["configure", "terminal"]):
                if match_words(words, pattern)[1]:
                    return "% Invalid input (privileged mode required)\n"
        return await super().exec_command(line, words)

    async def run(self, pattern, handler, words):
        if pattern[0] == "terminal" and pattern[1] == "length":
            out = await super().run(pattern, handler, words)
            return out or ("Pagination disabled.\n" if self.term_len == 0 else "")
        if pattern[0] == "configure":
            self.mode = "config"
            return ""
        return await super().run(pattern, handler, words)

    def show_version(self):
        return """Arista DCS-7050TX-64
Hardware version:    01.11
Serial number:       JPE16292961
Hardware MAC address:  444c.a805.6921
System MAC address:  444c.a805.6921

Software image version: 4.28.3M
Architecture:           i686
Internal build version: 4.28.3M-29295474.4283M
Internal build ID:      7d0d6a1e-5c8d-4b4e-9f51-0b7a3c1d2e3f
Image format version:   1.0
Image optimization:     Default

Uptime:                 6 weeks, 2 days, 3 hours and 12 minutes
Total memory:           3818208 kB
Free memory:            2340980 kB

"""

    def interfaces(self):
        return [("Management1", "192.0.2.31", "up"), ("Ethernet1", "198.51.100.31", "up"),
                ("Ethernet2", "unassigned", "administratively down"), ("Loopback0", "10.255.0.31", "up")]

    def show_running(self):
        return ("! Command: show running-config\n! device: %s (DCS-7050TX-64, EOS-4.28.3M)\n!\n! boot system flash:/EOS-4.28.3M.swi\n! Time: %s\n!\n%s"
                % (self.host, time.ctime(), self.config_body()))


class Junos(Engine):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.mode = "op"
        self.term_len = 0  # Junos pages through `more` only when asked; keep it simple

    def prompt(self):
        return self.host + ("# " if self.mode == "config" else "> ")

    async def run_shell(self):
        return await super().run_shell()

    def greeting(self):
        return "--- JUNOS 21.4R3-S2.3 Kernel 64-bit  JNPR-12.1-20230121.be2b1a3_buil\n"

    def unknown(self, line, words, index):
        col = (len(self.prompt()) if self.shell else 0) + max(line.find(words[index]) if index < len(words) else len(line), 0)
        return " " * col + "^\nunknown command.\n"

    async def command(self, line):
        words = line.split()
        if not words:
            return "\n[edit]\n" if self.mode == "config" else ""
        was = self.mode
        out = await self.dispatch(line, words)
        if self.closed or not self.shell:
            return out
        if was == "op" and self.mode == "op":
            return out + "\n"  # Junos leaves a blank line before the prompt
        return out

    async def dispatch(self, line, words):
        w = [x.lower() for x in words]
        if self.mode == "config":
            if w[0] in ("exit", "quit") and (len(w) == 1 or w[1] == "configuration-mode"):
                self.mode = "op"
                return "Exiting configuration mode\n\n"
            if w[0] == "commit":
                return "commit complete\n\n[edit]\n"
            if w[0] in ("set", "delete"):
                self.save_state([line.strip()])
                return "\n[edit]\n"
            if w[0] == "show":
                return self.configuration() + "\n[edit]\n"
            if w[0] == "run":
                self.mode = "op"
                out = await self.dispatch(line.split(None, 1)[1] if len(words) > 1 else "", words[1:])
                self.mode = "config"
                return out + "\n[edit]\n"
            return self.unknown(line, words, 0) + "\n[edit]\n"
        if w[0] in ("configure", "edit"):
            self.mode = "config"
            return "Entering configuration mode\n\n[edit]\n"
        if w[0] in ("exit", "quit"):
            self.closed = True
            return ""
        if w[:3] == ["set", "cli", "screen-length"] and len(w) == 4:
            return "Screen length set to %s\n" % w[3]
        if w[:3] == ["set", "cli", "screen-width"] and len(w) == 4:
            return "Screen width set to %s\n" % w[3]
        if w[:3] == ["set", "cli", "complete-on-space"] and len(w) == 4:
            return "Disabling complete-on-space\n" if w[3] == "off" else "Enabling complete-on-space\n"
        if w[0] == "show" and len(w) > 1:
            if "version".startswith(w[1]):
                return self.show_version()
            if "configuration".startswith(w[1]):
                return self.configuration()
            if "interfaces".startswith(w[1]) and len(w) > 2 and w[2] == "terse":
                return self.terse()
            return self.unknown(line, words, 1)
        return self.unknown(line, words, 0)

    def show_version(self):
        return f"""Hostname: {self.host}
Model: mx204
Junos: 21.4R3-S2.3
JUNOS OS Kernel 64-bit  [20230121.be2b1a3_builder_stable_12_211]
JUNOS OS libs [20230121.be2b1a3_builder_stable_12_211]
JUNOS OS runtime [20230121.be2b1a3_builder_stable_12_211]
JUNOS OS time zone information [20230121.be2b1a3_builder_stable_12_211]
JUNOS network stack and utilities [20230202.174521_builder_junos_214_r3_s2]
JUNOS libs [20230202.174521_builder_junos_214_r3_s2]
JUNOS OS libs compat32 [20230121.be2b1a3_builder_stable_12_211]
JUNOS runtime [20230202.174521_builder_junos_214_r3_s2]
JUNOS Packet Forwarding Engine Simulation Package [20230202.174521_builder_junos_214_r3_s2]
JUNOS py extensions [20230202.174521_builder_junos_214_r3_s2]
JUNOS Routing Engine Software Suite [20230202.174521_builder_junos_214_r3_s2]
"""

    def configuration(self):
        extra = "".join("# %s\n" % l for l in self.load_state())
        return (f"## Last commit: {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())} by netops\n"
                f"version 21.4R3-S2.3;\nsystem {{\n    host-name {self.host};\n    services {{\n        ssh;\n        netconf {{\n            ssh;\n        }}\n    }}\n}}\n"
                "interfaces {\n    et-0/0/0 {\n        unit 0 {\n            family inet {\n                address 198.51.100.41/24;\n            }\n        }\n    }\n"
                "    lo0 {\n        unit 0 {\n            family inet {\n                address 10.255.0.41/32;\n            }\n        }\n    }\n}\n" + extra)

    def terse(self):
        return ("Interface               Admin Link Proto    Local                 Remote\n"
                "et-0/0/0                up    up\n"
                "et-0/0/0.0              up    up   inet     198.51.100.41/24\n"
                "lo0                     up    up\n"
                "lo0.0                   up    up   inet     10.255.0.41         --> 0/0\n")


class Huawei(Engine):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.mode = "user"
        self.ctx = None
        self.term_len = 0

    def prompt(self):
        if self.mode == "user":
            return "<%s>" % self.host
        if self.ctx:
            return "[~%s-%s]" % (self.host, self.ctx)
        return "[~%s]" % self.host

    def greeting(self):
        return ("\nInfo: The max number of VTY users is 21, the number of current VTY users online is 1, and total number of terminal users online is 1.\n"
                "      The current login time is %s.\n" % time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()))

    def unknown(self, line, words, index):
        col = (len(self.prompt()) if self.shell else 0) + max(line.find(words[index]), 0)
        return " " * col + "^\nError: Unrecognized command found at '^' position.\n"

    async def command(self, line):
        words = line.split()
        if not words:
            return ""
        w = [x.lower() for x in words]
        if self.mode == "user":
            if w == ["screen-length", "0", "temporary"]:
                return "Info: The configuration takes effect on the current user terminal interface only.\n"
            if w[0] == "screen-width" and len(w) >= 2:
                return "Info: The configuration takes effect on the current user terminal interface only.\n"
            if "system-view".startswith(w[0]) and len(w[0]) >= 3:
                self.mode = "system"
                return "Enter system view, return user view with return command.\n"
            if w[0] == "display" and len(w) > 1:
                if "version".startswith(w[1]):
                    return self.version()
                if "current-configuration".startswith(w[1]):
                    return self.current()
                return self.unknown(line, words, 1)
            if w[0] in ("quit",):
                self.closed = True
                return ""
            return self.unknown(line, words, 0)
        if w[0] == "return":
            self.mode, self.ctx = "user", None
            return ""
        if w[0] == "quit":
            if self.ctx:
                self.ctx = None
            else:
                self.mode = "user"
            return ""
        if w[0] == "commit":
            return ""
        if w[0] == "interface" and len(w) > 1:
            self.ctx = words[1]
            self.save_state(["interface " + words[1]])
            return ""
        if w[0] == "display":
            return self.current() if len(w) > 1 and "current-configuration".startswith(w[1]) else self.unknown(line, words, 1 if len(w) > 1 else 0)
        if w[0] in ("sysname", "description", "ip", "undo", "shutdown", "info-center", "snmp-agent", "ntp-service", "vlan"):
            self.save_state([(" " if self.ctx else "") + line.strip()])
            return ""
        return self.unknown(line, words, 0)

    def version(self):
        return f"""Huawei Versatile Routing Platform Software
VRP (R) software, Version 8.180 (CE6881 V200R019C10SPC800)
Copyright (C) 2012-2020 Huawei Technologies Co., Ltd.
HUAWEI CE6881-48S6CQ uptime is 41 days, 6 hours, 2 minutes
Patch Version: V200R019SPH007

CE6881-48S6CQ(Master) 1 : uptime is  41 days, 6 hours, 1 minutes
        StartupTime 2024/01/08   09:14:02
Memory    Size    : 2048 M bytes
Flash     Size    : 1024 M bytes
CE6881-48S6CQ version information
1. PCB      Version : CEM48S6CQP04    VER A
2. MAB      Version : 1
3. Board    Type    : CE6881-48S6CQ
4. CPLD1    Version : 102
5. BIOS     Version : 205
"""

    def current(self):
        extra = "".join(l + "\n" for l in self.load_state())
        return ("!Software Version V200R019C10SPC800\n!Last configuration was updated at %s\n#\nsysname %s\n#\n"
                "interface 10GE1/0/1\n ip address 198.51.100.51 255.255.255.0\n#\ninterface LoopBack0\n ip address 10.255.0.51 255.255.255.255\n#\n%sreturn\n"
                % (time.strftime("%Y-%m-%d %H:%M:%S+00:00", time.gmtime()), self.host, extra))


class Linux(Engine):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.term_len = 0

    def prompt(self):
        return "%s@%s:~%s " % (self.user, self.host, "#" if self.user == "root" else "$")

    def greeting(self):
        return ("Linux %s 6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01) x86_64\n\n"
                "Last login: Mon Jan  8 09:14:02 2024 from 192.0.2.1\n" % self.host)

    async def command(self, line):
        words = line.split()
        if not words:
            return ""
        cmd = words[0]
        if cmd in ("exit", "logout"):
            self.closed = True
            return "logout\n" if self.shell else ""
        if cmd == "uname":
            if "-a" in words:
                return "Linux %s 6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01) x86_64 GNU/Linux\n" % self.host
            return "Linux\n"
        if cmd == "echo":
            return " ".join(words[1:]) + "\n"
        if cmd == "whoami":
            return self.user + "\n"
        if cmd == "hostname":
            return self.host + "\n"
        if cmd == "pwd":
            return ("/root" if self.user == "root" else "/home/" + self.user) + "\n"
        if cmd == "true" or cmd in ("unset", "export", "stty", "set"):
            return ""
        if cmd == "cat" and words[1:] == ["/etc/os-release"]:
            return 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'
        return "-bash: %s: command not found\n" % cmd


PERSONALITIES = {"ios": Ios, "xe": Xe, "nxos": Nxos, "eos": Eos, "junos": Junos, "huawei": Huawei, "linux": Linux}


def make_engine(dev, read, write, user, state_dir):
    return PERSONALITIES[dev["personality"]](dev, read, write, user=user, state_dir=state_dir)


def load_config(path):
    with open(path) as f:
        return json.load(f)


# ---------------------------------------------------------------- OpenSSH ForceCommand shell

def run_forced_shell(config_path, device_name=None):
    cfg = load_config(config_path)
    devices = cfg["devices"]
    dev = None
    if device_name:
        dev = next((d for d in devices if d["name"] == device_name), None)
    else:
        parts = os.environ.get("SSH_CONNECTION", "").split()
        if len(parts) == 4:
            port = int(parts[3])
            dev = next((d for d in devices if d["port"] == port), None)
    if dev is None:
        sys.stderr.write("quirkdev: no device for this login (SSH_CONNECTION=%r)\n" % os.environ.get("SSH_CONNECTION"))
        return 1
    command = os.environ.get("SSH_ORIGINAL_COMMAND")
    if command is not None and "no-exec" in dev["quirks"]:
        sys.stdout.write("% exec not supported\r\n")
        sys.stdout.flush()
        return 1
    user = os.environ.get("USER") or os.environ.get("LOGNAME") or "root"
    saved = None
    if command is None and os.isatty(0):
        import termios
        import tty
        saved = termios.tcgetattr(0)
        tty.setraw(0, termios.TCSANOW)  # TCSAFLUSH would drop what the client typed ahead
    try:
        return asyncio.run(_forced_shell(dev, cfg, command, user))
    finally:
        if saved is not None:
            import termios
            termios.tcsetattr(0, termios.TCSADRAIN, saved)


async def _forced_shell(dev, cfg, command, user):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    def readable():
        try:
            data = os.read(0, 4096)
        except OSError:
            data = b""
        queue.put_nowait(data)
        if not data:
            loop.remove_reader(0)

    loop.add_reader(0, readable)

    async def read():
        return await queue.get()

    async def write(data):
        view = memoryview(data)
        while view:
            try:
                n = os.write(1, view)
            except BlockingIOError:
                await asyncio.sleep(0.005)
                continue
            view = view[n:]

    engine = make_engine(dev, read, write, user, cfg.get("state_dir"))
    if command is not None:
        return await engine.run_exec(command)
    return await engine.run_shell()


# ---------------------------------------------------------------- asyncssh server

def run_asyncssh_server(config_path):
    import warnings
    warnings.filterwarnings("ignore", message=".*DSA is deprecated.*")
    import asyncssh

    cfg = load_config(config_path)
    host_key = asyncssh.read_private_key(cfg["host_key"])
    state_dir = cfg.get("state_dir")

    class DevSession(asyncssh.SSHServerSession):
        def __init__(self, dev):
            self.dev = dev
            self.queue = asyncio.Queue()
            self.command = None
            self.kind = None
            self.task = None
            self.chan = None

        def connection_made(self, chan):
            self.chan = chan

        def pty_requested(self, term_type, term_size, term_modes):
            return True

        def shell_requested(self):
            self.kind = "shell"
            return True

        def exec_requested(self, command):
            if "no-exec" in self.dev["quirks"]:
                return False
            self.kind, self.command = "exec", command
            return True

        def subsystem_requested(self, subsystem):
            return False

        def session_started(self):
            self.task = asyncio.ensure_future(self.run())

        def data_received(self, data, datatype):
            self.queue.put_nowait(data)

        def eof_received(self):
            self.queue.put_nowait(b"")
            return True

        def connection_lost(self, exc):
            self.queue.put_nowait(b"")
            if self.task and not self.task.done():
                self.task.cancel()

        async def run(self):
            async def read():
                return await self.queue.get()

            async def write(data):
                if not self.chan.is_closing():
                    self.chan.write(data)

            engine = make_engine(self.dev, read, write, PASSWORD_USER, state_dir)
            try:
                if self.kind == "exec":
                    status = await engine.run_exec(self.command)
                else:
                    status = await engine.run_shell()
                if engine.close_after:
                    self.chan.close()  # the peer just goes away: no exit-status, no EOF first
                else:
                    self.chan.exit(status)
            except asyncio.CancelledError:
                pass
            except Exception as e:  # keep the server alive, say why on the channel
                print("session error on %s: %r" % (self.dev["name"], e), file=sys.stderr, flush=True)
                try:
                    self.chan.exit(1)
                except Exception:
                    pass

    class DevServer(asyncssh.SSHServer):
        def __init__(self, dev):
            self.dev = dev
            self.sessions = 0
            self.conn = None

        def connection_made(self, conn):
            self.conn = conn

        def begin_auth(self, username):
            if "auth-banner" in self.dev["quirks"]:
                self.conn.send_auth_banner(AUTH_BANNER)
            return True

        def password_auth_supported(self):
            return True

        def validate_password(self, username, password):
            return username == PASSWORD_USER and password == PASSWORD

        def public_key_auth_supported(self):
            return False

        def kbdint_auth_supported(self):
            return False

        def host_based_auth_supported(self):
            return False

        def session_requested(self):
            self.sessions += 1
            if "one-channel" in self.dev["quirks"] and self.sessions > 1:
                raise asyncssh.ChannelOpenError(asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED,
                                                "only one session per connection")
            return DevSession(self.dev)

    async def main():
        servers = []
        for dev in cfg["devices"]:
            if dev["server"] != "asyncssh":
                continue
            servers.append(await asyncssh.create_server(
                lambda dev=dev: DevServer(dev), "127.0.0.1", dev["port"], server_host_keys=[host_key],
                encoding=None, line_editor=False, allow_scp=False, keepalive_interval=0,
                login_timeout=60))
        print("asyncssh %s serving %d devices" % (asyncssh.__version__, len(servers)), flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--config", required=True)
    s = sub.add_parser("shell")
    s.add_argument("--config", required=True)
    s.add_argument("--device")
    sub.add_parser("catalog")
    args = ap.parse_args(argv)
    if args.cmd == "serve":
        run_asyncssh_server(args.config)
        return 0
    if args.cmd == "shell":
        return run_forced_shell(args.config, args.device)
    if args.cmd == "catalog":
        print(json.dumps(device_table(0), indent=1))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
