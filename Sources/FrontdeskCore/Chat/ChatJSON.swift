import Foundation
import NIOCore

/// A small JSON writer for the two frames sent on every message, `chat.message` (also each
/// message a `resume` replays) and `chat.ack`: Foundation's `JSONEncoder` showed up as the
/// largest cost in the server's profile at 1,000 messages/s. Every other frame, `chat.status`
/// included, goes through `JSONEncoder`. The output is the same JSON value the `Encodable`
/// conformances produce — keys, nulls, escapes; only the key order may differ — checked for
/// every writer by `ChatJSONWriterTests` and `ChatHubServiceTests`; keep both in step.
package struct ChatJSONWriter {
    package private(set) var buffer: ByteBuffer

    package init(capacity: Int = 512) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    package mutating func raw(_ s: StaticString) {
        buffer.writeStaticString(s)
    }

    package mutating func key(_ name: StaticString, first: Bool = false) {
        if !first { buffer.writeInteger(UInt8(ascii: ",")) }
        buffer.writeInteger(UInt8(ascii: "\""))
        buffer.writeStaticString(name)
        buffer.writeStaticString("\":")
    }

    package mutating func string(_ value: String?) {
        guard let value else { return raw("null") }
        buffer.writeInteger(UInt8(ascii: "\""))
        var start = value.utf8.startIndex
        let utf8 = value.utf8
        var index = start
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                buffer.writeBytes(utf8[start..<index])
                switch byte {
                case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case 0x0A: buffer.writeStaticString("\\n")
                case 0x0D: buffer.writeStaticString("\\r")
                case 0x09: buffer.writeStaticString("\\t")
                default: buffer.writeString(String(format: "\\u%04x", byte))
                }
                start = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        buffer.writeBytes(utf8[start..<utf8.endIndex])
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    package mutating func int(_ value: Int64?) {
        guard let value else { return raw("null") }
        buffer.writeString(String(value))
    }

    package mutating func bool(_ value: Bool) {
        raw(value ? "true" : "false")
    }
}

/// A payload that can write itself with `ChatJSONWriter` (the hot frames).
package protocol ChatFastPayload {
    func write(to writer: inout ChatJSONWriter)
}

extension ChatMessageView: ChatFastPayload {
    package func write(to w: inout ChatJSONWriter) {
        w.key("id", first: true); w.int(id)
        w.key("conversationId"); w.int(conversationId)
        w.key("clientMessageId"); w.string(clientMessageId)
        w.key("sender"); w.string(sender.rawValue)
        w.key("agentId"); w.int(agentId)
        w.key("senderName"); w.string(senderName)
        w.key("text"); w.string(text)
        w.key("systemEvent"); w.string(systemEvent)
        w.key("status"); w.string(status.rawValue)
        w.key("createdAt"); w.string(createdAt)
        w.key("deliveredAt"); w.string(deliveredAt)
        w.key("readAt"); w.string(readAt)
    }
}

extension ChatConversationView: ChatFastPayload {
    package func write(to w: inout ChatJSONWriter) {
        w.key("id", first: true); w.int(id)
        w.key("status"); w.string(status.rawValue)
        w.key("visitorId"); w.string(visitorId)
        w.key("visitor"); w.raw("{")
        w.key("userId", first: true); w.string(visitor.userId)
        w.key("name"); w.string(visitor.name)
        w.key("email"); w.string(visitor.email)
        w.key("online"); w.bool(visitor.online)
        w.key("identified"); w.bool(visitor.identified)
        w.raw("}")
        w.key("assignee")
        if let assignee {
            w.raw("{"); w.key("id", first: true); w.int(assignee.id); w.key("name"); w.string(assignee.name); w.raw("}")
        } else {
            w.raw("null")
        }
        w.key("offline"); w.bool(offline)
        w.key("createdAt"); w.string(createdAt)
        w.key("updatedAt"); w.string(updatedAt)
        w.key("lastMessageAt"); w.string(lastMessageAt)
        w.key("lastMessageId"); w.int(lastMessageId)
        w.key("closedAt"); w.string(closedAt)
        w.key("closedBy"); w.string(closedBy?.rawValue)
        w.key("ticketId"); w.int(ticketId)
        w.key("pageUrl"); w.string(pageUrl)
    }
}

extension ChatFrame {
    /// The envelope around a fast payload.
    static func encodeFast(_ type: String, ref: String?, _ data: any ChatFastPayload) -> ByteBuffer {
        var w = ChatJSONWriter()
        w.raw("{\"v\":1,\"type\":")
        w.string(type)
        if let ref {
            w.key("ref"); w.string(ref)
        }
        w.key("data"); w.raw("{")
        data.write(to: &w)
        w.raw("}}")
        return w.buffer
    }
}
