/// What a cell is, not how it looks: themes map each role to colours and attributes.
/// The raw value is the key a theme file uses (`themes/*.json`, under `"roles"`).
public enum Role: String, CaseIterable, Sendable, Hashable {
    case body
    case header
    case title
    case border
    case breadcrumb
    case selectedRow = "selected_row"
    case markedRow = "marked_row"
    case columnHeader = "column_header"
    case sortedColumnHeader = "sorted_column_header"
    case statusQueued = "status.queued"
    case statusRunning = "status.running"
    case statusCompleted = "status.completed"
    case statusFailed = "status.failed"
    case statusAborted = "status.aborted"
    case statusInterrupted = "status.interrupted"
    case logDebug = "log.debug"
    case logInfo = "log.info"
    case logWarning = "log.warning"
    case logError = "log.error"
    case logTime = "log.time"
    case logDevice = "log.device"
    case keyHint = "key_hint"
    case keyName = "key_name"
    case flashInfo = "flash_info"
    case flashError = "flash_error"
    case commandLine = "command_line"
    case dialog
    case dialogTitle = "dialog_title"
    case diffAdded = "diff_added"
    case diffRemoved = "diff_removed"
    case diffContext = "diff_context"
    case diffHeader = "diff_header"
    case treeSuccess = "tree.success"
    case treeFailure = "tree.failure"
    case searchMatch = "search_match"
    /// Control characters and escape sequences from data, shown as `^[` and the like.
    case controlChar = "control_char"
    case dim

    /// The role of a run status (`Run.Status` raw value), `body` for anything else.
    public static func status(_ status: String) -> Role {
        switch status {
        case "queued": return .statusQueued
        case "running": return .statusRunning
        case "completed", "success", "true": return .statusCompleted
        case "failed", "failure", "false": return .statusFailed
        case "aborted": return .statusAborted
        case "interrupted": return .statusInterrupted
        default: return .body
        }
    }

    /// Whether a row role (selection) should override a cell's own role.
    var isRowHighlight: Bool { self == .selectedRow || self == .markedRow }
}
