// A minimal bash look-alike for `linux` lab hosts: enough commands for inventory and reachability
// jobs (uname, hostname, ip addr/route, cat /etc/os-release), with bash's prompt and error wording.

final class LinuxShell: DeviceShell {
    private let device: DeviceContext

    init(device: DeviceContext) { self.device = device }

    private var isRoot: Bool { device.user == "root" }
    private var home: String { isRoot ? "/root" : "/home/\(device.user)" }

    var prompt: String { "\(device.user)@\(device.name):~\(isRoot ? "#" : "$") " }
    var promptPreamble: String { "" }

    private var unameAll: String {
        "Linux \(device.name) \(device.style.softwareVersion) #115-Ubuntu SMP Mon Apr 15 09:52:04 UTC 2024 x86_64 x86_64 x86_64 GNU/Linux"
    }

    private var files: [String: String] {
        [
            "/etc/hostname": device.name + "\n",
            "/etc/os-release": """
                PRETTY_NAME="Ubuntu 22.04.4 LTS"
                NAME="Ubuntu"
                VERSION_ID="22.04"
                VERSION="22.04.4 LTS (Jammy Jellyfish)"
                VERSION_CODENAME=jammy
                ID=ubuntu
                ID_LIKE=debian
                HOME_URL="https://www.ubuntu.com/"

                """,
            "/proc/version": Reports.version(device.style, device.snapshot(), device.fingerprint, escapes: false),
            "/etc/issue": "Ubuntu 22.04.4 LTS \\n \\l\n\n",
        ]
    }

    func execute(_ line: String) -> Reply {
        let words = Text.words(line).map(Text.unquote)
        guard let command = words.first else { return .empty }
        let arguments = Array(words.dropFirst())
        switch command {
        case "exit", "logout":
            return Reply(endsSession: true)
        case "uname":
            switch arguments.first {
            case "-a": return .text(unameAll + "\n")
            case "-r": return .text(device.style.softwareVersion + "\n")
            case "-n": return .text(device.name + "\n")
            case "-m": return .text("x86_64\n")
            default: return .text("Linux\n")
            }
        case "hostname":
            return .text(device.name + "\n")
        case "whoami":
            return .text(device.user + "\n")
        case "id":
            let uid = isRoot ? 0 : 1000
            return .text("uid=\(uid)(\(device.user)) gid=\(uid)(\(device.user)) groups=\(uid)(\(device.user))\(isRoot ? "" : ",27(sudo)")\n")
        case "pwd":
            return .text(home + "\n")
        case "date":
            return .text(WallClock.now().unixDate + "\n")
        case "uptime":
            let now = WallClock.now(), minutes = device.fingerprint.uptimeMinutes
            return .text(" \(now.hms) up \(minutes / 1440) days, \(Text.padLeft(String(minutes / 60 % 24), 2)):\(Text.twoDigits(minutes % 60)),  1 user,  load average: 0.12, 0.08, 0.05\n")
        case "echo":
            return .text(arguments.joined(separator: " ") + "\n")
        case "true", ":":
            return .empty
        case "false":
            return Reply(failed: true)
        case "ip":
            return ip(arguments)
        case "cat":
            var text = "", errors = ""
            for path in arguments {
                if let content = files[path] { text += content } else { errors += "cat: \(path): No such file or directory\n" }
            }
            return Reply(body: Array(text.utf8), failed: !errors.isEmpty, standardError: errors.isEmpty ? nil : errors)
        default:
            return Reply(failed: true, standardError: "-bash: \(command): command not found\n")
        }
    }

    private func ip(_ arguments: [String]) -> Reply {
        var rest = arguments
        let brief = rest.first == "-br" || rest.first == "-brief"
        if brief { rest.removeFirst() }
        let snapshot = device.snapshot()
        guard let object = rest.first else {
            return Reply(failed: true, standardError: "Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n")
        }
        if "address".hasPrefix(object) {
            guard brief else { return .text(InterfaceReports.linuxAddresses(snapshot)) }
            let lines = snapshot.interfaces.map { i in
                Text.pad(i.name, 17) + Text.pad(i.kind == .loopback ? "UNKNOWN" : "UP", 15) + (i.address?.cidr ?? "") + " \n"
            }
            return .text(lines.joined())
        }
        if "route".hasPrefix(object) {
            return .text(RouteReports.table(device.style, snapshot, arguments: []).text)
        }
        return Reply(failed: true, standardError: "Object \"\(object)\" is unknown, try \"ip help\".\n")
    }
}
