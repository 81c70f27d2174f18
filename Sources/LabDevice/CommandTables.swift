// The command sets of each CLI, as data. The shells only dispatch on the actions.

/// Exec-level commands of IOS, EOS and NX-OS.
enum ExecAction: Sendable, Equatable {
    case enable, disable, exit, configure
    case terminalLength, terminalWidth, terminalPager, terminalNoOp
    case showVersion, showRunning, showStartup, showInterfaces, showInterfacesDescription
    case showIPInterfaceBrief, showIPRoute, showClock, showTerminal, showInventory
    case showTechSupport, showHostname, showUsers, showPrivilege
    case writeMemory, copyRunningStartup, ping, reload
}

/// Junos operational mode.
enum JunosOperationalAction: Sendable, Equatable {
    case showVersion, showConfiguration, showInterfaces, showInterfacesTerse, showRoute
    case showSystemUptime, showChassisHardware, showCLI
    case screenLength, screenWidth, completeOnSpaceOn, completeOnSpaceOff
    case configure, exit, ping, requestSystemReboot
}

/// Junos configuration mode.
enum JunosConfigurationAction: Sendable, Equatable {
    case set, delete, edit, up, top, show, commit, commitCheck, commitAndQuit, rollback, run, exit, quit, status
}

enum CommandTables {
    static func industryStandard(_ kind: PlatformKind) -> [CommandSpec<ExecAction>] {
        var specs: [CommandSpec<ExecAction>] = [
            .init("enable", .enable),
            .init("disable", .disable, privileged: true),
            .init("exit", .exit), .init("quit", .exit), .init("logout", .exit),
            .init("configure", .configure, privileged: true),
            .init("configure terminal", .configure, privileged: true),
            .init("terminal length <number>", .terminalLength),
            .init("terminal width <number>", .terminalWidth),
            .init("terminal monitor", .terminalNoOp),
            .init("terminal no [rest]", .terminalNoOp),
            .init("show version", .showVersion),
            .init("show running-config [rest]", .showRunning, privileged: true),
            .init("show startup-config", .showStartup, privileged: true),
            .init("show interfaces [rest]", .showInterfaces),
            .init("show interfaces description", .showInterfacesDescription),
            .init("show ip interface brief", .showIPInterfaceBrief),
            .init("show ip route [rest]", .showIPRoute),
            .init("show clock", .showClock),
            .init("show terminal", .showTerminal),
            .init("show inventory", .showInventory),
            .init("show tech-support [rest]", .showTechSupport, privileged: true),
            .init("show users", .showUsers),
            .init("show privilege", .showPrivilege),
            .init("write", .writeMemory, privileged: true),
            .init("write memory", .writeMemory, privileged: true),
            .init("copy running-config startup-config", .copyRunningStartup, privileged: true),
            .init("ping <rest>", .ping),
            .init("reload [rest]", .reload, privileged: true),
        ]
        switch kind {
        case .aristaEOS:
            specs.append(.init("show hostname", .showHostname))
            specs.append(.init("terminal pager <number>", .terminalPager))
        case .ciscoNXOS:
            specs.append(.init("show hostname", .showHostname))
        default:
            break
        }
        return specs
    }

    static let junosOperational: [CommandSpec<JunosOperationalAction>] = [
        .init("show version", .showVersion),
        .init("show configuration [rest]", .showConfiguration),
        .init("show interfaces [rest]", .showInterfaces),
        .init("show interfaces terse", .showInterfacesTerse),
        .init("show route [rest]", .showRoute),
        .init("show system uptime", .showSystemUptime),
        .init("show chassis hardware", .showChassisHardware),
        .init("show cli", .showCLI),
        .init("set cli screen-length <number>", .screenLength),
        .init("set cli screen-width <number>", .screenWidth),
        .init("set cli complete-on-space on", .completeOnSpaceOn),
        .init("set cli complete-on-space off", .completeOnSpaceOff),
        .init("configure [rest]", .configure),
        .init("exit", .exit), .init("quit", .exit), .init("logout", .exit),
        .init("ping <rest>", .ping),
        .init("request system reboot", .requestSystemReboot),
    ]

    static let junosConfiguration: [CommandSpec<JunosConfigurationAction>] = [
        .init("set <rest>", .set),
        .init("delete <rest>", .delete),
        .init("edit <rest>", .edit),
        .init("up", .up),
        .init("top", .top),
        .init("show [rest]", .show),
        .init("commit", .commit),
        .init("commit check", .commitCheck),
        .init("commit and-quit", .commitAndQuit),
        .init("rollback [rest]", .rollback),
        .init("run <rest>", .run),
        .init("exit [rest]", .exit),
        .init("quit", .quit),
        .init("status", .status),
    ]
}

/// Configuration-mode vocabulary of IOS, EOS and NX-OS: which first words are accepted, how the
/// second word of common commands abbreviates, which commands open a sub-mode, and which settings
/// hold a single value (so a new line replaces the old one instead of adding a second).
struct ConfigDialect: Sendable {
    /// Commands valid at `(config)#`.
    let globalKeywords: [String]
    /// Commands valid inside a section (`(config-if)#` etc.).
    let sectionKeywords: [String]
    /// Second-word vocabularies, for expansion of `ip dom` / `snmp comm` / `ip add`.
    let globalSubwords: [String: [String]]
    let sectionSubwords: [String: [String]]
    /// A command that opens a sub-mode, e.g. `interface X` -> `(config-if)#`.
    struct Section: Sendable {
        let words: [String]
        let prompt: String
        /// Whether a name must follow (`interface Gi0/1`); `control-plane` takes none.
        var takesName = true
    }

    let sections: [Section]
    /// Settings whose new value replaces the old: the leading words that identify them.
    let singleValuedGlobal: [[String]]
    let singleValuedSection: [[String]]
    /// `no X` that the platform records as a `no X` line instead of just deleting X.
    let retainedGlobalNegations: [String]
    let retainedSectionNegations: [String]

    static func of(_ style: PlatformStyle) -> ConfigDialect {
        var global = commonGlobal
        var sections = commonSections
        var retainedGlobal = ["ip http server", "ip http secure-server", "ip domain lookup", "ip domain-lookup",
                              "cdp run", "lldp run", "service pad", "ip source-route", "aaa new-model",
                              "service password-encryption", "ip routing", "ipv6 cef", "ip cef"]
        var retainedSection: [String] = []
        switch style.kind {
        case .ciscoIOS:
            global += ["archive", "control-plane", "license", "key", "crypto", "multilink", "redundancy", "vtp",
                       "mpls", "track", "object-group", "dial-peer"]
            sections.append(Section(words: ["control-plane"], prompt: "config-cp", takesName: false))
            sections.append(Section(words: ["key", "chain"], prompt: "config-keychain"))
            retainedSection = ["ip address", "ip redirects", "ip proxy-arp", "cdp enable", "negotiation auto"]
        case .aristaEOS:
            global += ["management", "daemon", "transceiver", "service", "queue-monitor", "event-handler", "mlag",
                       "peer-filter", "system", "platform", "dhcp", "ip", "mac", "radius-server", "tacacs-server",
                       "agent", "load-interval", "sflow", "monitor", "errdisable", "switchport"]
            sections.append(Section(words: ["management"], prompt: "config-mgmt"))
            sections.append(Section(words: ["daemon"], prompt: "config-daemon"))
            retainedGlobal += ["aaa root"]
            retainedSection = ["switchport", "shutdown"]
        case .ciscoNXOS:
            global += ["feature", "vdc", "copp", "rmon", "callhome", "power", "cli", "system", "hardware",
                       "port-channel", "role", "fabric", "nv", "evpn", "install", "boot", "configure"]
            sections.append(Section(words: ["vdc"], prompt: "config-vdc"))
            retainedGlobal += ["feature telnet", "ip domain-lookup"]
            retainedSection = ["switchport", "shutdown"]
        case .juniperJunos, .linux:
            break
        }
        return ConfigDialect(
            globalKeywords: Array(Set(global)).sorted(),
            sectionKeywords: commonSection,
            globalSubwords: globalSubwords,
            sectionSubwords: sectionSubwords,
            sections: sections,
            singleValuedGlobal: singleValuedGlobal,
            singleValuedSection: singleValuedSection,
            retainedGlobalNegations: retainedGlobal,
            retainedSectionNegations: retainedSection)
    }

    private static let commonGlobal = [
        "aaa", "access-list", "banner", "boot", "cdp", "class-map", "clock", "default", "enable", "errdisable",
        "hostname", "interface", "ip", "ipv6", "line", "lldp", "logging", "mac", "no", "ntp", "policy-map",
        "radius-server", "route-map", "router", "service", "snmp-server", "spanning-tree", "tacacs-server",
        "username", "vlan", "vrf", "alias", "monitor",
    ]

    private static let commonSections: [Section] = [
        Section(words: ["interface"], prompt: "config-if"),
        Section(words: ["router"], prompt: "config-router"),
        Section(words: ["line"], prompt: "config-line"),
        Section(words: ["vlan"], prompt: "config-vlan"),
        Section(words: ["ip", "access-list"], prompt: "config-acl"),
        Section(words: ["route-map"], prompt: "config-route-map"),
        Section(words: ["vrf"], prompt: "config-vrf"),
        Section(words: ["class-map"], prompt: "config-cmap"),
        Section(words: ["policy-map"], prompt: "config-pmap"),
    ]

    private static let commonSection = [
        "access-class", "address-family", "area", "arp", "auto-summary", "bandwidth", "bgp", "cdp",
        "channel-group", "default", "default-information", "deny", "description", "distance", "duplex",
        "encapsulation", "exec-timeout", "exit-address-family", "ip", "ipv6", "keepalive", "lldp", "load-interval",
        "logging", "login", "mac", "match", "maximum-paths", "media-type", "mpls", "mtu", "name", "negotiation",
        "neighbor", "network", "no", "passive-interface", "password", "permit", "privilege", "redistribute",
        "remark", "router-id", "service-policy", "session-timeout", "set", "shutdown", "spanning-tree", "speed",
        "standby", "stopbits", "switchport", "timers", "transport", "vrf", "vrrp", "class", "police",
    ]

    private static let globalSubwords: [String: [String]] = [
        "ip": ["access-list", "cef", "default-gateway", "dhcp", "domain", "domain-lookup", "domain-name",
               "forward-protocol", "ftp", "http", "multicast-routing", "name-server", "nat", "prefix-list",
               "route", "routing", "scp", "sla", "ssh", "tftp", "vrf", "igmp", "pim", "host"],
        "ntp": ["access-group", "authenticate", "authentication-key", "logging", "master", "peer", "server",
                "source", "source-interface", "trusted-key", "update-calendar"],
        "snmp-server": ["community", "contact", "enable", "engineid", "group", "host", "ifindex", "location",
                        "trap-source", "user", "view", "source-interface"],
        "logging": ["buffered", "console", "facility", "host", "monitor", "origin-id", "server", "source-interface",
                    "trap", "logfile", "timestamp", "level", "format", "synchronous"],
        "spanning-tree": ["extend", "mode", "portfast", "vlan", "mst", "loopguard", "bpduguard"],
        "service": ["password-encryption", "timestamps", "pad", "tcp-keepalives-in", "tcp-keepalives-out",
                    "routing", "unsupported-transceiver", "config"],
        "enable": ["password", "secret"],
        "clock": ["timezone", "summer-time", "protocol"],
    ]

    private static let sectionSubwords: [String: [String]] = [
        "ip": ["access-group", "address", "directed-broadcast", "flow", "helper-address", "mtu", "nat", "ospf",
               "pim", "policy", "proxy-arp", "redirects", "unreachables", "vrf", "igmp", "dhcp", "router"],
        "switchport": ["access", "mode", "nonegotiate", "trunk", "voice", "port-security"],
        "spanning-tree": ["portfast", "bpduguard", "bpdufilter", "guard", "cost", "port-priority", "link-type"],
    ]

    private static let singleValuedGlobal: [[String]] = [
        ["hostname"], ["ip", "domain-name"], ["ip", "domain", "name"], ["enable", "secret"], ["enable", "password"],
        ["clock", "timezone"], ["ip", "default-gateway"], ["spanning-tree", "mode"], ["banner", "motd"],
        ["banner", "login"], ["logging", "buffered"], ["snmp-server", "location"], ["snmp-server", "contact"],
        ["vtp", "mode"], ["ip", "ssh", "version"],
    ]

    private static let singleValuedSection: [[String]] = [
        ["description"], ["ip", "address"], ["mtu"], ["speed"], ["duplex"], ["bandwidth"], ["switchport", "mode"],
        ["switchport", "access", "vlan"], ["switchport", "trunk", "native", "vlan"], ["encapsulation"],
        ["router-id"], ["bgp", "router-id"], ["name"], ["exec-timeout"], ["vrf", "forwarding"], ["vrf", "member"],
        ["channel-group"], ["ip", "ospf", "cost"], ["transport", "input"], ["shutdown"], ["switchport"],
        ["load-interval"], ["media-type"], ["negotiation"],
    ]
}
