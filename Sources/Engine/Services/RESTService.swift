import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Store

/// `rest`: one HTTP request. Parameters: `method` (default GET), `url`, `headers` {name: value},
/// `body` (all templates), `expected_status` (a status or a list; default any 2xx), `timeout`
/// seconds (capped by the attempt's timeout). The output is the response body; a status outside
/// the expected ones fails the service.
struct RESTService: ServiceKindRunner {
    func run(_ context: ServiceContext) async throws -> ServiceOutcome {
        let parameters = Parameters(context)
        let urlText = try context.render(try parameters.requiredString("url"))
        guard let url = URL(string: urlText), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
            throw ServiceError("rest: '\(urlText)' is not an http(s) URL")
        }
        let method = (parameters.string("method") ?? "GET").uppercased()
        let limit = context.limit(parameters.double("timeout"))
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: limit.secondsDouble)
        request.httpMethod = method
        for (name, value) in (parameters.values["headers"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            request.setValue(try context.render(value.description), forHTTPHeaderField: name)
        }
        if let body = parameters.string("body") {
            request.httpBody = Data(try context.render(body).utf8)
        }
        let expected = try Self.expectedStatuses(parameters)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = limit.secondsDouble
        configuration.timeoutIntervalForResource = limit.secondsDouble
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        let data: Data, response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw ServiceError("rest: \(method) \(Self.redacted(url)) failed: \((error as NSError).localizedDescription)")
        }
        guard let http = response as? HTTPURLResponse else { throw ServiceError("rest: \(method) \(Self.redacted(url)): not an HTTP response") }
        let body = String(decoding: data, as: UTF8.self)
        if expected(http.statusCode) {
            return ServiceOutcome(success: true, output: body)
        }
        context.log(.warning, "\(method) \(Self.redacted(url)) answered HTTP \(http.statusCode)")
        return ServiceOutcome(success: false, output: "HTTP \(http.statusCode) (expected \(Self.describeExpected(parameters)))\n" + body)
    }

    static func expectedStatuses(_ parameters: Parameters) throws -> (Int) -> Bool {
        guard let value = parameters.values["expected_status"], !value.isNull else { return { (200...299).contains($0) } }
        let codes = (value.arrayValue ?? [value]).compactMap(\.intValue)
        if codes.isEmpty { throw parameters.fail("expected_status must be an HTTP status or a list of them") }
        return { codes.contains($0) }
    }

    static func describeExpected(_ parameters: Parameters) -> String {
        guard let value = parameters.values["expected_status"], !value.isNull else { return "2xx" }
        return (value.arrayValue ?? [value]).map(\.description).joined(separator: ", ")
    }

    /// The URL without user information (which may hold a password).
    static func redacted(_ url: URL) -> String {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return url.absoluteString }
        if components.user != nil || components.password != nil { components.user = "<removed>"; components.password = nil }
        return components.string ?? url.absoluteString
    }
}
