import Foundation
import GRDB

/// A support ticket row (table `support_tickets`).
package struct SupportTicket: Sendable, Equatable, FetchableRecord, MutablePersistableRecord, Codable {
    package static let databaseTableName = "support_tickets"

    package var id: Int64?
    package var email: String
    package var name: String?
    package var subject: String
    package var description: String
    package var status: TicketStatus
    package var priority: TicketPriority
    package var assigneeID: Int64?
    package var source: String
    package var sourceID: Int64?
    /// With the install secret, derives the customer's access token (which is never stored).
    package var accessNonce: String
    package var createdAt: String
    package var updatedAt: String
    package var firstResponseAt: String?
    package var resolvedAt: String?
    package var closedAt: String?

    package enum Columns {
        static let id = Column(CodingKeys.id)
        static let status = Column(CodingKeys.status)
        static let priority = Column(CodingKeys.priority)
        static let assigneeID = Column(CodingKeys.assigneeID)
    }

    enum CodingKeys: String, CodingKey {
        case id, email, name, subject, description, status, priority, source
        case assigneeID = "assignee_id"
        case sourceID = "source_id"
        case accessNonce = "access_nonce"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case firstResponseAt = "first_response_at"
        case resolvedAt = "resolved_at"
        case closedAt = "closed_at"
    }

    package mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    package static let statuses = TicketStatus.rawValues
    package static let priorities = TicketPriority.rawValues
}

/// One message of a ticket's thread (table `ticket_messages`).
package struct TicketMessage: Sendable, Equatable, FetchableRecord, MutablePersistableRecord, Codable {
    package static let databaseTableName = "ticket_messages"

    package var id: Int64?
    package var ticketID: Int64
    /// `customer`, `agent` or `system`.
    package var author: String
    package var authorUserID: Int64?
    package var authorName: String?
    package var body: String
    /// Internal notes are for agents only: never shown to the customer, never mailed.
    package var `internal`: Bool
    package var createdAt: String

    enum CodingKeys: String, CodingKey {
        case id, author, body, `internal`
        case ticketID = "ticket_id"
        case authorUserID = "author_user_id"
        case authorName = "author_name"
        case createdAt = "created_at"
    }

    package mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    package static let maxBody = 10_000
}

/// A ticket as the admin API shows it: the row, the assignee's name and the thread's length.
package struct TicketSummary: Sendable, Encodable, Equatable, FetchableRecord {
    package let id: Int64
    package let email: String
    package let name: String?
    package let subject: String
    package let description: String
    package let status: String
    package let priority: String
    package let assigneeId: Int64?
    package let assigneeName: String?
    package let source: String
    package let sourceId: Int64?
    package let createdAt: String
    package let updatedAt: String
    package let firstResponseAt: String?
    package let resolvedAt: String?
    package let closedAt: String?
    package let messageCount: Int

    package init(row: Row) {
        id = row["id"]; email = row["email"]; name = row["name"]; subject = row["subject"]; description = row["description"]
        status = row["status"]; priority = row["priority"]; assigneeId = row["assignee_id"]; assigneeName = row["assignee_name"]
        source = row["source"]; sourceId = row["source_id"]; createdAt = row["created_at"]; updatedAt = row["updated_at"]
        firstResponseAt = row["first_response_at"]; resolvedAt = row["resolved_at"]; closedAt = row["closed_at"]
        messageCount = row["message_count"] ?? 0
    }

    static let select = """
        SELECT t.*, u.name AS assignee_name,
               (SELECT COUNT(*) FROM ticket_messages m WHERE m.ticket_id = t.id) AS message_count
        FROM support_tickets t LEFT JOIN users u ON u.id = t.assignee_id
        """
}

/// A message as the APIs show it.
package struct TicketMessageView: Sendable, Encodable, Equatable {
    package let id: Int64
    package let author: String
    package let authorName: String?
    package let body: String
    package let `internal`: Bool
    package let createdAt: String

    package init(_ message: TicketMessage) {
        id = message.id ?? 0
        author = message.author
        authorName = message.authorName
        body = message.body
        `internal` = message.internal
        createdAt = message.createdAt
    }
}

/// A validated new ticket.
package struct NewTicket: Sendable, Equatable {
    package var email: String
    package var name: String?
    package var subject: String
    package var description: String
    package var priority: TicketPriority

    package static let fieldNames: Set<String> = ["email", "name", "subject", "description", "priority"]
    package enum Limits {
        package static let subject = 200
        package static let description = 10_000
    }

    package init(json: [String: JSONValue]) throws {
        var reader = FieldReader(json, allowed: Self.fieldNames)
        let email = reader.email("email", required: true)
        name = reader.text("name", required: false, maxLength: NewContactSubmission.Limits.name)
        let subject = reader.text("subject", required: true, maxLength: Limits.subject)
        let description = reader.text("description", required: true, maxLength: Limits.description, multiline: true)
        let priority = reader.text("priority", required: false, maxLength: 20).map { TicketPriority(rawValue: $0) } ?? .medium
        if priority == nil {
            reader.fail("priority", "must be one of " + SupportTicket.priorities.joined(separator: ", "))
        }
        try reader.validate()
        self.email = email!
        self.subject = subject!
        self.description = description!
        self.priority = priority!
    }

    package init(email: String, name: String?, subject: String, description: String, priority: TicketPriority = .medium) {
        self.email = email
        self.name = name
        self.subject = subject
        self.description = description
        self.priority = priority
    }
}

/// Support tickets: creation with a magic link, the customer's view and replies, and the agents'
/// workflow (status, priority, assignment, replies, internal notes). The only place with their SQL.
package struct TicketStore: Sendable {
    let database: AppDatabase
    let mailer: InboxMailer?
    let secret: Data
    /// Queues `ticket.*` events in each change's transaction; nil when webhooks are off.
    package var webhooks: WebhookOutbox?

    package init(database: AppDatabase, mailer: InboxMailer?, secret: Data) {
        self.database = database
        self.mailer = mailer
        self.secret = secret
    }

    /// The customer's access token: HMAC of id and nonce, base64url.
    package func accessToken(for ticket: SupportTicket) -> String {
        Secrets.base64URL(ContentDigest.hmacSHA256("ticket:\(ticket.id ?? 0):\(ticket.accessNonce)", key: secret))
    }

    /// The access token of ticket `ticketID`, derived again (a replayed creation response needs
    /// it, and it is never stored); nil when there is no such ticket.
    package func accessToken(ticketID: Int64) async throws -> String? {
        let ticket = try await database.read { db in try SupportTicket.fetchOne(db, key: ticketID) }
        return ticket.map(accessToken(for:))
    }

    package struct Created: Sendable {
        package let ticket: SupportTicket
        package let accessToken: String
    }

    /// Opens a ticket and queues the customer's mail with the magic link, in one transaction.
    package func create(_ input: NewTicket, source: String = "form", sourceID: Int64? = nil, now: Date,
                       also: (@Sendable (Database, Created) throws -> Void)? = nil) async throws -> Created {
        try await database.writer.write { db in try self.create(input, source: source, sourceID: sourceID, now: now, in: db, also: also) }
    }

    /// The same inside a caller's transaction (a chat handed over to the inbox, a converted contact).
    package func create(_ input: NewTicket, source: String, sourceID: Int64?, now: Date, in db: Database,
                       also: (@Sendable (Database, Created) throws -> Void)? = nil) throws -> Created {
        let stamp = Timestamps.iso8601Milliseconds(now)
        var ticket = SupportTicket(
            id: nil, email: input.email, name: input.name, subject: input.subject, description: input.description, status: .open,
            priority: input.priority, assigneeID: nil, source: source, sourceID: sourceID, accessNonce: Secrets.urlSafeToken(byteCount: 16),
            createdAt: stamp, updatedAt: stamp, firstResponseAt: nil, resolvedAt: nil, closedAt: nil)
        try ticket.insert(db)
        let created = Created(ticket: ticket, accessToken: accessToken(for: ticket))
        try mailer?.ticketCreated(ticket, token: created.accessToken, in: db)
        try webhooks?.emit("ticket.created", Self.event(ticket), in: db)
        try also?(db, created)
        return created
    }

    /// The ticket when `token` opens it; the same not-found for a wrong token as for a missing id.
    package func authorize(id: Int64, token: String) async throws -> SupportTicket {
        let ticket = try await database.read { db in try SupportTicket.fetchOne(db, key: id) }
        guard let ticket, Secrets.constantTimeEquals(Array(accessToken(for: ticket).utf8), Array(token.utf8)) else {
            throw FrontdeskError.notFound("The ticket")
        }
        return ticket
    }

    /// The thread; internal notes only when `includeInternal`.
    package func messages(ticketID: Int64, includeInternal: Bool) async throws -> [TicketMessage] {
        try await database.read { db in
            try TicketMessage.fetchAll(db, sql: "SELECT * FROM ticket_messages WHERE ticket_id = ? \(includeInternal ? "" : "AND internal = 0") ORDER BY id",
                                       arguments: [ticketID])
        }
    }

    package static func validBody(_ json: [String: JSONValue], allowInternal: Bool) throws -> (body: String, internal: Bool) {
        var reader = FieldReader(json, allowed: allowInternal ? ["body", "internal"] : ["body"])
        let body = reader.text("body", required: true, maxLength: TicketMessage.maxBody, multiline: true)
        var isInternal = false
        if allowInternal, let raw = json["internal"], raw != .null {
            if case .bool(let b) = raw { isInternal = b } else { reader.fail("internal", "must be true or false, not \(raw.typeName)") }
        }
        try reader.validate()
        return (body!, isInternal)
    }

    /// The customer answers through the magic link; a resolved or closed ticket opens again.
    package func customerReply(ticketID: Int64, body: String, now: Date, also: (@Sendable (Database, TicketMessage) throws -> Void)? = nil) async throws -> TicketMessage {
        let stamp = Timestamps.iso8601Milliseconds(now)
        return try await database.writer.write { db in
            guard var ticket = try SupportTicket.fetchOne(db, key: ticketID) else { throw FrontdeskError.notFound("The ticket") }
            var message = TicketMessage(id: nil, ticketID: ticketID, author: "customer", authorUserID: nil, authorName: ticket.name,
                                        body: body, internal: false, createdAt: stamp)
            try message.insert(db)
            if ticket.status == .resolved || ticket.status == .closed {
                ticket.status = .open
                ticket.resolvedAt = nil
                ticket.closedAt = nil
            }
            ticket.updatedAt = stamp
            try ticket.update(db)
            try self.webhooks?.emit("ticket.message.created", Self.event(message, ticket: ticket), in: db)
            try also?(db, message)
            return message
        }
    }

    // MARK: - Agents

    package func summary(id: Int64) async throws -> TicketSummary {
        let found = try await database.read { db in
            try TicketSummary.fetchOne(db, sql: TicketSummary.select + " WHERE t.id = ?", arguments: [id])
        }
        guard let found else { throw FrontdeskError.notFound("The ticket") }
        return found
    }

    package static let sortable = ["updatedAt", "createdAt", "priority", "status", "subject"]
    package static let filters: [String: Set<String>?] = [
        "status": Set(SupportTicket.statuses), "priority": Set(SupportTicket.priorities), "assignee": nil, "source": ["form", "contact", "chat"],
    ]
    static let sortColumns = [
        "updatedAt": "t.updated_at", "createdAt": "t.created_at", "status": "t.status", "subject": "t.subject",
        "priority": "CASE t.priority WHEN 'urgent' THEN 3 WHEN 'high' THEN 2 WHEN 'medium' THEN 1 ELSE 0 END",
    ]

    /// `assignee` is a user id, `me` (resolved by the caller to an id) or `none`.
    package func list(_ query: ListQuery) async throws -> Page<TicketSummary> {
        var filter = SQLFilter()
        if let status = query.filters["status"] { filter.add("t.status = ?", status) }
        if let priority = query.filters["priority"] { filter.add("t.priority = ?", priority) }
        if let source = query.filters["source"] { filter.add("t.source = ?", source) }
        if let assignee = query.filters["assignee"] {
            if assignee == "none" { filter.add("t.assignee_id IS NULL") } else if let id = ListQuery.recordID(assignee) { filter.add("t.assignee_id = ?", id) } else {
                throw FrontdeskError.validation(["assignee": "must be a user id, \"me\" or \"none\""])
            }
        }
        filter.search(query.likePattern, columns: ["t.email", "t.name", "t.subject", "t.description"])
        return try await database.page(TicketSummary.self, select: TicketSummary.select, from: "support_tickets t", filter: filter,
                                       order: query.order(Self.sortColumns, default: "t.updated_at", id: "t.id"), query: query)
    }

    /// What an agent may change. `assigneeID` is `.some(nil)` to unassign.
    package struct Change: Sendable {
        package var status: TicketStatus?
        package var priority: TicketPriority?
        package var assigneeID: Int64??

        package init(json: [String: JSONValue]) throws {
            var reader = FieldReader(json, allowed: ["status", "priority", "assigneeId"])
            let status = reader.text("status", required: false, maxLength: 20)
            self.status = status.flatMap(TicketStatus.init(rawValue:))
            if status != nil && self.status == nil { reader.fail("status", "must be one of " + SupportTicket.statuses.joined(separator: ", ")) }
            let priority = reader.text("priority", required: false, maxLength: 20)
            self.priority = priority.flatMap(TicketPriority.init(rawValue:))
            if priority != nil && self.priority == nil { reader.fail("priority", "must be one of " + SupportTicket.priorities.joined(separator: ", ")) }
            switch json["assigneeId"] {
            case nil: assigneeID = nil
            case .null?: assigneeID = .some(nil)
            case .number(let n)? where n == n.rounded() && n >= 1 && n < 1e15: assigneeID = .some(Int64(n))
            case let other?: reader.fail("assigneeId", "must be a user id or null, not \(other.typeName)")
            }
            try reader.validate()
        }
    }

    package func update(id: Int64, _ change: Change, now: Date) async throws -> TicketSummary {
        let stamp = Timestamps.iso8601Milliseconds(now)
        let webhooks = self.webhooks
        try await database.writer.write { db in
            guard var ticket = try SupportTicket.fetchOne(db, key: id) else { throw FrontdeskError.notFound("The ticket") }
            let before = ticket
            if let status = change.status, status != ticket.status {
                ticket.status = status
                switch status {
                case .resolved: ticket.resolvedAt = stamp; ticket.closedAt = nil
                case .closed: ticket.closedAt = stamp; if ticket.resolvedAt == nil { ticket.resolvedAt = stamp }
                default: ticket.resolvedAt = nil; ticket.closedAt = nil
                }
            }
            if let priority = change.priority { ticket.priority = priority }
            if let assignee = change.assigneeID {
                if let assignee {
                    let active = try Bool.fetchOne(db, sql: "SELECT disabled = 0 FROM users WHERE id = ?", arguments: [assignee]) ?? false
                    guard active else { throw FrontdeskError.validation(["assigneeId": "must be the id of an active user"]) }
                }
                ticket.assigneeID = assignee
            }
            ticket.updatedAt = stamp
            try ticket.update(db)
            if ticket.status != before.status || ticket.priority != before.priority || ticket.assigneeID != before.assigneeID {
                try webhooks?.emit("ticket.updated", Self.event(ticket), in: db)
            }
        }
        return try await summary(id: id)
    }

    /// An agent's reply (mailed to the customer with the magic link) or internal note (not mailed).
    /// The first reply sets `firstResponseAt` and moves an open ticket to in-progress.
    package func agentMessage(ticketID: Int64, agent: User, body: String, internal isInternal: Bool, now: Date) async throws -> TicketMessage {
        let stamp = Timestamps.iso8601Milliseconds(now)
        let mailer = self.mailer
        let webhooks = self.webhooks
        return try await database.writer.write { db in
            guard var ticket = try SupportTicket.fetchOne(db, key: ticketID) else { throw FrontdeskError.notFound("The ticket") }
            let agentName = agent.name.isEmpty ? "Support" : agent.name
            var message = TicketMessage(id: nil, ticketID: ticketID, author: "agent", authorUserID: agent.id, authorName: agentName,
                                        body: body, internal: isInternal, createdAt: stamp)
            try message.insert(db)
            if !isInternal {
                if ticket.firstResponseAt == nil { ticket.firstResponseAt = stamp }
                if ticket.status == .open { ticket.status = .inProgress }
                try mailer?.ticketReply(ticket, token: self.accessToken(for: ticket), agentName: agentName, reply: body,
                                        messageID: message.id ?? 0, in: db)
            }
            ticket.updatedAt = stamp
            try ticket.update(db)
            if !isInternal { try webhooks?.emit("ticket.message.created", Self.event(message, ticket: ticket), in: db) }
            return message
        }
    }

    /// A ticket as webhook events carry it (no access token).
    static func event(_ ticket: SupportTicket) -> [String: JSONValue] {
        ["id": .number(Double(ticket.id ?? 0)), "subject": .string(ticket.subject), "email": .string(ticket.email),
         "name": ticket.name.map(JSONValue.string) ?? .null, "status": .string(ticket.status.rawValue), "priority": .string(ticket.priority.rawValue),
         "assigneeId": ticket.assigneeID.map { .number(Double($0)) } ?? .null, "source": .string(ticket.source),
         "createdAt": .string(ticket.createdAt), "updatedAt": .string(ticket.updatedAt)]
    }

    /// A ticket message as webhook events carry it; internal notes are never sent.
    static func event(_ message: TicketMessage, ticket: SupportTicket) -> [String: JSONValue] {
        ["id": .number(Double(message.id ?? 0)), "ticketId": .number(Double(ticket.id ?? 0)), "author": .string(message.author),
         "authorName": message.authorName.map(JSONValue.string) ?? .null, "body": .string(message.body), "createdAt": .string(message.createdAt)]
    }

    /// Up to `limit` tickets after `after` by id, each with its whole thread (internal notes
    /// too): `frontdesk export` pages through every ticket with this.
    package func exportBatch(after: Int64, limit: Int = 200) async throws -> [(ticket: SupportTicket, messages: [TicketMessage])] {
        try await database.read { db in
            let tickets = try SupportTicket.filter(sql: "id > ?", arguments: [after]).order(Column("id")).limit(limit).fetchAll(db)
            return try tickets.map { ticket in
                (ticket, try TicketMessage.filter(sql: "ticket_id = ?", arguments: [ticket.id ?? 0]).order(Column("id")).fetchAll(db))
            }
        }
    }

    package func delete(id: Int64) async throws {
        let deleted = try await database.writer.write { db in try SupportTicket.deleteOne(db, key: id) }
        if !deleted { throw FrontdeskError.notFound("The ticket") }
    }

    /// Turns a contact submission into a ticket (source `contact`) and marks it processed.
    package func convert(contactID: Int64, now: Date) async throws -> TicketSummary {
        let stamp = Timestamps.iso8601Milliseconds(now)
        let id = try await database.writer.write { db -> Int64 in
            guard var contact = try ContactSubmission.fetchOne(db, key: contactID) else { throw FrontdeskError.notFound("The submission") }
            if let existing = try Int64.fetchOne(db, sql: "SELECT id FROM support_tickets WHERE source = 'contact' AND source_id = ?", arguments: [contactID]) {
                return existing
            }
            let subject = contact.subject.flatMap { $0.isEmpty ? nil : $0 } ?? "Message from \(contact.name)"
            let created = try self.create(NewTicket(email: contact.email, name: contact.name, subject: String(subject.prefix(NewTicket.Limits.subject)),
                                                    description: contact.message), source: "contact", sourceID: contactID, now: now, in: db)
            contact.status = .processed
            contact.processedAt = stamp
            try contact.update(db)
            return created.ticket.id ?? 0
        }
        return try await summary(id: id)
    }
}
