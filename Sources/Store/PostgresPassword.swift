import Foundation

/// The password for a PostgreSQL connection, from where libpq takes it and nowhere else:
/// `PGPASSWORD`, then the password file (`PGPASSFILE`, else `~/.pgpass`). Never from the URL.
///
/// The password file's lines are `hostname:port:database:username:password`; `*` matches anything,
/// `\:` and `\\` are escapes, `#` starts a comment. As libpq does, a file that group or others can
/// read is ignored, with a warning naming it; the socket counts as host `localhost`.
public enum PostgresPassword {
    public struct Lookup: Sendable, Equatable {
        public var password: String?
        /// Why a password file was not used, to print once.
        public var warning: String?
    }

    public static func lookup(for url: PostgresURL, environment: [String: String], home: String) -> Lookup {
        if let p = environment["PGPASSWORD"], !p.isEmpty { return Lookup(password: p, warning: nil) }
        let file = environment["PGPASSFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.pgpass"
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: file) else { return Lookup(password: nil, warning: nil) }
        if let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0 {
            return Lookup(password: nil, warning: "password file \(file) is ignored: group or others can read it (chmod 0600 \(file))")
        }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            return Lookup(password: nil, warning: "password file \(file) cannot be read")
        }
        return Lookup(password: match(text, url: url), warning: nil)
    }

    /// The password of the first line of a password file that matches `url`.
    public static func match(_ text: String, url: PostgresURL) -> String? {
        let host = url.host ?? "localhost"
        let wanted = [host, String(url.port), url.database, url.user]
        for raw in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = String(raw)
            if line.hasPrefix("#") || line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let fields = split(line)
            guard fields.count == 5 else { continue }
            if zip(fields.prefix(4), wanted).allSatisfy({ $0.0 == "*" || $0.0 == $0.1 }) { return fields[4] }
        }
        return nil
    }

    /// Splits on unescaped `:`, undoing `\:` and `\\`.
    static func split(_ line: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var escaped = false
        for c in line {
            if escaped { current.append(c); escaped = false; continue }
            if c == "\\" { escaped = true; continue }
            if c == ":" && fields.count < 4 { fields.append(current); current = ""; continue }
            current.append(c)
        }
        fields.append(current)
        return fields
    }
}
