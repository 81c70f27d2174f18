// Routing tables in each platform's layout.

enum RouteReports {
    /// `show ip route [connected|static|ospf|A.B.C.D]` (Junos `show route`, Linux `ip route`).
    static func table(_ style: PlatformStyle, _ snapshot: DeviceSnapshot, arguments: [String]) -> (text: String, ok: Bool) {
        var routes = snapshot.routes
        if style.kind == .ciscoNXOS { routes.removeAll { $0.interface == style.managementPort } }  // mgmt0 is VRF management
        if let first = arguments.first?.lowercased() {
            if let address = IPv4(first) {
                guard let best = routes.filter({ address.network($0.prefix.length) == $0.prefix.network })
                    .max(by: { $0.prefix.length < $1.prefix.length }) else {
                    return (style.kind == .juniperJunos ? "\n" : "% Network not in table\n", style.kind == .juniperJunos)
                }
                routes = [best]
                if style.kind == .ciscoIOS { return (iosEntry(best), true) }
            } else {
                let protocols: [(String, RouteEntry.Source)] = [("connected", .connected), ("static", .staticRoute),
                                                                 ("ospf", .ospf), ("local", .local)]
                guard let match = protocols.first(where: { $0.0.hasPrefix(first) }) else { return ("", false) }
                routes = routes.filter { $0.source == match.1 || (match.1 == .connected && $0.source == .local) }
            }
        }
        switch style.kind {
        case .ciscoIOS: return (ios(routes, arguments.isEmpty), true)
        case .aristaEOS: return (eos(routes, arguments.isEmpty), true)
        case .ciscoNXOS: return (nxos(routes, style), true)
        case .juniperJunos: return (junos(routes), true)
        case .linux: return (linux(routes), true)
        }
    }

    private static let iosCodes = """
        Codes: L - local, C - connected, S - static, R - RIP, M - mobile, B - BGP
               D - EIGRP, EX - EIGRP external, O - OSPF, IA - OSPF inter area 
               N1 - OSPF NSSA external type 1, N2 - OSPF NSSA external type 2
               E1 - OSPF external type 1, E2 - OSPF external type 2
               i - IS-IS, su - IS-IS summary, L1 - IS-IS level-1, L2 - IS-IS level-2
               ia - IS-IS inter area, * - candidate default, U - per-user static route
               o - ODR, P - periodic downloaded static route, H - NHRP, l - LISP
               a - application route
               + - replicated route, % - next hop override, p - overrides from PfR

        """

    private static func code(_ r: RouteEntry) -> String {
        switch r.source {
        case .connected: return "C"
        case .local: return "L"
        case .staticRoute: return r.prefix.length == 0 ? "S*" : "S"
        case .ospf: return "O"
        }
    }

    private static func iosBody(_ r: RouteEntry) -> String {
        switch r.source {
        case .connected, .local: return "\(r.prefix.cidr) is directly connected, \(r.interface ?? "")"
        case .staticRoute: return "\(r.prefix.cidr) [\(r.distance)/\(r.metric)] via \(r.nextHop!)"
        case .ospf:
            return "\(r.prefix.cidr) [\(r.distance)/\(r.metric)] via \(r.nextHop!), \(Formats.compactAge(minutes: r.ageMinutes)), \(r.interface ?? "")"
        }
    }

    /// IOS groups routes under their classful network ("10.0.0.0/8 is variably subnetted").
    private static func ios(_ routes: [RouteEntry], _ withHeader: Bool) -> String {
        var text = withHeader ? iosCodes + "\n" : ""
        if withHeader {
            if let d = routes.first(where: { $0.prefix.length == 0 }), let hop = d.nextHop {
                text += "Gateway of last resort is \(hop) to network 0.0.0.0\n\n"
            } else {
                text += "Gateway of last resort is not set\n\n"
            }
        }
        func classful(_ a: IPv4) -> Int { a.value >> 31 == 0 ? 8 : (a.value >> 30 == 0b10 ? 16 : 24) }
        var groups: [(IPv4, Int, [RouteEntry])] = []
        for r in routes {
            let length = r.prefix.length == 0 ? 0 : classful(r.prefix.address)
            let key = r.prefix.address.network(length)
            if let i = groups.firstIndex(where: { $0.0 == key && $0.1 == length }) { groups[i].2.append(r) } else {
                groups.append((key, length, [r]))
            }
        }
        for (network, length, members) in groups {
            if members.count == 1 && members[0].prefix.length == length {
                text += Text.pad(code(members[0]), 6) + iosBody(members[0]) + "\n"
                continue
            }
            let masks = Set(members.map(\.prefix.length)).count
            let subnets = "\(members.count) subnet\(members.count == 1 ? "" : "s")"
            text += "      \(network)/\(length) is " + (masks > 1 ? "variably subnetted, \(subnets), \(masks) masks" : "subnetted, \(subnets)") + "\n"
            for r in members { text += Text.pad(code(r), 9) + iosBody(r) + "\n" }
        }
        return text
    }

    private static func iosEntry(_ r: RouteEntry) -> String {
        let known: String
        switch r.source {
        case .connected, .local: known = "\"connected\", distance 0, metric 0 (connected, via interface)"
        case .staticRoute: known = "\"static\", distance \(r.distance), metric \(r.metric)"
        case .ospf: known = "\"ospf 1\", distance 110, metric \(r.metric), type intra area"
        }
        let via = r.nextHop.map { "\($0), from \($0), \(Formats.compactAge(minutes: r.ageMinutes)) ago, via \(r.interface ?? "")" }
            ?? "directly connected, via \(r.interface ?? "")"
        return """
            Routing entry for \(r.prefix.cidr)
              Known via \(known)
              Routing Descriptor Blocks:
              * \(via)
                  Route metric is \(r.metric), traffic share count is 1

            """
    }

    private static func eos(_ routes: [RouteEntry], _ withHeader: Bool) -> String {
        var text = ""
        if withHeader {
            text += """
                VRF: default
                Codes: C - connected, S - static, K - kernel, 
                       O - OSPF, IA - OSPF inter area, E1 - OSPF external type 1,
                       E2 - OSPF external type 2, N1 - OSPF NSSA external type 1,
                       N2 - OSPF NSSA external type2, B - Other BGP Routes,
                       B I - iBGP, B E - eBGP, R - RIP, I L1 - IS-IS level 1,
                       I L2 - IS-IS level 2, O3 - OSPFv3, A B - BGP Aggregate,
                       A O - OSPF Summary, NG - Nexthop Group Static Route,
                       V - VXLAN Control Service, M - Martian,
                       DH - DHCP client installed default route,
                       DP - Dynamic Policy Route, L - VRF Leaked,
                       G  - gRIBI, RC - Route Cache Route


                """
        }
        func line(_ r: RouteEntry) -> String {
            switch r.source {
            case .connected, .local: return " C        \(r.prefix.cidr) is directly connected, \(r.interface ?? "")\n"
            case .staticRoute: return " S        \(r.prefix.cidr) [\(r.distance)/\(r.metric)] via \(r.nextHop!), \(r.interface ?? "")\n"
            case .ospf: return " O        \(r.prefix.cidr) [\(r.distance)/\(r.metric)] via \(r.nextHop!), \(r.interface ?? "")\n"
            }
        }
        let visible = routes.filter { $0.source != .local }
        if withHeader {
            if let d = visible.first(where: { $0.prefix.length == 0 }) {
                text += "Gateway of last resort:\n" + line(d) + "\n"
            } else {
                text += "Gateway of last resort is not set\n\n"
            }
        }
        for r in visible where !(withHeader && r.prefix.length == 0) { text += line(r) }
        return text + "\n"
    }

    private static func nxos(_ routes: [RouteEntry], _ style: PlatformStyle) -> String {
        var text = """
            IP Route Table for VRF "default"
            '*' denotes best ucast next-hop
            '**' denotes best mcast next-hop
            '[x/y]' denotes [preference/metric]
            '%<string>' in via output denotes VRF <string>


            """
        for r in routes {
            let age = Formats.compactAge(minutes: r.ageMinutes)
            let intf = InterfaceReports.shortName(r.interface ?? "", style)
            switch r.source {
            case .connected, .local:
                let own = routes.first { $0.source == .local && $0.interface == r.interface }?.prefix.address ?? r.prefix.address
                text += "\(r.prefix.cidr), ubest/mbest: 1/0, attached\n"
                text += "    *via \(own), \(intf), [0/0], \(age), \(r.source == .local ? "local" : "direct")\n"
            case .staticRoute:
                text += "\(r.prefix.cidr), ubest/mbest: 1/0\n    *via \(r.nextHop!), [\(r.distance)/\(r.metric)], \(age), static\n"
            case .ospf:
                text += "\(r.prefix.cidr), ubest/mbest: 1/0\n    *via \(r.nextHop!), \(intf), [\(r.distance)/\(r.metric)], \(age), ospf-1, intra\n"
            }
        }
        return text + "\n"
    }

    private static func junos(_ routes: [RouteEntry]) -> String {
        var text = "\ninet.0: \(routes.count) destinations, \(routes.count) routes (\(routes.count) active, 0 holddown, 0 hidden)\n"
        text += "+ = Active Route, - = Last Active, * = Both\n\n"
        for r in routes {
            let age = Reports.junosAge(minutes: r.ageMinutes)
            let intf = (r.interface ?? "") + ".0"
            let head = Text.pad(r.prefix.cidr, 19)
            switch r.source {
            case .connected:
                text += head + "*[Direct/0] \(age)\n                    >  via \(intf)\n"
            case .local:
                text += head + "*[Local/0] \(age)\n                       Local via \(intf)\n"
            case .staticRoute:
                text += head + "*[Static/5] \(age)\n                    >  to \(r.nextHop!) via \(intf)\n"
            case .ospf:
                text += head + "*[OSPF/10] \(age), metric \(r.metric)\n                    >  to \(r.nextHop!) via \(intf)\n"
            }
        }
        return text
    }

    private static func linux(_ routes: [RouteEntry]) -> String {
        var text = ""
        for r in routes where r.source != .local {
            switch r.source {
            case .staticRoute:
                let destination = r.prefix.length == 0 ? "default" : r.prefix.cidr
                text += "\(destination) via \(r.nextHop!) dev \(r.interface ?? "") proto static\n"
            default:
                let source = routes.first { $0.source == .local && $0.interface == r.interface }?.prefix.address
                text += "\(r.prefix.cidr) dev \(r.interface ?? "") proto kernel scope link src \(source.map { "\($0)" } ?? "")\n"
            }
        }
        return text
    }
}
