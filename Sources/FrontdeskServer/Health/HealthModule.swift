import FrontdeskCore

/// `/healthz`, `/readyz` and `/metrics`.
struct HealthModule: FeatureModule {
    let context: FeatureContext
    init(_ context: FeatureContext) { self.context = context }

    func addRoutes(to routes: Routes) {
        let runtime = context.runtime
        HealthController(database: runtime.database, registry: runtime.registry,
                         metricsAccess: MetricsAccess(token: runtime.config.connections.metricsToken),
                         stateMetrics: StateMetrics(state: runtime.state, factory: runtime.metricsFactory)).addRoutes(to: routes)
    }
}
