// The `huge_output` fault: `show running-config` / `show tech-support` return about 10 MB, ending in
// `! END sha256=<hex>` whose digest covers every byte before that line, so a client can prove it
// captured the whole thing (no truncation at a buffer limit, no lost chunk, no prompt mistaken for
// the end). The bulk is plausible configuration (large ACLs / prefix lists) from a seeded PRNG,
// written straight into a byte buffer; building it through String would dominate the runtime.

enum HugeOutput {
    static let targetBytes = 10 * 1024 * 1024

    /// `head` + deterministic bulk + `tail` + the END line.
    static func render(head: String, tail: String, style: PlatformStyle, fingerprint: Fingerprint) -> [UInt8] {
        var writer = ByteWriter(capacity: targetBytes + head.utf8.count + tail.utf8.count + 256)
        writer.put(head)
        if style.family == .junos {
            junosBulk(&writer, fingerprint)
        } else {
            aclBulk(&writer, style, fingerprint)
        }
        writer.put(tail)
        var sha = SHA256()
        sha.update(writer.bytes)
        writer.put("! END sha256=")
        writer.put(sha.finalizeHex())
        writer.put("\n")
        return writer.bytes
    }

    private static let services: [StaticString] = ["22", "53", "80", "123", "161", "179", "443", "514", "830", "8443"]
    private static let protocols: [StaticString] = ["tcp", "udp"]
    private static let verbs: [StaticString] = ["permit", "permit", "permit", "deny"]

    /// IOS / EOS / NX-OS: extended ACLs of 100 entries each.
    private static func aclBulk(_ w: inout ByteWriter, _ style: PlatformStyle, _ f: Fingerprint) {
        var rng = f.generator("huge")
        let indent = style.configIndent
        let slash = style.usesPrefixLength
        var list = 1
        while w.count < targetBytes {
            w.put(style.kind == .ciscoIOS ? "ip access-list extended LAB-BULK-" : "ip access-list LAB-BULK-")
            w.putPadded(list, width: 5)
            w.put("\n")
            for entry in 1...100 {
                w.put(indent)
                w.putNumber(entry * 10)
                w.put(" ")
                w.put(verbs[rng.below(verbs.count)])
                w.put(" ")
                w.put(protocols[rng.below(protocols.count)])
                w.put(" 10.")
                w.putNumber(rng.below(256))
                w.put(".")
                w.putNumber(rng.below(256))
                w.put(slash ? ".0/24 host 192.0.2." : ".0 0.0.0.255 host 192.0.2.")
                w.putNumber(1 + rng.below(254))
                w.put(" eq ")
                w.put(services[rng.below(services.count)])
                w.put(rng.below(8) == 0 ? " log\n" : "\n")
            }
            w.put(style.blockSeparator + "\n")  // `!` on IOS/EOS, an empty line on NX-OS
            list += 1
        }
    }

    /// Junos: one `policy-options` block of prefix lists.
    private static func junosBulk(_ w: inout ByteWriter, _ f: Fingerprint) {
        var rng = f.generator("huge")
        w.put("policy-options {\n")
        var list = 1
        while w.count < targetBytes {
            w.put("    prefix-list LAB-BULK-")
            w.putPadded(list, width: 5)
            w.put(" {\n")
            for _ in 0..<100 {
                w.put("        10.")
                w.putNumber(rng.below(256))
                w.put(".")
                w.putNumber(rng.below(256))
                w.put(".0/24;\n")
            }
            w.put("    }\n")
            list += 1
        }
        w.put("}\n")
    }
}

/// Appends text and numbers to a byte array without intermediate Strings.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []
    var count: Int { bytes.count }

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    mutating func put(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func put(_ text: String) { bytes.append(contentsOf: text.utf8) }

    mutating func putNumber(_ value: Int) {
        if value >= 10 { putNumber(value / 10) }
        bytes.append(UInt8(48 + value % 10))
    }

    mutating func putPadded(_ value: Int, width: Int) {
        var digits = 1, probe = value
        while probe >= 10 { digits += 1; probe /= 10 }
        for _ in digits..<max(width, digits) { bytes.append(48) }
        putNumber(value)
    }
}
