import FrontdeskCore
import ServiceLifecycle

/// Live chat: the console's chat API, the protocol documents and the hub behind both sockets.
struct ChatModule: FeatureModule {
    static var mailTemplates: [String] { ["chat_transcript"] }
    static var settings: [SettingSpec] { [ChatRetention.conversations.spec] }
    let context: FeatureContext
    init(_ context: FeatureContext) { self.context = context }
    var personalData: [any PersonalDataKind] { [ChatPersonalData()] }

    func addRoutes(to routes: Routes) {
        let runtime = context.runtime
        ChatController(hub: runtime.chat, sockets: ChatSockets(runtime: runtime),
                       documents: AssetController(assets: runtime.assets, demo: false)).addRoutes(to: routes)
    }

    func services() -> [any Service] { [context.runtime.chat] }
}
