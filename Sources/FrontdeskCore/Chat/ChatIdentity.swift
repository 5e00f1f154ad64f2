import Crypto
import Foundation
import GRDB

/// Visitor ids and the verification of signed-in site users.
///
/// A site that knows who its user is computes `hash = hex(HMAC-SHA256(secret, userId))` on its
/// backend and hands it to the widget; only someone with the secret can produce it, so nobody can
/// open another user's conversations by claiming their id.
package enum ChatIdentity {
    /// A new anonymous visitor id: `v_` and 22 base64url characters (128 random bits).
    package static func newVisitorId() -> String {
        "v_" + Secrets.urlSafeToken(byteCount: 16)
    }

    /// Whether `id` has the form of an anonymous id the server hands out.
    package static func isAnonymousVisitorId(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard bytes.count == 24, id.hasPrefix("v_") else { return false }
        return bytes.dropFirst(2).allSatisfy { (b: UInt8) in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F
        }
    }

    /// The hex HMAC-SHA256 of `userId` under `secret`: what the site's backend computes.
    package static func hash(userId: String, secret: String) -> String {
        ContentDigest.hex(ContentDigest.hmacSHA256(userId, key: Data(secret.utf8)))
    }

    /// Whether `hash` proves `userId` (constant time; hex case-insensitive).
    package static func verify(userId: String, hash: String, secret: String) -> Bool {
        guard !secret.isEmpty else { return false }
        return Secrets.constantTimeEquals(Self.hash(userId: userId, secret: secret).utf8, hash.lowercased().utf8)
    }

    /// The visitor id of an identified user: derived from the user id under the secret, so it is
    /// the same on every device and cannot be computed without the secret.
    package static func visitorId(forUser userId: String, secret: String) -> String {
        "u_" + String(hash(userId: "visitor:" + userId, secret: secret).prefix(32))
    }
}

/// What a chat hands over to become a support ticket.
package struct ChatTicketRequest: Sendable, Equatable {
    package var conversationId: Int64
    package var email: String
    package var name: String?
    package var subject: String
    /// The conversation so far, as plain text.
    package var transcript: String
    /// When the visitor asked for it.
    package var at: Date
}

/// Creates support tickets from chats (the inbox's ticket store), inside the caller's transaction
/// so that "ticket created and conversation closed" is one commit.
package protocol ChatTicketSink: Sendable {
    /// Creates the ticket and returns its id.
    func createTicket(_ request: ChatTicketRequest, in db: Database) throws -> Int64
}

/// A conversation rendered for people: in a ticket, and in the transcript mail.
package enum ChatTranscript {
    /// One line per message: `[2026-11-26 16:02] Ada: Do you deliver on Sundays?`.
    package static func plainText(_ messages: [ChatMessage]) -> String {
        messages.map { message in
            let time = String(message.createdAt.prefix(16)).replacingOccurrences(of: "T", with: " ")
            return "[\(time)] \(speaker(message)): \(message.text)"
        }.joined(separator: "\n")
    }

    static func speaker(_ message: ChatMessage) -> String {
        switch message.sender {
        case .visitor: return message.senderName ?? "You"
        case .agent: return message.senderName ?? "Agent"
        case .system: return "—"
        }
    }

    /// The transcript mail (`Resources/mail/chat_transcript.*.mustache`).
    package static func mail(templates: MailTemplates, siteName: String, conversation: ChatConversation, messages: [ChatMessage]) throws -> MailContent {
        try templates.render("chat_transcript", values: [
            "site_name": siteName,
            "conversation_id": "\(conversation.id)",
            "started_at": String(conversation.createdAt.prefix(16)).replacingOccurrences(of: "T", with: " ") + " UTC",
            "messages": messages.map { message -> [String: Any] in
                [
                    "time": String(message.createdAt.dropFirst(11).prefix(5)),
                    "speaker": speaker(message),
                    "text": message.text,
                    "is_system": message.sender == .system,
                ]
            },
        ])
    }
}
