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
        let text = try ExtractService.source(context, parameters)
        let verdict = ResultValidation.check(text, rules: context.service.validation)
        context.log(verdict.ok ? .info : .warning, verdict.message)
        return ServiceOutcome(success: verdict.ok, output: text)
    }
}
