import Foundation
import Store

/// `validate`: checks the previous output (or a payload variable, `source: NAME`) against the
/// service's `validation` (see `ResultValidation`). Its output is the text it checked, unchanged,
/// so the executor's own check of `validation` on this output agrees, and services after it see
/// the same output; the verdict goes to the log.
struct ValidateService: ServiceKindRunner {
    func run(_ context: ServiceContext) async throws -> ServiceOutcome {
        let parameters = Parameters(context)
        if context.service.validation.isEmpty {
            throw parameters.fail("validation is missing (kind contains, regex or json, and a value)")
        }
        if context.service.validation["kind"]?.stringValue == "rows" {
            // Rows: the payload's `rows` (what the last parsing service on this device produced),
            // or the payload variable `source` names.
            let rows = try ExtractService.rows(context, parameters)
            let verdict = ResultValidation.checkRows(rows, rules: context.service.validation)
            context.log(verdict.ok ? .info : .warning, verdict.message)
            let text = String(decoding: (try? JSONEncoder.sorted.encode(rows)) ?? Data("[]".utf8), as: UTF8.self)
            return ServiceOutcome(success: verdict.ok, output: text)
        }
        let text = try ExtractService.source(context, parameters)
        let verdict = ResultValidation.check(text, rules: context.service.validation)
        context.log(verdict.ok ? .info : .warning, verdict.message)
        return ServiceOutcome(success: verdict.ok, output: text)
    }
}
