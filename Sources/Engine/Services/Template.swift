import Foundation
import Store

/// Renders `{{device.name}}`, `{{device.address}}`, any device field or custom property
/// (`{{device.X}}`) and payload variables (`{{payload.NAME}}`, nested with dots, list items by
/// index: `{{payload.vlans.0}}`) in commands, configuration lines, URLs and bodies.
public enum Template {
    public static func render(_ text: String, device: Device?, payload: [String: JSONValue]) throws -> String {
        guard text.contains("{{") else { return text }
        let pieces: [TemplateSyntax.Piece]
        do { pieces = try TemplateSyntax.parse(text) } catch let e as StoreError { throw ServiceError("template: \(e.message)") }
        var out = ""
        for piece in pieces {
            switch piece {
            case .text(let t): out += t
            case .variable(let path): out += try value(path, device: device, payload: payload)
            }
        }
        return out
    }

    static func value(_ path: [String], device: Device?, payload: [String: JSONValue]) throws -> String {
        let name = "{{" + path.joined(separator: ".") + "}}"
        switch path[0] {
        case "device":
            guard let device else { throw ServiceError("unknown variable \(name): the service runs without a device") }
            let field = path[1]
            if path.count == 2, let v = device.value(of: field) { return v }
            // A structured custom property: {{device.site.city}}.
            if let property = device.properties[field], let v = descend(property, Array(path.dropFirst(2))) { return v.description }
            throw ServiceError("unknown variable \(name): device \(device.name) has no field '\(path.dropFirst().joined(separator: "."))'")
        default:
            guard let root = payload[path[1]], let v = descend(root, Array(path.dropFirst(2))) else {
                let known = payload.keys.sorted()
                throw ServiceError("unknown variable \(name): the payload has no '\(path.dropFirst().joined(separator: "."))'"
                                   + (known.isEmpty ? " (it is empty)" : " (it has: \(known.joined(separator: ", ")))"))
            }
            return v.description
        }
    }

    static func descend(_ value: JSONValue, _ rest: [String]) -> JSONValue? {
        var current = value
        for key in rest {
            switch current {
            case .object(let o):
                guard let next = o[key] else { return nil }
                current = next
            case .array(let a):
                guard let i = Int(key), a.indices.contains(i) else { return nil }
                current = a[i]
            default:
                return nil
            }
        }
        return current
    }
}
