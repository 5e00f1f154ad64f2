import FrontdeskCore
import Hummingbird

/// Console accounts: sign-in, sign-out, first-admin setup, user management and API tokens.
struct AccountsModule: FeatureModule {
    static var settings: [SettingSpec] { [TokenSettings.requestsPerMinute.spec, TokenSettings.burst.spec, InvitationSettings.ttlHours.spec] }
    static var migrations: [SchemaMigration] { APITokenStore.migrations + InvitationStore.migrations + NotificationPreferenceStore.migrations }
    static var mailTemplates: [String] { [InvitationsController.template] }
    let context: FeatureContext
    init(_ context: FeatureContext) { self.context = context }
    var personalData: [any PersonalDataKind] { [AccountsPersonalData(), InvitationsPersonalData()] }

    func addRoutes(to routes: Routes) {
        let runtime = context.runtime
        let chat = runtime.chat
        let sessionController = SessionController(accounts: runtime.accounts, users: context.users, sessions: runtime.state.sessions, throttle: runtime.throttle,
                          setupToken: runtime.setupToken, absoluteLifetimeSeconds: runtime.config.sessionAbsoluteHours * 3600,
                          alwaysSecure: runtime.config.publicURL.hasPrefix("https://"),
                          accountChanged: { id in await chat.recheckAgents(userId: id) })
        sessionController.addRoutes(to: routes)
        InvitationsController(store: InvitationStore(accounts: runtime.accounts), accounts: runtime.accounts, outbox: runtime.outbox,
                              templates: runtime.mailTemplates, links: runtime.links, siteName: runtime.config.siteName,
                              ttlHours: runtime.config[InvitationSettings.ttlHours], sessions: sessionController, now: runtime.now).addRoutes(to: routes)
        UsersController(accounts: runtime.accounts, users: context.users, sessions: runtime.state.sessions,
                        accountChanged: { id in await chat.recheckAgents(userId: id) }).addRoutes(to: routes)
        TokensController(store: runtime.tokens).addRoutes(to: routes)
        // One's own notification preferences (console sessions only, like the rest of `account`).
        let preferences = NotificationPreferenceStore(database: runtime.database)
        let now = runtime.now
        routes.admin.get("/account/notifications") { _, context in
            try Response.json(try await preferences.preferences(userId: context.admin.id), headers: [.cacheControl: "no-store"])
        }
        routes.admin.patch("/account/notifications") { request, context in
            let changed = try await preferences.preferences(userId: context.admin.id).applying(try await request.jsonObject(context: context))
            try await preferences.save(changed, userId: context.admin.id, now: now())
            return try Response.json(changed)
        }
        // The agents a conversation or ticket can be assigned to.
        let accounts = runtime.accounts
        routes.admin.get("/agents") { _, _ in
            let agents = try await accounts.list().filter { !$0.disabled }.map { AgentView(id: $0.id ?? 0, name: $0.name, email: $0.email, role: $0.role.rawValue) }
            return try Response.json(Items(items: agents))
        }
    }
}
