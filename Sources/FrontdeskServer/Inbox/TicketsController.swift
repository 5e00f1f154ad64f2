import FrontdeskCore
import Foundation
import Hummingbird

/// Support tickets, the customer's side:
/// - `POST /api/v1/tickets` → 201 `{id, accessToken, …}` and a mail with the magic link;
/// - `GET /api/v1/tickets/{id}` and `POST /api/v1/tickets/{id}/messages` with
///   `Authorization: Bearer <accessToken>`. A wrong token gets the same 404 as a missing ticket.
struct TicketsController: Sendable {
    let store: TicketStore
    let forms: FormsController
    let idempotent: IdempotentResponder
    let now: @Sendable () -> Date

    struct Created: Encodable {
        let id: Int64
        let accessToken: String
        let status: String
        let priority: String
        let createdAt: String
    }

    /// The creation response as the idempotency record keeps it: without the access token,
    /// which is never stored and is derived again when the response is replayed.
    struct Recorded: Codable {
        let id: Int64
        let status: String
        let priority: String
        let createdAt: String
    }

    struct CustomerView: Encodable {
        let id: Int64
        let subject: String
        let description: String
        let status: String
        let priority: String
        let createdAt: String
        let updatedAt: String
        let messages: [Message]
    }

    struct Message: Encodable {
        let id: Int64
        let author: String
        let authorName: String?
        let body: String
        let createdAt: String

        init(_ message: TicketMessage) {
            id = message.id ?? 0
            author = message.author
            authorName = message.authorName
            body = message.body
            createdAt = message.createdAt
        }
    }

    func addRoutes(to routes: Routes) {
        forms.registry.register(PublicForm(id: "ticket", title: "Support request",
                                           extras: ["priorities": .array(SupportTicket.priorities.map(JSONValue.string))]))
        routes.publicForms.post("/tickets") { request, context in
            let (json, body) = try await request.jsonBody(context: context)
            return try await idempotent.respond(scope: "tickets", request: request, context: context, body: body, restore: { try await self.restoreCreated($0) }) { recorder in
                let (verdict, fields) = try forms.screen(form: "ticket", json, context: context)
                // Validated before the honeypot's verdict: a bot's bad post gets the same 422 as anybody's.
                let input = try NewTicket(json: fields)
                if verdict == .discard {
                    let stamp = Timestamps.iso8601Milliseconds(now())
                    return try Response.json(Created(id: Int64.random(in: 1...Int64(Int32.max)), accessToken: Secrets.urlSafeToken(),
                                                     status: "open", priority: "medium", createdAt: stamp), status: .created)
                }
                let created = try await store.create(input, now: now()) { db, created in
                    try recorder.record(.created, Recorded(id: created.ticket.id ?? 0, status: created.ticket.status.rawValue,
                                                           priority: created.ticket.priority.rawValue, createdAt: created.ticket.createdAt), in: db)
                }
                context.logger.info("ticket opened", metadata: ["ticket_id": "\(created.ticket.id ?? 0)", "request_id": "\(context.requestID)"])
                return try Response.json(Self.created(created), status: .created)
            }
        }
        routes.publicAPI.get("/tickets/:id") { request, context in
            let ticket = try await authorize(request, context)
            let messages = try await store.messages(ticketID: ticket.id ?? 0, includeInternal: false)
            var response = try Response.json(CustomerView(
                id: ticket.id ?? 0, subject: ticket.subject, description: ticket.description, status: ticket.status.rawValue, priority: ticket.priority.rawValue,
                createdAt: ticket.createdAt, updatedAt: ticket.updatedAt, messages: messages.map(Message.init)))
            response.headers[.cacheControl] = "no-store"
            return response
        }
        routes.publicForms.post("/tickets/:id/messages") { request, context in
            let ticket = try await authorize(request, context)
            let (json, body) = try await request.jsonBody(context: context)
            return try await idempotent.respond(scope: "ticket-\(ticket.id ?? 0)-messages", request: request, context: context, body: body) { recorder in
                let (text, _) = try TicketStore.validBody(json, allowInternal: false)
                let message = try await store.customerReply(ticketID: ticket.id ?? 0, body: text, now: now()) { db, message in
                    try recorder.record(.created, Message(message), in: db)
                }
                return try Response.json(Message(message), status: .created)
            }
        }
    }

    /// A replayed creation: the recorded response with the ticket's access token derived again.
    func restoreCreated(_ stored: IdempotencyStore.Stored) async throws -> IdempotencyStore.Stored {
        let recorded = try JSONDecoder().decode(Recorded.self, from: stored.body)
        guard let token = try await store.accessToken(ticketID: recorded.id) else { throw FrontdeskError.notFound("The ticket") }
        let created = Created(id: recorded.id, accessToken: token, status: recorded.status, priority: recorded.priority, createdAt: recorded.createdAt)
        return IdempotencyStore.Stored(status: stored.status, body: try JSONEncoder.api.encode(created))
    }

    static func created(_ created: TicketStore.Created) -> Created {
        Created(id: created.ticket.id ?? 0, accessToken: created.accessToken, status: created.ticket.status.rawValue,
                priority: created.ticket.priority.rawValue, createdAt: created.ticket.createdAt)
    }

    /// The ticket the bearer token opens; 401 without a token, 404 for a wrong one.
    func authorize(_ request: Request, _ context: AppRequestContext) async throws -> SupportTicket {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer "), header.count > 7 else {
            throw FrontdeskError(.unauthorized, code: "unauthorized",
                                 message: "Send the ticket's access token as Authorization: Bearer <token> (it is in the link mailed to you).")
        }
        guard let id = context.parameters.get("id").flatMap(Int64.init) else { throw FrontdeskError.notFound("The ticket") }
        return try await store.authorize(id: id, token: String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))
    }
}
