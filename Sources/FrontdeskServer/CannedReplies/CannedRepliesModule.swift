import FrontdeskCore
import Foundation
import Hummingbird

/// Canned replies kept on the server: the team's shared ones (admins keep them) and each
/// user's own, offered by the chat composer when an agent types `/`.
struct CannedRepliesModule: FeatureModule {
    static var migrations: [SchemaMigration] { CannedReplyStore.migrations }
    let context: FeatureContext
    init(_ context: FeatureContext) { self.context = context }

    func addRoutes(to routes: Routes) {
        CannedRepliesController(store: CannedReplyStore(database: context.runtime.database), now: context.runtime.now).addRoutes(to: routes)
    }

    /// The shared replies a team starts with, variables included, so the composer has something to offer.
    func seedDemo(now: Date) async throws {
        try await CannedReplyStore(database: context.runtime.database).seedShared(CannedRepliesController.starterReplies, now: now)
    }
}

/// `GET/POST /api/v1/admin/canned-replies`, `PATCH/DELETE /api/v1/admin/canned-replies/{id}`:
/// everybody reads the shared replies and their own; an agent adds and changes their own
/// (`scope: "personal"`), an admin also the shared ones (`scope: "shared"`). Someone else's
/// personal reply is not there for anybody else (404), not even for an admin.
struct CannedRepliesController: Sendable {
    let store: CannedReplyStore
    let now: @Sendable () -> Date

    static let starterReplies: [(String, String)] = [
        ("hello", "Hello {{visitor.name}}! I'm {{agent.name}} — how can I help?"),
        ("moment", "Let me check that for you, one moment please."),
        ("email", "Shall I send the details to {{visitor.email}}?"),
        ("thanks", "Thanks for chatting with us, {{visitor.name}}. Have a great day!"),
    ]

    /// A reply as the API shows it.
    struct ReplyView: Encodable {
        let id: Int64
        let shortcut: String
        let text: String
        /// `shared` (the team's) or `personal` (the caller's own).
        let scope: String
        /// Whether the caller may change or delete it.
        let editable: Bool
        let createdAt: String
        let updatedAt: String

        init(_ reply: CannedReply, for admin: AuthenticatedAdmin) {
            id = reply.id ?? 0
            shortcut = reply.shortcut
            text = reply.text
            scope = reply.isShared ? "shared" : "personal"
            editable = !reply.isShared || admin.user.role == .admin
            createdAt = reply.createdAt
            updatedAt = reply.updatedAt
        }
    }

    static let sharedNeedsAdmin = FrontdeskError(.forbidden, code: "forbidden", message: "Only admins may change the team's shared replies.")

    /// The reply `id` as the caller may change it: 404 when it is someone else's, 403 when shared and the caller no admin.
    func editable(_ id: Int64, by admin: AuthenticatedAdmin) async throws -> CannedReply {
        guard let reply = try await store.find(id: id), reply.isShared || reply.ownerId == admin.id else {
            throw FrontdeskError.notFound("The canned reply")
        }
        if reply.isShared && admin.user.role != .admin { throw Self.sharedNeedsAdmin }
        return reply
    }

    func addRoutes(to routes: Routes) {
        let group = routes.admin.group("/canned-replies")
        group.get { _, context in
            let replies = try await store.list(for: context.admin.id)
            return try Response.json(Items(items: replies.map { ReplyView($0, for: context.admin) }), headers: [.cacheControl: "no-store"])
        }
        group.post { request, context in
            let input = try CannedReplyInput(json: try await request.jsonObject(context: context), partial: false)
            let shared = input.shared ?? false
            if shared && context.admin.user.role != .admin { throw Self.sharedNeedsAdmin }
            let reply = try await store.create(shortcut: input.shortcut ?? "", text: input.text ?? "", ownerId: shared ? nil : context.admin.id, now: now())
            context.logger.info("canned reply created", metadata: ["canned_reply_id": "\(reply.id ?? 0)", "scope": "\(shared ? "shared" : "personal")"])
            return try Response.json(ReplyView(reply, for: context.admin), status: .created)
        }
        group.patch("/:id") { request, context in
            let id = try AdminRoutes.id(context)
            let input = try CannedReplyInput(json: try await request.jsonObject(context: context), partial: true)
            let current = try await editable(id, by: context.admin)
            var owner: Int64??
            if let shared = input.shared, shared != current.isShared {
                if context.admin.user.role != .admin { throw Self.sharedNeedsAdmin }
                owner = .some(shared ? nil : context.admin.id)
            }
            let reply = try await store.update(id: id, shortcut: input.shortcut, text: input.text, ownerId: owner, now: now())
            return try Response.json(ReplyView(reply, for: context.admin))
        }
        group.delete("/:id") { _, context in
            let id = try AdminRoutes.id(context)
            _ = try await editable(id, by: context.admin)
            _ = try await store.delete(id: id)
            context.logger.info("canned reply deleted", metadata: ["canned_reply_id": "\(id)"])
            return Response(status: .noContent)
        }
    }
}
