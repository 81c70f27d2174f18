import Foundation
import PostgresNIO
import Store

/// `db migrate`'s PostgreSQL side: the tables' shapes from the catalogue, every row of a table as
/// typed values, and a whole database written in one transaction with its sequences fixed up.
extension PostgresStore {
    /// The tables `db migrate` copies, parents before children.
    public static var migrationTableNames: [String] { PostgresSchema.tables }

    /// Each table's columns (with the kind PostgreSQL's type gives them) and primary key.
    public func migrationTables() throws -> [MigrationTable] {
        try PostgresSchema.tables.map { table in
            let columns = try connection.query("""
                SELECT column_name::text, data_type::text FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position
                """, [.text(table)]).map { row -> MigrationColumn in
                let name = try row.value(0, as: String.self), type = try row.value(1, as: String.self)
                return MigrationColumn(name: name, kind: Self.kind(ofType: type))
            }
            if columns.isEmpty { throw StoreError(.database, "\(place) has no table \(table)") }
            let key = try connection.query("""
                SELECT a.attname::text FROM pg_index i
                JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                WHERE i.indrelid = to_regclass($1) AND i.indisprimary
                ORDER BY array_position(i.indkey::int2[], a.attnum)
                """, [.text(table)]).map { try $0.value(0, as: String.self) }
            return MigrationTable(name: table, columns: columns, primaryKey: key)
        }
    }

    static func kind(ofType type: String) -> MigrationColumnKind {
        switch type {
        case "smallint", "integer", "bigint": return .integer
        case "double precision", "real", "numeric": return .real
        case "boolean": return .boolean
        case "json", "jsonb": return .json
        case "timestamp with time zone", "timestamp without time zone": return .time
        case "bytea": return .blob
        default: return .text
        }
    }

    /// Every row of `table`, read as text the server formats (times in UTC to the millisecond, as
    /// GRDB writes them; bytes in hex), then normalised for the column's kind.
    public func migrationRows(_ table: MigrationTable) throws -> [[MigrationValue]] {
        let select = table.columns.map { column -> String in
            let c = Self.quote(column.name)
            switch column.kind {
            case .time: return "to_char(\(c) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS')"
            case .blob: return "encode(\(c), 'hex')"
            case .boolean: return "(\(c))::int::text"
            default: return "(\(c))::text"
            }
        }.joined(separator: ", ")
        let rows = try connection.query("SELECT \(select) FROM \(Self.quote(table.name))")
        return try rows.map { row in
            var values: [MigrationValue] = []
            for (i, cell) in row.enumerated() {
                let column = table.columns[i]
                guard cell.bytes != nil else { values.append(.null); continue }
                let text = try cell.decode(String.self)
                let raw: MigrationValue = column.kind == .blob ? .blob(Self.hexData(text)) : .text(text)
                values.append(try MigrationRows.normalise(raw, kind: column.kind, table: table.name, column: column.name))
            }
            return values
        }
    }

    static func hexData(_ hex: String) -> Data {
        var data = Data(capacity: hex.utf8.count / 2)
        var high: UInt8?
        for c in hex.utf8 {
            let v: UInt8 = c >= 97 ? c - 87 : c >= 65 ? c - 55 : c - 48
            if let h = high { data.append(h << 4 | v); high = nil } else { high = v }
        }
        return data
    }

    /// Rows in the tables other than `meta`: a migration target must have none.
    public func migrationRowCount() throws -> Int {
        try PostgresSchema.tables.filter { $0 != "meta" }.reduce(0) { sum, t in
            sum + (try connection.query("SELECT count(*) FROM \(Self.quote(t))").first?.value(0, as: Int.self) ?? 0)
        }
    }

    /// Writes every table's rows in one transaction, parents first (the order given), asking `rows`
    /// for one table at a time, in multi-row statements; `meta` rows replace the target's. Then every
    /// bigserial sequence continues after its table's largest id, so the next insert does not collide
    /// with a copied row.
    public func migrationWrite(_ tables: [MigrationTable], rows: (MigrationTable) throws -> [[MigrationValue]]) throws {
        try connection.transaction {
            for table in tables {
                let rows = try rows(table)
                let columns = table.columns.map { Self.quote($0.name) }.joined(separator: ", ")
                let perStatement = max(1, 4000 / max(1, table.columns.count))
                var start = 0
                while start < rows.count {
                    let batch = rows[start..<min(rows.count, start + perStatement)]
                    var binds: [PGValue] = []
                    var tuples: [String] = []
                    for row in batch {
                        var marks: [String] = []
                        for (i, value) in row.enumerated() {
                            binds.append(Self.bind(value))
                            marks.append(Self.placeholder(binds.count, table.columns[i].kind))
                        }
                        tuples.append("(" + marks.joined(separator: ", ") + ")")
                    }
                    var sql = "INSERT INTO \(Self.quote(table.name)) (\(columns)) VALUES " + tuples.joined(separator: ", ")
                    if table.name == "meta" { sql += " ON CONFLICT (key) DO UPDATE SET value = excluded.value" }
                    try connection.query(sql, binds)
                    start += batch.count
                }
            }
            for table in tables where table.columns.contains(where: { $0.name == "id" }) {
                try connection.query("""
                    SELECT setval(s::regclass, (SELECT COALESCE(max(id), 0) + 1 FROM \(Self.quote(table.name))), false)
                    FROM pg_get_serial_sequence($1, 'id') AS s WHERE s IS NOT NULL
                    """, [.text(table.name)])
            }
        }
    }

    static func bind(_ value: MigrationValue) -> PGValue {
        switch value {
        case .null: return .null
        case .integer(let v): return .int(Int(v))
        case .real(let v): return .double(v)
        case .text(let s): return .text(s)
        case .blob(let d): return .bytes(d)
        }
    }

    /// `$n` with the cast that turns the bound value into the column's type (a NULL binds untyped).
    static func placeholder(_ n: Int, _ kind: MigrationColumnKind) -> String {
        switch kind {
        case .integer: return "$\(n)::bigint"
        case .real: return "$\(n)::double precision"
        case .boolean: return "($\(n)::bigint <> 0)"
        case .text: return "$\(n)::text"
        case .json: return "$\(n)::text::jsonb"
        case .time: return "($\(n)::text::timestamp AT TIME ZONE 'UTC')"
        case .blob: return "$\(n)::bytea"
        }
    }

    static func quote(_ identifier: String) -> String { "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}
