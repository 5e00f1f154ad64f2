import Foundation
import GRDB

/// Where a conversation is in its life: waiting in the queue, with an agent, or over.
public enum ChatConversationStatus: String, Codable, Sendable, CaseIterable {
    case open
    case assigned
    case closed
}

/// Who ended a conversation.
public enum ChatClosedBy: String, Codable, Sendable {
    case agent
    case visitor
    case inactivity
    case ticket
}

/// Who wrote a message.
public enum ChatSender: String, Codable, Sendable {
    case visitor
    case agent
    case system
}

/// How far a message got: stored, received by a client of the other side, seen by its person.
public enum ChatMessageStatus: String, Codable, Sendable, Comparable {
    case sent
    case delivered
    case read

    var rank: Int { self == .sent ? 0 : self == .delivered ? 1 : 2 }
    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
}

/// One chat between a visitor and the agents (table `chat_conversations`).
public struct ChatConversation: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "chat_conversations"

    public var id: Int64
    public var visitorId: String
    public var userId: String?
    public var visitorName: String?
    public var visitorEmail: String?
    public var identified: Bool
    public var status: ChatConversationStatus
    public var assigneeId: Int64?
    public var assigneeName: String?
    public var offline: Bool
    public var pageUrl: String?
    public var ticketId: Int64?
    public var closedBy: ChatClosedBy?
    public var createdAt: String
    public var updatedAt: String
    public var assignedAt: String?
    public var closedAt: String?
    public var lastMessageAt: String?
    public var lastMessageId: Int64?
    /// The visitor's cumulative receipts of agent and system messages.
    public var visitorDeliveredUpTo: Int64
    public var visitorReadUpTo: Int64
    /// The agents' cumulative receipts of visitor messages.
    public var agentDeliveredUpTo: Int64
    public var agentReadUpTo: Int64

    public enum Columns {
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
    public func receipts(forMessagesOf sender: ChatSender) -> ChatReceipts {
        switch sender {
        case .visitor: return ChatReceipts(deliveredUpTo: agentDeliveredUpTo, readUpTo: agentReadUpTo)
        case .agent, .system: return ChatReceipts(deliveredUpTo: visitorDeliveredUpTo, readUpTo: visitorReadUpTo)
        }
    }
}

/// Cumulative receipts: every message of one side up to these ids was delivered / read.
public struct ChatReceipts: Codable, Sendable, Equatable {
    public var deliveredUpTo: Int64
    public var readUpTo: Int64
}

/// One chat message (table `chat_messages`), with its per-status timestamps.
public struct ChatMessage: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "chat_messages"

    public var id: Int64
    public var conversationId: Int64
    public var sender: ChatSender
    public var agentId: Int64?
    public var senderName: String?
    /// `v:<visitorId>` or `a:<agentId>`: with `clientMessageId`, what makes a send idempotent.
    public var senderKey: String?
    public var clientMessageId: String?
    public var text: String
    public var systemEvent: String?
    /// When it was committed: the `sent` time.
    public var createdAt: String
    public var deliveredAt: String?
    public var readAt: String?

    public enum Columns {
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

    public var status: ChatMessageStatus {
        readAt != nil ? .read : deliveredAt != nil ? .delivered : .sent
    }

}

extension ChatConversation {
    /// Reads a row without the Decodable machinery (this runs on every message).
    public init(row: Row) throws {
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
    public init(row: Row) throws {
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
public struct ChatConversationView: Codable, Sendable, Equatable {
    public struct Visitor: Codable, Sendable, Equatable {
        public var userId: String?
        public var name: String?
        public var email: String?
        public var online: Bool
        public var identified: Bool
    }

    public struct Assignee: Codable, Sendable, Equatable {
        public var id: Int64
        public var name: String
    }

    public var id: Int64
    public var status: ChatConversationStatus
    public var visitorId: String
    public var visitor: Visitor
    public var assignee: Assignee?
    public var offline: Bool
    public var createdAt: String
    public var updatedAt: String
    public var lastMessageAt: String?
    public var lastMessageId: Int64?
    public var closedAt: String?
    public var closedBy: ChatClosedBy?
    public var ticketId: Int64?
    public var pageUrl: String?

    public init(_ c: ChatConversation, visitorOnline: Bool) {
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
public struct ChatMessageView: Codable, Sendable, Equatable {
    public var id: Int64
    public var conversationId: Int64
    public var clientMessageId: String?
    public var sender: ChatSender
    public var agentId: Int64?
    public var senderName: String?
    public var text: String
    public var systemEvent: String?
    public var status: ChatMessageStatus
    public var createdAt: String
    public var deliveredAt: String?
    public var readAt: String?

    public init(_ m: ChatMessage) {
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
public struct ChatAvailability: Codable, Sendable, Equatable {
    public var available: Bool
    /// `no_agents` or `outside_hours` when not available.
    public var reason: String?
    public var agentsOnline: Int

    public init(available: Bool, reason: String?, agentsOnline: Int) {
        self.available = available
        self.reason = reason
        self.agentsOnline = agentsOnline
    }
}

/// An agent, as the chat shows them.
public struct ChatAgent: Codable, Sendable, Equatable, Hashable {
    public var id: Int64
    public var name: String

    public init(id: Int64, name: String) {
        self.id = id
        self.name = name
    }
}
