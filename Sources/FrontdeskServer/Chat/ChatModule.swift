import FrontdeskCore
import Foundation
import ServiceLifecycle

/// Live chat: the console's chat API, the protocol documents and the hub behind both sockets;
/// in demo mode, the scripted demo visitor.
struct ChatModule: FeatureModule {
    static var settings: [SettingSpec] { DemoVisitorSettings.all + [ChatRetention.conversations.spec] }
    static var mailTemplates: [String] { ["chat_transcript"] }
    let context: FeatureContext
    init(_ context: FeatureContext) { self.context = context }
    var personalData: [any PersonalDataKind] { [ChatPersonalData()] }

    func addRoutes(to routes: Routes) {
        let runtime = context.runtime
        ChatController(hub: runtime.chat, sockets: ChatSockets(runtime: runtime),
                       documents: AssetController(assets: runtime.assets, demo: false)).addRoutes(to: routes)
    }

    func services() -> [any Service] {
        let runtime = context.runtime
        let interval = runtime.config[DemoVisitorSettings.interval]
        guard runtime.config.demo, interval > 0 else { return [runtime.chat] }
        let links = runtime.links
        return [runtime.chat,
                DemoVisitorService(hub: runtime.chat, pageURL: { links.baseURL + "/demo" }, interval: .seconds(interval),
                                   replyDelay: .seconds(runtime.config[DemoVisitorSettings.replyDelay]), clock: ContinuousClock(),
                                   logger: runtime.logger)]
    }

    /// Chat history for the demo: three finished conversations of the last days, answered by the
    /// demo account, through the chat store (its clock set back to when they happened).
    func seedDemo(now: Date) async throws {
        let runtime = context.runtime
        guard let account = try await DemoAccount.stored(in: AppSettingsStore(database: runtime.database)),
              let user = try await runtime.accounts.find(email: account.email), let userId = user.id else { return }
        let agent = ChatAgent(id: userId, name: user.name.isEmpty ? "Demo Presenter" : user.name)
        let clock = Locked(now)
        let store = ChatStore(database: runtime.database, now: { clock.withLock { $0 } })
        let available = ChatAvailability(available: true, reason: nil, agentsOnline: 1)
        let history: [(hoursAgo: Double, name: String, page: String, lines: [(ChatSender, String)])] = [
            (50, "Mia Sommer", "/demo#breads", [(.visitor, "Hi, is the rye bread vegan?"),
                                  (.agent, "Hello! Yes — rye & caraway is flour, water, salt and caraway, nothing else."),
                                  (.visitor, "Great, thanks!")]),
            (26, "Ben Ortiz", "/demo#cakes", [(.visitor, "Can you write a name on a birthday cake?"),
                                 (.agent, "Of course, up to 20 letters in chocolate. Just add it to your order."),
                                 (.visitor, "Lovely. I'll order through the form then."),
                                 (.agent, "Perfect, we'll confirm by mail within a day.")]),
            (3, "Ada Park", "/demo", [(.visitor, "Do you have parking nearby?"),
                          (.agent, "Yes, free spaces right behind the shop."),
                          (.visitor, "Thank you!")]),
        ]
        for (index, chat) in history.enumerated() {
            let visitor = ChatVisitor(id: ChatIdentity.newVisitorId(), name: chat.name, pageUrl: runtime.links.baseURL + chat.page)
            clock.withLock { $0 = now.addingTimeInterval(-chat.hoursAgo * 3600) }
            var conversationId: Int64?
            for (n, (sender, text)) in chat.lines.enumerated() {
                clock.withLock { $0 = $0.addingTimeInterval(45) }
                let actor: ChatActor = sender == .agent ? .agent(agent) : .visitor(visitor)
                if sender == .agent, let id = conversationId, n == 1 {
                    _ = try await store.assign(conversationId: id, to: agent, kind: .take)
                }
                let sent = try await store.send(ChatSendRequest(actor: actor, conversationId: conversationId,
                                                                clientMessageId: "demo-seed-\(index)-\(n)", text: text, availability: available))
                conversationId = sent.conversation.id
            }
            if let id = conversationId {
                clock.withLock { $0 = $0.addingTimeInterval(120) }
                _ = try await store.close(conversationId: id, by: .agent, agent: agent)
            }
        }
    }
}
