// `show running-config` / `show startup-config` / `show configuration` framing. The stored text is
// just the configuration; the volatile lines real devices add (timestamps, `ntp clock-period`,
// byte counts) are generated at display time, so two backups taken a second apart differ exactly
// where a backup service's "ignore volatile lines" rules must look.

enum ConfigReports {
    /// Running configuration split where the `huge_output` bulk goes (before IOS/EOS `end`).
    static func running(_ style: PlatformStyle, body: String, user: String, now: WallClock, hostname: String)
        -> (head: String, tail: String) {
        switch style.kind {
        case .ciscoIOS:
            let config = """
                !
                ! Last configuration change at \(now.iosStamp) by \(user)
                !
                \(withClockPeriod(body, now: now))
                """
            let tail = "end\n"
            return ("Building configuration...\n\nCurrent configuration : \(config.utf8.count + tail.utf8.count) bytes\n" + config, tail)
        case .aristaEOS:
            let head = """
                ! Command: show running-config
                ! device: \(hostname) (\(style.model), EOS-\(style.softwareVersion))
                ! Time: \(now.ctime)
                !
                ! boot system flash:/vEOS-lab.swi
                !

                """
            return (head + body, "end\n")
        case .ciscoNXOS:
            let head = """

                !Command: show running-config
                !Running configuration last done at: \(now.ctime)
                !Time: \(now.ctime)

                version \(style.softwareVersion) Bios:version  

                """
            return (head + body, "\n")
        case .juniperJunos:
            return (junosHead(style, user: user, now: now) + JunosConfig.render(JunosConfig(text: body).statements), "")
        case .linux:
            return (body, "")
        }
    }

    static func junosHead(_ style: PlatformStyle, user: String, now: WallClock) -> String {
        "## Last commit: \(now.junosStamp) by \(user)\nversion \(style.softwareVersion);\n"
    }

    /// `show running-config interface X`.
    static func runningSection(_ style: PlatformStyle, block: SectionedConfig.Block, indent: String, now: WallClock) -> String {
        let text = block.header + "\n" + block.children.map { indent + $0 + "\n" }.joined()
        switch style.kind {
        case .ciscoIOS:
            let framed = "!\n" + text + "end\n"
            return "Building configuration...\n\nCurrent configuration : \(framed.utf8.count) bytes\n" + framed + "\n"
        case .ciscoNXOS:
            return "\n!Command: show running-config interface \(block.header.dropFirst("interface ".count))\n!Time: \(now.ctime)\n\nversion \(style.softwareVersion) Bios:version  \n\n" + text + "\n"
        default:
            return text
        }
    }

    static func startup(_ style: PlatformStyle, body: String) -> String {
        switch style.kind {
        case .ciscoIOS: return "Using \(body.utf8.count) out of 262144 bytes\n!\n" + body + "end\n"
        case .aristaEOS: return "! Command: show startup-config\n! device: (\(style.model), EOS-\(style.softwareVersion))\n!\n" + body + "end\n"
        default: return "\n!Command: show startup-config\n\nversion \(style.softwareVersion) Bios:version  \n" + body
        }
    }

    /// IOS prints `ntp clock-period <n>` with the NTP lines; n drifts as the clock is disciplined,
    /// which makes it the classic line backup tools must ignore.
    private static func withClockPeriod(_ body: String, now: WallClock) -> String {
        let line = "ntp clock-period \(17_179_000 + now.epochSeconds % 1_700)"
        var lines = Text.lines(body)
        if let index = lines.firstIndex(where: { $0.hasPrefix("ntp ") }) {
            lines.insert(line, at: index)
        } else {
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
