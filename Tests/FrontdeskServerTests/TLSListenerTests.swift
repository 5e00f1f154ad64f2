import Foundation
import FrontdeskCore
import Testing
@testable import FrontdeskServer

/// Where the plain-HTTP redirect listener (`server.http_redirect_port`) sends a request.
@Suite("TLS: the HTTP to HTTPS redirect")
struct TLSRedirectTests {
    @Test("same host, the TLS port, same path and query; 443 is left out; IPv6 literals keep their brackets")
    func location() {
        #expect(HTTPSRedirect.location(host: "desk.example.com:80", pathAndQuery: "/admin/?tab=inbox", publicURL: "", tlsPort: 443)
                == "https://desk.example.com/admin/?tab=inbox")
        #expect(HTTPSRedirect.location(host: "127.0.0.1:8081", pathAndQuery: "/healthz", publicURL: "", tlsPort: 8443)
                == "https://127.0.0.1:8443/healthz")
        #expect(HTTPSRedirect.location(host: "[::1]:8081", pathAndQuery: "/a?b=1", publicURL: "", tlsPort: 8443) == "https://[::1]:8443/a?b=1")
        #expect(HTTPSRedirect.location(host: nil, pathAndQuery: "/", publicURL: "", tlsPort: 443) == "https://localhost/")
    }

    @Test("an https server.public_url is where visitors are sent, whatever Host they named")
    func publicURLWins() {
        #expect(HTTPSRedirect.location(host: "10.0.0.5", pathAndQuery: "/widget.js?v=2", publicURL: "https://desk.example.com", tlsPort: 443)
                == "https://desk.example.com/widget.js?v=2")
        #expect(HTTPSRedirect.location(host: "desk.example.com", pathAndQuery: "/x", publicURL: "http://desk.example.com", tlsPort: 8443)
                == "https://desk.example.com:8443/x")
    }
}
