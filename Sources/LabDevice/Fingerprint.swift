// Per-device determinism. Every "random looking" value a device shows (serial number, MAC
// addresses, uptime, counters, learned routes) is derived from a stable hash of the device name, so
// repeated logins, and logins from different machines, see identical output, and tests can assert
// on it. Swift's own `Hasher` is randomly seeded per process, hence FNV-1a here.

/// SplitMix64: tiny, fast and good enough to make lab numbers look organic.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform-enough value in 0..<bound. Not `Int.random(in:using:)`: its algorithm is not
    /// promised to stay the same across Swift releases, and these values must not drift.
    mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0)
        return Int(next() % UInt64(bound))
    }

    mutating func inRange(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }
}

struct Fingerprint: Sendable {
    let name: String
    let seed: UInt64
    /// 1...250: the device's slot in the lab address plan (10.1.<site>.0/24 and friends). See
    /// `Fingerprint.sites(for:)`.
    let site: Int

    init(name: String, site: Int? = nil) {
        self.name = name
        seed = Fingerprint.fnv1a(name)
        self.site = site ?? Fingerprint.baseSite(seed)
    }

    private static func baseSite(_ seed: UInt64) -> Int { 1 + Int(seed % 250) }

    /// Sites for every device of a lab: from the name's hash, probing past sites taken by
    /// devices listed earlier, so addresses are unique within a lab of up to 250 devices yet
    /// mostly independent of which other devices exist.
    static func sites(for names: [String]) -> [String: Int] {
        var taken = Set<Int>()
        var result: [String: Int] = [:]
        for name in names where result[name] == nil {
            var site = baseSite(fnv1a(name))
            while taken.contains(site) && taken.count < 250 { site = site % 250 + 1 }
            taken.insert(site)
            result[name] = site
        }
        return result
    }

    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// An independent stream per purpose, so adding a value for one report never shifts another.
    func generator(_ purpose: String) -> SplitMix64 {
        SplitMix64(seed: seed ^ Fingerprint.fnv1a(purpose))
    }

    func serial(prefix: String, length: Int) -> String {
        let alphabet = Array("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ")
        var rng = generator("serial")
        var text = prefix
        while text.count < length { text.append(alphabet[rng.below(alphabet.count)]) }
        return text
    }

    /// MAC address for the interface at `index` (0 = chassis/base address).
    func mac(oui: (UInt8, UInt8, UInt8), index: Int = 0) -> [UInt8] {
        var rng = generator("mac")
        let base = UInt32(truncatingIfNeeded: rng.next()) & 0x00ff_ff00
        let low = base &+ UInt32(index)
        return [oui.0, oui.1, oui.2, UInt8(truncatingIfNeeded: low >> 16), UInt8(truncatingIfNeeded: low >> 8),
                UInt8(truncatingIfNeeded: low)]
    }

    /// Uptime in minutes: between 3 and 63 days, fixed per device.
    var uptimeMinutes: Int {
        var rng = generator("uptime")
        return rng.inRange(3 * 1440...63 * 1440)
    }

    /// Characters of a crypt-style hash (`./0-9A-Za-z`), for the fake secrets in configurations.
    func cryptText(_ purpose: String, count: Int) -> String {
        let alphabet = Array("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        var rng = generator(purpose)
        return String((0..<count).map { _ in alphabet[rng.below(alphabet.count)] })
    }
}

/// Formats of MAC addresses and uptimes as the different platforms print them.
enum Formats {
    /// Cisco dotted form: `001e.4912.3456`.
    static func ciscoMAC(_ mac: [UInt8]) -> String {
        let h = mac.map { Text.hex(UInt64($0), digits: 2) }
        return "\(h[0])\(h[1]).\(h[2])\(h[3]).\(h[4])\(h[5])"
    }

    /// Colon form: `2c:6b:f5:12:34:56`.
    static func colonMAC(_ mac: [UInt8]) -> String {
        mac.map { Text.hex(UInt64($0), digits: 2) }.joined(separator: ":")
    }

    /// Cisco IOS: "3 weeks, 2 days, 4 hours, 12 minutes".
    static func iosUptime(minutes: Int) -> String {
        uptimeParts(minutes: minutes).joined(separator: ", ")
    }

    static func uptimeParts(minutes: Int) -> [String] {
        let weeks = minutes / 10080, days = minutes / 1440 % 7, hours = minutes / 60 % 24, mins = minutes % 60
        var parts: [String] = []
        if weeks > 0 { parts.append("\(weeks) week\(weeks == 1 ? "" : "s")") }
        if days > 0 { parts.append("\(days) day\(days == 1 ? "" : "s")") }
        if hours > 0 { parts.append("\(hours) hour\(hours == 1 ? "" : "s")") }
        parts.append("\(mins) minute\(mins == 1 ? "" : "s")")
        return parts
    }

    /// Compact age used in route tables: "3w2d" (IOS, NX-OS) once past a day.
    static func compactAge(minutes: Int) -> String {
        let weeks = minutes / 10080, days = minutes / 1440 % 7
        if weeks > 0 { return "\(weeks)w\(days)d" }
        if days > 0 { return "\(days)d\(Text.twoDigits(minutes / 60 % 24))h" }
        return "\(Text.twoDigits(minutes / 60)):\(Text.twoDigits(minutes % 60)):00"
    }
}
