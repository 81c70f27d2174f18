import Foundation
import XCTest

/// Only the store's backends know their database library (issue #14): the engine, the console, the
/// executable and the lab reach the database through Store's neutral API (`StoreBackend`,
/// `StoreReader`, `StoreTransaction`, the domain types), so a PostgreSQL backend can serve them unchanged.
/// The compiler backs this up for Engine, Lab and the executable (`MemberImportVisibility` in
/// Package.swift: a GRDB method reached through a Store type does not compile there); this test
/// names the file and line that breaks the rule.
final class ArchitectureTests: XCTestCase {
    /// Directories (under Sources) whose files must not touch the database library.
    static let storeClients = ["Engine", "Console", "switchboard", "Lab"]

    /// What gives a file the database library: its imports, and GRDB's handles on `AppDatabase`.
    static let forbidden: [(pattern: String, why: String)] = [
        (#"^\s*(@\w+\s+)*import\s+(class\s+|struct\s+|enum\s+|func\s+)?(GRDB|GRDBSQLite|SQLite3|CSQLite)\b"#, "imports a database library"),
        (#"\.writer\s*\.\s*(read|write|asyncRead|writeWithoutTransaction|barrierWriteWithoutTransaction|unsafeRead)\b"#, "uses AppDatabase's GRDB pool"),
        (#"\b(DatabaseQueue|DatabasePool|DatabaseValue|DatabaseMigrator)\b"#, "names a GRDB type"),
        (#"\bsqlite3_\w+\s*\("#, "calls the SQLite C API"),
    ]

    static var sourcesDirectory: URL {
        // Tests/StoreTests/ArchitectureTests.swift → the package root's Sources.
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
    }

    /// Every violation under `directory`, as "path:line: why: text".
    static func violations(in directory: URL) throws -> [String] {
        let regexes = try forbidden.map { (try NSRegularExpression(pattern: $0.pattern, options: [.anchorsMatchLines]), $0.why) }
        var found: [String] = []
        guard let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else { return [] }
        for case let url as URL in files where url.pathExtension == "swift" {
            let text = try String(contentsOf: url, encoding: .utf8)
            for (number, line) in text.components(separatedBy: "\n").enumerated() {
                // Comments may name the library (they explain what moved behind the store).
                let code = line.range(of: "//").map { String(line[..<$0.lowerBound]) } ?? line
                let range = NSRange(code.startIndex..., in: code)
                for (regex, why) in regexes where regex.firstMatch(in: code, range: range) != nil {
                    found.append("\(url.path):\(number + 1): \(why): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        return found.sorted()
    }

    func testEngineConsoleExecutableAndLabUseTheStoreAPIOnly() throws {
        var all: [String] = []
        for name in Self.storeClients {
            let directory = Self.sourcesDirectory.appendingPathComponent(name)
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory.path), "missing \(directory.path)")
            all += try Self.violations(in: directory)
        }
        XCTAssertEqual(all, [], "only Sources/Store knows the database library:\n" + all.joined(separator: "\n"))
    }

    /// The check itself finds what it must (so the test above can fail): a file with each kind of violation.
    func testTheCheckFindsEachKindOfViolation() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("arch-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try """
            import Foundation
            import GRDB
            @preconcurrency import SQLite3
            // import GRDB in a comment is fine
            let n = try database.writer.read { db in 1 }
            let q: DatabaseQueue? = nil
            let c = sqlite3_column_int64(statement, 0)
            """.write(to: dir.appendingPathComponent("Bad.swift"), atomically: true, encoding: .utf8)
        try "import Foundation\nimport Store\nlet n = try database.query { try $0.tasks() }\n"
            .write(to: dir.appendingPathComponent("Good.swift"), atomically: true, encoding: .utf8)
        let found = try Self.violations(in: dir)
        XCTAssertEqual(found.count, 5, found.joined(separator: "\n"))
        XCTAssertTrue(found.allSatisfy { $0.contains("Bad.swift") })
    }
}
