import Foundation
import Synchronization

/// Compiled regular expressions by pattern and options, shared by every run of the engine process.
/// Compiling an ICU pattern costs far more than matching a device's output with it, and a service
/// applies the same pattern to every device. `NSRegularExpression` is immutable and safe to match
/// from several threads. Bounded: past `capacity` patterns it starts again empty.
enum RegexCache {
    private struct Key: Hashable { var pattern: String; var options: UInt }
    private static let entries = Mutex<[Key: NSRegularExpression]>([:])
    private static let capacity = 512

    static func regex(_ pattern: String, options: NSRegularExpression.Options = []) throws -> NSRegularExpression {
        let key = Key(pattern: pattern, options: options.rawValue)
        if let hit = entries.withLock({ $0[key] }) { return hit }
        let compiled = try NSRegularExpression(pattern: pattern, options: options)
        entries.withLock { e in
            if e.count >= capacity { e.removeAll(keepingCapacity: true) }
            e[key] = compiled
        }
        return compiled
    }
}
