import FrontdeskCore
import Foundation
import HTTPTypes
import Hummingbird

/// The chat over HTTP: the admin history API, and what a plain GET on a socket URL answers
/// (the envelope saying why there was no upgrade).
struct ChatController: Sendable {
    let hub: ChatHub
    let sockets: ChatSockets
    /// Serves the protocol documents beside the OpenAPI document.
    let documents: AssetController

    struct ConversationDetail: Encodable {
        let conversation: ChatConversationView
        let messages: [ChatMessageView]

        func encode(to encoder: any Encoder) throws {
            try conversation.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(messages, forKey: .messages)
        }

        enum Keys: String, CodingKey { case messages }
    }

    func addRoutes(to routes: Routes) {
        routes.site.get("/api/chat-protocol.md") { request, _ in try documents.serve("web/api/chat-protocol.md", request) }
        routes.site.get("/api/asyncapi.json") { request, _ in try documents.serve("web/api/asyncapi.json", request) }
        routes.publicAPI.get("/ws") { request, _ -> Response in
            guard sockets.isAllowedVisitorOrigin(request) else {
                throw FrontdeskError(.forbidden, code: "origin_not_allowed",
                                     message: "Chat sockets from \(request.headers[.origin] ?? "this origin") are not allowed. The site owner can add it to server.site_origins.")
            }
            return Self.upgradeRequiredResponse()
        }
        let admin = routes.admin
        admin.get("/ws") { _, _ -> Response in
            Self.upgradeRequiredResponse()
        }
        let group = admin.group("/chat/conversations")
        group.get { request, context in
            // Paging, search and sorting are parsed like every other console list; every bad parameter in one 422.
            let query = try ListQuery(request.queryDictionary, sortable: ["updatedAt", "createdAt"], defaultSort: "-updatedAt",
                                      filters: ["status": Set(["open", "assigned", "closed"]), "assignee": nil, "visitorId": nil, "userId": nil])
            var filter = ChatConversationFilter(query: query.search, sort: (query.descending ? "-" : "") + query.sort)
            filter.status = query.filters["status"].flatMap(ChatConversationStatus.init(rawValue:))
            switch query.filters["assignee"] {
            case nil: break
            case "me": filter.assigneeId = context.admin.id
            case "none": filter.assigneeId = 0
            case let raw?:
                guard let id = ListQuery.recordID(raw) else { throw FrontdeskError.validation(["assignee": "must be an agent id, me or none"]) }
                filter.assigneeId = id
            }
            filter.visitorId = query.filters["visitorId"].flatMap { $0.isEmpty ? nil : $0 }
            filter.userId = query.filters["userId"].flatMap { $0.isEmpty ? nil : $0 }
            let (items, total) = try await hub.store.list(filter, page: query.page, perPage: query.perPage)
            return try Response.json(Page(items: items.map(hub.view), total: total, page: query.page, perPage: query.perPage))
        }
        group.get("/:id") { _, context in
            let id = try Self.id(context)
            guard let conversation = try await hub.store.conversation(id: id) else { throw FrontdeskError.notFound("Conversation \(id)") }
            let messages = try await hub.store.messages(conversationId: id)
            return try Response.json(ConversationDetail(conversation: hub.view(conversation), messages: messages.map(ChatMessageView.init)))
        }
        group.patch("/:id") { request, context in
            let id = try Self.id(context)
            var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["status", "assigneeId"])
            var close = false
            if let raw = reader.object["status"] {
                if raw == .string("closed") { close = true } else { reader.fail("status", "can only be set to \"closed\"") }
            }
            var assignee: Int64??
            if let raw = reader.object["assigneeId"] {
                switch raw {
                case .null: assignee = .some(nil)
                case .number(let n) where n.rounded() == n && n >= 1 && n <= 9_007_199_254_740_991: assignee = .some(Int64(n))
                default: reader.fail("assigneeId", "must be a positive agent id or null")
                }
            }
            if !close && assignee == nil && reader.problems.isEmpty { reader.fail("status", "give status or assigneeId") }
            try reader.validate()
            let me = ChatAgent(id: context.admin.id, name: context.admin.user.name.isEmpty ? context.admin.user.email : context.admin.user.name)
            var conversation = try await hub.store.conversation(id: id)
            guard conversation != nil else { throw FrontdeskError.notFound("Conversation \(id)") }
            if let assignee {
                // The socket's take/transfer rule; an admin's reassignment here is deliberate (force).
                let rule = ChatAssignmentRule(actorId: me.id, actorIsAdmin: context.admin.user.role == .admin)
                conversation = try await hub.reassign(conversationId: id, to: assignee, by: me, rule: rule).conversation
            }
            if close {
                conversation = try await hub.closeFromConsole(conversationId: id, by: me).conversation
            }
            context.logger.info("chat conversation changed", metadata: ["conversation_id": "\(id)", "by": "\(me.id)"])
            return try Response.json(hub.view(conversation!))
        }
    }

    /// 426 with the envelope: the socket URLs answer plain GETs this way.
    static func upgradeRequiredResponse() -> Response {
        var response = ErrorEnvelope.response(for: FrontdeskError(.badRequest, code: "upgrade_required",
                                                                  message: "This URL is a WebSocket; connect with Upgrade: websocket."))
        response.status = .init(code: 426, reasonPhrase: "Upgrade Required")
        response.headers[.upgrade] = "websocket"
        return response
    }

    static func id(_ context: AdminRequestContext) throws -> Int64 {
        guard let id = context.parameters.get("id").flatMap(Int64.init), id > 0 else { throw FrontdeskError.notFound("The conversation") }
        return id
    }

}

extension ChatHubService {
    /// Closes a conversation from the console and tells everyone concerned.
    func closeFromConsole(conversationId: Int64, by agent: ChatAgent) async throws -> ChatLifecycleResult {
        let result = try await store.close(conversationId: conversationId, by: .agent, agent: agent)
        if result.changed { publishLifecycle(result, reason: "closed", ref: nil, requester: nil) }
        return result
    }

    /// Assigns a conversation to an agent (or back to the queue with nil) from the console.
    /// `rule` is `ChatAssignmentRule`, the same the socket's take and transfer obey.
    func reassign(conversationId: Int64, to agentId: Int64?, by agent: ChatAgent, rule: ChatAssignmentRule) async throws -> ChatLifecycleResult {
        let result: ChatLifecycleResult
        if let agentId {
            guard let target = try await agentLookup(agentId) else {
                throw FrontdeskError.validation(["assigneeId": "is not an active console user"])
            }
            result = try await store.assign(conversationId: conversationId, to: target, kind: .reassign(by: agent), rule: rule,
                                            move: rule.reassignment(to: agentId))
        } else {
            result = try await store.unassign(conversationId: conversationId, by: agent, rule: rule)
        }
        if result.changed { publishLifecycle(result, reason: agentId == nil ? "unassigned" : "transferred", ref: nil, requester: nil) }
        return result
    }
}
