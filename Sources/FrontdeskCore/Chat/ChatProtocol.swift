import Foundation
import NIOCore

/// Frames of the chat protocol (Resources/web/api/chat-protocol.md), version 1.
package enum ChatProtocol {
    package static let version = 1
    /// Longest `ref` a client may attach.
    package static let maxRefLength = 64
}

/// The frame types a client may send (either role; each socket accepts its own subset and
/// answers any other with `unknown_type`).
package enum ChatClientFrameType: String, Sendable, CaseIterable {
    case hello, identify, resume, ping
    case chatSend = "chat.send"
    case chatReceipt = "chat.receipt"
    case chatTyping = "chat.typing"
    case conversationClose = "conversation.close"
    case conversationTake = "conversation.take"
    case conversationTransfer = "conversation.transfer"
    case conversationSubscribe = "conversation.subscribe"
    case conversationUnsubscribe = "conversation.unsubscribe"
    case presenceSet = "presence.set"
    case offlineLeaveEmail = "offline.leave_email"
    case transcriptRequest = "transcript.request"
}

/// A frame a client sent, parsed: its type, its optional `ref`, and its `data` object.
package struct ChatInboundFrame: Sendable {
    /// The type as sent (for messages).
    package let type: String
    /// The type, when it is one the protocol knows; nil answers `unknown_type`.
    package let kind: ChatClientFrameType?
    package let ref: String?
    package let data: [String: JSONValue]

    /// Parses one text message; throws `bad_frame` or `unsupported_version` as `FrontdeskError`.
    /// The project's strict parser (`JSONValue.parse`): one pass, no Foundation round trip, and
    /// a frame with a duplicate key or nested deeper than 64 levels is `bad_frame` — which of
    /// two `"conversationId"`s counts must not depend on the parser.
    package static func parse(_ bytes: some Collection<UInt8>) throws -> ChatInboundFrame {
        let value: JSONValue
        do {
            value = try JSONValue.parse(Data(bytes))
        } catch let error as JSONParseError {
            throw FrontdeskError(.badRequest, code: "bad_frame", message: "A frame must be one JSON object: \(error.reason) at byte \(error.offset).",
                                 details: ["reason": error.reason, "offset": String(error.offset)])
        } catch {
            throw FrontdeskError(.badRequest, code: "bad_frame", message: "A frame must be one JSON object.")
        }
        guard case .object(let object) = value else {
            throw FrontdeskError(.badRequest, code: "bad_frame", message: "A frame must be one JSON object.")
        }
        var ref: String?
        if case .string(let r)? = object["ref"] { ref = String(r.prefix(ChatProtocol.maxRefLength)) }
        guard case .string(let type)? = object["type"], !type.isEmpty, type.utf8.count <= 64 else {
            throw ChatFrameError(ref: ref, error: FrontdeskError(.badRequest, code: "bad_frame", message: "A frame needs a string \"type\"."))
        }
        if let v = object["v"], v != .null, v != .number(Double(ChatProtocol.version)) {
            throw ChatFrameError(ref: ref, error: FrontdeskError(.badRequest, code: "unsupported_version",
                                                                 message: "This server speaks protocol version \(ChatProtocol.version)."))
        }
        var data: [String: JSONValue] = [:]
        switch object["data"] {
        case .object(let d)?: data = d
        case nil, .null?: break
        default:
            throw ChatFrameError(ref: ref, error: FrontdeskError(.badRequest, code: "bad_frame", message: "\"data\" must be an object."))
        }
        return ChatInboundFrame(type: type, ref: ref, data: data)
    }

    package init(type: String, ref: String?, data: [String: JSONValue]) {
        self.type = type
        self.kind = ChatClientFrameType(rawValue: type)
        self.ref = ref
        self.data = data
    }

    // MARK: - Field access

    package func string(_ key: String) -> String? {
        if case .string(let s)? = data[key] { return s }
        return nil
    }

    /// An integer id field; nil when absent or not a whole number.
    package func integer(_ key: String) -> Int64? {
        if case .number(let n)? = data[key], n.rounded() == n, abs(n) < 9.0e15 { return Int64(n) }
        return nil
    }

    package func bool(_ key: String) -> Bool? {
        if case .bool(let b)? = data[key] { return b }
        return nil
    }

    /// A required positive id; throws `validation_failed` naming the field.
    package func requiredID(_ key: String) throws -> Int64 {
        guard let id = integer(key), id > 0 else {
            throw FrontdeskError.validation([key: data[key] == nil ? "is required" : "must be a positive integer"])
        }
        return id
    }
}

/// A frame error that keeps the frame's `ref`, so the error frame can answer it.
package struct ChatFrameError: Error, Sendable {
    package let ref: String?
    package let error: FrontdeskError
}

/// Builds outgoing frames. Each is encoded once into a `ByteBuffer`; fan-out shares that buffer.
package enum ChatFrame {
    struct Envelope<Payload: Encodable>: Encodable {
        let v: Int
        let type: String
        let ref: String?
        let data: Payload

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(v, forKey: .v)
            try container.encode(type, forKey: .type)
            try container.encodeIfPresent(ref, forKey: .ref)
            try container.encode(data, forKey: .data)
        }

        enum CodingKeys: String, CodingKey { case v, type, ref, data }
    }

    /// The UTF-8 JSON of one frame.
    package static func encode(_ type: String, ref: String? = nil, _ data: some Encodable & Sendable) -> ByteBuffer {
        if let fast = data as? any ChatFastPayload { return encodeFast(type, ref: ref, fast) }
        return encodeWithFoundation(type, ref: ref, data)
    }

    /// The `Encodable` path, for every frame without a fast writer; the fast writers must
    /// produce the same JSON (`ChatJSONWriterTests`).
    static func encodeWithFoundation(_ type: String, ref: String?, _ data: some Encodable & Sendable) -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        do {
            return ByteBuffer(bytes: try encoder.encode(Envelope(v: ChatProtocol.version, type: type, ref: ref, data: data)))
        } catch {
            // Our own payload types always encode; keep the socket usable if one ever does not.
            return ByteBuffer(string: #"{"v":1,"type":"error","data":{"code":"internal_error","message":"The server could not encode a frame.","details":{},"timestamp":""}}"#)
        }
    }

    /// An `error` frame with the fields of the HTTP error envelope.
    package static func error(_ error: FrontdeskError, ref: String?, now: Date) -> ByteBuffer {
        encode("error", ref: ref, ChatErrorPayload(code: error.code, message: error.message, details: error.details,
                                                   timestamp: Timestamps.iso8601(now)))
    }
}

package struct ChatErrorPayload: Encodable, Sendable {
    package let code: String
    package let message: String
    package let details: [String: String]
    package let timestamp: String
}

/// An empty `data` object.
package struct ChatEmpty: Encodable, Sendable {
    package init() {}
}

// MARK: - Explicit nulls

// The protocol shows absent values as `null`; synthesized Encodable would leave the keys out.

extension ChatMessageView {
    enum Keys: String, CodingKey {
        case id, conversationId, clientMessageId, sender, agentId, senderName, text, systemEvent, status, createdAt, deliveredAt, readAt
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(id, forKey: .id)
        try c.encode(conversationId, forKey: .conversationId)
        try c.encode(clientMessageId, forKey: .clientMessageId)
        try c.encode(sender, forKey: .sender)
        try c.encode(agentId, forKey: .agentId)
        try c.encode(senderName, forKey: .senderName)
        try c.encode(text, forKey: .text)
        try c.encode(systemEvent, forKey: .systemEvent)
        try c.encode(status, forKey: .status)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(deliveredAt, forKey: .deliveredAt)
        try c.encode(readAt, forKey: .readAt)
    }
}

extension ChatConversationView {
    enum Keys: String, CodingKey {
        case id, status, visitorId, visitor, assignee, offline, createdAt, updatedAt, lastMessageAt, lastMessageId, closedAt, closedBy, ticketId, pageUrl
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(id, forKey: .id)
        try c.encode(status, forKey: .status)
        try c.encode(visitorId, forKey: .visitorId)
        try c.encode(visitor, forKey: .visitor)
        try c.encode(assignee, forKey: .assignee)
        try c.encode(offline, forKey: .offline)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
        try c.encode(lastMessageAt, forKey: .lastMessageAt)
        try c.encode(lastMessageId, forKey: .lastMessageId)
        try c.encode(closedAt, forKey: .closedAt)
        try c.encode(closedBy, forKey: .closedBy)
        try c.encode(ticketId, forKey: .ticketId)
        try c.encode(pageUrl, forKey: .pageUrl)
    }
}

extension ChatConversationView.Visitor {
    enum Keys: String, CodingKey { case userId, name, email, online, identified }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(userId, forKey: .userId)
        try c.encode(name, forKey: .name)
        try c.encode(email, forKey: .email)
        try c.encode(online, forKey: .online)
        try c.encode(identified, forKey: .identified)
    }
}

extension ChatAvailability {
    enum Keys: String, CodingKey { case available, reason, agentsOnline }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(available, forKey: .available)
        try c.encode(reason, forKey: .reason)
        try c.encode(agentsOnline, forKey: .agentsOnline)
    }
}
