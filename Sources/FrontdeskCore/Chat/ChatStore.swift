import Foundation
import GRDB

/// Who acts in the chat: a visitor (anonymous or identified) or an agent.
package enum ChatActor: Sendable, Equatable {
    case visitor(ChatVisitor)
    case agent(ChatAgent)

    /// The idempotency namespace of the actor's `clientMessageId`s.
    var senderKey: String {
        switch self {
        case .visitor(let visitor): return "v:\(visitor.id)"
        case .agent(let agent): return "a:\(agent.id)"
        }
    }

    var sender: ChatSender {
        switch self {
        case .visitor: return .visitor
        case .agent: return .agent
        }
    }
}

/// A visitor as the chat knows them: the widget's id and, once verified, the site's user.
package struct ChatVisitor: Sendable, Equatable {
    package var id: String
    package var userId: String?
    package var name: String?
    package var email: String?
    package var identified: Bool
    package var pageUrl: String?

    package init(id: String, userId: String? = nil, name: String? = nil, email: String? = nil, identified: Bool = false, pageUrl: String? = nil) {
        self.id = id
        self.userId = userId
        self.name = name
        self.email = email
        self.identified = identified
        self.pageUrl = pageUrl
    }
}

/// A message to store: validated by `ChatStore.send`.
package struct ChatSendRequest: Sendable {
    package var actor: ChatActor
    package var conversationId: Int64?
    package var clientMessageId: String
    package var text: String
    /// Whether an agent can answer now; decides `offline` for what the visitor starts.
    package var availability: ChatAvailability
    /// Picks the agent for a conversation that needs one (round robin); called inside the write.
    package var chooseAssignee: @Sendable () -> ChatAgent?

    package init(actor: ChatActor, conversationId: Int64?, clientMessageId: String, text: String,
                availability: ChatAvailability, chooseAssignee: @escaping @Sendable () -> ChatAgent? = { nil }) {
        self.actor = actor
        self.conversationId = conversationId
        self.clientMessageId = clientMessageId
        self.text = text
        self.availability = availability
        self.chooseAssignee = chooseAssignee
    }
}

/// What a committed send changed.
package struct ChatSendResult: Sendable {
    package var message: ChatMessage
    package var conversation: ChatConversation
    /// The `clientMessageId` was stored before: nothing new was written.
    package var duplicate: Bool
    /// The message started the conversation.
    package var created: Bool
    /// The conversation got an assignee with this message.
    package var assigned: Bool
    /// System messages written after the message (assignment, the offline notice), in id order.
    package var systemMessages: [ChatMessage]
}

/// What a lifecycle change (take, transfer, close) committed.
package struct ChatLifecycleResult: Sendable {
    package var conversation: ChatConversation
    package var systemMessage: ChatMessage?
    /// False when the conversation was already in the asked-for state (nothing written).
    package var changed: Bool

    package init(conversation: ChatConversation, systemMessage: ChatMessage?, changed: Bool) {
        self.conversation = conversation
        self.systemMessage = systemMessage
        self.changed = changed
    }
}

/// What a receipt changed: the messages that moved to `status`.
package struct ChatReceiptResult: Sendable {
    package var conversation: ChatConversation
    package var status: ChatMessageStatus
    /// The side whose messages changed.
    package var sender: ChatSender
    package var messageIds: [Int64]
    package var upTo: Int64
    package var at: String
}

/// Filters of the admin conversation list.
package struct ChatConversationFilter: Sendable, Equatable {
    package var status: ChatConversationStatus?
    /// An agent id; `0` means unassigned.
    package var assigneeId: Int64?
    package var visitorId: String?
    package var userId: String?
    /// Searches visitor name, email, user id and message text.
    package var query: String?
    /// `updatedAt`, `-updatedAt` (default), `createdAt`, `-createdAt`.
    package var sort: String

    package init(status: ChatConversationStatus? = nil, assigneeId: Int64? = nil, visitorId: String? = nil, userId: String? = nil,
                query: String? = nil, sort: String = "-updatedAt") {
        self.status = status
        self.assigneeId = assigneeId
        self.visitorId = visitorId
        self.userId = userId
        self.query = query
        self.sort = sort
    }
}

/// Every read and write of the chat tables. Each write is one method running one transaction
/// through the group-commit writer, so what it returns is committed.
package struct ChatStore: Sendable {
    let database: AppDatabase
    let now: @Sendable () -> Date
    /// Queues `chat.*` events in each change's transaction; nil when webhooks are off.
    package var webhooks: WebhookOutbox?

    package init(database: AppDatabase, now: @escaping @Sendable () -> Date = { Date() }, webhooks: WebhookOutbox? = nil) {
        self.database = database
        self.now = now
        self.webhooks = webhooks
    }

    /// The pattern of a `clientMessageId`.
    static let clientIdAllowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-".utf8)

    /// Checks `chat.send` fields; every problem at once, as `validation_failed`.
    package static func validateSend(clientMessageId: String?, text: String?, maxTextBytes: Int) throws -> (String, String) {
        var problems: [String: String] = [:]
        var id = ""
        if let clientMessageId, !clientMessageId.isEmpty {
            if clientMessageId.utf8.count > 64 || !clientMessageId.utf8.allSatisfy({ clientIdAllowed.contains($0) }) {
                problems["clientMessageId"] = "must be 1-64 characters of A-Z, a-z, 0-9, _ . : -"
            }
            id = clientMessageId
        } else {
            problems["clientMessageId"] = "is required"
        }
        let trimmed = (text ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if text == nil {
            problems["text"] = "is required"
        } else if trimmed.isEmpty {
            problems["text"] = "must not be empty"
        } else if trimmed.utf8.count > maxTextBytes {
            problems["text"] = "must be at most \(maxTextBytes) bytes"
        } else if trimmed.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\n" && $0 != "\r" && $0 != "\t") || $0.value == 0x7F }) {
            problems["text"] = "must not contain control characters"
        }
        if !problems.isEmpty { throw FrontdeskError.validation(problems) }
        return (id, trimmed)
    }

    // MARK: - Reads

    package func conversation(id: Int64) async throws -> ChatConversation? {
        try await database.read { db in try Self.conversation(db, id: id) }
    }

    /// The visitor's conversation that is not closed, if any (the newest).
    package func currentConversation(visitorId: String) async throws -> ChatConversation? {
        try await database.read { db in try Self.current(db, visitorId: visitorId) }
    }

    static func current(_ db: Database, visitorId: String) throws -> ChatConversation? {
        try ChatConversation.fetchOne(db, SQLRequest(sql: "SELECT * FROM chat_conversations WHERE visitor_id = ? AND status != 'closed' ORDER BY id DESC LIMIT 1",
                                                     arguments: [visitorId], cached: true))
    }

    // The hot paths (send, receipt) run thousands of times a second: their statements are
    // compiled once and cached per connection rather than built from the query interface.

    static func conversation(_ db: Database, id: Int64) throws -> ChatConversation? {
        try ChatConversation.fetchOne(db, SQLRequest(sql: "SELECT * FROM chat_conversations WHERE id = ?", arguments: [id], cached: true))
    }

    /// Writes every column of a conversation back.
    static func save(_ db: Database, _ c: ChatConversation) throws {
        try db.cachedStatement(sql: """
            UPDATE chat_conversations SET visitor_id = ?, user_id = ?, visitor_name = ?, visitor_email = ?, identified = ?, status = ?,
                assignee_id = ?, assignee_name = ?, offline = ?, page_url = ?, ticket_id = ?, closed_by = ?, updated_at = ?, assigned_at = ?,
                closed_at = ?, last_message_at = ?, last_message_id = ?, visitor_delivered_up_to = ?, visitor_read_up_to = ?,
                agent_delivered_up_to = ?, agent_read_up_to = ?
            WHERE id = ?
            """).execute(arguments: [c.visitorId, c.userId, c.visitorName, c.visitorEmail, c.identified, c.status.rawValue,
                                     c.assigneeId, c.assigneeName, c.offline, c.pageUrl, c.ticketId, c.closedBy?.rawValue, c.updatedAt, c.assignedAt,
                                     c.closedAt, c.lastMessageAt, c.lastMessageId, c.visitorDeliveredUpTo, c.visitorReadUpTo,
                                     c.agentDeliveredUpTo, c.agentReadUpTo, c.id])
    }

    /// Every conversation that is not closed, newest first.
    package func activeConversations(limit: Int = 200) async throws -> [ChatConversation] {
        try await database.read { db in
            try ChatConversation.filter(ChatConversation.Columns.status != "closed")
                .order(ChatConversation.Columns.updatedAt.desc, ChatConversation.Columns.id.desc).limit(limit).fetchAll(db)
        }
    }

    /// Messages of a conversation with ids above `after`, oldest first.
    package func messages(conversationId: Int64, after: Int64 = 0, limit: Int = 10_000) async throws -> [ChatMessage] {
        try await database.read { db in
            try ChatMessage.filter(ChatMessage.Columns.conversationId == conversationId && ChatMessage.Columns.id > after)
                .order(ChatMessage.Columns.id).limit(limit).fetchAll(db)
        }
    }

    /// One page of conversations for the admin list, with the total that match.
    package func list(_ filter: ChatConversationFilter, page: Int, perPage: Int) async throws -> (items: [ChatConversation], total: Int) {
        try await database.read { db in
            var request = ChatConversation.all()
            if let status = filter.status { request = request.filter(ChatConversation.Columns.status == status.rawValue) }
            if let assignee = filter.assigneeId {
                request = assignee == 0 ? request.filter(ChatConversation.Columns.assigneeId == nil || ChatConversation.Columns.status == "open")
                                        : request.filter(ChatConversation.Columns.assigneeId == assignee && ChatConversation.Columns.status != "open")
            }
            if let visitorId = filter.visitorId { request = request.filter(ChatConversation.Columns.visitorId == visitorId) }
            if let userId = filter.userId { request = request.filter(ChatConversation.Columns.userId == userId) }
            if let query = filter.query, !query.isEmpty {
                let pattern = ListQuery.likePattern(containing: query)
                request = request.filter(sql: """
                    (visitor_name LIKE ? ESCAPE '\\' OR visitor_email LIKE ? ESCAPE '\\' OR user_id LIKE ? ESCAPE '\\'
                     OR id IN (SELECT conversation_id FROM chat_messages WHERE text LIKE ? ESCAPE '\\'))
                    """, arguments: [pattern, pattern, pattern, pattern])
            }
            let total = try request.fetchCount(db)
            switch filter.sort {
            case "updatedAt": request = request.order(ChatConversation.Columns.updatedAt.asc, ChatConversation.Columns.id.asc)
            case "createdAt": request = request.order(ChatConversation.Columns.id.asc)
            case "-createdAt": request = request.order(ChatConversation.Columns.id.desc)
            default: request = request.order(ChatConversation.Columns.updatedAt.desc, ChatConversation.Columns.id.desc)
            }
            let items = try request.limit(perPage, offset: max(0, (page - 1) * perPage)).fetchAll(db)
            return (items, total)
        }
    }

    // MARK: - Writes

    /// Stores a message (idempotent by the sender's `clientMessageId`), starting or assigning the
    /// visitor's conversation when needed, and adds the system messages that go with it.
    package func send(_ request: ChatSendRequest) async throws -> ChatSendResult {
        let stamp = Timestamps.iso8601Milliseconds(now())
        return try await database.writer.write { db in
            let senderKey = request.actor.senderKey
            if let existing = try ChatMessage.fetchOne(db, SQLRequest(sql: "SELECT * FROM chat_messages WHERE sender_key = ? AND client_message_id = ?",
                                                                     arguments: [senderKey, request.clientMessageId], cached: true)) {
                let conversation = try Self.conversation(db, id: existing.conversationId)!
                return ChatSendResult(message: existing, conversation: conversation, duplicate: true, created: false, assigned: false, systemMessages: [])
            }
            var conversation: ChatConversation
            var created = false
            switch request.actor {
            case .visitor(let visitor):
                if let id = request.conversationId {
                    guard let found = try Self.conversation(db, id: id), found.visitorId == visitor.id else {
                        throw FrontdeskError.notFound("Conversation \(id)")
                    }
                    conversation = found
                } else if let found = try Self.current(db, visitorId: visitor.id) {
                    conversation = found
                } else {
                    conversation = ChatConversation(
                        id: 0, visitorId: visitor.id, userId: visitor.userId, visitorName: visitor.name, visitorEmail: visitor.email,
                        identified: visitor.identified, status: .open, assigneeId: nil, assigneeName: nil, offline: false,
                        pageUrl: visitor.pageUrl, ticketId: nil, closedBy: nil, createdAt: stamp, updatedAt: stamp, assignedAt: nil,
                        closedAt: nil, lastMessageAt: nil, lastMessageId: nil, visitorDeliveredUpTo: 0, visitorReadUpTo: 0,
                        agentDeliveredUpTo: 0, agentReadUpTo: 0)
                    try db.cachedStatement(sql: """
                        INSERT INTO chat_conversations(visitor_id, user_id, visitor_name, visitor_email, identified, status, page_url, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?)
                        """).execute(arguments: [visitor.id, visitor.userId, visitor.name, visitor.email, visitor.identified, visitor.pageUrl, stamp, stamp])
                    conversation.id = db.lastInsertedRowID
                    created = true
                }
            case .agent:
                guard let id = request.conversationId, let found = try Self.conversation(db, id: id) else {
                    throw FrontdeskError.notFound("Conversation \(request.conversationId ?? 0)")
                }
                conversation = found
            }
            guard conversation.status != .closed else {
                throw FrontdeskError(.conflict, code: "conversation_closed", message: "Conversation \(conversation.id) is closed.")
            }
            var message = ChatMessage(id: 0, conversationId: conversation.id, sender: request.actor.sender, agentId: nil, senderName: nil,
                                      senderKey: senderKey, clientMessageId: request.clientMessageId, text: request.text,
                                      systemEvent: nil, createdAt: stamp, deliveredAt: nil, readAt: nil)
            switch request.actor {
            case .visitor(let visitor): message.senderName = visitor.name
            case .agent(let agent):
                message.agentId = agent.id
                message.senderName = agent.name
            }
            try Self.insertMessage(db, &message)
            var systemMessages: [ChatMessage] = []
            var assigned = false
            if case .visitor = request.actor, conversation.status == .open {
                if request.availability.available, let agent = request.chooseAssignee() {
                    conversation.status = .assigned
                    conversation.assigneeId = agent.id
                    conversation.assigneeName = agent.name
                    conversation.assignedAt = stamp
                    assigned = true
                    systemMessages.append(try Self.insertSystem(db, conversationId: conversation.id, event: "conversation.assigned",
                                                                text: "\(agent.name) joined the conversation.", at: stamp))
                } else if !conversation.offline && !request.availability.available {
                    conversation.offline = true
                    systemMessages.append(try Self.insertSystem(db, conversationId: conversation.id, event: "offline",
                                                                text: Self.offlineText(reason: request.availability.reason), at: stamp))
                }
            }
            conversation.lastMessageAt = stamp
            conversation.lastMessageId = systemMessages.last?.id ?? message.id
            conversation.updatedAt = stamp
            try Self.save(db, conversation)
            if let webhooks {
                if created { try webhooks.emit("chat.conversation.started", Self.event(conversation), in: db) }
                try webhooks.emit("chat.message.created", Self.event(message), in: db)
            }
            return ChatSendResult(message: message, conversation: conversation, duplicate: false, created: created, assigned: assigned,
                                  systemMessages: systemMessages)
        }
    }

    /// Inserts a message and sets its id (the record's own insert would store id 0).
    static func insertMessage(_ db: Database, _ message: inout ChatMessage) throws {
        try db.cachedStatement(sql: """
            INSERT INTO chat_messages(conversation_id, sender, agent_id, sender_name, sender_key, client_message_id, text, system_event,
                                      created_at, delivered_at, read_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [message.conversationId, message.sender.rawValue, message.agentId, message.senderName, message.senderKey,
                             message.clientMessageId, message.text, message.systemEvent, message.createdAt, message.deliveredAt, message.readAt])
        message.id = db.lastInsertedRowID
    }

    static func offlineText(reason: String?) -> String {
        reason == "outside_hours"
            ? "We are outside our opening hours right now. Leave your email and we will answer by mail."
            : "No one is available right now. Leave your email and we will answer by mail."
    }

    static func insertSystem(_ db: Database, conversationId: Int64, event: String, text: String, at stamp: String) throws -> ChatMessage {
        var message = ChatMessage(id: 0, conversationId: conversationId, sender: .system, agentId: nil, senderName: nil, senderKey: nil,
                                  clientMessageId: nil, text: text, systemEvent: event, createdAt: stamp, deliveredAt: nil, readAt: nil)
        try Self.insertMessage(db, &message)
        return message
    }

    /// Records a cumulative receipt: every message of the other side up to `upTo` becomes
    /// `status` (read implies delivered). Returns the messages that changed.
    package func receipt(conversationId: Int64, by actor: ChatActor, upTo: Int64, status: ChatMessageStatus) async throws -> ChatReceiptResult {
        let stamp = Timestamps.iso8601Milliseconds(now())
        return try await database.writer.write { db in
            guard var conversation = try Self.conversation(db, id: conversationId) else {
                throw FrontdeskError.notFound("Conversation \(conversationId)")
            }
            let other: ChatSender
            switch actor {
            case .visitor(let visitor):
                guard conversation.visitorId == visitor.id else { throw FrontdeskError.notFound("Conversation \(conversationId)") }
                other = .agent
            case .agent:
                other = .visitor
            }
            let upTo = min(upTo, conversation.lastMessageId ?? 0)
            var changed: [Int64] = []
            let column = status == .read ? "read_at" : "delivered_at"
            changed = try Int64.fetchAll(db.cachedStatement(sql: """
                SELECT id FROM chat_messages WHERE conversation_id = ? AND sender = ? AND id <= ? AND \(column) IS NULL ORDER BY id
                """), arguments: [conversationId, other.rawValue, upTo])
            if !changed.isEmpty {
                if status == .read {
                    try db.cachedStatement(sql: """
                        UPDATE chat_messages SET read_at = ?, delivered_at = COALESCE(delivered_at, ?)
                        WHERE conversation_id = ? AND sender = ? AND id <= ? AND read_at IS NULL
                        """).execute(arguments: [stamp, stamp, conversationId, other.rawValue, upTo])
                } else {
                    try db.cachedStatement(sql: """
                        UPDATE chat_messages SET delivered_at = ? WHERE conversation_id = ? AND sender = ? AND id <= ? AND delivered_at IS NULL
                        """).execute(arguments: [stamp, conversationId, other.rawValue, upTo])
                }
            }
            var touched = false
            func raise(_ value: inout Int64) { if upTo > value { value = upTo; touched = true } }
            if other == .agent {
                raise(&conversation.visitorDeliveredUpTo)
                if status == .read { raise(&conversation.visitorReadUpTo) }
            } else {
                raise(&conversation.agentDeliveredUpTo)
                if status == .read { raise(&conversation.agentReadUpTo) }
            }
            if touched { try Self.save(db, conversation) }
            return ChatReceiptResult(conversation: conversation, status: status, sender: other, messageIds: changed, upTo: upTo, at: stamp)
        }
    }

    /// How an assignment came about; decides the system message.
    package enum AssignmentKind: Sendable {
        case take
        case transfer(from: ChatAgent)
        case reassign(by: ChatAgent)
    }

    /// Assigns a conversation that is not closed to `agent`. With `rule`, the move is checked
    /// against the row inside the transaction (`ChatAssignmentRule`).
    package func assign(conversationId: Int64, to agent: ChatAgent, kind: AssignmentKind,
                       rule: ChatAssignmentRule? = nil, move: ChatAssignmentRule.Move? = nil) async throws -> ChatLifecycleResult {
        let stamp = Timestamps.iso8601Milliseconds(now())
        return try await database.writer.write { db in
            guard var conversation = try Self.conversation(db, id: conversationId) else {
                throw FrontdeskError.notFound("Conversation \(conversationId)")
            }
            if let rule { try rule.check(move ?? .transfer(to: agent.id), on: conversation) }
            guard conversation.status != .closed else {
                throw FrontdeskError(.conflict, code: "conversation_closed", message: "Conversation \(conversationId) is closed.")
            }
            if conversation.status == .assigned && conversation.assigneeId == agent.id {
                return ChatLifecycleResult(conversation: conversation, systemMessage: nil, changed: false)
            }
            let previous = conversation.status == .assigned ? conversation.assigneeName : nil
            let text: String
            let event: String
            switch kind {
            case .take:
                text = "\(agent.name) joined the conversation."
                event = "conversation.assigned"
            case .transfer(let from):
                text = "\(from.name) transferred the conversation to \(agent.name)."
                event = "conversation.transferred"
            case .reassign(let by):
                text = by.id == agent.id ? "\(agent.name) joined the conversation."
                    : "\(by.name) assigned the conversation to \(agent.name)" + (previous.map { " (from \($0))" } ?? "") + "."
                event = previous == nil ? "conversation.assigned" : "conversation.transferred"
            }
            conversation.status = .assigned
            conversation.assigneeId = agent.id
            conversation.assigneeName = agent.name
            conversation.assignedAt = stamp
            let system = try Self.insertSystem(db, conversationId: conversationId, event: event, text: text, at: stamp)
            conversation.lastMessageId = system.id
            conversation.updatedAt = stamp
            try Self.save(db, conversation)
            return ChatLifecycleResult(conversation: conversation, systemMessage: system, changed: true)
        }
    }

    /// Puts an assigned conversation back in the queue (checked against `rule` when given).
    package func unassign(conversationId: Int64, by agent: ChatAgent, rule: ChatAssignmentRule? = nil) async throws -> ChatLifecycleResult {
        let stamp = Timestamps.iso8601Milliseconds(now())
        return try await database.writer.write { db in
            guard var conversation = try Self.conversation(db, id: conversationId) else {
                throw FrontdeskError.notFound("Conversation \(conversationId)")
            }
            if let rule, conversation.status == .assigned { try rule.check(.unassign, on: conversation) }
            guard conversation.status == .assigned else {
                if conversation.status == .closed {
                    throw FrontdeskError(.conflict, code: "conversation_closed", message: "Conversation \(conversationId) is closed.")
                }
                return ChatLifecycleResult(conversation: conversation, systemMessage: nil, changed: false)
            }
            conversation.status = .open
            conversation.assigneeId = nil
            conversation.assigneeName = nil
            let system = try Self.insertSystem(db, conversationId: conversationId, event: "conversation.unassigned",
                                               text: "\(agent.name) put the conversation back in the queue.", at: stamp)
            conversation.lastMessageId = system.id
            conversation.updatedAt = stamp
            try Self.save(db, conversation)
            return ChatLifecycleResult(conversation: conversation, systemMessage: system, changed: true)
        }
    }

    /// Closes a conversation (idempotent: closing a closed one changes nothing).
    package func close(conversationId: Int64, by: ChatClosedBy, agent: ChatAgent? = nil, visitorId: String? = nil) async throws -> ChatLifecycleResult {
        let stamp = Timestamps.iso8601Milliseconds(now())
        return try await database.writer.write { db in
            guard let conversation = try Self.conversation(db, id: conversationId),
                  visitorId == nil || conversation.visitorId == visitorId else {
                throw FrontdeskError.notFound("Conversation \(conversationId)")
            }
            return try Self.close(db, conversation, by: by, agent: agent, at: stamp, ticketId: nil, webhooks: webhooks)
        }
    }

    static func close(_ db: Database, _ conversation: ChatConversation, by: ChatClosedBy, agent: ChatAgent?, at stamp: String,
                      ticketId: Int64?, webhooks: WebhookOutbox?) throws -> ChatLifecycleResult {
        var conversation = conversation
        guard conversation.status != .closed else {
            return ChatLifecycleResult(conversation: conversation, systemMessage: nil, changed: false)
        }
        let text: String
        switch by {
        case .agent: text = "\(agent?.name ?? "An agent") closed the conversation."
        case .visitor: text = "The visitor closed the conversation."
        case .inactivity: text = "The conversation was closed after a period of inactivity."
        case .ticket: text = "The conversation became support ticket #\(ticketId ?? 0); the answer will come by mail."
        }
        conversation.status = .closed
        conversation.closedBy = by
        conversation.closedAt = stamp
        conversation.ticketId = ticketId ?? conversation.ticketId
        let system = try insertSystem(db, conversationId: conversation.id, event: by == .ticket ? "offline.ticket" : "conversation.closed",
                                      text: text, at: stamp)
        conversation.lastMessageId = system.id
        conversation.updatedAt = stamp
        try Self.save(db, conversation)
        try webhooks?.emit("chat.conversation.closed", event(conversation), in: db)
        return ChatLifecycleResult(conversation: conversation, systemMessage: system, changed: true)
    }

    /// A conversation as webhook events carry it.
    static func event(_ c: ChatConversation) -> [String: JSONValue] {
        ["id": .number(Double(c.id)), "visitorId": .string(c.visitorId), "userId": c.userId.map(JSONValue.string) ?? .null,
         "visitorName": c.visitorName.map(JSONValue.string) ?? .null, "visitorEmail": c.visitorEmail.map(JSONValue.string) ?? .null,
         "status": .string(c.status.rawValue), "assigneeId": c.assigneeId.map { .number(Double($0)) } ?? .null,
         "pageUrl": c.pageUrl.map(JSONValue.string) ?? .null, "ticketId": c.ticketId.map { .number(Double($0)) } ?? .null,
         "closedBy": c.closedBy.map { .string($0.rawValue) } ?? .null, "createdAt": .string(c.createdAt),
         "closedAt": c.closedAt.map(JSONValue.string) ?? .null]
    }

    /// A chat message as webhook events carry it.
    static func event(_ m: ChatMessage) -> [String: JSONValue] {
        ["id": .number(Double(m.id)), "conversationId": .number(Double(m.conversationId)), "sender": .string(m.sender.rawValue),
         "agentId": m.agentId.map { .number(Double($0)) } ?? .null, "senderName": m.senderName.map(JSONValue.string) ?? .null,
         "text": .string(m.text), "createdAt": .string(m.createdAt)]
    }

    /// Closes every conversation whose last activity is older than `cutoff`.
    package func closeInactive(before cutoff: Date) async throws -> [ChatLifecycleResult] {
        let stamp = Timestamps.iso8601Milliseconds(now())
        let limit = Timestamps.iso8601Milliseconds(cutoff)
        return try await database.writer.write { db in
            let stale = try ChatConversation.filter(sql: "status != 'closed' AND COALESCE(last_message_at, created_at) < ?", arguments: [limit])
                .limit(500).fetchAll(db)
            return try stale.map { try Self.close(db, $0, by: .inactivity, agent: nil, at: stamp, ticketId: nil, webhooks: webhooks) }
        }
    }

    /// Links a visitor's conversations to a verified site user: the open one moves to the
    /// identified visitor id; earlier ones keep their id and get the user id.
    package func identify(from anonymousId: String, to visitor: ChatVisitor) async throws -> ChatConversation? {
        let stamp = Timestamps.iso8601Milliseconds(now())
        return try await database.writer.write { db in
            try db.execute(sql: """
                UPDATE chat_conversations SET user_id = ?, visitor_name = COALESCE(?, visitor_name), visitor_email = COALESCE(?, visitor_email),
                       identified = 1, updated_at = ?
                WHERE visitor_id = ? AND status = 'closed' AND user_id IS NULL
                """, arguments: [visitor.userId, visitor.name, visitor.email, stamp, anonymousId])
            guard anonymousId != visitor.id, var open = try Self.current(db, visitorId: anonymousId) else {
                if var own = try Self.current(db, visitorId: visitor.id) {
                    own.userId = visitor.userId
                    own.visitorName = visitor.name ?? own.visitorName
                    own.visitorEmail = visitor.email ?? own.visitorEmail
                    own.identified = true
                    own.updatedAt = stamp
                    try Self.save(db, own)
                    return own
                }
                return nil
            }
            if try Self.current(db, visitorId: visitor.id) != nil {
                // The user already has a conversation going elsewhere; keep this one apart but linked.
                open.userId = visitor.userId
            } else {
                open.visitorId = visitor.id
                open.userId = visitor.userId
            }
            open.visitorName = visitor.name ?? open.visitorName
            open.visitorEmail = visitor.email ?? open.visitorEmail
            open.identified = true
            open.updatedAt = stamp
            try Self.save(db, open)
            return try Self.current(db, visitorId: visitor.id) ?? open
        }
    }

    /// Turns a conversation (or, when the visitor has not written yet, a new one holding
    /// `message`) into a support ticket, in one transaction, and closes it.
    package func convertToTicket(visitor: ChatVisitor, conversationId: Int64?, email: String, name: String?, message: String?,
                                availability: ChatAvailability, sink: any ChatTicketSink) async throws -> (result: ChatLifecycleResult, messages: [ChatMessage], ticketId: Int64) {
        let stamp = Timestamps.iso8601Milliseconds(now())
        return try await database.writer.write { db in
            var conversation: ChatConversation
            var newMessages: [ChatMessage] = []
            if let id = conversationId {
                guard let found = try Self.conversation(db, id: id), found.visitorId == visitor.id else {
                    throw FrontdeskError.notFound("Conversation \(id)")
                }
                if found.status == .closed, let ticket = found.ticketId {
                    return (ChatLifecycleResult(conversation: found, systemMessage: nil, changed: false), [], ticket)
                }
                guard found.status != .closed else {
                    throw FrontdeskError(.conflict, code: "conversation_closed", message: "Conversation \(id) is closed.")
                }
                conversation = found
                if let message {
                    var extra = ChatMessage(id: 0, conversationId: id, sender: .visitor, agentId: nil, senderName: name ?? visitor.name,
                                            senderKey: nil, clientMessageId: nil, text: message, systemEvent: nil, createdAt: stamp,
                                            deliveredAt: nil, readAt: nil)
                    try Self.insertMessage(db, &extra)
                    newMessages.append(extra)
                }
            } else {
                guard let message else { throw FrontdeskError.validation(["message": "is required when there is no conversation yet"]) }
                try db.execute(sql: """
                    INSERT INTO chat_conversations(visitor_id, user_id, visitor_name, visitor_email, identified, status, offline, page_url, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, 'open', 1, ?, ?, ?)
                    """, arguments: [visitor.id, visitor.userId, name ?? visitor.name, email, visitor.identified, visitor.pageUrl, stamp, stamp])
                let id = db.lastInsertedRowID
                var first = ChatMessage(id: 0, conversationId: id, sender: .visitor, agentId: nil, senderName: name ?? visitor.name,
                                        senderKey: nil, clientMessageId: nil, text: message, systemEvent: nil, createdAt: stamp,
                                        deliveredAt: nil, readAt: nil)
                try Self.insertMessage(db, &first)
                newMessages.append(first)
                conversation = try Self.conversation(db, id: id)!
            }
            conversation.visitorEmail = email
            conversation.visitorName = name ?? conversation.visitorName
            let transcript = try ChatMessage.filter(ChatMessage.Columns.conversationId == conversation.id).order(ChatMessage.Columns.id).fetchAll(db)
            let firstVisitorText = transcript.first { $0.sender == .visitor }?.text ?? "Chat"
            let subject = String(firstVisitorText.split(separator: "\n").first ?? "Chat").prefix(80)
            let ticketId = try sink.createTicket(ChatTicketRequest(
                conversationId: conversation.id, email: email, name: name ?? conversation.visitorName,
                subject: "Chat: " + subject, transcript: ChatTranscript.plainText(transcript), at: now()), in: db)
            var result = try Self.close(db, conversation, by: .ticket, agent: nil, at: stamp, ticketId: ticketId, webhooks: webhooks)
            result.conversation.offline = true
            try Self.save(db, result.conversation)
            return (result, newMessages, ticketId)
        }
    }
}
