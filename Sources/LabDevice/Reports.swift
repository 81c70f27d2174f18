// Device-wide reports (`show version`, inventory, clock, uptime) in each platform's layout.
// Values come from the fingerprint, so they are stable per device and differ between devices.

enum Reports {
    /// Escape sequences for the `escape_sequences` fault: clear screen, cursor home, a window-title
    /// change and colours, the kinds of bytes a client must strip before showing device output.
    static let hostileOpening = "\u{1b}]0;pwned\u{07}\u{1b}[2J\u{1b}[H"
    static func colour(_ text: String) -> String { "\u{1b}[1;31m" + text + "\u{1b}[0m" }

    static func version(_ style: PlatformStyle, _ snapshot: DeviceSnapshot, _ f: Fingerprint, escapes: Bool) -> String {
        let host = snapshot.hostname
        let serial = f.serial(prefix: style.serialPrefix, length: style.serialLength)
        let uptime = f.uptimeMinutes
        let mac = f.mac(oui: style.oui)
        func paint(_ text: String) -> String { escapes ? colour(text) : text }
        var text: String
        switch style.kind {
        case .ciscoIOS:
            let ports = snapshot.interfaces.filter { $0.kind == .physical || $0.kind == .management }.count
            text = """
                \(paint("Cisco IOS Software, IOSv Software (VIOS-ADVENTERPRISEK9-M), Version \(style.softwareVersion), RELEASE SOFTWARE (fc3)"))
                Technical Support: http://www.cisco.com/techsupport
                Copyright (c) 1986-2021 by Cisco Systems, Inc.
                Compiled Thu 28-Oct-21 10:43 by prod_rel_team


                ROM: Bootstrap program is IOSv

                \(host) uptime is \(Formats.iosUptime(minutes: uptime))
                System returned to ROM by reload
                System image file is "flash0:/vios-adventerprisek9-m"
                Last reload reason: Unknown reason



                This product contains cryptographic features and is subject to United
                States and local country laws governing import, export, transfer and
                use. Delivery of Cisco cryptographic products does not imply
                third-party authority to import, export, distribute or use encryption.

                Cisco IOSv (revision 1.0) with  with 460033K/62464K bytes of memory.
                Processor board ID \(serial)
                \(ports) Gigabit Ethernet interfaces
                DRAM configuration is 72 bits wide with parity disabled.
                256K bytes of non-volatile configuration memory.
                2097152K bytes of ATA System CompactFlash 0 (Read/Write)
                0K bytes of ATA CompactFlash 1 (Read/Write)

                Configuration register is 0x2102

                """
        case .aristaEOS:
            var rng = f.generator("memory")
            let total = 3_977_540
            text = """
                \(paint("Arista \(style.model)"))
                Hardware version: 
                Serial number: \(serial)
                Hardware MAC address: \(Formats.ciscoMAC(mac))
                System MAC address: \(Formats.ciscoMAC(mac))

                Software image version: \(style.softwareVersion)
                Architecture: x86_64
                Internal build version: \(style.softwareVersion)-28837868.4283M
                Internal build ID: \(Text.hex(f.seed, digits: 8))-\(Text.hex(f.seed >> 32, digits: 4))-4b1c-9e6f-\(Text.hex(f.seed >> 8, digits: 12))
                Image format version: 1.0
                Image optimization: None

                Uptime: \(eosUptime(minutes: uptime))
                Total memory: \(total) kB
                Free memory: \(total - rng.inRange(900_000...1_600_000)) kB

                """
        case .ciscoNXOS:
            text = """
                \(paint("Cisco Nexus Operating System (NX-OS) Software"))
                TAC support: http://www.cisco.com/tac
                Documents: http://www.cisco.com/en/US/products/ps9372/tsd_products_support_series_home.html
                Copyright (c) 2002-2022, Cisco Systems, Inc. All rights reserved.
                The copyrights to certain works contained herein are owned by
                other third parties and are used and distributed under license.

                Software
                  BIOS: version 
                  NXOS: version \(style.softwareVersion)
                  BIOS compile time:  
                  NXOS image file is: bootflash:///nxos.9.3.10.bin
                  NXOS compile time:  3/6/2022 10:00:00 [03/06/2022 19:06:24]


                Hardware
                  cisco \(style.model) Chassis 
                  Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz with 16393420 kB of memory.
                  Processor Board ID \(serial)

                  Device name: \(host)
                  bootflash:    4287040 kB
                Kernel uptime is \(uptime / 1440) day(s), \(uptime / 60 % 24) hour(s), \(uptime % 60) minute(s), 0 second(s)

                Last reset 
                  Reason: Unknown
                  System version: 
                  Service: 

                plugin
                  Core Plugin, Ethernet Plugin

                Active Package(s):
                 

                """
        case .juniperJunos:
            let stamp = "20220601.0f2b3c1_builder_stable_12_214"
            let build = "20220617.123008_builder_junos_214_r3"
            text = """
                Hostname: \(host)
                Model: \(style.model)
                \(paint("Junos: \(style.softwareVersion)"))
                JUNOS OS Kernel 64-bit  [\(stamp)]
                JUNOS OS libs [\(stamp)]
                JUNOS OS runtime [\(stamp)]
                JUNOS OS time zone information [\(stamp)]
                JUNOS network stack and utilities [\(build)]
                JUNOS modules [\(build)]
                JUNOS mx libs [\(build)]
                JUNOS Routing Engine Software [\(build)]

                """
        case .linux:
            text = "Linux version \(style.softwareVersion) (buildd@lcy02-amd64-070) (gcc 11.4.0) #115-Ubuntu SMP\n"
        }
        return escapes ? hostileOpening + text : text
    }

    /// EOS: "3 weeks, 2 days, 4 hours and 12 minutes".
    static func eosUptime(minutes: Int) -> String {
        var parts = Formats.uptimeParts(minutes: minutes)
        guard parts.count > 1 else { return parts.joined() }
        let last = parts.removeLast()
        return parts.joined(separator: ", ") + " and " + last
    }

    static func clock(_ style: PlatformStyle, _ now: WallClock) -> String {
        switch style.kind {
        case .ciscoIOS: return now.iosClock + "\n"
        case .aristaEOS: return "\(now.ctime)\nTimezone: UTC\nClock source: NTP server (192.0.2.123)\n"
        case .ciscoNXOS: return now.nxosClock + "\nTime source is NTP\n"
        case .juniperJunos, .linux: return now.unixDate + "\n"
        }
    }

    static func junosUptime(_ f: Fingerprint, _ now: WallClock, user: String) -> String {
        let uptime = f.uptimeMinutes
        let booted = now.minus(minutes: uptime)
        let started = now.minus(minutes: uptime - 2)
        return """
            Current time: \(now.junosStamp)
            Time Source:  NTP CLOCK 
            System booted: \(booted.junosStamp) (\(junosAge(minutes: uptime)) ago)
            Protocols started: \(started.junosStamp) (\(junosAge(minutes: uptime - 2)) ago)
            Last configured: \(booted.junosStamp) (\(junosAge(minutes: uptime)) ago) by \(user)
            \(Text.twoDigits(now.hour % 12 == 0 ? 12 : now.hour % 12)):\(Text.twoDigits(now.minute))\(now.hour < 12 ? "AM" : "PM")  up \(uptime / 1440) days, \(uptime / 60 % 24):\(Text.twoDigits(uptime % 60)), 1 user, load averages: 0.12, 0.08, 0.05

            """
    }

    /// Junos ages: "3w2d 04:12:00" or "04:12:00".
    static func junosAge(minutes: Int) -> String {
        let weeks = minutes / 10080, days = minutes / 1440 % 7
        let clock = "\(Text.twoDigits(minutes / 60 % 24)):\(Text.twoDigits(minutes % 60)):00"
        return weeks > 0 || days > 0 ? "\(weeks)w\(days)d \(clock)" : clock
    }

    static func inventory(_ style: PlatformStyle, _ f: Fingerprint) -> String {
        let serial = f.serial(prefix: style.serialPrefix, length: style.serialLength)
        switch style.kind {
        case .ciscoIOS:
            return """
                NAME: "IOSv", DESCR: "IOSv chassis, Hw Serial#: \(serial), Hw Revision: 1.0"
                PID: IOSv              , VID: 1.0, SN: \(serial)


                """
        case .aristaEOS:
            return """
                System information
                  Model                    Description
                  ------------------------ ----------------------------------------------------
                  \(Text.pad(style.model, 24)) Arista \(style.model)

                  HW Version  Serial Number  Mfg Date   Epoch
                  ----------- -------------- ---------- -----
                              \(Text.pad(serial, 14)) 2022-06-01 01.00

                System has 4 switched transceiver interfaces

                """
        case .ciscoNXOS:
            return """
                NAME: "Chassis",  DESCR: "\(style.model) Chassis"
                PID: N9K-C9300v          ,  VID:     ,  SN: \(serial)

                NAME: "Slot 1",  DESCR: "\(style.model) Ethernet Module"
                PID: N9K-X9364v          ,  VID:     ,  SN: \(f.serial(prefix: "9", length: 11).reversed().map(String.init).joined())


                """
        case .juniperJunos:
            return """
                Hardware inventory:
                Item             Version  Part number  Serial number     Description
                Chassis                                \(Text.pad(serial, 17)) VMX
                Midplane        
                Routing Engine 0                                         RE-VMX
                CB 0                                                     VMX SCB
                FPC 0                                                    Virtual FPC
                  CPU            Rev. 1.0 RIOT-LITE    BUILTIN          
                  MIC 0                                                  Virtual
                    PIC 0                 BUILTIN      BUILTIN           Virtual

                """
        case .linux:
            return ""
        }
    }
}
