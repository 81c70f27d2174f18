import Foundation

/// Checks a service's fields and kind-specific parameters on save, with errors that name the field.
public enum ServiceValidation {
    public static func validate(_ s: Service) throws {
        func fail(_ m: String) -> StoreError { StoreError.invalid("service '\(s.name)': \(m)") }
        if s.name.trimmingCharacters(in: .whitespaces).isEmpty { throw StoreError.invalid("service: name is empty") }
        if s.maxProcesses < 1 { throw fail("max_processes must be at least 1") }
        if s.retries < 0 || s.retries > 100 { throw fail("retries must be in 0...100") }
        if s.retryDelay < 0 { throw fail("retry_delay must not be negative") }
        if s.timeout <= 0 { throw fail("timeout must be positive") }
        if !["text", "json"].contains(s.conversion) { throw fail("conversion must be text or json") }
        if !["device", "service"].contains(s.traversal) { throw fail("traversal must be device or service") }
        if !s.targetFilter.isEmpty {
            do { _ = try FilterExpression.parse(s.targetFilter) } catch { throw fail("target filter: \(error)") }
        }
        let p = s.parameters
        func strings(_ key: String) -> [String]? { p[key]?.arrayValue?.compactMap(\.stringValue) }
        switch s.kind {
        case .cli:
            if p["commands"] != nil && strings("commands") == nil { throw fail("commands must be a list of strings") }
        case .config:
            if p["lines"] != nil && strings("lines") == nil { throw fail("lines must be a list of strings") }
        case .rest:
            if let m = p["method"]?.stringValue, !["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"].contains(m.uppercased()) {
                throw fail("method '\(m)' is not an HTTP method")
            }
        case .wait:
            if let v = p["seconds"], (Double(v.description) ?? -1) < 0 { throw fail("seconds must be a non-negative number") }
        case .tcp:
            if let v = p["port"], !(1...65535).contains(v.intValue ?? 0) { throw fail("port must be in 1...65535") }
        case .extract:
            if let r = p["regex"]?.stringValue {
                do { _ = try NSRegularExpression(pattern: r) } catch { throw fail("regex '\(r)' does not compile") }
            }
        default:
            break
        }
        if let kind = s.validation["kind"]?.stringValue {
            guard ["contains", "regex", "json"].contains(kind) else { throw fail("validation kind '\(kind)' is not contains, regex or json") }
            if kind == "regex", let v = s.validation["value"]?.stringValue {
                do { _ = try NSRegularExpression(pattern: v) } catch { throw fail("validation regex '\(v)' does not compile") }
            }
        }
    }
}
