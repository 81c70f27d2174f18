// Platform styles as data. Everything that differs between the simulated network OSes and is not
// behaviour (prompts, error wording, pager prompt, interface naming, version strings) lives here,
// so the shells stay generic and adding a platform is mostly a table entry.

/// The `platform` values accepted in devices.json.
enum PlatformKind: String, CaseIterable, Sendable {
    case ciscoIOS = "cisco_ios"
    case aristaEOS = "arista_eos"
    case juniperJunos = "juniper_junos"
    case ciscoNXOS = "cisco_nxos"
    case linux = "linux"

    /// Tolerate the short spellings people type by hand when editing devices.json.
    init?(lenient text: String) {
        let key = String(text.lowercased().map { $0 == "-" ? "_" : $0 })
        if let exact = PlatformKind(rawValue: key) { self = exact; return }
        switch key {
        case "ios", "cisco_xe", "ios_xe", "iosxe": self = .ciscoIOS
        case "eos", "arista": self = .aristaEOS
        case "junos", "juniper": self = .juniperJunos
        case "nxos", "nx_os", "cisco_nx_os": self = .ciscoNXOS
        case "ubuntu", "debian", "linux_server": self = .linux
        default: return nil
        }
    }
}

/// How the CLI behaves, as opposed to how it words things.
enum CLIFamily: Sendable {
    /// IOS, EOS and NX-OS: user/enable/config levels, `conf t`, `show running-config`.
    case industryStandard
    /// Junos: operational mode, candidate configuration, `commit`.
    case junos
    /// A bash-like login shell.
    case linux
}

/// Error wording and whether a caret line pointing at the bad word precedes it.
struct ErrorStyle: Sendable {
    var invalid: String
    var invalidHasCaret: Bool
    /// Junos words an unknown first word differently from a bad later word.
    var unknownFirstWord: String?
    var incomplete: String
    var incompleteHasCaret: Bool
    /// `{input}` is replaced by the command as typed, `{word}` by the ambiguous word.
    var ambiguous: String
    var ambiguousHasCaret: Bool
    var ambiguousListsCompletions: Bool
    var accessDenied: String
    var privilegedOnly: String?
}

struct PlatformStyle: Sendable {
    let kind: PlatformKind
    let family: CLIFamily
    /// Shown once when an interactive session starts; `{host}` is replaced.
    let banner: String
    let morePrompt: String
    let errors: ErrorStyle
    /// Indentation of lines inside a configuration section.
    let configIndent: String
    /// Interface type names, most common first: abbreviations resolve to the first prefix match.
    let interfaceTypes: [String]
    /// Data-plane ports that always exist, in order; they cannot be deleted.
    let physicalPorts: [String]
    let managementPort: String
    let loopbackName: String
    let oui: (UInt8, UInt8, UInt8)
    let softwareVersion: String
    let model: String
    let serialPrefix: String
    let serialLength: Int
    /// NX-OS shows `no shutdown` explicitly; IOS and EOS just omit `shutdown`.
    let storesNoShutdown: Bool
    /// Masks in `ip address` / `ip route` lines: `255.255.255.0` (IOS) or `/24` (EOS, NX-OS).
    let usesPrefixLength: Bool
    /// Separator between configuration blocks: `!` (IOS, EOS) or an empty line (NX-OS).
    let blockSeparator: String
    /// EOS and NX-OS accept `show ...` directly in configuration mode; IOS needs `do`.
    let showAllowedInConfig: Bool
    let enterConfigMessage: String?

    static func of(_ kind: PlatformKind) -> PlatformStyle {
        switch kind {
        case .ciscoIOS: return .ios
        case .aristaEOS: return .eos
        case .ciscoNXOS: return .nxos
        case .juniperJunos: return .junos
        case .linux: return .linuxHost
        }
    }

    static let ios = PlatformStyle(
        kind: .ciscoIOS, family: .industryStandard,
        banner: "{host} - Switchboard lab device (Cisco IOS simulation). Authorized access only.",
        morePrompt: " --More-- ",
        errors: ErrorStyle(
            invalid: "% Invalid input detected at '^' marker.", invalidHasCaret: true, unknownFirstWord: nil,
            incomplete: "% Incomplete command.", incompleteHasCaret: false,
            ambiguous: "% Ambiguous command:  \"{input}\"", ambiguousHasCaret: false, ambiguousListsCompletions: false,
            accessDenied: "% Access denied", privilegedOnly: nil),
        configIndent: " ",
        interfaceTypes: ["GigabitEthernet", "FastEthernet", "TenGigabitEthernet", "Loopback", "Vlan",
                         "Port-channel", "Tunnel", "Serial", "Ethernet"],
        physicalPorts: ["GigabitEthernet0/0", "GigabitEthernet0/1", "GigabitEthernet0/2", "GigabitEthernet0/3"],
        managementPort: "GigabitEthernet0/3", loopbackName: "Loopback0",
        oui: (0x00, 0x1e, 0x49), softwareVersion: "15.9(3)M4", model: "IOSv",
        serialPrefix: "9", serialLength: 11,
        storesNoShutdown: false, usesPrefixLength: false, blockSeparator: "!", showAllowedInConfig: false,
        enterConfigMessage: "Enter configuration commands, one per line.  End with CNTL/Z.")

    static let eos = PlatformStyle(
        kind: .aristaEOS, family: .industryStandard,
        banner: "{host} - Switchboard lab device (Arista EOS simulation). Authorized access only.",
        morePrompt: " --More-- ",
        errors: ErrorStyle(
            invalid: "% Invalid input", invalidHasCaret: false, unknownFirstWord: nil,
            incomplete: "% Incomplete command", incompleteHasCaret: false,
            ambiguous: "% Ambiguous command", ambiguousHasCaret: false, ambiguousListsCompletions: false,
            accessDenied: "% Access denied", privilegedOnly: "% Invalid input (privileged mode required)"),
        configIndent: "   ",
        interfaceTypes: ["Ethernet", "Management", "Loopback", "Vlan", "Port-Channel", "Tunnel"],
        physicalPorts: ["Ethernet1", "Ethernet2", "Ethernet3", "Ethernet4"],
        managementPort: "Management1", loopbackName: "Loopback0",
        oui: (0x00, 0x1c, 0x73), softwareVersion: "4.28.3M", model: "vEOS-lab",
        serialPrefix: "JPE", serialLength: 11,
        storesNoShutdown: false, usesPrefixLength: true, blockSeparator: "!", showAllowedInConfig: true,
        enterConfigMessage: nil)

    static let nxos = PlatformStyle(
        kind: .ciscoNXOS, family: .industryStandard,
        banner: "{host} - Switchboard lab device (Cisco NX-OS simulation). Authorized access only.",
        morePrompt: " --More-- ",
        errors: ErrorStyle(
            invalid: "% Invalid command at '^' marker.", invalidHasCaret: true, unknownFirstWord: nil,
            incomplete: "% Incomplete command at '^' marker.", incompleteHasCaret: true,
            ambiguous: "% Ambiguous command at '^' marker.", ambiguousHasCaret: true, ambiguousListsCompletions: false,
            accessDenied: "% Access denied", privilegedOnly: nil),
        configIndent: "  ",
        interfaceTypes: ["Ethernet", "mgmt", "loopback", "Vlan", "port-channel", "Tunnel"],
        physicalPorts: ["Ethernet1/1", "Ethernet1/2", "Ethernet1/3", "Ethernet1/4"],
        managementPort: "mgmt0", loopbackName: "loopback0",
        oui: (0x00, 0x22, 0xbd), softwareVersion: "9.3(10)", model: "Nexus9000 C9300v",
        serialPrefix: "9", serialLength: 11,
        storesNoShutdown: true, usesPrefixLength: true, blockSeparator: "", showAllowedInConfig: true,
        enterConfigMessage: "Enter configuration commands, one per line. End with CNTL/Z.")

    static let junos = PlatformStyle(
        kind: .juniperJunos, family: .junos,
        banner: "--- JUNOS 21.4R3.15 Kernel 64-bit  JNPR-12.1-20220601.0f2b3c1_buil ({host}, Switchboard lab simulation)",
        morePrompt: "---(more)---",
        errors: ErrorStyle(
            invalid: "syntax error, expecting <command>.", invalidHasCaret: true, unknownFirstWord: "unknown command.",
            incomplete: "syntax error, command is incomplete.", incompleteHasCaret: true,
            ambiguous: "'{word}' is ambiguous.", ambiguousHasCaret: true, ambiguousListsCompletions: true,
            accessDenied: "error: permission denied", privilegedOnly: nil),
        configIndent: "    ",
        interfaceTypes: ["ge-", "xe-", "et-", "ae", "lo", "fxp", "irb"],
        physicalPorts: ["ge-0/0/0", "ge-0/0/1", "ge-0/0/2", "ge-0/0/3"],
        managementPort: "fxp0", loopbackName: "lo0",
        oui: (0x2c, 0x6b, 0xf5), softwareVersion: "21.4R3.15", model: "vmx",
        serialPrefix: "VM", serialLength: 12,
        storesNoShutdown: false, usesPrefixLength: true, blockSeparator: "", showAllowedInConfig: true,
        enterConfigMessage: "Entering configuration mode")

    static let linuxHost = PlatformStyle(
        kind: .linux, family: .linux,
        banner: "Welcome to Ubuntu 22.04.4 LTS (GNU/Linux 5.15.0-105-generic x86_64) - {host}, Switchboard lab",
        morePrompt: "",
        errors: ErrorStyle(
            invalid: "-bash: {word}: command not found", invalidHasCaret: false, unknownFirstWord: nil,
            incomplete: "", incompleteHasCaret: false, ambiguous: "", ambiguousHasCaret: false,
            ambiguousListsCompletions: false, accessDenied: "", privilegedOnly: nil),
        configIndent: "",
        interfaceTypes: ["eth", "lo"],
        physicalPorts: ["eth0", "eth1"],
        managementPort: "eth1", loopbackName: "lo",
        oui: (0x52, 0x54, 0x00), softwareVersion: "5.15.0-105-generic", model: "x86_64",
        serialPrefix: "", serialLength: 0,
        storesNoShutdown: false, usesPrefixLength: true, blockSeparator: "", showAllowedInConfig: false,
        enterConfigMessage: nil)
}
