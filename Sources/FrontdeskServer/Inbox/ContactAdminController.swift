import FrontdeskCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The console's contact submissions: list, CSV export, read, mark processed, delete, turn into a ticket.
struct ContactAdminController: Sendable {
    let contacts: ContactStore
    let tickets: TicketStore
    let now: @Sendable () -> Date

    func addRoutes(to routes: Routes) {
        let admin = routes.admin
        admin.get("/contact-submissions") { request, _ in
            let query = try ListQuery(request.queryDictionary, sortable: ContactStore.sortable, defaultSort: "-createdAt", filters: ContactStore.filters)
            return try Response.json(try await contacts.list(query).map(ContactView.init))
        }
        admin.get("/contact-submissions/export") { request, _ in
            let query = try ListQuery(request.queryDictionary, sortable: ContactStore.sortable, defaultSort: "createdAt", filters: ContactStore.filters)
            return AdminRoutes.csvResponse(filename: "contact-submissions.csv",
                               header: ["id", "created_at", "form", "status", "name", "email", "subject", "message", "fields", "page_url", "processed_at"]) { after in
                let rows = try await contacts.exportBatch(query, after: after)
                return (rows.map { [String($0.id ?? 0), $0.createdAt, $0.form, $0.status.rawValue, $0.name, $0.email, $0.subject, $0.message, $0.fields, $0.pageURL, $0.processedAt] },
                        rows.last?.id)
            }
        }
        admin.get("/contact-submissions/:id") { _, context in
            guard let row = try await contacts.find(id: try AdminRoutes.id(context)) else { throw FrontdeskError.notFound("The submission") }
            return try Response.json(ContactView(row))
        }
        admin.patch("/contact-submissions/:id") { request, context in
            let id = try AdminRoutes.id(context)
            var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["status"])
            let raw = reader.text("status", required: true, maxLength: 20)
            let status = raw.flatMap(ContactStatus.init(rawValue:))
            if raw != nil && status == nil { reader.fail("status", "must be \"new\" or \"processed\"") }
            try reader.validate()
            return try Response.json(ContactView(try await contacts.setStatus(id: id, status: status!, now: now())))
        }
        admin.delete("/contact-submissions/:id") { _, context in
            try await contacts.delete(id: try AdminRoutes.id(context))
            let id = try AdminRoutes.id(context)
            context.logger.notice("contact submission deleted", metadata: ["contact_id": "\(id)", "by": "\(context.admin.id)"])
            return Response(status: .noContent)
        }
        admin.post("/contact-submissions/:id/ticket") { _, context in
            let ticket = try await tickets.convert(contactID: try AdminRoutes.id(context), now: now())
            return try Response.json(ticket, status: .created)
        }
    }
}
