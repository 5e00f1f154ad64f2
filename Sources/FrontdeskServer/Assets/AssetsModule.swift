import FrontdeskCore

/// The embedded files: the console, the widget, the demo site, the ticket page, the API documents.
struct AssetsModule: FeatureModule {
    let context: FeatureContext
    init(_ context: FeatureContext) { self.context = context }

    func addRoutes(to routes: Routes) {
        AssetController(assets: context.runtime.assets, demo: context.runtime.config.demo, config: context.runtime.config).addRoutes(to: routes)
    }
}
