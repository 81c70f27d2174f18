// What the show commands report, derived from the running configuration plus the device's
// fingerprint. Reading interfaces and routes out of the config (rather than from fixed tables)
// means a change pushed by an automation job shows up in `show interfaces` and `show ip route`,
// which is what post-change verification steps check.

struct IPv4: Sendable, Comparable, Hashable, CustomStringConvertible {
    let value: UInt32

    init(_ value: UInt32) { self.value = value }

    init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var result: UInt32 = 0
        for part in parts {
            guard let octet = UInt8(part) else { return nil }
            result = result << 8 | UInt32(octet)
        }
        value = result
    }

    var description: String {
        "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
    }

    static func < (a: IPv4, b: IPv4) -> Bool { a.value < b.value }

    static func mask(_ length: Int) -> IPv4 { IPv4(length == 0 ? 0 : UInt32.max << UInt32(32 - length)) }

    /// Prefix length of a dotted netmask (`255.255.255.0` -> 24); nil if not contiguous.
    static func prefixLength(ofMask mask: IPv4) -> Int? {
        let ones = mask.value.nonzeroBitCount
        return IPv4.mask(ones) == mask ? ones : nil
    }

    /// Hostmask (`0.0.0.255`) form, as used in IOS ACLs and OSPF network statements.
    static func wildcard(_ length: Int) -> IPv4 { IPv4(~mask(length).value) }

    func network(_ length: Int) -> IPv4 { IPv4(value & IPv4.mask(length).value) }
}

/// An address with its prefix length, parsed from `A.B.C.D M.M.M.M` or `A.B.C.D/len`.
struct IPv4Prefix: Sendable, Hashable {
    var address: IPv4
    var length: Int

    init(address: IPv4, length: Int) {
        self.address = address
        self.length = length
    }

    init?(_ words: [String]) {
        guard let first = words.first else { return nil }
        if let slash = first.firstIndex(of: "/") {
            guard let address = IPv4(first[..<slash]), let length = Int(first[first.index(after: slash)...]),
                  (0...32).contains(length) else { return nil }
            self.init(address: address, length: length)
        } else {
            guard words.count >= 2, let address = IPv4(first), let mask = IPv4(words[1]),
                  let length = IPv4.prefixLength(ofMask: mask) else { return nil }
            self.init(address: address, length: length)
        }
    }

    var network: IPv4 { address.network(length) }
    var cidr: String { "\(address)/\(length)" }
    var networkCIDR: String { "\(network)/\(length)" }
    var broadcast: IPv4 { IPv4(network.value | ~IPv4.mask(length).value) }
}

struct InterfaceCounters: Sendable {
    var inputPackets: Int, inputBytes: Int, outputPackets: Int, outputBytes: Int
    var inputRateBits: Int, outputRateBits: Int, inputRatePackets: Int, outputRatePackets: Int
    var broadcasts: Int, multicasts: Int, resets: Int, crcErrors: Int

    init(_ fingerprint: Fingerprint, interface: String, active: Bool) {
        var rng = fingerprint.generator("counters:" + interface)
        let scale = active ? 1 : 0
        inputPackets = rng.inRange(100_000...90_000_000) * scale
        outputPackets = rng.inRange(100_000...90_000_000) * scale
        inputBytes = inputPackets * rng.inRange(64...900)
        outputBytes = outputPackets * rng.inRange(64...900)
        inputRateBits = rng.inRange(1_000...9_000_000) * scale
        outputRateBits = rng.inRange(1_000...9_000_000) * scale
        inputRatePackets = inputRateBits / 4000
        outputRatePackets = outputRateBits / 4000
        broadcasts = inputPackets / rng.inRange(200...900)
        multicasts = inputPackets / rng.inRange(50...400)
        resets = rng.below(4)
        crcErrors = rng.below(10) == 0 ? rng.inRange(1...40) * scale : 0
    }
}

struct InterfaceInfo: Sendable {
    enum Kind: Sendable { case physical, management, loopback, virtual }

    var name: String
    var kind: Kind
    var description: String?
    var address: IPv4Prefix?
    var adminUp: Bool
    var mtu: Int
    var mac: [UInt8]
    var index: Int
    var counters: InterfaceCounters

    var operUp: Bool { adminUp }
}

struct RouteEntry: Sendable {
    enum Source: Sendable { case connected, local, staticRoute, ospf }

    var prefix: IPv4Prefix
    var source: Source
    var nextHop: IPv4?
    var interface: String?
    var distance: Int
    var metric: Int
    var ageMinutes: Int
}

/// Everything the reports need, computed once per command from the current configuration.
struct DeviceSnapshot: Sendable {
    var hostname: String
    var interfaces: [InterfaceInfo]
    var routes: [RouteEntry]
    var ospfEnabled: Bool

    func interface(named name: String) -> InterfaceInfo? {
        interfaces.first { $0.name.lowercased() == name.lowercased() }
    }

    static func build(style: PlatformStyle, fingerprint: Fingerprint, config: String, deviceName: String) -> DeviceSnapshot {
        switch style.family {
        case .industryStandard: return fromSectioned(style, fingerprint, SectionedConfig(text: config, style: style), deviceName)
        case .junos: return fromJunos(style, fingerprint, JunosConfig(text: config), deviceName)
        case .linux: return linuxHost(style, fingerprint, deviceName)
        }
    }

    private static func kind(of name: String, style: PlatformStyle) -> InterfaceInfo.Kind {
        let lower = name.lowercased()
        if name == style.managementPort || lower.hasPrefix("mgmt") || lower.hasPrefix("management") || lower.hasPrefix("fxp") {
            return .management
        }
        if lower.hasPrefix("lo") { return .loopback }
        if style.physicalPorts.contains(name) || lower.hasPrefix("eth") || lower.hasPrefix("gig") || lower.hasPrefix("ge-") {
            return .physical
        }
        return .virtual
    }

    private static func makeInterface(_ name: String, index: Int, style: PlatformStyle, fingerprint: Fingerprint,
                                      description: String?, address: IPv4Prefix?, adminUp: Bool, mtu: Int?) -> InterfaceInfo {
        let kind = kind(of: name, style: style)
        // MAC from the name, not the position, so adding a loopback does not renumber the ports.
        let macIndex = style.physicalPorts.firstIndex(of: name).map { $0 + 1 } ?? 64 + Int(Fingerprint.fnv1a(name) % 960)
        return InterfaceInfo(
            name: name, kind: kind, description: description, address: address, adminUp: adminUp,
            mtu: mtu ?? (kind == .loopback ? 65535 : 1500),
            mac: fingerprint.mac(oui: style.oui, index: macIndex), index: index,
            counters: InterfaceCounters(fingerprint, interface: name, active: adminUp))
    }

    private static func fromSectioned(_ style: PlatformStyle, _ fingerprint: Fingerprint, _ config: SectionedConfig,
                                      _ deviceName: String) -> DeviceSnapshot {
        var interfaces: [InterfaceInfo] = []
        for (index, block) in config.blocks(startingWith: ["interface"]).enumerated() {
            let name = Text.trim(block.header.dropFirst("interface".count))
            var description: String?
            var address: IPv4Prefix?
            var adminUp = true
            var mtu: Int?
            for line in block.children {
                let words = Text.words(line)
                if line.hasPrefix("description ") { description = Text.trim(line.dropFirst("description ".count)) }
                if words.starts(with: ["ip", "address"]), !words.contains("secondary") {
                    address = IPv4Prefix(Array(words.dropFirst(2)))
                }
                if line == "shutdown" { adminUp = false }
                if words.first == "mtu", words.count > 1 { mtu = Int(words[1]) }
            }
            interfaces.append(makeInterface(name, index: index, style: style, fingerprint: fingerprint,
                                            description: description, address: address, adminUp: adminUp, mtu: mtu))
        }
        var statics: [(IPv4Prefix, IPv4)] = []
        for block in config.blocks(startingWith: ["ip", "route"]) {
            let words = Array(Text.words(block.header).dropFirst(2))
            guard let prefix = IPv4Prefix(words) else { continue }
            let hopIndex = words.first!.contains("/") ? 1 : 2
            if hopIndex < words.count, let hop = IPv4(words[hopIndex]) { statics.append((prefix, hop)) }
        }
        let ospf = !config.blocks(startingWith: ["router", "ospf"]).isEmpty
        let hostname = config.hostname ?? deviceName
        return DeviceSnapshot(hostname: hostname, interfaces: interfaces,
                              routes: routes(interfaces, statics, ospf: ospf, fingerprint: fingerprint), ospfEnabled: ospf)
    }

    private static func fromJunos(_ style: PlatformStyle, _ fingerprint: Fingerprint, _ config: JunosConfig,
                                  _ deviceName: String) -> DeviceSnapshot {
        var names = style.physicalPorts
        for statement in config.statements where statement.first == "interfaces" && statement.count > 1 {
            if !names.contains(statement[1]) { names.append(statement[1]) }
        }
        for fixed in [style.managementPort, style.loopbackName] where !names.contains(fixed) { names.append(fixed) }
        var interfaces: [InterfaceInfo] = []
        for (index, name) in names.enumerated() {
            let settings = config.statements(under: ["interfaces", name])
            let description = settings.first { $0.first == "description" && $0.count == 2 }.map { Text.unquote($0[1]) }
            let address = settings.first { $0.starts(with: ["unit", "0", "family", "inet", "address"]) && $0.count >= 6 }
                .flatMap { IPv4Prefix([$0[5]]) }
            let adminUp = !settings.contains(["disable"])
            let mtu = settings.first { $0.first == "mtu" && $0.count == 2 }.flatMap { Int($0[1]) }
            interfaces.append(makeInterface(name, index: index, style: style, fingerprint: fingerprint,
                                            description: description, address: address, adminUp: adminUp, mtu: mtu))
        }
        var statics: [(IPv4Prefix, IPv4)] = []
        for statement in config.statements(under: ["routing-options", "static", "route"]) where statement.count >= 3 {
            if let prefix = IPv4Prefix([statement[0]]), statement[1] == "next-hop", let hop = IPv4(statement[2]) {
                statics.append((prefix, hop))
            }
        }
        let ospf = !config.statements(under: ["protocols", "ospf"]).isEmpty
        return DeviceSnapshot(hostname: config.hostname ?? deviceName, interfaces: interfaces,
                              routes: routes(interfaces, statics, ospf: ospf, fingerprint: fingerprint), ospfEnabled: ospf)
    }

    private static func linuxHost(_ style: PlatformStyle, _ fingerprint: Fingerprint, _ deviceName: String) -> DeviceSnapshot {
        let plan = AddressPlan(fingerprint)
        let loopback = makeInterface("lo", index: 0, style: style, fingerprint: fingerprint, description: nil,
                                     address: IPv4Prefix(address: IPv4("127.0.0.1")!, length: 8), adminUp: true, mtu: 65536)
        let eth0 = makeInterface("eth0", index: 1, style: style, fingerprint: fingerprint, description: nil,
                                 address: IPv4Prefix(address: IPv4(plan.uplink)!, length: 24), adminUp: true, mtu: nil)
        let eth1 = makeInterface("eth1", index: 2, style: style, fingerprint: fingerprint, description: nil,
                                 address: IPv4Prefix(address: IPv4(plan.management)!, length: 24), adminUp: true, mtu: nil)
        let statics = [(IPv4Prefix(address: IPv4(0), length: 0), IPv4(plan.gateway)!)]
        return DeviceSnapshot(hostname: deviceName, interfaces: [loopback, eth0, eth1],
                              routes: routes([eth0, eth1], statics, ospf: false, fingerprint: fingerprint), ospfEnabled: false)
    }

    /// Connected and local routes from up interfaces, configured statics that resolve, and a few
    /// deterministic OSPF routes learned over the first routed physical port when OSPF is on.
    private static func routes(_ interfaces: [InterfaceInfo], _ statics: [(IPv4Prefix, IPv4)], ospf: Bool,
                               fingerprint: Fingerprint) -> [RouteEntry] {
        let age = fingerprint.uptimeMinutes
        var result: [RouteEntry] = []
        var connected: [(IPv4Prefix, String)] = []
        for interface in interfaces where interface.operUp {
            guard let address = interface.address else { continue }
            connected.append((address, interface.name))
            result.append(RouteEntry(prefix: IPv4Prefix(address: address.network, length: address.length), source: .connected,
                                     nextHop: nil, interface: interface.name, distance: 0, metric: 0, ageMinutes: age))
            if address.length < 32 {
                result.append(RouteEntry(prefix: IPv4Prefix(address: address.address, length: 32), source: .local,
                                         nextHop: nil, interface: interface.name, distance: 0, metric: 0, ageMinutes: age))
            }
        }
        func exitInterface(_ hop: IPv4) -> String? {
            connected.first { $0.0.length < 32 && hop.network($0.0.length) == $0.0.network }?.1
        }
        for (prefix, hop) in statics {
            guard let via = exitInterface(hop) else { continue }  // unresolvable statics are not installed
            result.append(RouteEntry(prefix: IPv4Prefix(address: prefix.network, length: prefix.length), source: .staticRoute,
                                     nextHop: hop, interface: via, distance: 1, metric: 0, ageMinutes: age))
        }
        if ospf, let uplink = interfaces.first(where: { $0.kind == .physical && $0.operUp && $0.address != nil && $0.address!.length < 32 }) {
            var rng = fingerprint.generator("ospf")
            let peer = IPv4(uplink.address!.network.value + 2)
            var seen = Set<UInt32>()
            for _ in 0..<rng.inRange(4...7) {
                let third = rng.inRange(1...250)
                let network = IPv4(UInt32(10) << 24 | UInt32(200) << 16 | UInt32(third) << 8)
                guard seen.insert(network.value).inserted else { continue }
                result.append(RouteEntry(prefix: IPv4Prefix(address: network, length: 24), source: .ospf, nextHop: peer,
                                         interface: uplink.name, distance: 110, metric: rng.inRange(2...40),
                                         ageMinutes: rng.inRange(60...age)))
            }
        }
        return result.sorted { ($0.prefix.address, $0.prefix.length) < ($1.prefix.address, $1.prefix.length) }
    }
}
