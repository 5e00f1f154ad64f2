import FrontdeskCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The console's mail outbox: every mail with its status and last error, and retry.
struct MailAdminController: Sendable {
    let outbox: MailOutbox
    let now: @Sendable () -> Date

    func addRoutes(to routes: Routes) {
        let admin = routes.admin
        admin.get("/mail") { request, _ in
            let query = try ListQuery(request.queryDictionary, sortable: ["createdAt"], defaultSort: "-createdAt",
                                      filters: ["status": Set(MailStatus.allCases.map(\.rawValue))])
            let status = query.filters["status"].flatMap(MailStatus.init(rawValue:))
            let counts = try await outbox.countsByStatus()
            let items = try await outbox.list(status: status, limit: query.perPage, offset: query.offset)
            let total = status.map { counts[$0] ?? 0 } ?? counts.values.reduce(0, +)
            return try Response.json(Page(items: items.map(MailView.init), total: total, page: query.page, perPage: query.perPage,
                                          counts: Dictionary(uniqueKeysWithValues: MailStatus.allCases.map { ($0.rawValue, counts[$0] ?? 0) })))
        }
        admin.post("/mail/:id/retry") { _, context in
            return try Response.json(MailView(try await outbox.retry(id: try AdminRoutes.id(context))))
        }
    }
}
