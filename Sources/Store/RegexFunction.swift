import Foundation
import GRDB

/// `REGEXP` for SQL (`x REGEXP pattern`), backed by the compiled-pattern cache.
enum RegexFunction {
    static func register(in db: Database) {
        let fn = DatabaseFunction("regexp", argumentCount: 2, pure: true) { values in
            guard let pattern = String.fromDatabaseValue(values[0]) else { return false }
            // Numbers (`port`, a numeric custom property) as their text, as `Device.value(of:)` renders them.
            let text: String
            switch values[1].storage {
            case .int64(let i): text = String(i)
            case .double(let d): text = String(d)
            default: text = String.fromDatabaseValue(values[1]) ?? ""
            }
            guard let regex = try? PatternCache.shared.regex(pattern) else { return false }
            return regex.matches(text)
        }
        db.add(function: fn)
    }
}
