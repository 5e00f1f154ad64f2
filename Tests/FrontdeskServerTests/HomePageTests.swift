import Foundation
import FrontdeskCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import FrontdeskServer

/// The front page (`GET /`, `server.root`) and the API reference page (`GET /api/`).
@Suite struct HomePageTests {
    @Test func theFrontPageSaysWhatTheServerIsAndShowsTheSnippet() async throws {
        let env = try TestEnvironment(flags: ["server.public_url": "https://desk.example.com", "site.name": "Lakeside <Bakery>"])
        try await env.application().test(.router) { client in
            let page = try await client.execute(uri: "/", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            // The document policy: scripts from our own origin only, no inline script.
            #expect(page.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            #expect(page.headers[.contentSecurityPolicy]?.contains("unsafe-inline") == false)
            let html = page.text
            #expect(html.contains("&lt;script src=\"https://desk.example.com/widget.js\" defer&gt;&lt;/script&gt;"))
            #expect(html.contains("id=\"copy-snippet\""))
            #expect(html.contains("href=\"/admin/\""))
            #expect(html.contains("href=\"/api/\""))
            #expect(html.contains("href=\"/healthz\""))
            // The site's name is text, never markup.
            #expect(html.contains("Lakeside &lt;Bakery&gt;"))
            #expect(!html.contains("<Bakery>"))
            // Not in demo mode: no demo link, no template markers left.
            #expect(!html.contains("href=\"/demo\""))
            #expect(!html.contains("<!--demo"))
            #expect(!html.contains("@BASE@"))
            #expect(!html.contains("<script>"), "no inline script")
            // The page's own script and style are served.
            #expect(try await client.execute(uri: "/static/home.js", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/static/home.css", method: .get).status == .ok)
        }
    }

    @Test func inDemoModeTheFrontPageLinksTheDemo() async throws {
        let env = try TestEnvironment(flags: ["demo.enabled": "true"])
        try await env.application().test(.router) { client in
            let html = try await client.execute(uri: "/", method: .get).text
            #expect(html.contains("href=\"/demo\""))
            #expect(html.contains("Demo mode"))
            #expect(!html.contains("<!--demo"))
        }
    }

    @Test func serverRootRedirectsToTheConsoleOrTheOwnersSite() async throws {
        let console = try TestEnvironment(flags: ["server.root": "console"])
        try await console.application().test(.router) { client in
            let answer = try await client.execute(uri: "/", method: .get)
            #expect(answer.status == .found)
            #expect(answer.headers[.location] == "/admin/")
        }
        let site = try TestEnvironment(["FRONTDESK_SERVER_ROOT": "https://www.bakery.example/"])
        try await site.application().test(.router) { client in
            let answer = try await client.execute(uri: "/", method: .get)
            #expect(answer.status == .found)
            #expect(answer.headers[.location] == "https://www.bakery.example/")
        }
    }

    @Test(arguments: ["pages", "ftp://example.com/", "https://", "/admin/", "https://exa mple.com/"])
    func aBadServerRootIsANamedConfigurationError(_ value: String) throws {
        do {
            _ = try FrontdeskConfig.load(file: nil, environment: [:], flags: ["server.root": value], features: FeatureModules.settings)
            Issue.record("server.root = \(value) was accepted")
        } catch let errors as ConfigErrors {
            let text = "\(errors)"
            #expect(text.contains("\"server.root\" must be \"page\", \"console\" or an http:// or https:// URL"), "\(text)")
            #expect(text.contains(value))
        }
    }

    @Test func theAPIReferencePageLoadsItsOwnScriptAndNoCDN() async throws {
        let env = try TestEnvironment()
        try await env.application().test(.router) { client in
            for uri in ["/api", "/api/"] {
                let page = try await client.execute(uri: uri, method: .get)
                #expect(page.status == .ok, "\(uri)")
                let html = page.text
                #expect(html.contains("id=\"docs-api\""))
                #expect(html.contains("id=\"docs-protocol\""))
                #expect(!html.contains("https://"), "everything from this server")
                let script = try #require(html.firstMatch(of: /src="(\/admin\/apidocs\.[0-9a-f]{10}\.js)"/)?.1)
                let js = try await client.execute(uri: String(script), method: .get)
                #expect(js.status == .ok)
                #expect(js.headers[.contentType]?.contains("javascript") == true)
            }
        }
    }
}
