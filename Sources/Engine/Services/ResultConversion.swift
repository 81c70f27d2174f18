import Foundation
import Store

/// A service's `conversion` of its result: `text` leaves it as it is; `json` requires JSON and
/// stores it pretty-printed with sorted keys.
public enum ResultConversion {
    public static func convert(_ output: String, to conversion: String) throws -> String {
        switch conversion {
        case "", "text":
            return output
        case "json":
            let value = try parse(output)
            let data = try JSONEncoder.pretty.encode(value)
            return String(decoding: data, as: UTF8.self)
        default:
            throw ServiceError("conversion '\(conversion)' is not text or json")
        }
    }

    /// Parses JSON text; the error names what is wrong and where (line and column).
    public static func parse(_ text: String) throws -> JSONValue {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { throw ServiceError("the result is empty, not JSON") }
        let data = Data(trimmed.utf8)
        do {
            return JSONValue(any: try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]))
        } catch {
            throw ServiceError("the result is not valid JSON: \(describe(error, in: data))")
        }
    }

    private static func describe(_ error: Error, in data: Data) -> String {
        let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
        guard let range = text.range(of: #"character (\d+)"#, options: .regularExpression),
              let offset = Int(text[range].dropFirst("character ".count)) else { return text }
        var line = 1, column = 1
        for byte in data.prefix(offset) {
            if byte == 0x0a { line += 1; column = 1 } else { column += 1 }
        }
        return "line \(line), column \(column): \(text)"
    }
}
