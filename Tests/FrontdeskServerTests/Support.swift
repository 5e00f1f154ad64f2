import Foundation
import FrontdeskState
import FrontdeskCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
@testable import FrontdeskServer

/// A Frontdesk runtime on a fresh temp data directory, with settings overridden per test.
final class TestEnvironment: @unchecked Sendable {
    let directory: String
    let runtime: FrontdeskRuntime

    init(_ environment: [String: String] = [:], flags: [String: String] = [:], modules: [any FeatureModule.Type] = FeatureModules.all,
         now: @escaping @Sendable () -> Date = { Date() }) throws {
        directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("frontdesk-server-test-\(UUID().uuidString)")
        var flags = flags
        flags["storage.data_dir"] = directory
        flags["server.port"] = flags["server.port"] ?? "0"
        // The router test client has no peer address, so /metrics is read with the token.
        flags["metrics.token"] = flags["metrics.token"] ?? testMetricsToken
        let config = try FrontdeskConfig.load(file: nil, environment: environment, flags: flags, features: modules.flatMap { $0.settings })
        // Cheap hashing keeps tests fast; production uses OWASP's 600,000 iterations.
        runtime = try FrontdeskRuntime.open(config, passwordHasher: PasswordHasher(iterations: 1_000, gate: Self.hashingGate()), modules: modules, now: now)
    }

    /// The application for `app.test(.router)` or `.live`.
    func application(router customize: (Router<AppRequestContext>) -> Void = { _ in }) -> some ApplicationProtocol {
        let router = buildRouter(runtime)
        customize(router)
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: runtime.logger)
    }

    func contactCount() async throws -> Int {
        try await ContactStore(database: runtime.database).count()
    }

    deinit {
        try? runtime.database.close()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

extension ByteBuffer {
    init(json: String) { self.init(string: json) }
}

/// The decoded error envelope of a response.
struct Envelope: Decodable {
    struct Body: Decodable {
        let code: String
        let message: String
        let details: [String: String]
        let timestamp: String
    }
    let error: Body
}

extension TestResponse {
    var envelope: Envelope? {
         try? JSONDecoder().decode(Envelope.self, from: Data(buffer: body))
    }

    var json: [String: Any]? {
         try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
    }

    var text: String { String(buffer: body) }
}

let jsonHeaders: HTTPFields = [.contentType: "application/json"]

/// The `metrics.token` every test environment gets.
let testMetricsToken = "metrics-token-for-the-server-tests"

extension TestEnvironment {
    /// Creates a user directly in the store.
    @discardableResult
    func addUser(_ email: String, role: Role = .agent, password: String = "correct horse battery") async throws -> User {
        try await runtime.accounts.create(AccountStore.NewUser(email: email, password: password, role: role))
    }

    /// Each environment hashes through a gate of its own, sized like the server's: the
    /// process-wide one would be shared by every test running in parallel and answer `busy`.
    static func hashingGate() -> ConcurrencyGate {
        ConcurrencyGate(limit: max(1, ProcessInfo.processInfo.activeProcessorCount), queueLimit: 64)
    }
}

/// A browser-like console client: keeps the session cookie and CSRF token, sends a same-site Origin.
struct ConsoleClient {
    let client: any TestClientProtocol
    var cookie: String = ""
    var csrf: String = ""
    static let origin = "http://localhost"

    var headers: HTTPFields {
        var fields: HTTPFields = [.contentType: "application/json", .origin: Self.origin]
        if !cookie.isEmpty { fields[.cookie] = cookie }
        if !csrf.isEmpty { fields[HTTPField.Name("X-CSRF-Token")!] = csrf }
        return fields
    }

    /// Signs in; returns the response status.
    mutating func signIn(_ email: String, _ password: String = "correct horse battery") async throws -> HTTPResponse.Status {
        let body = ByteBuffer(string: #"{"email":"\#(email)","password":"\#(password)"}"#)
        let response = try await client.executeRequest(uri: "/api/v1/admin/session", method: .post, headers: headers, body: body)
        if response.status == .ok {
            let setCookie = response.headers[.setCookie] ?? ""
            cookie = String(setCookie.split(separator: ";").first ?? "")
            csrf = (response.json?["csrfToken"] as? String) ?? ""
        }
        return response.status
    }

    func send(_ method: HTTPRequest.Method, _ uri: String, json: String? = nil, headers extra: HTTPFields = [:]) async throws -> TestResponse {
        var fields = headers
        for field in extra { fields[field.name] = field.value }
        return try await client.executeRequest(uri: uri, method: method, headers: fields, body: json.map { ByteBuffer(string: $0) })
    }
}
