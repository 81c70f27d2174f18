import Foundation
import Store

/// The tables the console shows. The raw value is the table's name in `settings.json` (`tables`,
/// refresh intervals) and `properties.json` (columns). Everything else about a kind is in its
/// descriptor (`Tables/<Kind>.swift`); adding a kind is a case here, its file, and its line in
/// `descriptor`.
public enum TableKind: String, CaseIterable, Sendable, Hashable {
    case devices = "device", links = "link", pools = "pool", credentials = "credential"
    case services = "service", workflows = "workflow", runs = "run", tasks = "task"
    case sessions = "session", config = "config", results = "result"
    case parsed = "parsed", audit = "audit", configSearch = "config_search"
    case engines = "engine"

    /// The registry: each kind's descriptor.
    public var descriptor: TableDescriptor {
        switch self {
        case .devices: return DevicesTable.descriptor
        case .links: return LinksTable.descriptor
        case .pools: return PoolsTable.descriptor
        case .credentials: return CredentialsTable.descriptor
        case .services: return ServicesTable.services
        case .workflows: return ServicesTable.workflows
        case .runs: return RunsTable.descriptor
        case .tasks: return TasksTable.descriptor
        case .sessions: return SessionsTable.descriptor
        case .config: return ConfigTable.descriptor
        case .results: return ResultsTable.descriptor
        case .parsed: return ParsedTable.descriptor
        case .audit: return AuditTable.descriptor
        case .configSearch: return ConfigSearchTable.descriptor
        case .engines: return EnginesTable.descriptor
        }
    }

    public var title: String { descriptor.title }

    /// The record kind a row is, in messages ("delete device par-core1?").
    public var noun: String { descriptor.noun }

    /// The columns of the table: the console's own, or `properties.json`'s.
    public func columns(_ properties: DeviceProperties) -> [DeviceProperties.Column] {
        descriptor.columns ?? properties.columns(for: rawValue)
    }
}

/// Everything the console knows about one kind of table, in the spirit of k9s's view registrar:
/// the command words, the columns, how rows are read and built (by field name), where Enter goes,
/// and which keys it has.
public struct TableDescriptor: Sendable {
    public let kind: TableKind
    public let title: String
    public let noun: String
    /// The `:` words that open it (the first is the one the help and errors name); none: only
    /// reached by drilling down.
    public let aliases: [String]
    /// The words the help screen lists.
    public let helpWords: [String]
    /// The console's own columns; nil: `properties.json`'s for the kind.
    public let columns: [DeviceProperties.Column]?
    /// Fields whose values sort as numbers (others do when their values look like numbers).
    public let numericFields: Set<String>
    /// Reads the table (off the input thread).
    let load: @Sendable (TableLoad) throws -> TableData
    /// What Enter does on a row.
    let open: TableOpen
    /// The table's own keys (beyond moving, filtering, marking and sorting), in key-hint order:
    /// those that look, then (after mark and sort) those that change something.
    let browse: [TableAction]
    let change: [TableAction]
    /// The device a row is about, for `s`/`S` (a device row, a result's device …).
    let device: (@Sendable (TableRow, TableState) -> String?)?
    /// What `ctrl+d` deletes; nil: rows cannot be deleted here.
    let deletes: ConsoleStore.DeletableKind?
    /// What an empty table says (nil: "no <title>").
    let emptyText: (@Sendable (Scope?) -> String)?
    /// The columns come with the data (one per field, as loaded), not from the descriptor.
    let dynamicColumns: Bool
    /// Whether an unchanged database means an unchanged table (false: the table reads a file of
    /// its own, so a periodic refresh always reads).
    let stamped: Bool
    /// A field whose matches are highlighted, and the field holding their character ranges
    /// (`start-end` pairs separated by `,`).
    let highlight: (field: String, spans: String)?

    init(kind: TableKind, title: String, noun: String, aliases: [String] = [], helpWords: [String] = [],
         columns: [DeviceProperties.Column]? = nil, numericFields: Set<String>, load: @escaping @Sendable (TableLoad) throws -> TableData,
         open: TableOpen = .nothing, browse: [TableAction] = [], change: [TableAction] = [],
         device: (@Sendable (TableRow, TableState) -> String?)? = nil, deletes: ConsoleStore.DeletableKind? = nil,
         emptyText: (@Sendable (Scope?) -> String)? = nil, dynamicColumns: Bool = false, stamped: Bool = true,
         highlight: (field: String, spans: String)? = nil) {
        self.kind = kind; self.title = title; self.noun = noun; self.aliases = aliases; self.helpWords = helpWords
        self.columns = columns; self.numericFields = numericFields; self.load = load; self.open = open; self.browse = browse; self.change = change
        self.device = device; self.deletes = deletes
        self.emptyText = emptyText; self.dynamicColumns = dynamicColumns; self.stamped = stamped; self.highlight = highlight
    }

    /// Whether the table has this key (in this view: some depend on the drill-down).
    func allows(_ action: Action, in content: ViewContent) -> Bool {
        if action == .open, case .nothing = open { return false }
        if action == .open { return true }
        if (action == .ssh || action == .sshAs) && device != nil { return true }
        if action == .delete { return deletes != nil }
        return (browse + change).contains { $0.action == action && ($0.when?(content) ?? true) }
    }

    /// Every descriptor, in the order of `TableKind.allCases`.
    public static var all: [TableDescriptor] { TableKind.allCases.map(\.descriptor) }
}

/// What Enter on a row does.
enum TableOpen: Sendable {
    case nothing
    /// Pushes a view: its content and title (nil: nothing for this row).
    case push(@Sendable (TableRow, TableState) -> (ViewContent, String)?)
    /// Replays the recorded session (Session/SessionModel.swift).
    case replay
}

/// A key a table has, with its hint (nil: listed in the help only) and, for keys that depend on
/// the drill-down, when it applies.
struct TableAction: Sendable {
    let action: Action
    let hint: String?
    let when: (@Sendable (ViewContent) -> Bool)?
    init(_ action: Action, _ hint: String?, when: (@Sendable (ViewContent) -> Bool)? = nil) {
        self.action = action; self.hint = hint; self.when = when
    }
}

/// What a table's load gets: the store, the properties and what the view is restricted to.
struct TableLoad: Sendable {
    let store: ConsoleStore
    let properties: DeviceProperties
    let scope: Scope?
    /// The fields a bare filter term searches (the kind's columns, by default).
    let searchable: [String]
    /// The time the load started (durations of unfinished runs and sessions count up to it).
    let now: Date
}

/// A field of a table: its name (what filters, sorting and columns name) and how a record gives
/// its text.
struct TableField<Record>: Sendable {
    let name: String
    let numeric: Bool
    let value: @Sendable (Record, Date) -> String
    init(_ name: String, numeric: Bool = false, _ value: @escaping @Sendable (Record, Date) -> String) {
        self.name = name; self.numeric = numeric; self.value = value
    }
    init(_ name: String, numeric: Bool = false, _ value: @escaping @Sendable (Record) -> String) {
        self.name = name; self.numeric = numeric; self.value = { r, _ in value(r) }
    }
}

/// Builds a table's rows from records, field by field: the names and the values come from one list.
struct RowBuilder<Record>: Sendable {
    let id: @Sendable (Record) -> String
    let fields: [TableField<Record>]

    var names: [String] { fields.map(\.name) }
    var numeric: Set<String> { Set(fields.filter(\.numeric).map(\.name)) }

    func table(_ kind: TableKind, _ records: [Record], _ load: TableLoad, searchable: [String]? = nil) -> TableData {
        let now = load.now
        let rows = records.map { r in TableRow(id: id(r), values: fields.map { $0.value(r, now) }) }
        return TableData(kind: kind, fields: names, searchable: searchable ?? load.searchable, rows: rows)
    }
}

/// Numbers as the tables show them: whole numbers without a fraction.
enum TableText {
    static func number(_ d: Double) -> String {
        d.rounded() == d && abs(d) < 1e15 ? String(Int(d)) : String(d)
    }
    static func optional<T>(_ v: T?) -> String { v.map { "\($0)" } ?? "" }
    static func list(_ v: [String]) -> String { v.joined(separator: ", ") }
}
