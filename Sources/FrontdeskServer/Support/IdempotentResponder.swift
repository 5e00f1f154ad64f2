import FrontdeskCore
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import NIOCore

/// Runs a form POST at most once per client and `Idempotency-Key`: a retry gets the stored first
/// response (with `Idempotency-Replayed: true`), and the record is written in the transaction that
/// stored the content, so a crash can never leave one without the other.
struct IdempotentResponder: Sendable {
    let store: IdempotencyStore
    let now: @Sendable () -> Date

    /// The record hook a store runs inside its transaction, and the response it records.
    struct Recorder: Sendable {
        let claim: IdempotencyStore.Claim?
        let store: IdempotencyStore
        let now: @Sendable () -> Date

        /// Records `value` as the response. Leave secrets out of it (they would sit in the
        /// database and its backups for a day) and put them back in `respond`'s `restore`.
        func record(_ status: HTTPResponse.Status, _ value: some Encodable, in db: Database) throws {
            guard let claim else { return }
            try store.record(claim, status: Int(status.code), body: try JSONEncoder.api.encode(value), now: now(), in: db)
        }
    }

    /// - Parameter restore: turns a stored response back into the one to send, for responses
    ///   recorded without a secret (a new ticket's access token is derived again, never stored).
    func respond(scope: String, request: Request, context: AppRequestContext, body: Data,
                 restore: (IdempotencyStore.Stored) async throws -> IdempotencyStore.Stored = { $0 },
                 _ work: (Recorder) async throws -> Response) async throws -> Response {
        let claim = try store.claim(scope: scope, client: context.clientAddress, header: request.headers[.idempotencyKey], body: body)
        if let claim, let stored = try await store.replay(claim) {
            return Self.replayed(try await restore(stored))
        }
        do {
            return try await work(Recorder(claim: claim, store: store, now: now))
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT && claim != nil {
            // The same key raced in twice: the other request committed first; answer as it did.
            if let claim, let stored = try await store.replay(claim) { return Self.replayed(try await restore(stored)) }
            throw error
        }
    }

    static func replayed(_ stored: IdempotencyStore.Stored) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.idempotencyReplayed] = "true"
        return Response(status: .init(code: stored.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: stored.body)))
    }
}

extension HTTPField.Name {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let idempotencyReplayed = HTTPField.Name("Idempotency-Replayed")!
}
