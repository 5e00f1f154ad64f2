import Foundation
import GRDB
import NIOCore
import Testing
@testable import FrontdeskCore

/// Every hand-written fast JSON writer (`ChatJSONWriter` users) against the `Encodable` path it
/// stands in for: the same JSON, for values with escapes, non-ASCII text and nulls.
@Suite("Chat fast JSON writers")
struct ChatJSONWriterTests {
    /// Strings a writer must escape exactly as `JSONEncoder` does, or pass through untouched.
    static let awkward: [String?] = [
        nil,
        "",
        "plain",
        #"quote " backslash \ slash / </script>"#,
        "newline\n return\r tab\t backspace\u{08} form feed\u{0C} nul\u{00} bell\u{07} unit separator\u{1F} delete\u{7F}",
        "héllo wörld — 日本語 🎉 e\u{301} \u{2028}\u{2029} \u{FEFF}bom",
        "{\"type\":\"error\"}",
    ]

    static func message(text: String?, id: Int64 = 41, nulls: Bool) -> ChatMessageView {
        let row: Row = [
            "id": id, "conversation_id": 7, "sender": nulls ? "system" : "agent", "agent_id": nulls ? nil : 3,
            "sender_name": nulls ? nil : text, "sender_key": nil, "client_message_id": nulls ? nil : text ?? "m-1",
            "text": text ?? "", "system_event": nulls ? "closed" : nil, "created_at": "2026-11-26T16:00:00.000Z",
            "delivered_at": nulls ? nil : "2026-11-26T16:00:01.000Z", "read_at": nulls ? nil : "2026-11-26T16:00:02.000Z",
        ]
        return ChatMessageView(try! ChatMessage(row: row))
    }

    static func conversation(text: String?, nulls: Bool, status: ChatConversationStatus) -> ChatConversationView {
        let row: Row = [
            "id": 7, "visitor_id": text ?? "v-1", "user_id": nulls ? nil : text, "visitor_name": nulls ? nil : text,
            "visitor_email": nulls ? nil : "a@example.com", "identified": !nulls, "status": status.rawValue,
            "assignee_id": nulls ? nil : 3, "assignee_name": nulls ? nil : text ?? "Ann", "offline": nulls, "page_url": nulls ? nil : text,
            "ticket_id": nulls ? nil : 12, "closed_by": status == .closed ? "inactivity" : nil,
            "created_at": "2026-11-26T16:00:00.000Z", "updated_at": "2026-11-26T16:05:00.000Z", "assigned_at": nil,
            "closed_at": status == .closed ? "2026-11-26T16:35:00.000Z" : nil, "last_message_at": nulls ? nil : "2026-11-26T16:04:00.000Z",
            "last_message_id": nulls ? nil : 41, "visitor_delivered_up_to": 0, "visitor_read_up_to": 0,
            "agent_delivered_up_to": 0, "agent_read_up_to": 0,
        ]
        return ChatConversationView(try! ChatConversation(row: row), visitorOnline: !nulls)
    }

    /// The fast frame and the `Encodable` frame are the same JSON value to the project's strict
    /// parser: the same keys (a null is not a missing key), the same strings after unescaping,
    /// the same numbers; and the fast one is valid JSON that parser accepts (no duplicate key).
    static func expectSame(_ type: String, ref: String?, _ payload: some ChatFastPayload & Encodable & Sendable,
                           sourceLocation: SourceLocation = #_sourceLocation) throws {
        let fast = ChatFrame.encodeFast(type, ref: ref, payload)
        let slow = ChatFrame.encodeWithFoundation(type, ref: ref, payload)
        // JSONEncoder on Linux writes keys in hash order, so the bytes differ; the values may not.
        let fastValue = try JSONValue.parse(Data(fast.readableBytesView))
        let slowValue = try JSONValue.parse(Data(slow.readableBytesView))
        #expect(fastValue == slowValue, "fast: \(String(buffer: fast))\nEncodable: \(String(buffer: slow))", sourceLocation: sourceLocation)
        // `ChatFrame.encode` takes the fast path for these payloads.
        #expect(ChatFrame.encode(type, ref: ref, payload) == fast, sourceLocation: sourceLocation)
    }

    @Test("ChatMessageView: the fast writer writes what JSONEncoder writes", arguments: awkward)
    func messageView(text: String?) throws {
        for nulls in [false, true] {
            try Self.expectSame("chat.message", ref: nil, Self.message(text: text, nulls: nulls))
        }
        // Ids past 2^53 are written exactly (the parsers above read numbers as Double).
        let big = ChatFrame.encodeFast("chat.message", ref: text, Self.message(text: text, id: 9_007_199_254_740_993, nulls: false))
        #expect(String(buffer: big).contains(#""id":9007199254740993,"#))
    }

    @Test("ChatConversationView: the fast writer writes what JSONEncoder writes", arguments: awkward)
    func conversationView(text: String?) throws {
        for nulls in [false, true] {
            for status in ChatConversationStatus.allCases {
                try Self.expectSame("conversation.updated", ref: text, Self.conversation(text: text, nulls: nulls, status: status))
            }
        }
    }

    @Test("the fast envelope writes v, type, ref (left out when nil) and data like the Encodable envelope", arguments: awkward)
    func envelope(ref: String?) throws {
        try Self.expectSame(ref ?? "chat.ack", ref: ref, Self.message(text: "hi", nulls: true))
    }
}
