import Foundation
import GRDB

/// The events an endpoint can ask for. `webhook.test` is what "send test event" sends.
package enum WebhookEvents {
    package static let all = [
        "contact.created", "ticket.created", "ticket.updated", "ticket.message.created",
        "chat.conversation.started", "chat.conversation.closed", "chat.message.created",
        "newsletter.confirmed", "newsletter.unsubscribed",
    ]
    package static let test = "webhook.test"
}

/// An endpoint that wants events (table `webhook_endpoints`).
package struct WebhookEndpoint: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    package static let databaseTableName = "webhook_endpoints"
    package var id: Int64?
    package var url: String
    package var description: String
    /// Space-separated event types.
    package var events: String
    /// `whsec_<base64>`: the Standard Webhooks signing secret.
    package var secret: String
    package var enabled: Bool
    package var createdAt: String
    package var updatedAt: String
    /// `console` (made in the console or the API) or `config` (a `[[webhooks.endpoints]]` table,
    /// written at every start and not editable elsewhere).
    package var managedBy: String = "console"

    package var eventList: [String] { events.split(separator: " ").map(String.init) }
    package var isConfigured: Bool { managedBy == ConfiguredWebhook.managedBy }

    enum CodingKeys: String, CodingKey {
        case id, url, description, events, secret, enabled
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case managedBy = "managed_by"
    }

    package mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// Where a delivery stands.
package enum WebhookDeliveryStatus: String, Codable, Sendable, CaseIterable {
    case pending
    case delivered
    /// Gave up after `maxAttempts`; "redeliver" queues it again.
    case dead
}

/// One event for one endpoint (table `webhook_deliveries`), written in the transaction of the
/// change it reports, so an event is queued exactly when the change committed.
package struct WebhookDelivery: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    package static let databaseTableName = "webhook_deliveries"
    package var id: Int64?
    package var endpointId: Int64
    package var eventType: String
    /// `webhook-id`: the same for every attempt of this message, so a receiver can de-duplicate.
    package var messageId: String
    package var payload: String
    package var status: WebhookDeliveryStatus
    package var attempts: Int
    package var nextAttemptAt: String
    package var lastStatusCode: Int?
    package var lastError: String?
    package var createdAt: String
    package var deliveredAt: String?

    enum CodingKeys: String, CodingKey {
        case id, payload, status, attempts
        case endpointId = "endpoint_id"
        case eventType = "event_type"
        case messageId = "message_id"
        case nextAttemptAt = "next_attempt_at"
        case lastStatusCode = "last_status_code"
        case lastError = "last_error"
        case createdAt = "created_at"
        case deliveredAt = "delivered_at"
    }

    package mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// One try of a delivery (table `webhook_attempts`): the delivery log.
package struct WebhookAttempt: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    package static let databaseTableName = "webhook_attempts"
    package var id: Int64?
    package var deliveryId: Int64
    package var attemptedAt: String
    package var statusCode: Int?
    package var error: String?
    package var durationMs: Int

    enum CodingKeys: String, CodingKey {
        case id, error
        case deliveryId = "delivery_id"
        case attemptedAt = "attempted_at"
        case statusCode = "status_code"
        case durationMs = "duration_ms"
    }

    package mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// Queues events inside a caller's transaction: the stores call `emit` with their `Database`,
/// as they queue mail, so the delivery row commits (or rolls back) with the change itself.
package struct WebhookOutbox: Sendable {
    let now: @Sendable () -> Date

    package init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    /// Queues `type` with `data` for every enabled endpoint that asked for it. Returns how many.
    @discardableResult
    package func emit(_ type: String, _ data: [String: JSONValue], in db: Database, onlyEndpoint: Int64? = nil) throws -> Int {
        let endpoints = try WebhookEndpoint.filter(sql: "enabled = 1").fetchAll(db)
            .filter { onlyEndpoint == nil ? $0.eventList.contains(type) : $0.id == onlyEndpoint }
        guard !endpoints.isEmpty else { return 0 }
        let stamp = now()
        let payload = try Self.payload(type: type, data: data, at: stamp)
        let text = Timestamps.iso8601Milliseconds(stamp)
        for endpoint in endpoints {
            var delivery = WebhookDelivery(id: nil, endpointId: endpoint.id ?? 0, eventType: type, messageId: "msg_" + Secrets.urlSafeToken(byteCount: 16),
                                           payload: payload, status: .pending, attempts: 0, nextAttemptAt: text, lastStatusCode: nil,
                                           lastError: nil, createdAt: text, deliveredAt: nil)
            try delivery.insert(db)
        }
        return endpoints.count
    }

    /// `{"type": …, "timestamp": …, "data": {…}}`, the Standard Webhooks payload shape.
    static func payload(type: String, data: [String: JSONValue], at date: Date) throws -> String {
        let object: JSONValue = .object(["type": .string(type), "timestamp": .string(Timestamps.iso8601(date)), "data": .object(data)])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(object), as: UTF8.self)
    }
}

/// Webhook endpoints, their deliveries and the delivery log. The only place with their SQL.
package struct WebhookStore: Sendable {
    let database: AppDatabase
    package let outbox: WebhookOutbox
    let now: @Sendable () -> Date

    package init(database: AppDatabase, outbox: WebhookOutbox, now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.outbox = outbox
        self.now = now
    }

    package static let migrations = [
        SchemaMigration("0041-webhooks") { db in
            try db.execute(sql: """
                CREATE TABLE webhook_endpoints (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    url TEXT NOT NULL,
                    description TEXT NOT NULL DEFAULT '',
                    events TEXT NOT NULL,
                    secret TEXT NOT NULL,
                    enabled INTEGER NOT NULL DEFAULT 1,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                ) STRICT;
                CREATE TABLE webhook_deliveries (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
                    event_type TEXT NOT NULL,
                    message_id TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at TEXT NOT NULL,
                    last_status_code INTEGER,
                    last_error TEXT,
                    created_at TEXT NOT NULL,
                    delivered_at TEXT
                ) STRICT;
                CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
                CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, id);
                CREATE TABLE webhook_attempts (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
                    attempted_at TEXT NOT NULL,
                    status_code INTEGER,
                    error TEXT,
                    duration_ms INTEGER NOT NULL
                ) STRICT;
                CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id, id);
                """)
        },
    ]

    /// `[[webhooks.endpoints]]` may be added to an existing install: its column.
    package static let configuredMigrations = [
        SchemaMigration("0046-webhook-endpoints-from-config") { db in
            try db.execute(sql: """
                ALTER TABLE webhook_endpoints ADD COLUMN managed_by TEXT NOT NULL DEFAULT 'console' CHECK (managed_by IN ('console', 'config'));
                """)
        },
    ]

    /// Makes the endpoints from the configuration what the table holds: each `[[webhooks.endpoints]]`
    /// (matched by URL) inserted or brought up to date, and configured endpoints no longer in the
    /// file deleted with their queue. Endpoints made in the console are left alone.
    @discardableResult
    package func syncConfigured(_ configured: [ConfiguredWebhook]) async throws -> (added: Int, updated: Int, removed: Int) {
        let stamp = Timestamps.iso8601Milliseconds(now())
        return try await database.writer.write { db in
            var existing = Dictionary(try WebhookEndpoint.filter(Column("managed_by") == ConfiguredWebhook.managedBy).fetchAll(db).map { ($0.url, $0) },
                                      uniquingKeysWith: { first, _ in first })
            var added = 0, updated = 0
            for item in configured {
                let events = item.events.joined(separator: " ")
                if var endpoint = existing.removeValue(forKey: item.url) {
                    guard endpoint.events != events || endpoint.description != item.description || endpoint.secret != item.secret
                        || endpoint.enabled != item.enabled else { continue }
                    endpoint.events = events; endpoint.description = item.description; endpoint.secret = item.secret
                    endpoint.enabled = item.enabled; endpoint.updatedAt = stamp
                    try endpoint.update(db)
                    updated += 1
                } else {
                    var endpoint = WebhookEndpoint(id: nil, url: item.url, description: item.description, events: events, secret: item.secret,
                                                   enabled: item.enabled, createdAt: stamp, updatedAt: stamp, managedBy: ConfiguredWebhook.managedBy)
                    try endpoint.insert(db)
                    added += 1
                }
            }
            for gone in existing.values { _ = try gone.delete(db) }
            return (added, updated, existing.count)
        }
    }

    /// A new signing secret: `whsec_` and the base64 of 24 random bytes.
    package static func newSecret() -> String {
        "whsec_" + Data((0..<24).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }

    package func createEndpoint(url: String, events: [String], description: String) async throws -> WebhookEndpoint {
        let stamp = Timestamps.iso8601Milliseconds(now())
        let endpoint = WebhookEndpoint(id: nil, url: url, description: description, events: events.joined(separator: " "), secret: Self.newSecret(),
                                       enabled: true, createdAt: stamp, updatedAt: stamp)
        return try await database.writer.write { db in
            var inserted = endpoint
            try inserted.insert(db)
            return inserted
        }
    }

    package func endpoints() async throws -> [WebhookEndpoint] {
        try await database.read { db in try WebhookEndpoint.order(Column("id")).fetchAll(db) }
    }

    package func endpoint(id: Int64) async throws -> WebhookEndpoint? {
        try await database.read { db in try WebhookEndpoint.fetchOne(db, key: id) }
    }

    package func updateEndpoint(id: Int64, url: String?, events: [String]?, description: String?, enabled: Bool?) async throws -> WebhookEndpoint {
        let stamp = Timestamps.iso8601Milliseconds(now())
        return try await database.writer.write { db in
            guard var endpoint = try WebhookEndpoint.fetchOne(db, key: id) else { throw FrontdeskError.notFound("The webhook endpoint") }
            if endpoint.isConfigured { throw ConfiguredWebhook.notEditable }
            if let url { endpoint.url = url }
            if let events { endpoint.events = events.joined(separator: " ") }
            if let description { endpoint.description = description }
            if let enabled { endpoint.enabled = enabled }
            endpoint.updatedAt = stamp
            try endpoint.update(db)
            return endpoint
        }
    }

    package func deleteEndpoint(id: Int64) async throws {
        try await database.writer.write { db in
            guard let endpoint = try WebhookEndpoint.fetchOne(db, key: id) else { throw FrontdeskError.notFound("The webhook endpoint") }
            if endpoint.isConfigured { throw ConfiguredWebhook.notEditable }
            _ = try endpoint.delete(db)
        }
    }

    /// Queues a `webhook.test` event for one endpoint, whatever events it asked for.
    package func sendTest(endpointId: Int64) async throws -> WebhookDelivery {
        let outbox = self.outbox
        return try await database.writer.write { db in
            guard try WebhookEndpoint.fetchOne(db, key: endpointId) != nil else { throw FrontdeskError.notFound("The webhook endpoint") }
            try outbox.emit(WebhookEvents.test, ["message": .string("A test event from Frontdesk.")], in: db, onlyEndpoint: endpointId)
            guard let delivery = try WebhookDelivery.filter(Column("endpoint_id") == endpointId).order(Column("id").desc).fetchOne(db) else {
                throw FrontdeskError(.conflict, code: "webhook_disabled", message: "This endpoint is disabled; enable it to send a test event.")
            }
            return delivery
        }
    }

    /// Queues a delivery again, with the same message id and payload, from attempt one.
    package func redeliver(id: Int64) async throws -> WebhookDelivery {
        let stamp = Timestamps.iso8601Milliseconds(now())
        return try await database.writer.write { db -> WebhookDelivery in
            guard let old = try WebhookDelivery.fetchOne(db, key: id) else { throw FrontdeskError.notFound("The delivery") }
            var copy = WebhookDelivery(id: nil, endpointId: old.endpointId, eventType: old.eventType, messageId: old.messageId, payload: old.payload,
                                       status: .pending, attempts: 0, nextAttemptAt: stamp, lastStatusCode: nil, lastError: nil, createdAt: stamp, deliveredAt: nil)
            try copy.insert(db)
            return copy
        }
    }

    package func deliveries(endpointId: Int64, limit: Int = 100) async throws -> [WebhookDelivery] {
        try await database.read { db in
            try WebhookDelivery.filter(Column("endpoint_id") == endpointId).order(Column("id").desc).limit(limit).fetchAll(db)
        }
    }

    package func delivery(id: Int64) async throws -> WebhookDelivery? {
        try await database.read { db in try WebhookDelivery.fetchOne(db, key: id) }
    }

    package func attempts(deliveryId: Int64) async throws -> [WebhookAttempt] {
        try await database.read { db in try WebhookAttempt.filter(Column("delivery_id") == deliveryId).order(Column("id")).fetchAll(db) }
    }

    /// Pending deliveries due now, oldest first, with their endpoints.
    package func due(limit: Int) async throws -> [(WebhookDelivery, WebhookEndpoint)] {
        let stamp = Timestamps.iso8601Milliseconds(now())
        return try await database.read { db in
            let deliveries = try WebhookDelivery.filter(sql: "status = 'pending' AND next_attempt_at <= ?", arguments: [stamp])
                .order(Column("next_attempt_at"), Column("id")).limit(limit).fetchAll(db)
            return try deliveries.compactMap { d in try WebhookEndpoint.fetchOne(db, key: d.endpointId).map { (d, $0) } }
        }
    }

    /// The earliest pending attempt time, for the service's sleep.
    package func nextDue() async throws -> String? {
        try await database.read { db in try String.fetchOne(db, sql: "SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE status = 'pending'") }
    }

    /// Logs one attempt and moves the delivery on: delivered on a 2xx, else retried after
    /// `retryDelay(attempts)` or dead after `maxAttempts`.
    package func recordAttempt(deliveryId: Int64, statusCode: Int?, error: String?, durationMs: Int, maxAttempts: Int,
                               retryDelay: @escaping @Sendable (Int) -> TimeInterval) async throws -> WebhookDelivery {
        let at = now()
        let stamp = Timestamps.iso8601Milliseconds(at)
        return try await database.writer.write { db in
            guard var delivery = try WebhookDelivery.fetchOne(db, key: deliveryId) else { throw FrontdeskError.notFound("The delivery") }
            var attempt = WebhookAttempt(id: nil, deliveryId: deliveryId, attemptedAt: stamp, statusCode: statusCode, error: error.map { String($0.prefix(500)) },
                                         durationMs: durationMs)
            try attempt.insert(db)
            delivery.attempts += 1
            delivery.lastStatusCode = statusCode
            delivery.lastError = attempt.error
            if let code = statusCode, (200..<300).contains(code) {
                delivery.status = .delivered
                delivery.deliveredAt = stamp
            } else if delivery.attempts >= maxAttempts {
                delivery.status = .dead
            } else {
                delivery.nextAttemptAt = Timestamps.iso8601Milliseconds(at.addingTimeInterval(retryDelay(delivery.attempts)))
            }
            try delivery.update(db)
            return delivery
        }
    }
}
