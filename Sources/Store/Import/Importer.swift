import Foundation

/// Reads import files of any supported format into one document, detecting formats when not given.
public enum Importer {
    public enum Format: String, CaseIterable, Sendable {
        case enms, csv, json, yaml, ansible, sshConfig = "ssh-config"
    }

    /// Reads every path (files or eNMS folders) into one document. Nothing touches the database here.
    public static func read(paths: [String], format: Format?) throws -> InventoryDocument {
        var doc = InventoryDocument()
        for path in paths {
            doc.merge(try read(path: path, format: format))
        }
        return doc
    }

    static func read(path: String, format: Format?) throws -> InventoryDocument {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir) else {
            throw importError(SourceLocation(file: path), "no such file or folder")
        }
        if isDir.boolValue {
            if format == nil || format == .enms { return try EnmsParser.parse(folder: path) }
            throw importError(SourceLocation(file: path), "is a folder; only --format enms reads folders")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw importError(SourceLocation(file: path), "cannot read as UTF-8 text")
        }
        let fmt = try format ?? detect(path: path, text: text)
        switch fmt {
        case .enms:
            throw importError(SourceLocation(file: path), "eNMS migrations are folders; give the folder holding device.yaml…")
        case .csv: return try FlatFileParser.parseCSV(text: text, file: path)
        case .json: return try FlatFileParser.parseJSON(text: text, file: path)
        case .yaml, .ansible: return try AnsibleInventoryParser.parse(text: text, file: path)
        case .sshConfig: return try SSHConfigParser.parse(path: path)
        }
    }

    /// Guesses a file's format from its name and content.
    public static func detect(path: String, text: String) throws -> Format {
        let name = (path as NSString).lastPathComponent.lowercased()
        let ext = (name as NSString).pathExtension
        switch ext {
        case "csv": return .csv
        case "json": return .json
        default: break
        }
        if name == "config" || name.hasSuffix("ssh_config") || name.hasSuffix(".conf") && SSHConfigParser.looksLikeSSHConfig(text: text) {
            return .sshConfig
        }
        if AnsibleInventoryParser.looksLikeAnsible(text: text, fileName: name) { return .ansible }
        if SSHConfigParser.looksLikeSSHConfig(text: text) { return .sshConfig }
        throw importError(SourceLocation(file: path), "cannot tell the format; give --format (enms, csv, json, yaml, ansible, ssh-config)")
    }
}
