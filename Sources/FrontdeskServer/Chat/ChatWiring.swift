import FrontdeskCore
import FrontdeskState
import Foundation
import HummingbirdWebSocket
import Logging

extension ChatHubService where C == ContinuousClock {
    /// The hub of one running Frontdesk, from its configuration and shared parts.
    static func make(config: FrontdeskConfig, database: AppDatabase, state: AppState, accounts: AccountStore, outbox: MailOutbox,
                     templates: MailTemplates, tickets: (any ChatTicketSink)?, mailBudget: VisitorMailBudget, webhooks: WebhookOutbox?,
                     logger: Logger, now: @escaping @Sendable () -> Date) -> ChatHub {
        return ChatHub(store: ChatStore(database: database, now: now, webhooks: webhooks), settings: config.chat, limitsEnabled: config.rateLimits.enabled,
                       limiter: state.rateLimiter, sessions: state.sessions, tickets: tickets,
                       agentLookup: { id in
                           guard let user = try await accounts.find(id: id), !user.disabled, let userId = user.id else { return nil }
                           return ChatAgent(id: userId, name: user.name.isEmpty ? user.email : user.name)
                       },
                       outbox: outbox, templates: templates, siteName: config.siteName, logger: logger, now: now, clock: ContinuousClock(),
                       formsPolicy: RateLimitPolicy(name: "forms", limit: config.rateLimits.formsPerMinute, period: .seconds(60),
                                                    burst: config.rateLimits.formsBurst),
                       // One budget per runtime, shared with the public forms.
                       mailBudget: mailBudget,
                       userLookup: { id in try await accounts.find(id: id) })
    }
}

extension ChatSockets {
    /// The chat sockets of one running Frontdesk.
    init(runtime: FrontdeskRuntime) {
        let config = runtime.config
        let publicOrigin = URL(string: config.publicURL).flatMap { url -> String? in
            guard let scheme = url.scheme, let host = url.host else { return nil }
            return "\(scheme)://\(host)" + (url.port.map { ":\($0)" } ?? "")
        }
        self.init(hub: runtime.chat, sessions: runtime.state.sessions,
                  users: CachedUsers(store: runtime.accounts, cache: ReadThrough(cache: runtime.state.cache)),
                  siteOrigins: Set(config.siteOrigins), publicOrigin: publicOrigin,
                  addresses: ClientAddressResolver(trustedProxies: Set(config.trustedProxies)), maxFrameBytes: config.chat.maxFrameBytes,
                  formGuard: runtime.formGuard)
    }

    /// The HTTP/1 server with the WebSocket upgrade. NIO's own frame limit sits well above
    /// `chat.max_frame_bytes`, so an oversize message reaches our reader, which logs it and
    /// closes with 1009; UTF-8 is checked there too (1007).
    static func serverConfiguration(_ config: FrontdeskConfig) -> HTTP1WebSocketUpgradeChannel.Configuration {
        .init(http1: .init(), ws: .init(maxFrameSize: max(config.chat.maxFrameBytes * 4, 1 << 16),
                                        autoPing: .enabled(timePeriod: .seconds(config.chat.pingSeconds)),
                                        closeTimeout: .seconds(5), validateUTF8: false))
    }
}
