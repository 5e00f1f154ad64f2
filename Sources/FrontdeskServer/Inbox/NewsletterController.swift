import FrontdeskCore
import Foundation
import Hummingbird
import NIOCore

/// Newsletter sign-up with double opt-in:
/// - `POST /api/v1/newsletter/subscriptions` → 202 `pending` (the same answer for any address,
///   so nobody learns who is subscribed) and a confirmation mail;
/// - `GET /api/v1/newsletter/confirm?token=` is the link in the mail: its page confirms by a POST
///   its script sends on load (a `<noscript>` button without script), so one click still does it,
///   while a mail scanner that only fetches the link confirms nothing; `POST` confirms — the
///   page's form `token=…`, or JSON `{token}`;
/// - `GET /api/v1/newsletter/unsubscribe?token=` shows one button (a GET never unsubscribes:
///   mail scanners follow links); `POST` unsubscribes — JSON `{token}` from the widget, or the
///   RFC 8058 one-click body `List-Unsubscribe=One-Click` a mail client sends.
struct NewsletterController: Sendable {
    let store: NewsletterStore
    let forms: FormsController
    let idempotent: IdempotentResponder
    let siteName: String
    let now: @Sendable () -> Date

    struct Accepted: Encodable {
        let status: String
    }

    static func invalidLinkPage() -> Response {
        HTMLPage.response(status: .notFound, title: "Link not valid", heading: "This link is not valid any more",
                          paragraphs: ["The sign-up may have expired or been removed. Sign up again on the site to get a new link."])
    }

    /// The page after confirming: subscribed, or (an old link of an address that left) unsubscribed.
    func confirmedPage(_ row: NewsletterSubscription) -> Response {
        if row.status == .unsubscribed {
            return HTMLPage.response(title: "Unsubscribed", heading: "You are unsubscribed",
                                     paragraphs: ["This address left the \(siteName) newsletter, so this older link does nothing. Sign up again on the site to come back."])
        }
        return HTMLPage.response(title: "Subscribed", heading: "You are subscribed",
                                 paragraphs: ["Thank you: \(row.email) now receives the \(siteName) newsletter.",
                                              "Every mail has a link to unsubscribe with one click."])
    }

    func addRoutes(to routes: Routes) {
        let settings = forms.config.newsletter
        forms.registry.register(PublicForm(id: "newsletter", title: "Newsletter", extras: [
            "topics": .array(settings.topics.map { .object(["id": .string($0.id), "label": .string($0.label)]) }),
            "consentText": .string(settings.consentText),
            "consentVersion": .string(settings.consentVersion),
        ]))
        routes.publicForms.post("/newsletter/subscriptions") { request, context in
            let (json, body) = try await request.jsonBody(context: context)
            return try await idempotent.respond(scope: "newsletter", request: request, context: context, body: body) { recorder in
                let (verdict, fields) = try forms.screen(form: "newsletter", json, context: context)
                // Validated before the honeypot's verdict: a bot's bad post gets the same 422 as anybody's.
                let input = try NewSubscription(json: fields, topics: forms.config.newsletter.topics)
                if verdict == .discard { return try Response.json(Accepted(status: "pending"), status: .accepted) }
                let outcome = try await store.subscribe(input, clientNetwork: ClientAddress.truncated(context.clientAddress), now: now()) { db in
                    try recorder.record(.accepted, Accepted(status: "pending"), in: db)
                }
                context.logger.info("newsletter sign-up", metadata: ["outcome": "\(outcome)", "request_id": "\(context.requestID)"])
                return try Response.json(Accepted(status: "pending"), status: .accepted)
            }
        }
        routes.publicAPI.get("/newsletter/confirm") { request, _ in
            let token = request.uri.queryParameters.get("token") ?? ""
            guard !token.isEmpty, let row = try await store.find(token: token) else { return Self.invalidLinkPage() }
            if row.status == .pending {
                // Nothing changes on a GET: the page's script (or its button) sends the POST.
                return HTMLPage.response(title: "Confirm your subscription", heading: "Confirming your subscription…",
                                         paragraphs: ["One moment: this confirms that \(row.email) wants the \(siteName) newsletter."],
                                         form: .init(action: "/api/v1/newsletter/confirm", hidden: ["token": token], button: "Confirm my subscription",
                                                     submitsOnLoad: true))
            }
            return confirmedPage(row)
        }
        routes.publicForms.post("/newsletter/confirm") { request, context in
            let mediaType = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            let token: String?
            let fromPage = mediaType == "application/x-www-form-urlencoded"
            if fromPage {
                let buffer = try await request.body.collect(upTo: 4096)
                token = HTMLPage.formField("token", in: String(decoding: buffer.readableBytesView, as: UTF8.self))
            } else {
                var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["token"])
                token = reader.text("token", required: true, maxLength: 200)
                try reader.validate()
            }
            guard let token, !token.isEmpty, let row = try await store.confirm(token: token, now: now()) else {
                if fromPage { return Self.invalidLinkPage() }
                throw FrontdeskError(.notFound, code: "not_found", message: "No sign-up has this token; it may have expired. Sign up again.")
            }
            context.logger.info("newsletter confirmation", metadata: ["subscription_id": "\(row.id ?? 0)", "status": "\(row.status)"])
            if fromPage { return confirmedPage(row) }
            return try Response.json(Accepted(status: row.status.rawValue))
        }
        routes.publicAPI.get("/newsletter/unsubscribe") { request, _ in
            let token = request.uri.queryParameters.get("token") ?? ""
            guard !token.isEmpty, let row = try await store.find(token: token) else {
                return HTMLPage.response(status: .notFound, title: "Link not valid", heading: "This link is not valid any more",
                                         paragraphs: ["There is no subscription for it; nothing to do."])
            }
            if row.status == .unsubscribed {
                return HTMLPage.response(title: "Unsubscribed", heading: "You are unsubscribed", paragraphs: ["\(row.email) gets no more newsletters."])
            }
            return HTMLPage.response(title: "Unsubscribe", heading: "Unsubscribe \(row.email)?",
                                     paragraphs: ["You will get no more \(siteName) newsletters."],
                                     form: .init(action: "/api/v1/newsletter/unsubscribe?token=" + (token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""),
                                                 hidden: ["List-Unsubscribe": "One-Click"], button: "Unsubscribe"))
        }
        routes.publicForms.post("/newsletter/unsubscribe") { request, context in
            let mediaType = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            var token: String? = request.uri.queryParameters.get("token").map { String($0) }
            var fromPage = false
            if mediaType == "application/x-www-form-urlencoded" || mediaType == "multipart/form-data" {
                // RFC 8058: the body is `List-Unsubscribe=One-Click`; the token is in the URL.
                let buffer = try await request.body.collect(upTo: 4096)
                let form = String(decoding: buffer.readableBytesView, as: UTF8.self)
                guard form.contains("List-Unsubscribe=One-Click") else {
                    throw FrontdeskError.validation(["List-Unsubscribe": "must be One-Click (RFC 8058)"])
                }
                fromPage = (request.headers[.accept] ?? "").contains("text/html")
            } else {
                var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["token"])
                token = reader.text("token", required: true, maxLength: 200)
                try reader.validate()
            }
            // A one-click post carries its token in the link; without one, no subscription is named.
            guard let token, !token.isEmpty, let row = try await store.unsubscribe(token: token, now: now()) else {
                throw FrontdeskError(.notFound, code: "not_found", message: "No subscription has this token.")
            }
            context.logger.info("newsletter unsubscribe", metadata: ["subscription_id": "\(row.id ?? 0)"])
            if fromPage {
                return HTMLPage.response(title: "Unsubscribed", heading: "You are unsubscribed", paragraphs: ["\(row.email) gets no more newsletters."])
            }
            return try Response.json(Accepted(status: "unsubscribed"))
        }
    }
}

/// Small server-rendered pages (confirmation, unsubscribe) styled by `/static/page.css`; every
/// value is HTML-escaped and the only script is the served file `/static/submit-on-load.js`, so
/// the strict document CSP (no inline script) holds.
enum HTMLPage {
    struct Form {
        let action: String
        let hidden: [String: String]
        let button: String
        /// Sent by `/static/submit-on-load.js` as soon as the page loads; the button is then only
        /// in `<noscript>`, for browsers without script.
        var submitsOnLoad = false
    }

    /// The value of `name` in an `application/x-www-form-urlencoded` body; nil when absent.
    static func formField(_ name: String, in body: String) -> String? {
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == name else { continue }
            return String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }
        return nil
    }

    static func response(status: HTTPResponse.Status = .ok, title: String, heading: String, paragraphs: [String], form: Form? = nil) -> Response {
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="robots" content="noindex"><title>\(SafeHTML.escape(title))</title><link rel="stylesheet" href="/static/page.css"></head>
            <body><main class="card"><h1>\(SafeHTML.escape(heading))</h1>
            """
        for paragraph in paragraphs { html += "<p>\(SafeHTML.escape(paragraph))</p>" }
        if let form {
            html += "<form method=\"post\" action=\"\(SafeHTML.escape(form.action))\"\(form.submitsOnLoad ? " data-submit-on-load" : "")>"
            for (name, value) in form.hidden.sorted(by: { $0.key < $1.key }) {
                html += "<input type=\"hidden\" name=\"\(SafeHTML.escape(name))\" value=\"\(SafeHTML.escape(value))\">"
            }
            let button = "<button type=\"submit\">\(SafeHTML.escape(form.button))</button>"
            html += (form.submitsOnLoad ? "<noscript>\(button)</noscript>" : button) + "</form>"
        }
        html += "</main>"
        if form?.submitsOnLoad == true { html += "<script src=\"/static/submit-on-load.js\" defer></script>" }
        html += "</body></html>\n"
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

}
