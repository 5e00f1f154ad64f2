import FrontdeskCore

/// Console accounts: sign-in, sign-out, first-admin setup and user management.
struct AccountsModule: FeatureModule {
    let context: FeatureContext
    init(_ context: FeatureContext) { self.context = context }

    func addRoutes(to routes: Routes) {
        let runtime = context.runtime
        SessionController(accounts: runtime.accounts, users: context.users, sessions: runtime.state.sessions, throttle: runtime.throttle,
                          setupToken: runtime.setupToken, absoluteLifetimeSeconds: runtime.config.sessionAbsoluteHours * 3600,
                          alwaysSecure: runtime.config.publicURL.hasPrefix("https://")).addRoutes(to: routes)
        UsersController(accounts: runtime.accounts, users: context.users, sessions: runtime.state.sessions).addRoutes(to: routes)
    }
}
