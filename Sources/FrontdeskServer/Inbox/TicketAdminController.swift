import FrontdeskCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The console's tickets: list with filters, the thread, status/priority/assignee, replies and notes.
struct TicketAdminController: Sendable {
    let tickets: TicketStore
    let now: @Sendable () -> Date

    func addRoutes(to routes: Routes) {
        let admin = routes.admin
        admin.get("/tickets") { request, context in
            var parameters = request.queryDictionary
            if parameters["assignee"] == "me" { parameters["assignee"] = String(context.admin.id) }
            let query = try ListQuery(parameters, sortable: TicketStore.sortable, defaultSort: "-updatedAt", filters: TicketStore.filters)
            return try Response.json(try await tickets.list(query))
        }
        admin.get("/tickets/:id") { _, context in
            let id = try AdminRoutes.id(context)
            let summary = try await tickets.summary(id: id)
            let messages = try await tickets.messages(ticketID: id, includeInternal: true)
            return try Response.json(TicketDetail(ticket: summary, messages: messages.map(TicketMessageView.init)))
        }
        admin.patch("/tickets/:id") { request, context in
            let change = try TicketStore.Change(json: try await request.jsonObject(context: context))
            let updated = try await tickets.update(id: try AdminRoutes.id(context), change, now: now())
            context.logger.info("ticket updated", metadata: ["ticket_id": "\(updated.id)", "by": "\(context.admin.id)", "status": "\(updated.status)"])
            return try Response.json(updated)
        }
        admin.post("/tickets/:id/messages") { request, context in
            let (body, isInternal) = try TicketStore.validBody(try await request.jsonObject(context: context), allowInternal: true)
            let message = try await tickets.agentMessage(ticketID: try AdminRoutes.id(context), agent: context.admin.user, body: body, internal: isInternal, now: now())
            return try Response.json(TicketMessageView(message), status: .created)
        }
        admin.delete("/tickets/:id") { _, context in
            try await tickets.delete(id: try AdminRoutes.id(context))
            let id = try AdminRoutes.id(context)
            context.logger.notice("ticket deleted", metadata: ["ticket_id": "\(id)", "by": "\(context.admin.id)"])
            return Response(status: .noContent)
        }
    }
}
