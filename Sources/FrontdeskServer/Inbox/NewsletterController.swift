import FrontdeskCore
import Foundation
import Hummingbird
import NIOCore

/// Newsletter sign-up with double opt-in:
/// - `POST /api/v1/newsletter/subscriptions` → 202 `pending` (the same answer for any address,
///   so nobody learns who is subscribed) and a confirmation mail;
/// - `GET /api/v1/newsletter/confirm?token=` confirms in one click and says so on a page;
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

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("/api/v1/newsletter/subscriptions") { request, context in
            let (json, body) = try await request.jsonBody(context: context)
            return try await idempotent.respond(scope: "newsletter", request: request, context: context, body: body) { recorder in
                let (verdict, fields) = try forms.guard.screen(form: "newsletter", json)
                if verdict == .discard { return try Response.json(Accepted(status: "pending"), status: .accepted) }
                let input = try NewSubscription(json: fields, topics: forms.config.newsletter.topics)
                let outcome = try await store.subscribe(input, clientNetwork: ClientAddress.truncated(context.clientAddress), now: now()) { db in
                    try recorder.record(.accepted, Accepted(status: "pending"), in: db)
                }
                context.logger.info("newsletter sign-up", metadata: ["outcome": "\(outcome)", "request_id": "\(context.requestID)"])
                return try Response.json(Accepted(status: "pending"), status: .accepted)
            }
        }
        router.get("/api/v1/newsletter/confirm") { request, _ in
            let token = request.uri.queryParameters.get("token") ?? ""
            guard !token.isEmpty, let row = try await store.confirm(token: token, now: now()) else {
                return HTMLPage.response(status: .notFound, title: "Link not valid", heading: "This link is not valid any more",
                                         paragraphs: ["The sign-up may have expired or been removed. Sign up again on the site to get a new link."])
            }
            if row.status == "unsubscribed" {
                return HTMLPage.response(title: "Unsubscribed", heading: "You are unsubscribed",
                                         paragraphs: ["This address left the \(siteName) newsletter, so this older link does nothing. Sign up again on the site to come back."])
            }
            return HTMLPage.response(title: "Subscribed", heading: "You are subscribed",
                                     paragraphs: ["Thank you: \(row.email) now receives the \(siteName) newsletter.",
                                                  "Every mail has a link to unsubscribe with one click."])
        }
        router.get("/api/v1/newsletter/unsubscribe") { request, _ in
            let token = request.uri.queryParameters.get("token") ?? ""
            guard !token.isEmpty, let row = try await store.find(token: token) else {
                return HTMLPage.response(status: .notFound, title: "Link not valid", heading: "This link is not valid any more",
                                         paragraphs: ["There is no subscription for it; nothing to do."])
            }
            if row.status == "unsubscribed" {
                return HTMLPage.response(title: "Unsubscribed", heading: "You are unsubscribed", paragraphs: ["\(row.email) gets no more newsletters."])
            }
            return HTMLPage.response(title: "Unsubscribe", heading: "Unsubscribe \(row.email)?",
                                     paragraphs: ["You will get no more \(siteName) newsletters."],
                                     form: .init(action: "/api/v1/newsletter/unsubscribe?token=" + (token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""),
                                                 hidden: ["List-Unsubscribe": "One-Click"], button: "Unsubscribe"))
        }
        router.post("/api/v1/newsletter/unsubscribe") { request, context in
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
            guard let token, !token.isEmpty else { throw FrontdeskError.validation(["token": "is required"]) }
            guard let row = try await store.unsubscribe(token: token, now: now()) else {
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
/// value is HTML-escaped and there is no script, so the strict document CSP holds.
enum HTMLPage {
    struct Form {
        let action: String
        let hidden: [String: String]
        let button: String
    }

    static func response(status: HTTPResponse.Status = .ok, title: String, heading: String, paragraphs: [String], form: Form? = nil) -> Response {
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="robots" content="noindex"><title>\(escape(title))</title><link rel="stylesheet" href="/static/page.css"></head>
            <body><main class="card"><h1>\(escape(heading))</h1>
            """
        for paragraph in paragraphs { html += "<p>\(escape(paragraph))</p>" }
        if let form {
            html += "<form method=\"post\" action=\"\(escape(form.action))\">"
            for (name, value) in form.hidden.sorted(by: { $0.key < $1.key }) {
                html += "<input type=\"hidden\" name=\"\(escape(name))\" value=\"\(escape(value))\">"
            }
            html += "<button type=\"submit\">\(escape(form.button))</button></form>"
        }
        html += "</main></body></html>\n"
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
