import Foundation

/// Replaces the secrets of a configuration (passwords, enable secrets, keys, SNMP communities and
/// users' keys, pre-shared keys) with `<removed>`, keeping the line so a diff still shows that a
/// secret changed place or appeared. Junos platforms get the Junos rules (hierarchical and `set`
/// forms); every other platform the IOS family's (IOS, IOS-XE, NX-OS, EOS).
public enum SecretMasking {
    public static let placeholder = "<removed>"

    /// A rule: the regex finds a secret; group `s` is what gets replaced.
    private struct Rule: @unchecked Sendable {
        let regex: NSRegularExpression
        init(_ pattern: String) {
            regex = try! NSRegularExpression(pattern: pattern, options: [.anchorsMatchLines, .caseInsensitive])
        }
    }

    /// IOS, IOS-XE, NX-OS and EOS.
    private static let iosFamily: [Rule] = [
        // enable secret 5 $1$...   enable password 7 0822455D0A16   enable password sha512 $6$...
        Rule(#"^\s*enable (?:secret|password)(?: level \d+)?(?: (?:\d|sha512))? (?<s>\S+)"#),
        // username admin privilege 15 secret 9 $9$...   username x password 5 $5$... role network-admin
        Rule(#"^\s*username \S+ .*?\b(?:secret|password)(?: (?:\d|sha512))? (?<s>\S+)"#),
        // snmp-server community s3cr3t RO
        Rule(#"^\s*snmp-server community (?<s>\S+)"#),
        // snmp-server user admin network-admin auth md5 0x... priv aes-128 0x... localizedkey
        Rule(#"^\s*snmp-server user .*?\bauth (?:md5|sha\S*) (?<s>\S+)"#),
        Rule(#"^\s*snmp-server user .*?\bpriv(?: (?:aes-?\d*|3?des|aes \d+))? (?<s>(?!localizedkey)\S+)"#),
        Rule(#"^\s*snmp-server host \S+ (?:(?:informs|traps|version \S+) )*(?<s>\S+)"#),
        // tacacs-server key 7 ..., radius-server host x key ..., key 7 ... inside a server block
        Rule(#"^\s*(?:tacacs-server|radius-server)\b.*?\bkey(?: \d)? (?<s>\S+)"#),
        Rule(#"^\s*key (?:\d )?(?<s>\S{4,})\s*$"#),
        Rule(#"^\s*key-string(?: \d)? (?<s>\S+)"#),
        Rule(#"^\s*ip ospf authentication-key(?: \d)? (?<s>\S+)"#),
        Rule(#"^\s*ip ospf message-digest-key \d+ md5(?: \d)? (?<s>\S+)"#),
        Rule(#"^\s*neighbor \S+ password(?: \d)? (?<s>\S+)"#),
        Rule(#"^\s*standby(?: \d+)? authentication(?: md5 key-string| text)?(?: \d)? (?<s>\S+)"#),
        Rule(#"^\s*crypto isakmp key(?: \d)? (?<s>\S+)"#),
        Rule(#"\bpre-shared-key(?: (?:local|remote))?(?: \d)? (?<s>\S+)"#),
        // line vty: password 7 ...
        Rule(#"^\s*(?:password|secret)(?: \d)? (?<s>\S+)"#),
    ]

    /// Junos, hierarchical and `set` forms.
    private static let junos: [Rule] = [
        Rule(#"\b(?:encrypted-password|plain-text-password-value|authentication-key|simple-password|hello-authentication-key|pre-shared-key (?:ascii-text|hexadecimal)) (?<s>"[^"]*"|[^\s;]+)"#),
        Rule(#"\b(?:secret|key) (?<s>"[^"]*")"#),
        Rule(#"^\s*(?:set )?snmp community (?<s>[^\s;{]+)"#),
        Rule(#"^\s*community (?<s>[^\s;{]+)"#),
        Rule(#"^\s*(?:set )?snmp .*\btrap-group .* community (?<s>[^\s;{]+)"#),
    ]

    public static func mask(_ config: String, platform: String) -> String {
        let rules = platform.contains("junos") ? junos : iosFamily
        var lines = config.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for index in lines.indices {
            var line = lines[index]
            for rule in rules {
                line = apply(rule, to: line)
            }
            lines[index] = line
        }
        return lines.joined(separator: "\n")
    }

    private static func apply(_ rule: Rule, to line: String) -> String {
        let ns = line as NSString
        let matches = rule.regex.matches(in: line, range: NSRange(location: 0, length: ns.length))
        guard !matches.isEmpty else { return line }
        let result = NSMutableString(string: line)
        for match in matches.reversed() {
            let range = match.range(withName: "s")
            guard range.location != NSNotFound, ns.substring(with: range) != placeholder,
                  ns.substring(with: range) != "\"\(placeholder)\"" else { continue }
            let quoted = ns.substring(with: range).hasPrefix("\"")
            result.replaceCharacters(in: range, with: quoted ? "\"\(placeholder)\"" : placeholder)
        }
        return result as String
    }
}
