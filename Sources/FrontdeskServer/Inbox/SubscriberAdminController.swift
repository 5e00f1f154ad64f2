import FrontdeskCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The console's newsletter subscribers: list with counts, CSV export and import, delete.
struct SubscriberAdminController: Sendable {
    let newsletter: NewsletterStore
    let now: @Sendable () -> Date

    func addRoutes(to routes: Routes) {
        let admin = routes.admin
        admin.get("/newsletter/subscribers") { request, _ in
            let query = try ListQuery(request.queryDictionary, sortable: NewsletterStore.sortable, defaultSort: "-subscribedAt", filters: NewsletterStore.filters)
            var page = try await newsletter.list(query).map(SubscriberView.init)
            page.counts = try await newsletter.counts()
            return try Response.json(page)
        }
        admin.get("/newsletter/subscribers/export") { request, _ in
            let query = try ListQuery(request.queryDictionary, sortable: NewsletterStore.sortable, defaultSort: "subscribedAt", filters: NewsletterStore.filters)
            return AdminRoutes.csvResponse(filename: "newsletter-subscribers.csv", header: NewsletterSubscription.exportHeader) { after in
                let rows = try await newsletter.exportBatch(query, after: after)
                return (rows.map(\.exportFields), rows.last?.id)
            }
        }
        admin.post("/newsletter/subscribers/import") { request, context in
            let confirmedRaw = request.uri.queryParameters.get("confirmed") ?? "false"
            guard confirmedRaw == "true" || confirmedRaw == "false" else {
                throw FrontdeskError.validation(["confirmed": "must be true or false"])
            }
            let mediaType = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            guard mediaType == "text/csv" || mediaType == "text/plain" else {
                throw FrontdeskError(.unsupportedMediaType, code: "unsupported_media_type", message: "Send the subscribers as text/csv (email,name,topics per line).")
            }
            let buffer: ByteBuffer
            do {
                buffer = try await request.body.collect(upTo: AdminRoutes.maxImportBytes)
            } catch let error as HTTPError where error.status == .contentTooLarge {
                throw Request.tooLarge(limit: AdminRoutes.maxImportBytes)
            }
            let result = try await newsletter.importCSV(String(buffer: buffer), confirmed: confirmedRaw == "true", now: now())
            context.logger.notice("subscribers imported", metadata: ["imported": "\(result.imported)", "skipped": "\(result.skipped)",
                                                                     "confirmed": "\(confirmedRaw)", "by": "\(context.admin.id)"])
            return try Response.json(result)
        }
        admin.delete("/newsletter/subscribers/:id") { _, context in
            try await newsletter.delete(id: try AdminRoutes.id(context))
            return Response(status: .noContent)
        }
    }
}
