import Foundation
import GRDB

/// The inbox's ticket store takes chats handed over by the offline fallback (source `chat`,
/// the conversation id as source id); the customer gets the usual mail with the ticket's link.
extension TicketStore: ChatTicketSink {
    package func createTicket(_ request: ChatTicketRequest, in db: Database) throws -> Int64 {
        let input = NewTicket(email: request.email, name: request.name, subject: String(request.subject.prefix(NewTicket.Limits.subject)),
                              description: String(request.transcript.prefix(NewTicket.Limits.description)))
        let created = try create(input, source: "chat", sourceID: request.conversationId, now: request.at, in: db)
        return created.ticket.id ?? 0
    }
}
