import Hummingbird

// The reference for Benchmarks/http.sh: one Hummingbird route answering 204 with no middleware,
// so the benchmark shows what Frontdesk's own stack costs on top of the framework.
let port = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 8090 : 8090
let router = Router()
router.get("/healthz") { _, _ in HTTPResponse.Status.noContent }
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
