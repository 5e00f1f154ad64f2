import Foundation
import GRDB

/// Where a conversation is in its life: waiting in the queue, with an agent, or over.
package enum ChatConversationStatus: String, Codable, Sendable, CaseIterable {
    case open
    case assigned
    case closed
}

/// Who ended a conversation.
package enum ChatClosedBy: String, Codable, Sendable {
    case agent
    case visitor
    case inactivity
    case ticket
}

/// Who wrote a message.
package enum ChatSender: String, Codable, Sendable {
    case visitor
    case agent
    case system
}

/// How far a message got: stored, received by a client of the other side, seen by its person.
package enum ChatMessageStatus: String, Codable, Sendable, Comparable {
    case sent
    case delivered
    case read

    var rank: Int { self == .sent ? 0 : self == .delivered ? 1 : 2 }
    package static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
}

/// One chat between a visitor and the agents (table `chat_conversations`).
package struct ChatConversation: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    package static let databaseTableName = "chat_conversations"

    package var id: Int64
    package var visitorId: String
    package var userId: String?
    package var visitorName: String?
    package var visitorEmail: String?
    package var identified: Bool
    package var status: ChatConversationStatus
    package var assigneeId: Int64?
    package var assigneeName: String?
    package var offline: Bool
    package var pageUrl: String?
    package var ticketId: Int64?
    package var closedBy: ChatClosedBy?
    package var createdAt: String
    package var updatedAt: String
    package var assignedAt: String?
    package var closedAt: String?
    package var lastMessageAt: String?
    package var lastMessageId: Int64?
    /// The visitor's cumulative receipts of agent and system messages.
    package var visitorDeliveredUpTo: Int64
    package var visitorReadUpTo: Int64
    /// The agents' cumulative receipts of visitor messages.
    package var agentDeliveredUpTo: Int64
    package var agentReadUpTo: Int64

    package enum Columns {
        static let id = Column(CodingKeys.id)
        static let visitorId = Column(CodingKeys.visitorId)
        static let userId = Column(CodingKeys.userId)
        static let status = Column(CodingKeys.status)
        static let assigneeId = Column(CodingKeys.assigneeId)
        static let updatedAt = Column(CodingKeys.updatedAt)
        static let createdAt = Column(CodingKeys.createdAt)
        static let lastMessageAt = Column(CodingKeys.lastMessageAt)
    }

    enum CodingKeys: String, CodingKey {
        case id, status, offline, identified
        case visitorId = "visitor_id"
        case userId = "user_id"
        case visitorName = "visitor_name"
        case visitorEmail = "visitor_email"
        case assigneeId = "assignee_id"
        case assigneeName = "assignee_name"
        case pageUrl = "page_url"
        case ticketId = "ticket_id"
        case closedBy = "closed_by"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case assignedAt = "assigned_at"
        case closedAt = "closed_at"
        case lastMessageAt = "last_message_at"
        case lastMessageId = "last_message_id"
        case visitorDeliveredUpTo = "visitor_delivered_up_to"
        case visitorReadUpTo = "visitor_read_up_to"
        case agentDeliveredUpTo = "agent_delivered_up_to"
        case agentReadUpTo = "agent_read_up_to"
    }

    /// The side `sender` writes for, whose receipts tell how far the *other* side got.
    package func receipts(forMessagesOf sender: ChatSender) -> ChatReceipts {
        switch sender {
        case .visitor: return ChatReceipts(deliveredUpTo: agentDeliveredUpTo, readUpTo: agentReadUpTo)
        case .agent, .system: return ChatReceipts(deliveredUpTo: visitorDeliveredUpTo, readUpTo: visitorReadUpTo)
        }
    }
}

/// Cumulative receipts: every message of one side up to these ids was delivered / read.
package struct ChatReceipts: Codable, Sendable, Equatable {
    package var deliveredUpTo: Int64
    package var readUpTo: Int64
}

/// One chat message (table `chat_messages`), with its per-status timestamps.
package struct ChatMessage: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    package static let databaseTableName = "chat_messages"

    package var id: Int64
    package var conversationId: Int64
    package var sender: ChatSender
    package var agentId: Int64?
    package var senderName: String?
    /// `v:<visitorId>` or `a:<agentId>`: with `clientMessageId`, what makes a send idempotent.
    package var senderKey: String?
    package var clientMessageId: String?
    package var text: String
    package var systemEvent: String?
    /// When it was committed: the `sent` time.
    package var createdAt: String
    package var deliveredAt: String?
    package var readAt: String?

    package enum Columns {
        static let id = Column(CodingKeys.id)
        static let conversationId = Column(CodingKeys.conversationId)
        static let sender = Column(CodingKeys.sender)
        static let senderKey = Column(CodingKeys.senderKey)
        static let clientMessageId = Column(CodingKeys.clientMessageId)
    }

    enum CodingKeys: String, CodingKey {
        case id, sender, text
        case conversationId = "conversation_id"
        case agentId = "agent_id"
        case senderName = "sender_name"
        case senderKey = "sender_key"
        case clientMessageId = "client_message_id"
        case systemEvent = "system_event"
        case createdAt = "created_at"
        case deliveredAt = "delivered_at"
        case readAt = "read_at"
    }

    package var status: ChatMessageStatus {
        readAt != nil ? .read : deliveredAt != nil ? .delivered : .sent
    }

}

extension ChatConversation {
    /// Reads a row without the Decodable machinery (this runs on every message).
    package init(row: Row) throws {
        id = row["id"]
        visitorId = row["visitor_id"]
        userId = row["user_id"]
        visitorName = row["visitor_name"]
        visitorEmail = row["visitor_email"]
        identified = row["identified"]
        status = ChatConversationStatus(rawValue: row["status"]) ?? .open
        assigneeId = row["assignee_id"]
        assigneeName = row["assignee_name"]
        offline = row["offline"]
        pageUrl = row["page_url"]
        ticketId = row["ticket_id"]
        closedBy = (row["closed_by"] as String?).flatMap(ChatClosedBy.init(rawValue:))
        createdAt = row["created_at"]
        updatedAt = row["updated_at"]
        assignedAt = row["assigned_at"]
        closedAt = row["closed_at"]
        lastMessageAt = row["last_message_at"]
        lastMessageId = row["last_message_id"]
        visitorDeliveredUpTo = row["visitor_delivered_up_to"]
        visitorReadUpTo = row["visitor_read_up_to"]
        agentDeliveredUpTo = row["agent_delivered_up_to"]
        agentReadUpTo = row["agent_read_up_to"]
    }
}

extension ChatMessage {
    /// Reads a row without the Decodable machinery.
    package init(row: Row) throws {
        id = row["id"]
        conversationId = row["conversation_id"]
        sender = ChatSender(rawValue: row["sender"]) ?? .system
        agentId = row["agent_id"]
        senderName = row["sender_name"]
        senderKey = row["sender_key"]
        clientMessageId = row["client_message_id"]
        text = row["text"]
        systemEvent = row["system_event"]
        createdAt = row["created_at"]
        deliveredAt = row["delivered_at"]
        readAt = row["read_at"]
    }
}

// MARK: - The JSON shapes of the protocol and the admin API

/// A conversation as clients see it (protocol document, "Conversation").
package struct ChatConversationView: Codable, Sendable, Equatable {
    package struct Visitor: Codable, Sendable, Equatable {
        package var userId: String?
        package var name: String?
        package var email: String?
        package var online: Bool
        package var identified: Bool
    }

    package struct Assignee: Codable, Sendable, Equatable {
        package var id: Int64
        package var name: String
    }

    package var id: Int64
    package var status: ChatConversationStatus
    package var visitorId: String
    package var visitor: Visitor
    package var assignee: Assignee?
    package var offline: Bool
    package var createdAt: String
    package var updatedAt: String
    package var lastMessageAt: String?
    package var lastMessageId: Int64?
    package var closedAt: String?
    package var closedBy: ChatClosedBy?
    package var ticketId: Int64?
    package var pageUrl: String?

    package init(_ c: ChatConversation, visitorOnline: Bool) {
        id = c.id
        status = c.status
        visitorId = c.visitorId
        visitor = Visitor(userId: c.userId, name: c.visitorName, email: c.visitorEmail, online: visitorOnline, identified: c.identified)
        assignee = c.assigneeId.map { Assignee(id: $0, name: c.assigneeName ?? "") }
        if c.status != .assigned && c.status != .closed { assignee = nil }
        offline = c.offline
        createdAt = c.createdAt
        updatedAt = c.updatedAt
        lastMessageAt = c.lastMessageAt
        lastMessageId = c.lastMessageId
        closedAt = c.closedAt
        closedBy = c.closedBy
        ticketId = c.ticketId
        pageUrl = c.pageUrl
    }
}

/// A message as clients see it (protocol document, "Message").
package struct ChatMessageView: Codable, Sendable, Equatable {
    package var id: Int64
    package var conversationId: Int64
    package var clientMessageId: String?
    package var sender: ChatSender
    package var agentId: Int64?
    package var senderName: String?
    package var text: String
    package var systemEvent: String?
    package var status: ChatMessageStatus
    package var createdAt: String
    package var deliveredAt: String?
    package var readAt: String?

    package init(_ m: ChatMessage) {
        id = m.id
        conversationId = m.conversationId
        clientMessageId = m.clientMessageId
        sender = m.sender
        agentId = m.agentId
        senderName = m.senderName
        text = m.text
        systemEvent = m.systemEvent
        status = m.status
        createdAt = m.createdAt
        deliveredAt = m.deliveredAt
        readAt = m.readAt
    }
}

/// Whether visitors can reach someone right now.
package struct ChatAvailability: Codable, Sendable, Equatable {
    package var available: Bool
    /// `no_agents` or `outside_hours` when not available.
    package var reason: String?
    package var agentsOnline: Int

    package init(available: Bool, reason: String?, agentsOnline: Int) {
        self.available = available
        self.reason = reason
        self.agentsOnline = agentsOnline
    }
}

/// An agent, as the chat shows them.
package struct ChatAgent: Codable, Sendable, Equatable, Hashable {
    package var id: Int64
    package var name: String

    package init(id: Int64, name: String) {
        self.id = id
        self.name = name
    }
}
