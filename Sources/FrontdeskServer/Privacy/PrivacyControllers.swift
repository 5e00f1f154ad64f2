import FrontdeskCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The subject of a console request body: `{"kind": "email", "value": "ada@example.com"}`.
enum PrivacyInput {
    static let kinds = ["email", "user_id", "visitor", "consent", "ticket"]

    /// Reads `kind` and `value` (plus the route's own fields in `extra`) from `json`.
    static func subject(_ reader: inout FieldReader) -> PrivacySubjectKey? {
        let kind = reader.text("kind", required: true, maxLength: 16)
        let value = reader.text("value", required: true, maxLength: 320)
        if let kind, !kinds.contains(kind) { reader.fail("kind", "must be one of " + kinds.joined(separator: ", ")) }
        guard let kind, let value, kinds.contains(kind) else { return nil }
        return PrivacySubjectKey(lenientKind: kind, value: value)
    }
}

extension PrivacySubjectKey {
    /// Any non-empty value for any kind: an e-mail is lower-cased, a ticket id that is no
    /// number names no ticket. What a search finds is the answer, not a validation error.
    init(lenientKind kind: String, value: String) {
        switch kind {
        case "email": self = .email(value.lowercased())
        case "user_id": self = .userID(value)
        case "visitor": self = .visitor(value)
        case "consent": self = .consent(value)
        default: self = .ticket(Int64(value) ?? 0)
        }
    }
}

/// The console's privacy API (signed in; erasing and approving need the admin role):
/// - `POST privacy/search` — what is held about a subject: the identifiers followed and the manifest;
/// - `POST privacy/export` — the whole export as a JSON download (or its HTML rendering);
/// - `POST privacy/erasures` — erase, with the value typed again as `confirm` (or `dryRun`);
/// - `GET privacy/erasures` — the erasure log; `GET privacy/requests` — the request log with due dates;
/// - `POST privacy/requests/{id}/approve|reject` — answer a confirmed request;
/// - `GET privacy/record` — the record of processing (Markdown; `format=html` or `json`).
struct PrivacyAdminController: Sendable {
    let service: PrivacyService
    let answers: PrivacyAnswers
    let config: FrontdeskConfig
    let now: @Sendable () -> Date

    struct SubjectView: Encodable {
        let emails: [String]
        let userIds: [String]
        let visitors: [String]
        let consentIds: [String]
        let ticketIds: [Int64]
        let conversationIds: [Int64]
        let accountIds: [Int64]
        let names: [String]

        init(_ s: PrivacySubject) {
            emails = s.emails.sorted()
            userIds = s.userIDs.sorted()
            visitors = s.visitors.sorted()
            consentIds = s.consentIDs.sorted()
            ticketIds = s.ticketIDs.sorted()
            conversationIds = s.conversationIDs.sorted()
            accountIds = s.accountIDs.sorted()
            names = s.names.sorted()
        }
    }

    struct SearchView: Encodable {
        let subject: SubjectView
        let manifest: [PrivacyExport.ManifestEntry]
        let rows: Int
        let files: Int
    }

    struct ErasureView: Encodable {
        let dryRun: Bool
        let counts: [String: Int]
        let anonymised: [String: String]
        let files: Int
        let erasureId: Int64?
        let sessionsEnded: Int
    }

    struct RecordView: Encodable {
        let generatedAt: String
        let activities: [ProcessingRecord.Activity]
        let recipients: [String]
        let notes: [String]
    }

    struct LogEntryView: Encodable {
        let id: Int64
        let actor: String
        let counts: [String: Int]
        let files: Int
        let erasedAt: String
    }

    struct RequestView: Encodable {
        let id: Int64
        let kind: String
        let origin: String
        let email: String?
        let status: String
        let createdAt: String
        let confirmedAt: String?
        let dueAt: String
        let completedAt: String?
        let overdue: Bool
        let erasureId: Int64?

        init(_ r: PrivacyRequest, now: String) {
            id = r.id
            kind = r.kind
            origin = r.origin
            email = r.email
            status = r.status
            createdAt = r.createdAt
            confirmedAt = r.confirmedAt
            dueAt = r.dueAt
            completedAt = r.completedAt
            overdue = r.completedAt == nil && ["unconfirmed", "confirmed", "approved"].contains(r.status) && r.dueAt < now
            erasureId = r.erasureID
        }
    }

    static func requireAdmin(_ context: AdminRequestContext) throws {
        guard context.admin.user.role == .admin else {
            throw FrontdeskError(.forbidden, code: "forbidden", message: "Only admins may erase data or answer privacy requests.")
        }
    }

    func addRoutes(to routes: Routes) {
        let admin = routes.admin
        let service = self.service, answers = self.answers, config = self.config, now = self.now
        admin.post("/privacy/search") { request, context in
            var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["kind", "value"])
            let key = PrivacyInput.subject(&reader)
            try reader.validate()
            let export = try await service.export(key!)
            return try Response.json(SearchView(subject: SubjectView(export.subject), manifest: export.manifest, rows: export.rowCount, files: export.files.count))
        }
        admin.post("/privacy/export") { request, context in
            var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["kind", "value", "format"])
            let key = PrivacyInput.subject(&reader)
            let format = reader.text("format", required: false, maxLength: 8) ?? "json"
            if !["json", "html"].contains(format) { reader.fail("format", "must be json or html") }
            try reader.validate()
            let export = try await service.export(key!)
            context.logger.notice("privacy export", metadata: ["by": "\(context.admin.id)", "rows": "\(export.rowCount)"])
            return try Self.download(export, html: format == "html")
        }
        admin.post("/privacy/erasures") { request, context in
            try Self.requireAdmin(context)
            var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["kind", "value", "confirm", "dryRun"])
            let key = PrivacyInput.subject(&reader)
            var dryRun = false
            switch reader.object["dryRun"] {
            case nil, .null?: break
            case .bool(let b)?: dryRun = b
            case let other?: reader.fail("dryRun", "must be a boolean, not \(other.typeName)")
            }
            let confirm = reader.text("confirm", required: !dryRun, maxLength: 320)
            if !dryRun, let confirm, let value = reader.text("value", required: true, maxLength: 320), confirm != value {
                reader.fail("confirm", "must repeat the value exactly, to confirm the erasure")
            }
            try reader.validate()
            let report = try await service.erase(key!, actor: "admin:\(context.admin.id)", dryRun: dryRun)
            return try Response.json(ErasureView(dryRun: report.dryRun, counts: report.counts, anonymised: report.anonymised, files: report.files,
                                                 erasureId: report.erasureID, sessionsEnded: report.sessionsEnded))
        }
        admin.get("/privacy/erasures") { _, _ in
            let log = try await service.erasures()
            return try Response.json(Items(items: log.map { LogEntryView(id: $0.id, actor: $0.actor, counts: $0.counts, files: $0.files, erasedAt: $0.erasedAt) }))
        }
        admin.get("/privacy/requests") { _, _ in
            let stamp = Timestamps.iso8601Milliseconds(now())
            return try Response.json(Items(items: try await answers.requests.list().map { RequestView($0, now: stamp) }))
        }
        admin.post("/privacy/requests/:id/approve") { _, context in
            try Self.requireAdmin(context)
            let request = try await answers.approve(id: try AdminRoutes.id(context), actor: "admin:\(context.admin.id)")
            return try Response.json(RequestView(request, now: Timestamps.iso8601Milliseconds(now())))
        }
        admin.post("/privacy/requests/:id/reject") { _, context in
            try Self.requireAdmin(context)
            let id = try AdminRoutes.id(context)
            guard try await answers.requests.reject(id: id, actor: "admin:\(context.admin.id)", now: now()) else {
                throw FrontdeskError(.conflict, code: "request_closed", message: "Request \(id) is answered already or does not exist.")
            }
            let request = try await answers.requests.find(id: id)!
            return try Response.json(RequestView(request, now: Timestamps.iso8601Milliseconds(now())))
        }
        admin.get("/privacy/record") { request, _ in
            let format = request.uri.queryParameters.get("format") ?? "markdown"
            for key in request.uri.queryParameters.map({ String($0.key) }) where key != "format" {
                throw FrontdeskError.validation([key: "is not a known parameter"])
            }
            guard ["markdown", "html", "json"].contains(format) else { throw FrontdeskError.validation(["format": "must be markdown, html or json"]) }
            let record = ProcessingRecord(config: config, kinds: service.kinds, now: now())
            if format == "json" {
                return try Response.json(RecordView(generatedAt: record.generatedAt, activities: record.activities, recipients: record.recipients, notes: record.notes))
            }
            var headers = HTTPFields()
            headers[.contentType] = format == "html" ? "text/html; charset=utf-8" : "text/markdown; charset=utf-8"
            headers[.cacheControl] = "no-store"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: format == "html" ? record.html : record.markdown)))
        }
    }

    /// The export as an attachment.
    static func download(_ export: PrivacyExport, html: Bool) throws -> Response {
        var headers = HTTPFields()
        headers[.cacheControl] = "no-store"
        let stamp = export.generatedAt.prefix(10)
        if html {
            headers[.contentType] = "text/html; charset=utf-8"
            headers[.contentDisposition] = "attachment; filename=\"privacy-export-\(stamp).html\""
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: PrivacyHTML.render(export))))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"privacy-export-\(stamp).json\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(export))))
    }
}

/// The visitor's side (`<frontdesk-privacy-request>`):
/// - `POST /api/v1/privacy/requests` — ask for a copy or erasure by e-mail; always 202, and a
///   confirmation link mailed to the address (so nobody can ask for someone else's data);
/// - `GET /api/v1/privacy/requests/confirm?token=` — the link's page, which confirms with a POST
///   (a mail scanner fetching the link confirms nothing); `POST …/confirm` confirms;
/// - `GET /api/v1/privacy/downloads?token=` — the download link's page; `POST /api/v1/privacy/downloads`
///   spends the single-use, expiring token and answers with the export.
struct PrivacyRequestController: Sendable {
    let answers: PrivacyAnswers
    let forms: FormsController
    let siteName: String
    let autoApproveAccess: Bool
    let now: @Sendable () -> Date

    struct Accepted: Encodable { let status: String }

    /// A token as the links carry it (URL-safe base64, at most 200 characters); anything else names no request.
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 200 && text.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F
        }
    }

    /// `token` from a form post or a JSON body.
    static func token(_ request: Request, context: AppRequestContext) async throws -> (String?, fromPage: Bool) {
        let mediaType = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        if mediaType == "application/x-www-form-urlencoded" {
            let buffer = try await request.body.collect(upTo: 4096)
            return (HTMLPage.formField("token", in: String(decoding: buffer.readableBytesView, as: UTF8.self)), true)
        }
        var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["token"])
        let token = reader.text("token", required: true, maxLength: 200)
        try reader.validate()
        return (token, false)
    }

    func addRoutes(to routes: Routes) {
        let answers = self.answers, forms = self.forms, siteName = self.siteName, autoApprove = self.autoApproveAccess
        forms.registry.register(PublicForm(id: "privacy", title: "Your data", extras: ["kinds": .array([.string("access"), .string("erasure")])]))
        routes.publicForms.post("/privacy/requests") { request, context in
            let (verdict, fields) = try forms.screen(form: "privacy", try await request.jsonObject(context: context), context: context)
            var reader = FieldReader(fields, allowed: ["kind", "email"])
            let kind = reader.text("kind", required: true, maxLength: 16)
            if let kind, kind != "access" && kind != "erasure" { reader.fail("kind", "must be access or erasure") }
            let email = reader.email("email", required: true)
            try reader.validate()
            if verdict != .discard, let kind, let email {
                try await answers.visitorRequest(kind: kind, email: email)
                context.logger.info("privacy request", metadata: ["kind": "\(kind)", "request_id": "\(context.requestID)"])
            }
            return try Response.json(Accepted(status: "confirmation_sent"), status: .accepted)
        }
        routes.publicAPI.get("/privacy/requests/confirm") { request, _ in
            let token = String(request.uri.queryParameters.get("token") ?? "")
            guard Self.isToken(token) else { return Self.invalidLink() }
            return HTMLPage.response(title: "Confirm your request", heading: "Confirming your request…",
                                     paragraphs: ["One moment: this confirms your request to \(siteName)."],
                                     form: .init(action: "/api/v1/privacy/requests/confirm", hidden: ["token": token], button: "Confirm my request", submitsOnLoad: true))
        }
        routes.publicForms.post("/privacy/requests/confirm") { request, context in
            let (token, fromPage) = try await Self.token(request, context: context)
            guard let token, Self.isToken(token), var confirmed = try await answers.requests.confirm(token: token, now: answers.now()) else {
                if fromPage { return Self.invalidLink() }
                throw FrontdeskError(.notFound, code: "not_found", message: "No request has this token; it may have expired. Ask again.")
            }
            if autoApprove, confirmed.kind == "access", confirmed.status == "confirmed" {
                confirmed = try await answers.approve(id: confirmed.id, actor: "auto")
            }
            context.logger.info("privacy request confirmed", metadata: ["privacy_request": "\(confirmed.id)", "status": "\(confirmed.status)"])
            let paragraph = confirmed.kind == "access"
                ? (confirmed.status == "approved" ? "A download link is on its way to your mailbox; it works once." : "We will mail you a download link once your request has been checked, within 30 days.")
                : "Your data will be erased once your request has been checked, within 30 days; we will not write again."
            if fromPage { return HTMLPage.response(title: "Request confirmed", heading: "Your request is confirmed", paragraphs: [paragraph]) }
            return try Response.json(Accepted(status: confirmed.status))
        }
        routes.publicAPI.get("/privacy/downloads") { request, _ in
            let token = String(request.uri.queryParameters.get("token") ?? "")
            guard Self.isToken(token) else { return Self.invalidLink() }
            return HTMLPage.response(title: "Your data", heading: "Download your data",
                                     paragraphs: ["The link works once: the download starts when you press the button."],
                                     form: .init(action: "/api/v1/privacy/downloads", hidden: ["token": token], button: "Download my data"))
        }
        routes.publicForms.post("/privacy/downloads") { request, context in
            let (token, fromPage) = try await Self.token(request, context: context)
            guard let token, Self.isToken(token), let export = try await answers.download(token: token) else {
                if fromPage { return Self.invalidLink() }
                throw FrontdeskError(.notFound, code: "not_found", message: "This download link is not valid: it was used already or has expired.")
            }
            context.logger.notice("privacy download", metadata: ["rows": "\(export.rowCount)"])
            return try PrivacyAdminController.download(export, html: false)
        }
    }

    static func invalidLink() -> Response {
        HTMLPage.response(status: .notFound, title: "Link not valid", heading: "This link is not valid any more",
                          paragraphs: ["It was used already or has expired. Ask again on the site."])
    }
}
