import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads an OpenSSH client config (`~/.ssh/config`) into an `InventoryDocument`.
///
/// Every concrete `Host` alias becomes a `Device` with the options OpenSSH itself would use for it: blocks
/// are evaluated in file order (includes inlined where they appear) and the first value seen for an option
/// wins, so wildcard blocks such as `Host *` act as defaults. Each distinct (User, IdentityFile) pair becomes
/// a key-file `Credential`. `Match` blocks cannot be evaluated without connecting, so they are skipped with
/// a warning.
public enum SSHConfigParser {

    /// Parses the config at `path`, following `Include`s.
    public static func parse(path: String) throws -> InventoryDocument {
        let env = ProcessInfo.processInfo.environment
        return try parse(path: path, home: env["HOME"] ?? NSHomeDirectory(), user: env["USER"] ?? NSUserName())
    }

    /// The same with the home directory (for `~` and relative `Include`s) and local user given, for tests.
    static func parse(path: String, home: String, user: String) throws -> InventoryDocument {
        var reader = SSHConfigReader(home: home, localUser: user)
        // OpenSSH resolves relative includes against ~/.ssh for user configs, /etc/ssh for the system one.
        let standardized = (path as NSString).standardizingPath
        reader.includeBase = standardized.hasPrefix("/etc/ssh/") ? "/etc/ssh" : home + "/.ssh"
        try reader.read(file: path, enclosing: [], depth: 0, includedFrom: nil)
        return try reader.build()
    }

    /// Whether `text` reads like an ssh client config: almost every line starts with an ssh_config keyword,
    /// and there is at least one `Host`, `Match` or `Include`.
    public static func looksLikeSSHConfig(text: String) -> Bool {
        var known = 0, total = 0, structural = false
        for raw in SSHConfigReader.lines(of: text) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            total += 1
            let keyword = line.prefix { !$0.isWhitespace && $0 != "=" }.lowercased()
            if SSHConfigReader.keywords[keyword] != nil { known += 1 }
            if ["host", "match", "include"].contains(keyword) { structural = true }
        }
        // A little slack for options newer than our keyword list.
        return structural && total > 0 && Double(known) >= 0.9 * Double(total)
    }
}

/// One option line and the conditions under which it applies.
private struct SSHDirective {
    let keyword: String           // lowercased
    let args: [String]
    let at: SourceLocation
    let condition: [SSHCondition]
}

/// A `Host` pattern list (or a skipped `Match`) that must hold for an option to apply. Options inside an
/// `Include` that sits in a `Host` block carry both that block's condition and their own.
private enum SSHCondition {
    case host([String])
    case never

    func matches(_ alias: String) -> Bool {
        switch self {
        case .never:
            return false
        case .host(let patterns):
            // OpenSSH: any negated pattern that matches vetoes the block; otherwise one positive match is enough.
            var matched = false
            for pattern in patterns {
                if pattern.hasPrefix("!") {
                    if SSHConfigReader.wildcard(String(pattern.dropFirst()), matches: alias) { return false }
                } else if SSHConfigReader.wildcard(pattern, matches: alias) {
                    matched = true
                }
            }
            return matched
        }
    }
}

private struct SSHConfigReader {
    let home: String
    let localUser: String
    var includeBase = ""
    /// OpenSSH's own limit (READCONF_MAX_DEPTH).
    static let maxDepth = 16

    var directives: [SSHDirective] = []
    var aliases: [(name: String, at: SourceLocation, condition: [SSHCondition])] = []
    var doc = InventoryDocument()
    /// Files being read, outermost first: an Include of one of these is a loop.
    var stack: [String] = []

    init(home: String, localUser: String) { self.home = home; self.localUser = localUser }

    // MARK: Reading

    mutating func read(file: String, enclosing: [SSHCondition], depth: Int, includedFrom: SourceLocation?) throws {
        let real = (file as NSString).resolvingSymlinksInPath
        if stack.contains(real) {
            let chain = (stack + [real]).map { ($0 as NSString).lastPathComponent }.joined(separator: " → ")
            throw importError(includedFrom ?? SourceLocation(file: file), "Include loop: \(chain)")
        }
        if depth > Self.maxDepth {
            throw importError(includedFrom ?? SourceLocation(file: file), "Include nested more than \(Self.maxDepth) deep")
        }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw importError(includedFrom ?? SourceLocation(file: file), "cannot read \(file) as UTF-8 text")
        }
        stack.append(real)
        defer { stack.removeLast() }

        // Lines before the first Host/Match of a file apply under the condition the Include sits in.
        var condition = enclosing
        for (index, raw) in Self.lines(of: text).enumerated() {
            let at = SourceLocation(file: file, line: index + 1)
            guard let (keyword, args) = try Self.split(raw, at: at) else { continue }
            switch keyword {
            case "host":
                guard !args.isEmpty else { throw importError(at, "Host needs at least one pattern") }
                condition = enclosing + [.host(args)]
                // Wildcard and negated patterns only select hosts; the plain names are the hosts themselves.
                for name in args where !name.hasPrefix("!") && !name.contains("*") && !name.contains("?") {
                    aliases.append((name, at, condition))
                }
            case "match":
                // `Match all` is the idiom for "back to unconditional"; other criteria (exec, user, …) need a
                // live connection to evaluate, so their block is skipped.
                if args.count == 1 && args[0].lowercased() == "all" {
                    condition = enclosing
                } else {
                    condition = enclosing + [.never]
                    doc.warn("skipped Match block (its conditions cannot be evaluated on import)")
                }
            case "include":
                guard !args.isEmpty else { throw importError(at, "Include needs a file name") }
                for pattern in args {
                    let files = Self.globPaths(resolveInclude(pattern))
                    if files.isEmpty { doc.warn("Include \(pattern) matched no files") }
                    for path in files {
                        var isDir: ObjCBool = false
                        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
                            doc.warn("Include matched a directory; skipped")
                            continue
                        }
                        try read(file: path, enclosing: condition, depth: depth + 1, includedFrom: at)
                    }
                }
            default:
                try validate(keyword, args, at: at)
                directives.append(SSHDirective(keyword: keyword, args: args, at: at, condition: condition))
            }
        }
    }

    /// `~/x` and `/abs` as given; anything else relative to ~/.ssh (or /etc/ssh).
    func resolveInclude(_ pattern: String) -> String {
        let expanded = expandTilde(pattern)
        return expanded.hasPrefix("/") ? expanded : includeBase + "/" + expanded
    }

    func expandTilde(_ path: String) -> String {
        if path == "~" { return home }
        if path.hasPrefix("~/") { return home + path.dropFirst() }
        return path
    }

    /// Rejects malformed values where they are written, even in blocks no host uses, as OpenSSH does.
    mutating func validate(_ keyword: String, _ args: [String], at: SourceLocation) throws {
        let name = Self.keywords[keyword] ?? keyword
        switch keyword {
        case "hostname", "port", "user", "proxyjump":
            guard !args.isEmpty else { throw importError(at, "\(name) needs a value") }
            guard args.count == 1 || keyword == "proxyjump" else {
                throw importError(at, "\(name) takes one value, got \(args.joined(separator: " "))")
            }
            if keyword == "port", Self.port(args[0]) == nil {
                throw importError(at, "bad Port '\(args[0])': not an integer 1–65535")
            }
            if keyword == "proxyjump" { _ = try Self.jumpChain(args, at: at) }
        case "identityfile":
            guard !args.isEmpty else { throw importError(at, "IdentityFile needs a value") }
        case "proxycommand":
            doc.warn("ProxyCommand not imported (only ProxyJump maps to a jump host)")
        default:
            if Self.keywords[keyword] != nil {
                doc.warn("ssh_config option \(name) not imported")
            } else {
                doc.warn("unknown ssh_config keyword '\(keyword)' skipped")
            }
        }
    }

    // MARK: Building

    /// Resolves every alias with OpenSSH's first-match-wins rule and produces devices and credentials.
    mutating func build() throws -> InventoryDocument {
        var seen = Set<String>()
        var credentialKeys: [String: Int] = [:]   // "user\0keyfile" → index in doc.credentials
        var usedNames = Set<String>()
        var userWithoutKey = 0

        for alias in aliases where seen.insert(alias.name.lowercased()).inserted {
            // A name can sit in a block that cannot apply to it (`Host a !a`, or inside an Include
            // nested in another Host block); OpenSSH would never use that block for it.
            guard alias.condition.allSatisfy({ $0.matches(alias.name) }) else { continue }

            var hostName: String?, port: String?, user: String?
            var jump: String??   // .some(nil) is an explicit `ProxyJump none`, which still wins
            var identities: [(path: String, at: SourceLocation)] = []
            var noIdentity = false
            for d in directives where d.condition.allSatisfy({ $0.matches(alias.name) }) {
                switch d.keyword {
                case "hostname": if hostName == nil { hostName = d.args[0] }
                case "port": if port == nil { port = d.args[0] }
                case "user": if user == nil { user = d.args[0] }
                case "proxyjump": if jump == nil { jump = .some(try Self.jumpChain(d.args, at: d.at)) }
                case "identityfile":
                    // Unlike most options, identity files accumulate: ssh tries each in turn.
                    for arg in d.args {
                        if arg.lowercased() == "none" { noIdentity = true } else { identities.append((arg, d.at)) }
                    }
                default: break
                }
            }

            let address = hostName.map { Self.percent($0, ["h": alias.name]) } ?? alias.name
            // ssh_config names no platform: a new host gets `autodetect`, a known device keeps its own.
            var device = Device(name: alias.name, address: address, port: port.flatMap(Self.port) ?? 22,
                                platform: InventoryDocument.defaultPlatform)
            device.jump = (jump ?? nil) ?? ""
            doc.devices.append(.init(device, at: alias.at, given: ["address", "port", "jump"]))

            let username = user ?? localUser
            if noIdentity { identities = [] }
            if identities.isEmpty && user != nil { userWithoutKey += 1 }
            for identity in identities {
                let tokens: [Character: String] = ["d": home, "u": localUser, "r": username, "h": address, "n": alias.name]
                let keyFile = expandTilde(Self.percent(identity.path, tokens))
                let key = username + "\u{0}" + keyFile
                guard credentialKeys[key] == nil else { continue }
                // Two keys with the same file name in different folders must still get distinct names.
                var name = "ssh-config \(username) \((keyFile as NSString).lastPathComponent)"
                if usedNames.contains(name) {
                    var n = 2
                    while usedNames.contains("\(name) (\(n))") { n += 1 }
                    name = "\(name) (\(n))"
                }
                usedNames.insert(name)
                credentialKeys[key] = doc.credentials.count
                let credential = Credential(name: name, description: "From \(identity.at)", username: username,
                                            secretKind: .keyFile, secret: "", keyFile: keyFile)
                doc.credentials.append(.init(credential, at: identity.at))
            }
        }
        if userWithoutKey > 0 {
            doc.warn("User set without IdentityFile: no credential created", count: userWithoutKey)
        }
        return doc
    }

    // MARK: Values

    static func port(_ text: String) -> Int? {
        guard text.allSatisfy({ $0.isASCII && $0.isNumber }), let p = Int(text), (1...65535).contains(p) else { return nil }
        return p
    }

    /// `%h`-style tokens; unknown ones are left as written, `%%` is a percent sign.
    static func percent(_ text: String, _ values: [Character: String]) -> String {
        var out = "", it = text.makeIterator()
        while let c = it.next() {
            guard c == "%", let t = it.next() else { out.append(c); continue }
            if t == "%" { out.append("%") } else if let v = values[t] { out += v } else { out += "%\(t)" }
        }
        return out
    }

    /// A ProxyJump chain (`[user@]host[:port]`, comma separated, or `ssh://` URIs) as `Device.jump` text;
    /// nil for `none`. Each hop is checked so a typo fails here rather than at connect time.
    static func jumpChain(_ args: [String], at: SourceLocation) throws -> String? {
        let text = args.joined(separator: " ")
        if text.lowercased() == "none" { return nil }
        var hops: [String] = []
        for rawHop in text.split(separator: ",", omittingEmptySubsequences: false) {
            var hop = rawHop.trimmingCharacters(in: .whitespaces)
            if hop.lowercased().hasPrefix("ssh://") { hop = String(hop.dropFirst(6)) }
            guard !hop.isEmpty, !hop.contains(where: \.isWhitespace) else {
                throw importError(at, "bad ProxyJump '\(text)': hops are [user@]host[:port], separated by commas")
            }
            let hostPort = hop.split(separator: "@").last.map(String.init) ?? hop
            var host = hostPort, portText: String?
            if hostPort.hasPrefix("["), let close = hostPort.firstIndex(of: "]") {   // [v6]:port
                host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
                let rest = hostPort[hostPort.index(after: close)...]
                if rest.hasPrefix(":") { portText = String(rest.dropFirst()) }
                else if !rest.isEmpty { host = "" }
            } else if hostPort.filter({ $0 == ":" }).count == 1, let colon = hostPort.firstIndex(of: ":") {
                host = String(hostPort[..<colon])
                portText = String(hostPort[hostPort.index(after: colon)...])
            }
            guard !host.isEmpty, !hop.hasSuffix("@") else {
                throw importError(at, "bad ProxyJump hop '\(hop)': no host")
            }
            if let portText, port(portText) == nil {
                throw importError(at, "bad ProxyJump hop '\(hop)': port '\(portText)' is not an integer 1–65535")
            }
            hops.append(hop)
        }
        return hops.joined(separator: ",")
    }

    /// ssh's pattern syntax: `*` any run, `?` one character; host names compare case-insensitively.
    static func wildcard(_ pattern: String, matches text: String) -> Bool {
        let p = Array(pattern.lowercased()), t = Array(text.lowercased())
        // Iterative wildcard matching with backtracking to the last `*`.
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) { pi += 1; ti += 1 }
            else if pi < p.count && p[pi] == "*" { star = pi; mark = ti; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; ti = mark }
            else { return false }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// Files matching a shell glob, sorted (as glob(3) returns them, and as OpenSSH reads them).
    static func globPaths(_ pattern: String) -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        guard glob(pattern, 0, nil, &g) == 0 else { return [] }
        return (0..<Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { String(cString: $0) } }
    }

    // MARK: Lines

    static func lines(of text: String) -> [Substring] {
        let body = text.hasPrefix("\u{FEFF}") ? text.dropFirst() : Substring(text)
        return body.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
    }

    /// `Keyword value…` or `Keyword=value…`: the keyword (lowercased) and its arguments with quotes removed;
    /// nil for blank and comment lines.
    static func split(_ raw: Substring, at: SourceLocation) throws -> (String, [String])? {
        let line = raw.trimmingCharacters(in: .whitespaces)
        if line.isEmpty || line.hasPrefix("#") { return nil }
        let keyword = line.prefix { !$0.isWhitespace && $0 != "=" }
        var rest = line.dropFirst(keyword.count).drop(while: \.isWhitespace)
        if rest.hasPrefix("=") { rest = rest.dropFirst().drop(while: \.isWhitespace) }

        // OpenSSH's argv_split: ' and " quote, a backslash escapes only a quote, a backslash or (outside
        // quotes) a space, and any other backslash is kept, so paths with backslashes survive.
        var args: [String] = [], current = "", hasToken = false
        var quote: Character?
        let chars = Array(rest)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            i += 1
            if c == "\\" {
                if i < chars.count, "'\"\\".contains(chars[i]) || (quote == nil && chars[i] == " ") {
                    current.append(chars[i])
                    i += 1
                } else {
                    current.append(c)
                }
                hasToken = true
            } else if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
            } else if c == " " || c == "\t" {
                if hasToken { args.append(current); current = ""; hasToken = false }
            } else if c == "#" && !hasToken {
                break   // a `#` starting a word ends the line, as in OpenSSH 9
            } else if c == "\"" || c == "'" {
                quote = c; hasToken = true
            } else {
                current.append(c); hasToken = true
            }
        }
        if quote != nil { throw importError(at, "unterminated quote") }
        if hasToken { args.append(current) }
        return (keyword.lowercased(), args)
    }

    /// ssh_config(5) keywords, lowercased → canonical spelling (for messages and format detection).
    static let keywords: [String: String] = {
        let names = """
        AddKeysToAgent AddressFamily BatchMode BindAddress BindInterface CanonicalDomains
        CanonicalizeFallbackLocal CanonicalizeHostname CanonicalizeMaxDots CanonicalizePermittedCNAMEs
        CASignatureAlgorithms CertificateFile ChannelTimeout CheckHostIP Ciphers ClearAllForwardings Compression
        ConnectionAttempts ConnectTimeout ControlMaster ControlPath ControlPersist DynamicForward EnableEscapeCommandline
        EnableSSHKeysign EscapeChar ExitOnForwardFailure FingerprintHash ForkAfterAuthentication ForwardAgent
        ForwardX11 ForwardX11Timeout ForwardX11Trusted GatewayPorts GlobalKnownHostsFile GSSAPIAuthentication
        GSSAPIDelegateCredentials HashKnownHosts Host HostbasedAcceptedAlgorithms HostbasedAuthentication
        HostKeyAlgorithms HostKeyAlias Hostname IdentitiesOnly IdentityAgent IdentityFile IgnoreUnknown Include
        IPQoS KbdInteractiveAuthentication KbdInteractiveDevices KexAlgorithms KnownHostsCommand LocalCommand
        LocalForward LogLevel LogVerbose MACs Match NoHostAuthenticationForLocalhost NumberOfPasswordPrompts
        ObscureKeystrokeTiming PasswordAuthentication PermitLocalCommand PermitRemoteOpen PKCS11Provider Port
        PreferredAuthentications ProxyCommand ProxyJump ProxyUseFdpass PubkeyAcceptedAlgorithms
        PubkeyAcceptedKeyTypes PubkeyAuthentication RekeyLimit RemoteCommand RemoteForward RequestTTY
        RequiredRSASize RevokedHostKeys SecurityKeyProvider SendEnv ServerAliveCountMax ServerAliveInterval
        SessionType SetEnv StdinNull StreamLocalBindMask StreamLocalBindUnlink StrictHostKeyChecking
        SyslogFacility Tag TCPKeepAlive Tunnel TunnelDevice UpdateHostKeys UseKeychain User UserKnownHostsFile
        VerifyHostKeyDNS VisualHostKey XAuthLocation
        """
        var table: [String: String] = [:]
        for name in names.split(whereSeparator: \.isWhitespace) { table[name.lowercased()] = String(name) }
        table["hostname"] = "HostName"
        return table
    }()
}
