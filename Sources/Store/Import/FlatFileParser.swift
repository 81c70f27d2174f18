import CSV
import Foundation

/// Devices and links from CSV (a header row names the columns), and whole inventories from JSON
/// (switchboard's own export, or a plain array of devices).
public enum FlatFileParser {
    // MARK: CSV

    public static func parseCSV(text: String, file: String) throws -> InventoryDocument {
        var doc = InventoryDocument()
        let reader: CSVReader
        do { reader = try CSVReader(string: text, hasHeaderRow: true, trimFields: true) }
        catch { throw importError(SourceLocation(file: file, line: 1), "cannot read the CSV header: \(error)") }
        guard let header = reader.headerRow, header.contains("name") else {
            throw importError(SourceLocation(file: file, line: 1), "the header row must have a 'name' column")
        }
        let isLinks = header.contains("source") && header.contains("destination")
        var line = 1
        while let row = reader.next() {
            line += 1
            let at = SourceLocation(file: file, line: line)
            if row.count == 1 && row[0].isEmpty { continue }
            guard row.count == header.count else {
                throw importError(at, "\(row.count) fields where the header has \(header.count)")
            }
            // A blank cell is an explicit "no value" (it clears the field); a missing column changes nothing.
            var fields: [String: JSONValue] = [:]
            for (k, v) in zip(header, row) { fields[k] = v.isEmpty ? .null : .string(v) }
            var r = FieldReader(fields: fields, at: at)
            if isLinks {
                if let l = try link(&r, &doc) { doc.links.append(l) }
            } else {
                doc.devices.append(try device(&r))
            }
        }
        if let error = reader.error { throw importError(SourceLocation(file: file, line: line + 1), "CSV syntax error: \(error)") }
        return doc
    }

    // MARK: JSON

    public static func parseJSON(text: String, file: String) throws -> InventoryDocument {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) }
        catch {
            let (at, message) = JSONErrorPosition.location(of: error, in: text, file: file)
            throw importError(at, message)
        }
        let locator = LineLocator(text: text)
        var doc = InventoryDocument()
        func records(_ value: Any?, _ section: String) throws -> [(SourceLocation, [String: JSONValue])] {
            guard let value else { return [] }
            guard let array = value as? [Any] else {
                throw importError(SourceLocation(file: file), "\(section) must be a list of records")
            }
            return try array.enumerated().map { i, item in
                guard let o = item as? [String: Any] else {
                    throw importError(SourceLocation(file: file), "\(section)[\(i)] is not a record")
                }
                let name = o["name"] as? String ?? ""
                return (SourceLocation(file: file, line: locator.line(ofName: name)), o.mapValues { JSONValue(any: $0) })
            }
        }
        if object is [Any] {
            for (at, f) in try records(object, "devices") { var r = FieldReader(fields: f, at: at); doc.devices.append(try device(&r)) }
            return doc
        }
        guard let top = object as? [String: Any] else {
            throw importError(SourceLocation(file: file), "expected a list of devices or an object with devices, links, pools…")
        }
        let sections: Set<String> = ["format", "version", "devices", "links", "pools", "credentials", "services", "workflow_edges", "tasks"]
        for key in top.keys where !sections.contains(key) { doc.warn("\(file): skipped section \(key)") }
        for (at, f) in try records(top["devices"], "devices") { var r = FieldReader(fields: f, at: at); doc.devices.append(try device(&r)) }
        for (at, f) in try records(top["links"], "links") {
            var r = FieldReader(fields: f, at: at)
            if let l = try link(&r, &doc) { doc.links.append(l) }
        }
        for (at, f) in try records(top["pools"], "pools") { doc.pools.append(try decode(PortablePool.self, f, at).entry(at)) }
        for (at, f) in try records(top["credentials"], "credentials") { doc.credentials.append(.init(try decode(PortableCredential.self, f, at).credential, at: at)) }
        for (at, f) in try records(top["services"], "services") { doc.services.append(try decode(PortableService.self, f, at).entry(at)) }
        for (at, f) in try records(top["workflow_edges"], "workflow_edges") { doc.edges.append(try decode(PortableEdge.self, f, at).entry(at)) }
        for (at, f) in try records(top["tasks"], "tasks") { doc.tasks.append(try decode(PortableTask.self, f, at).entry(at)) }
        return doc
    }

    static func decode<T: Decodable>(_ type: T.Type, _ fields: [String: JSONValue], _ at: SourceLocation) throws -> T {
        let data = try JSONEncoder().encode(fields)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        do { return try decoder.decode(T.self, from: data) }
        catch let DecodingError.keyNotFound(key, _) { throw importError(at, "missing field \(key.stringValue)") }
        catch let DecodingError.typeMismatch(_, ctx) { throw importError(at, "field \(ctx.codingPath.map(\.stringValue).joined(separator: ".")): \(ctx.debugDescription)") }
        catch let DecodingError.dataCorrupted(ctx) { throw importError(at, "field \(ctx.codingPath.map(\.stringValue).joined(separator: ".")): \(ctx.debugDescription)") }
        catch { throw importError(at, "\(error)") }
    }

    // MARK: shared record readers

    /// A device record of CSV or JSON. Only the fields present change a stored device; a present but
    /// empty one (blank cell, JSON `null`) clears it: text fields become empty, `port` goes back to 22,
    /// `platform` to `autodetect`, a custom property is removed.
    static func device(_ r: inout FieldReader) throws -> InventoryDocument.DeviceEntry {
        let name = try r.requiredString("name")
        var d = Device(name: name, address: "")
        var given = Set<String>(), removed = Set<String>()
        func pick(_ keys: [String], as field: String, _ r: inout FieldReader) -> String? {
            var value: String?
            for k in keys where r.fields[k] != nil {
                given.insert(field)
                let v = r.string(k)
                if value == nil || value!.isEmpty { value = v }
            }
            return value
        }
        if let a = pick(["address", "ip_address", "host"], as: "address", &r) { d.address = a }
        if r.fields["port"] != nil {
            given.insert("port")
            d.port = try r.int("port") ?? 22
        }
        var os: String?
        if r.fields["operating_system"] != nil { given.insert("platform"); os = r.string("operating_system") }
        if let p = pick(["platform", "netmiko_driver"], as: "platform", &r), !p.isEmpty {
            d.platform = p
        } else if let os, !os.isEmpty {
            d.platform = EnmsParser.platform(forOS: os) ?? os
        } else {
            d.platform = InventoryDocument.defaultPlatform
        }
        d.vendor = pick(["vendor"], as: "vendor", &r) ?? ""
        d.model = pick(["model"], as: "model", &r) ?? ""
        d.osVersion = pick(["os_version"], as: "os_version", &r) ?? ""
        d.category = pick(["category"], as: "category", &r) ?? ""
        d.location = pick(["location"], as: "location", &r) ?? ""
        d.description = pick(["description"], as: "description", &r) ?? ""
        d.jump = pick(["jump"], as: "jump", &r) ?? ""
        if let props = r.take("properties"), !props.isNull {
            guard let o = props.objectValue else { throw importError(r.at, "device '\(name)': properties must be an object") }
            for (k, v) in o { if v.isNull { removed.insert(k) } else { d.properties[k] = v } }
        }
        for key in r.remaining {
            if ["id", "last_run_status", "last_run_time", "last_backup_status", "last_backup_time", "reachable", "last_reachability_time"].contains(key) {
                r.consume(key)
            } else if let v = r.take(key) {
                if v.isNull { removed.insert(key) } else { d.properties[key] = v }
            }
        }
        return .init(d, at: r.at, given: given, removedProperties: removed)
    }

    /// A link record; one without a source or destination is skipped with a note.
    static func link(_ r: inout FieldReader, _ doc: inout InventoryDocument) throws -> InventoryDocument.LinkEntry? {
        let name = try r.requiredString("name")
        let source = r.string("source") ?? ""
        let destination = r.string("destination") ?? ""
        let missing = [("source", source), ("destination", destination)].filter { $0.1.trimmingCharacters(in: .whitespaces).isEmpty }.map(\.0)
        if !missing.isEmpty {
            doc.skip(r.at, "link '\(name)'", "no \(missing.joined(separator: " or ")) device", category: InventoryWriter.linkCategory, kind: "link")
            return nil
        }
        var entry = InventoryDocument.LinkEntry(name: name, source: source, destination: destination,
                                                description: r.string("description") ?? "", at: r.at)
        if let props = r.take("properties")?.objectValue { entry.properties = props }
        for key in r.remaining where key != "id" {
            if let v = r.take(key), !v.isNull { entry.properties[key] = v }
        }
        return entry
    }
}

/// The line each record's `"name": "…"` is on in JSON text, for error messages. One pass over the
/// bytes builds the whole index (searching the text again for every record was quadratic: 21 s for
/// a one-line file of 2,000 tasks). A name that occurs in several records maps to its first line.
struct LineLocator {
    private let lines: [String: Int]

    init(text: String) {
        var lines: [String: Int] = [:]
        let bytes = Array(text.utf8)
        let n = bytes.count
        var i = 0, line = 1
        var afterNameKey = false, expectName = false
        while i < n {
            let b = bytes[i]
            switch b {
            case UInt8(ascii: "\n"):
                line += 1
                i += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                i += 1
            case UInt8(ascii: ":"):
                expectName = afterNameKey
                afterNameKey = false
                i += 1
            case UInt8(ascii: "\""):
                let startLine = line, start = i
                i += 1
                var escaped = false
                while i < n && bytes[i] != UInt8(ascii: "\"") {
                    if bytes[i] == UInt8(ascii: "\\") { escaped = true; i += 1 }
                    if i < n && bytes[i] == UInt8(ascii: "\n") { line += 1 }
                    i += 1
                }
                i = min(n, i + 1)
                let token = bytes[start..<i]
                if expectName {
                    let value: String?
                    if escaped {
                        value = (try? JSONSerialization.jsonObject(with: Data(token), options: [.fragmentsAllowed])) as? String
                    } else {
                        value = token.count >= 2 ? String(decoding: token.dropFirst().dropLast(), as: UTF8.self) : nil
                    }
                    if let value, lines[value] == nil { lines[value] = startLine }
                    expectName = false
                    afterNameKey = false
                } else {
                    afterNameKey = token.elementsEqual("\"name\"".utf8)
                }
            default:
                afterNameKey = false
                expectName = false
                i += 1
            }
        }
        self.lines = lines
    }

    func line(ofName name: String) -> Int? {
        name.isEmpty ? nil : lines[name]
    }
}

/// Positions in Foundation's JSON errors (a byte offset in the message), as line and column.
enum JSONErrorPosition {
    static func message(of error: Error) -> String {
        let ns = error as NSError
        let text = (ns.userInfo[NSDebugDescriptionErrorKey] as? String) ?? ns.localizedDescription
        return text
    }

    static func location(of error: Error, in text: String, file: String) -> (SourceLocation, String) {
        let data = Data(text.utf8)
        let (offset, reason) = SettingsJSON.offsetAndReason(from: message(of: error), dataCount: data.count)
        let pos = SettingsJSON.position(ofByteOffset: offset, in: data)
        return (SourceLocation(file: file, line: pos.line), "JSON syntax error at column \(pos.column): \(reason)")
    }
}
