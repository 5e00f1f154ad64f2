import Foundation
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

    init(_ environment: [String: String] = [:], flags: [String: String] = [:]) throws {
        directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("frontdesk-server-test-\(UUID().uuidString)")
        var flags = flags
        flags["storage.data_dir"] = directory
        flags["server.port"] = flags["server.port"] ?? "0"
        let config = try FrontdeskConfig.load(file: nil, environment: environment, flags: flags)
        runtime = try FrontdeskRuntime.open(config)
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
