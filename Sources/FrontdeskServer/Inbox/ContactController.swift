import FrontdeskCore
import Foundation
import Hummingbird

/// `POST /api/v1/contact`: a visitor's message to the site owner.
struct ContactController: Sendable {
    let store: ContactStore
    let now: @Sendable () -> Date

    struct Created: Encodable {
        let id: Int64
        let status: String
        let createdAt: String
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("/api/v1/contact") { request, context in
            let input = try NewContactSubmission(json: try await request.jsonObject(context: context))
            let stored = try await store.submit(input, userAgent: request.headers[.userAgent], now: now())
            context.logger.info("contact submission stored", metadata: ["contact_id": "\(stored.id ?? 0)", "request_id": "\(context.requestID)"])
            return try Response.json(Created(id: stored.id ?? 0, status: stored.status, createdAt: stored.createdAt), status: .created)
        }
    }
}
