// `show interfaces` and its brief forms, per platform. Long on purpose: the detailed form is
// about 25 lines per port on real gear, which is what makes paging matter.

enum InterfaceReports {
    /// The abbreviated names used in brief tables (`Gi0/0`, `Et1`, `Eth1/1`).
    static func shortName(_ name: String, _ style: PlatformStyle) -> String {
        let table: [(String, String)]
        switch style.kind {
        case .ciscoIOS:
            table = [("GigabitEthernet", "Gi"), ("TenGigabitEthernet", "Te"), ("FastEthernet", "Fa"), ("Loopback", "Lo"),
                     ("Port-channel", "Po"), ("Vlan", "Vl"), ("Tunnel", "Tu"), ("Serial", "Se")]
        case .aristaEOS:
            table = [("Ethernet", "Et"), ("Management", "Ma"), ("Loopback", "Lo"), ("Port-Channel", "Po"), ("Vlan", "Vl")]
        case .ciscoNXOS:
            table = [("Ethernet", "Eth"), ("loopback", "Lo"), ("port-channel", "Po"), ("Vlan", "Vlan"), ("mgmt", "mgmt")]
        default:
            return name
        }
        for (long, short) in table where name.hasPrefix(long) { return short + name.dropFirst(long.count) }
        return name
    }

    /// Full `show interfaces`, optionally for one interface.
    static func detail(_ style: PlatformStyle, _ snapshot: DeviceSnapshot, only: InterfaceInfo?, f: Fingerprint,
                       now: WallClock) -> String {
        let list = only.map { [$0] } ?? snapshot.interfaces
        return list.map { one($0, style, f, now) }.joined()
    }

    private static func one(_ i: InterfaceInfo, _ style: PlatformStyle, _ f: Fingerprint, _ now: WallClock) -> String {
        let c = i.counters
        let mac = Formats.ciscoMAC(i.mac)
        let state = i.adminUp ? "up" : "administratively down"
        let proto = i.operUp ? "up" : "down"
        switch style.kind {
        case .ciscoIOS:
            var text = "\(i.name) is \(state), line protocol is \(proto) \n"
            if i.kind == .loopback {
                text += "  Hardware is Loopback\n"
            } else {
                text += "  Hardware is iGbE, address is \(mac) (bia \(mac))\n"
            }
            if let d = i.description { text += "  Description: \(d)\n" }
            if let a = i.address { text += "  Internet address is \(a.cidr)\n" }
            let bandwidth = i.kind == .loopback ? 8_000_000 : 1_000_000
            text += """
                  MTU \(i.mtu) bytes, BW \(bandwidth) Kbit/sec, DLY \(i.kind == .loopback ? 5000 : 10) usec, 
                     reliability 255/255, txload 1/255, rxload 1/255
                  Encapsulation \(i.kind == .loopback ? "LOOPBACK" : "ARPA"), loopback not set
                  Keepalive set (10 sec)

                """
            if i.kind != .loopback {
                text += """
                      Auto Duplex, Auto Speed, link type is auto, media type is RJ45
                      output flow-control is unsupported, input flow-control is unsupported
                      ARP type: ARPA, ARP Timeout 04:00:00

                    """
            }
            text += """
                  Last input 00:00:0\(c.resets), output 00:00:0\(c.resets + 1), output hang never
                  Last clearing of "show interface" counters never
                  Input queue: 0/75/0/0 (size/max/drops/flushes); Total output drops: 0
                  Queueing strategy: fifo
                  Output queue: 0/40 (size/max)
                  5 minute input rate \(c.inputRateBits) bits/sec, \(c.inputRatePackets) packets/sec
                  5 minute output rate \(c.outputRateBits) bits/sec, \(c.outputRatePackets) packets/sec
                     \(c.inputPackets) packets input, \(c.inputBytes) bytes, 0 no buffer
                     Received \(c.broadcasts) broadcasts (\(c.multicasts) IP multicasts)
                     0 runts, 0 giants, 0 throttles 
                     \(c.crcErrors) input errors, \(c.crcErrors) CRC, 0 frame, 0 overrun, 0 ignored
                     0 watchdog, \(c.multicasts) multicast, 0 pause input
                     \(c.outputPackets) packets output, \(c.outputBytes) bytes, 0 underruns
                     0 output errors, 0 collisions, \(c.resets) interface resets
                     0 unknown protocol drops
                     0 babbles, 0 late collision, 0 deferred
                     0 lost carrier, 0 no carrier, 0 pause output
                     0 output buffer failures, 0 output buffers swapped out

                """
            return text
        case .aristaEOS:
            var text = "\(i.name) is \(i.adminUp ? "up" : "administratively down"), line protocol is \(proto) (\(i.adminUp ? "connected" : "disabled"))\n"
            text += i.kind == .loopback ? "  Hardware is Loopback\n" : "  Hardware is Ethernet, address is \(mac) (bia \(mac))\n"
            if let d = i.description { text += "  Description: \(d)\n" }
            if let a = i.address {
                text += "  Internet address is \(a.cidr)\n  Broadcast address is 255.255.255.255\n"
            }
            text += "  IP MTU \(i.mtu) bytes\(i.kind == .loopback ? "" : " , BW 1000000 kbit")\n"
            if i.kind == .loopback { return text + "  Up \(Formats.iosUptime(minutes: f.uptimeMinutes))\n" }
            text += """
                  Full-duplex, 1Gb/s, auto negotiation: off, uni-link: n/a
                  Up \(Formats.iosUptime(minutes: f.uptimeMinutes))
                  Loopback Mode : None
                  \(c.resets + 1) link status changes since last clear
                  Last clearing of "show interface" counters never
                  5 minutes input rate \(rate(c.inputRateBits)) (0.0% with framing overhead), \(c.inputRatePackets) packets/sec
                  5 minutes output rate \(rate(c.outputRateBits)) (0.0% with framing overhead), \(c.outputRatePackets) packets/sec
                     \(c.inputPackets) packets input, \(c.inputBytes) bytes
                     Received \(c.broadcasts) broadcasts, \(c.multicasts) multicast
                     0 runts, 0 giants
                     \(c.crcErrors) input errors, \(c.crcErrors) CRC alignment, 0 symbol, 0 input discards
                     0 PAUSE input
                     \(c.outputPackets) packets output, \(c.outputBytes) bytes
                     Sent \(c.broadcasts / 3) broadcasts, \(c.multicasts / 2) multicast
                     0 output errors, 0 collisions
                     0 late collision, 0 deferred, 0 output discards
                     0 PAUSE output

                """
            return text
        case .ciscoNXOS:
            var text = "\(i.name) is \(i.adminUp ? "up" : "down (Administratively down)")\n"
            text += "admin state is \(i.adminUp ? "up" : "down"),\(i.kind == .physical ? " Dedicated Interface" : "")\n"
            text += i.kind == .loopback ? "  Hardware: Loopback\n" : "  Hardware: 100/1000/10000 Ethernet, address: \(mac) (bia \(mac))\n"
            if let d = i.description { text += "  Description: \(d)\n" }
            if let a = i.address { text += "  Internet Address is \(a.cidr)\n" }
            text += """
                  MTU \(i.mtu) bytes, BW 1000000 Kbit, DLY 10 usec
                  reliability 255/255, txload 1/255, rxload 1/255
                  Encapsulation ARPA, medium is broadcast
                  full-duplex, 1000 Mb/s
                  Auto-Negotiation is turned on  FEC mode is Auto
                  Last link flapped \(Formats.compactAge(minutes: f.uptimeMinutes))
                  Last clearing of "show interface" counters never
                  \(c.resets + 1) interface resets
                  Load-Interval #1: 30 seconds
                    30 seconds input rate \(c.inputRateBits) bits/sec, \(c.inputRatePackets) packets/sec
                    30 seconds output rate \(c.outputRateBits) bits/sec, \(c.outputRatePackets) packets/sec
                  RX
                    \(c.inputPackets - c.multicasts - c.broadcasts) unicast packets  \(c.multicasts) multicast packets  \(c.broadcasts) broadcast packets
                    \(c.inputPackets) input packets  \(c.inputBytes) bytes
                    0 jumbo packets  0 storm suppression packets
                    0 runts  0 giants  \(c.crcErrors) CRC  0 no buffer
                    \(c.crcErrors) input error  0 short frame  0 overrun   0 underrun  0 ignored
                  TX
                    \(c.outputPackets) unicast packets  0 multicast packets  0 broadcast packets
                    \(c.outputPackets) output packets  \(c.outputBytes) bytes
                    0 output error  0 collision  0 deferred  0 late collision

                """
            return text
        case .juniperJunos:
            let flapped = now.minus(minutes: f.uptimeMinutes)
            var text = "Physical interface: \(i.name), \(i.adminUp ? "Enabled" : "Administratively down"), Physical link is \(i.operUp ? "Up" : "Down")\n"
            text += "  Interface index: \(148 + i.index), SNMP ifIndex: \(526 + i.index)\n"
            if let d = i.description { text += "  Description: \(d)\n" }
            text += """
                  Link-level type: Ethernet, MTU: \(i.mtu + 14), Speed: 1000mbps, Duplex: Full-Duplex, BPDU Error: None,
                  Loop Detect PDU Error: None, MAC-REWRITE Error: None, Loopback: Disabled, Source filtering: Disabled,
                  Flow control: Enabled
                  Device flags   : Present Running
                  Interface flags: SNMP-Traps Internal: 0x4000
                  Link flags     : None
                  Current address: \(Formats.colonMAC(i.mac)), Hardware address: \(Formats.colonMAC(i.mac))
                  Last flapped   : \(flapped.junosStamp) (\(Reports.junosAge(minutes: f.uptimeMinutes)) ago)
                  Input rate     : \(c.inputRateBits) bps (\(c.inputRatePackets) pps)
                  Output rate    : \(c.outputRateBits) bps (\(c.outputRatePackets) pps)

                """
            if let a = i.address {
                text += """

                      Logical interface \(i.name).0 (Index \(333 + i.index)) (SNMP ifIndex \(540 + i.index))
                        Flags: Up SNMP-Traps 0x4004000 Encapsulation: ENET2
                        Input packets : \(c.inputPackets)
                        Output packets: \(c.outputPackets)
                        Protocol inet, MTU: \(i.mtu)
                          Flags: Sendbcast-pkt-to-re
                          Addresses, Flags: Is-Preferred Is-Primary
                            Destination: \(a.networkCIDR), Local: \(a.address), Broadcast: \(a.broadcast)

                    """
            }
            return text
        case .linux:
            return ""
        }
    }

    /// EOS rates: "1.23 kbps" / "4.56 Mbps".
    private static func rate(_ bits: Int) -> String {
        if bits >= 1_000_000 { return "\(bits / 1_000_000).\(Text.twoDigits(bits / 10_000 % 100)) Mbps" }
        return "\(bits / 1000).\(Text.twoDigits(bits / 10 % 100)) kbps"
    }

    /// `show ip interface brief` (Junos: `show interfaces terse`).
    static func brief(_ style: PlatformStyle, _ snapshot: DeviceSnapshot) -> String {
        let list = snapshot.interfaces
        switch style.kind {
        case .ciscoIOS:
            var text = "Interface                  IP-Address      OK? Method Status                Protocol\n"
            for i in list {
                let status = i.adminUp ? "up" : "administratively down"
                text += Text.pad(i.name, 27) + Text.pad(i.address.map { "\($0.address)" } ?? "unassigned", 16) + "YES "
                    + Text.pad(i.address == nil ? "unset" : "NVRAM", 7) + Text.pad(status, 22) + (i.operUp ? "up" : "down") + "    \n"
            }
            return text
        case .aristaEOS:
            var text = """
                                                                                        Address
                Interface         IP Address            Status       Protocol            MTU    Owner  
                ----------------- --------------------- ------------ -------------- ----------- -------

                """
            for i in list where i.address != nil {
                text += Text.pad(i.name, 18) + Text.pad(i.address!.cidr, 22) + Text.pad(i.adminUp ? "up" : "admin down", 13)
                    + Text.pad(i.operUp ? "up" : "down", 15) + Text.padLeft(String(i.mtu), 11) + "        \n"
            }
            return text
        case .ciscoNXOS:
            var text = "IP Interface Status for VRF \"default\"(1)\nInterface            IP Address      Interface Status\n"
            for i in list where i.address != nil && i.kind != .management {
                let status = i.adminUp ? "protocol-up/link-up/admin-up" : "protocol-down/link-down/admin-down"
                text += Text.pad(shortName(i.name, style), 21) + Text.pad("\(i.address!.address)", 16) + status + "       \n"
            }
            return text
        case .juniperJunos:
            var text = "Interface               Admin Link Proto    Local                 Remote\n"
            for i in list {
                let admin = i.adminUp ? "up" : "down", link = i.operUp ? "up" : "down"
                text += Text.pad(i.name, 24) + Text.pad(admin, 6) + link + "\n"
                if let a = i.address {
                    text += Text.pad(i.name + ".0", 24) + Text.pad(admin, 6) + Text.pad(link, 5) + Text.pad("inet", 9) + a.cidr + "\n"
                }
            }
            return text
        case .linux:
            return ""
        }
    }

    /// `show interfaces description`.
    static func descriptions(_ style: PlatformStyle, _ snapshot: DeviceSnapshot) -> String {
        switch style.kind {
        case .aristaEOS:
            var text = "Interface                      Status         Protocol           Description\n"
            for i in snapshot.interfaces {
                text += Text.pad(shortName(i.name, style), 31) + Text.pad(i.adminUp ? "up" : "admin down", 15)
                    + Text.pad(i.operUp ? "up" : "down", 19) + (i.description ?? "") + "\n"
            }
            return text
        case .ciscoNXOS:
            var text = """
                -------------------------------------------------------------------------------
                Port          Type   Speed   Description
                -------------------------------------------------------------------------------

                """
            for i in snapshot.interfaces {
                text += Text.pad(shortName(i.name, style), 14) + Text.pad(i.kind == .loopback ? "--" : "eth", 7)
                    + Text.pad(i.kind == .loopback ? "--" : "1000", 8) + (i.description ?? "--") + "\n"
            }
            return text
        default:
            var text = "Interface                      Status         Protocol Description\n"
            for i in snapshot.interfaces {
                text += Text.pad(shortName(i.name, style), 31) + Text.pad(i.adminUp ? "up" : "admin down", 15)
                    + Text.pad(i.operUp ? "up" : "down", 9) + (i.description ?? "") + "\n"
            }
            return text
        }
    }

    /// Linux `ip addr`.
    static func linuxAddresses(_ snapshot: DeviceSnapshot) -> String {
        var text = ""
        for (n, i) in snapshot.interfaces.enumerated() {
            let loop = i.kind == .loopback
            text += "\(n + 1): \(i.name): <\(loop ? "LOOPBACK" : "BROADCAST,MULTICAST"),UP,LOWER_UP> mtu \(i.mtu) qdisc \(loop ? "noqueue" : "fq_codel") state \(loop ? "UNKNOWN" : "UP") group default qlen 1000\n"
            text += "    link/\(loop ? "loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00" : "ether \(Formats.colonMAC(i.mac)) brd ff:ff:ff:ff:ff:ff")\n"
            if let a = i.address {
                text += "    inet \(a.cidr) \(loop ? "" : "brd \(a.broadcast) ")scope \(loop ? "host" : "global") \(i.name)\n"
                text += "       valid_lft forever preferred_lft forever\n"
            }
        }
        return text
    }
}
