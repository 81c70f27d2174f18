import Foundation
import Store

/// `:creds`. Never the secret, the key material or the enable secret: no field reads them, so
/// they are not even in a row. Enter (or `d`) describes one: metadata only (Data/Details.swift).
enum CredentialsTable {
    static let rows = RowBuilder<Credential>(id: \.name, fields: [
        TableField("id", numeric: true) { String($0.id ?? 0) },
        TableField("name") { $0.name },
        TableField("description") { $0.description },
        TableField("username") { $0.username },
        TableField("secret_kind") { $0.secretKind.rawValue },
        TableField("key_file") { $0.keyFile },
        TableField("role") { $0.role.rawValue },
        TableField("priority", numeric: true) { String($0.priority) },
        TableField("pools") { TableText.list($0.pools) },
    ])

    static let descriptor = TableDescriptor(
        kind: .credentials, title: "credentials", noun: "credential",
        aliases: ["cred", "creds", "credential", "credentials"], helpWords: ["creds"],
        numericFields: rows.numeric,
        load: { load in rows.table(.credentials, try load.store.credentials(), load) },
        open: .push { row, _ in (.document(.describe(.credentials, row.id)), "credential \(row.id)") },
        browse: [TableAction(.describe, nil)],
        deletes: .credential)
}
