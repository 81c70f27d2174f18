// The configuration each device boots with. Addresses follow a fixed plan keyed by the device's
// site number (see `AddressPlan`), so interfaces, routes and config agree with each other and
// stay the same across lab restarts. The secrets are fake but shaped like the real thing, so a
// backup service's masking rules have something to catch.

struct AddressPlan: Sendable {
    let site: Int
    init(_ fingerprint: Fingerprint) { site = fingerprint.site }

    var uplink: String { "10.1.\(site).1" }
    var gateway: String { "10.1.\(site).254" }
    var uplinkPeer: String { "10.1.\(site).2" }
    var server: String { "10.2.\(site).1" }
    var management: String { "192.168.100.\(site)" }
    var loopback: String { "10.255.255.\(site)" }
    let ntpServer = "192.0.2.123"
    let syslogServer = "192.0.2.50"
    let domain = "lab.switchboard.test"
    /// The community string the masking tests look for.
    let snmpCommunity = "s3cr3t"
}

enum DefaultConfigs {
    static func text(for style: PlatformStyle, name: String, fingerprint: Fingerprint) -> String {
        let plan = AddressPlan(fingerprint)
        switch style.kind {
        case .ciscoIOS: return ios(name, plan, fingerprint)
        case .aristaEOS: return eos(name, plan, fingerprint)
        case .ciscoNXOS: return nxos(name, plan, fingerprint)
        case .juniperJunos: return junos(name, plan, fingerprint)
        case .linux: return ""
        }
    }

    private static func ios(_ name: String, _ p: AddressPlan, _ f: Fingerprint) -> String {
        let port = PlatformStyle.ios.physicalPorts
        let portTail = " duplex auto\n speed auto\n media-type rj45\n"
        return """
            version 15.9
            service timestamps debug datetime msec
            service timestamps log datetime msec
            no service password-encryption
            !
            hostname \(name)
            !
            boot-start-marker
            boot-end-marker
            !
            enable secret 5 $1$\(f.cryptText("enable-salt", count: 4))$\(f.cryptText("enable", count: 22))
            !
            no aaa new-model
            !
            ip domain name \(p.domain)
            ip cef
            no ipv6 cef
            !
            username admin privilege 15 secret 9 $9$\(f.cryptText("user-salt", count: 14))$\(f.cryptText("user", count: 43))
            !
            redundancy
            !
            interface Loopback0
             ip address \(p.loopback) 255.255.255.255
            !
            interface \(port[0])
             description Uplink to core
             ip address \(p.uplink) 255.255.255.0
            \(portTail)!
            interface \(port[1])
             description Server segment
             ip address \(p.server) 255.255.255.0
            \(portTail)!
            interface \(port[2])
             description Spare
             no ip address
             shutdown
            \(portTail)!
            interface \(port[3])
             description Management
             ip address \(p.management) 255.255.255.0
            \(portTail)!
            router ospf 1
             router-id \(p.loopback)
             network 10.0.0.0 0.255.255.255 area 0
            !
            ip forward-protocol nd
            !
            no ip http server
            no ip http secure-server
            ip route 0.0.0.0 0.0.0.0 \(p.gateway)
            ip ssh version 2
            !
            logging host \(p.syslogServer)
            snmp-server community \(p.snmpCommunity) RO
            snmp-server location Switchboard lab
            !
            control-plane
            !
            line con 0
            line aux 0
            line vty 0 4
             login local
             transport input ssh
            !
            ntp server \(p.ntpServer)
            !

            """
    }

    private static func eos(_ name: String, _ p: AddressPlan, _ f: Fingerprint) -> String {
        let port = PlatformStyle.eos.physicalPorts
        return """
            no aaa root
            !
            username admin privilege 15 role network-admin secret sha512 $6$\(f.cryptText("user-salt", count: 16))$\(f.cryptText("user", count: 86))
            !
            transceiver qsfp default-mode 4x10G
            !
            service routing protocols model multi-agent
            !
            hostname \(name)
            ip domain-name \(p.domain)
            !
            snmp-server location Switchboard lab
            snmp-server community \(p.snmpCommunity) ro
            !
            spanning-tree mode mstp
            !
            enable password sha512 $6$\(f.cryptText("enable-salt", count: 16))$\(f.cryptText("enable", count: 86))
            !
            interface \(port[0])
               description Uplink to core
               no switchport
               ip address \(p.uplink)/24
            !
            interface \(port[1])
               description Server segment
               no switchport
               ip address \(p.server)/24
            !
            interface \(port[2])
               description Spare
               shutdown
            !
            interface \(port[3])
            !
            interface Loopback0
               ip address \(p.loopback)/32
            !
            interface Management1
               ip address \(p.management)/24
            !
            ip routing
            !
            ip route 0.0.0.0/0 \(p.gateway)
            !
            logging host \(p.syslogServer)
            !
            ntp server \(p.ntpServer)
            !
            router ospf 1
               router-id \(p.loopback)
               network 10.0.0.0/8 area 0.0.0.0
            !
            management api http-commands
               no shutdown
            !

            """
    }

    private static func nxos(_ name: String, _ p: AddressPlan, _ f: Fingerprint) -> String {
        let port = PlatformStyle.nxos.physicalPorts
        return """
            hostname \(name)
            vdc \(name) id 1
              limit-resource vlan minimum 16 maximum 4094
              limit-resource vrf minimum 2 maximum 4096

            feature ospf
            feature interface-vlan

            username admin password 5 $5$\(f.cryptText("user-salt", count: 6))$\(f.cryptText("user", count: 43))  role network-admin
            ip domain-lookup
            snmp-server user admin network-admin auth md5 0x\(Text.hex(f.seed, digits: 16))\(Text.hex(f.seed >> 7, digits: 16)) localizedkey
            snmp-server community \(p.snmpCommunity) group network-operator
            ntp server \(p.ntpServer) use-vrf management
            logging server \(p.syslogServer) 5 use-vrf management

            ip route 0.0.0.0/0 \(p.gateway)
            vlan 1

            vrf context management
              ip route 0.0.0.0/0 192.168.100.254

            interface \(port[0])
              description Uplink to core
              no switchport
              ip address \(p.uplink)/24
              no shutdown

            interface \(port[1])
              description Server segment
              no switchport
              ip address \(p.server)/24
              no shutdown

            interface \(port[2])
              description Spare
              shutdown

            interface \(port[3])
              no shutdown

            interface mgmt0
              vrf member management
              ip address \(p.management)/24

            interface loopback0
              ip address \(p.loopback)/32
            line console
            line vty
            router ospf 1
              router-id \(p.loopback)

            """
    }

    private static func junos(_ name: String, _ p: AddressPlan, _ f: Fingerprint) -> String {
        let port = PlatformStyle.junos.physicalPorts
        let statements = [
            "system host-name \(name)",
            "system domain-name \(p.domain)",
            "system root-authentication encrypted-password \"$6$\(f.cryptText("root-salt", count: 16))$\(f.cryptText("root", count: 86))\"",
            "system login user admin uid 2000",
            "system login user admin class super-user",
            "system login user admin authentication encrypted-password \"$6$\(f.cryptText("user-salt", count: 16))$\(f.cryptText("user", count: 86))\"",
            "system services ssh root-login deny",
            "system services netconf ssh",
            "system syslog host \(p.syslogServer) any notice",
            "system syslog file messages any notice",
            "system ntp server \(p.ntpServer)",
            "interfaces \(port[0]) description \"Uplink to core\"",
            "interfaces \(port[0]) unit 0 family inet address \(p.uplink)/24",
            "interfaces \(port[1]) description \"Server segment\"",
            "interfaces \(port[1]) unit 0 family inet address \(p.server)/24",
            "interfaces \(port[2]) description Spare",
            "interfaces \(port[2]) disable",
            "interfaces fxp0 unit 0 family inet address \(p.management)/24",
            "interfaces lo0 unit 0 family inet address \(p.loopback)/32",
            "snmp location \"Switchboard lab\"",
            "snmp community \(p.snmpCommunity) authorization read-only",
            "routing-options static route 0.0.0.0/0 next-hop \(p.gateway)",
            "routing-options router-id \(p.loopback)",
            "protocols ospf area 0.0.0.0 interface \(port[0]).0",
            "protocols ospf area 0.0.0.0 interface lo0.0 passive",
            "protocols lldp interface all",
        ]
        return statements.map { "set " + $0 + "\n" }.joined()
    }
}
