import Foundation
import GRDB

/// `REGEXP` for SQL (`x REGEXP pattern`), backed by the compiled-pattern cache.
enum RegexFunction {
    static func register(in db: Database) {
        let fn = DatabaseFunction("regexp", argumentCount: 2, pure: true) { values in
            guard let pattern = String.fromDatabaseValue(values[0]) else { return false }
            let text = String.fromDatabaseValue(values[1]) ?? ""
            guard let regex = try? PatternCache.shared.regex(pattern) else { return false }
            return regex.matches(text)
        }
        db.add(function: fn)
    }
}
