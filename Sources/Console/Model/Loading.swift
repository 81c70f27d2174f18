import Foundation
import Store

/// What a view shows.
public enum ViewContent: Hashable, Sendable {
    case table(TableKind, Scope?)
    case workflow(String)
    case document(DocumentSource)
    case runLog(Int64)
    case help
    /// The `:pulse` dashboard (Widgets/PulseWidget.swift).
    case pulse
}

/// What a drilled-down table is restricted to.
public enum Scope: Hashable, Sendable {
    case pool(String)
    case device(String)
    case run(Int64)
    /// A search of the latest configurations (a regular expression).
    case search(String)
}

/// A text shown in the text view.
public enum DocumentSource: Hashable, Sendable {
    case resultOutput(Int64)
    case config(Int64)
    case configDiff(Int64)
    case session(Int64)
    /// Two devices' latest configurations compared.
    case latestDiff(String, String)
    /// The status line's messages (`:messages`): the model holds them, nothing is loaded.
    case messages
    /// `d`: a service, workflow, credential, pool or task, read-only (Data/Details.swift).
    case describe(TableKind, String)
    /// `x`: everything that relates to a device, as one tree (Data/Details.swift).
    case xray(String)
}

/// A load the runtime runs on a background thread: a view's data (or the header's, view 0).
public struct LoadRequest: Sendable, Equatable {
    public var viewID: Int
    public var content: ViewContent?
    public var sort: SortOrder?
    public var filter: FilterExpression
    /// For a run log: the last sequence number held (nil on the first load: the log's last lines).
    public var afterSeq: Int64?
    /// Lines a log view holds at most.
    public var capacity: Int
    /// For a table's periodic refresh: the store's stamp at the last load. When the database files
    /// still carry it, nothing was written since and the load answers `.unchanged` without reading.
    public var unlessStamp: StoreStamp?
    /// For the pulse: the console's clock, which its histogram ends at (nil: the loader's clock).
    public var now: Date?
    /// The view already shows a table, which the input thread will compare this one with
    /// (`TableState.take`): the loader finishes the new table's search index and digest first, so
    /// that the comparison does not wait for them there. A first load does not: its frame is drawn
    /// while the index is built.
    public var replacesData = false

    public init(viewID: Int, content: ViewContent?, sort: SortOrder? = nil,
                filter: FilterExpression = FilterExpression(terms: []), afterSeq: Int64? = nil, capacity: Int = 10_000) {
        self.viewID = viewID; self.content = content; self.sort = sort; self.filter = filter
        self.afterSeq = afterSeq; self.capacity = capacity
    }

    /// What the start trace (`StartTrace`) calls this load.
    var traceName: String {
        guard let content else { return "header" }
        if case .table(let kind, _) = content { return "table-\(kind)" }
        return "view"
    }
}

/// A table with its rows already sorted and filtered the way the view asked, off the input thread.
public struct PreparedTable: Sendable {
    public var data: TableData
    public var sort: SortOrder?
    public var filter: FilterExpression
    public var order: [Int32]
    public var visible: [Int32]
    /// The store's stamp taken before the read (a write during it shows as a newer stamp next time).
    public var stamp: StoreStamp? = nil
}

/// What a load brought back.
public enum LoadResult: Sendable {
    case table(PreparedTable)
    case workflow(WorkflowGraph)
    case document(title: String, lines: [LogLine], skipped: Int)
    case runLog(RunSummary?, lines: [LogLine], skipped: Int)
    case header(HeaderInfo)
    /// The pulse's figures, and the store's stamp taken before the read.
    case pulse(ConsoleStore.Pulse, stamp: StoreStamp?)
    /// Nothing was written to the store since the view's last load (its `unlessStamp`).
    case unchanged
    case failure(String)
}
