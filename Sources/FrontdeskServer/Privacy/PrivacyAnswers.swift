import FrontdeskCore
import Foundation
import GRDB

/// The privacy mails: the confirmation link of a visitor's request and the download link that
/// answers an access request. Rendered before the write, enqueued inside it.
struct PrivacyMailer: Sendable {
    static let templates = ["privacy_request_confirm", "privacy_access_ready"]
    static let confirmKind = MailKind(rawValue: "privacy_request_confirm")
    static let accessKind = MailKind(rawValue: "privacy_access_ready")

    let outbox: MailOutbox
    let templates: MailTemplates
    let siteName: String
    let links: PublicLinks

    func confirmation(kind: String, to email: String, token: String) throws -> @Sendable (Database, Int64) throws -> Void {
        let content = try templates.render("privacy_request_confirm", values: [
            "site_name": siteName, "is_access": kind == "access", "is_erasure": kind == "erasure",
            "confirm_url": links.url("/api/v1/privacy/requests/confirm", query: [("token", token)]),
            "hours": PrivacyRequestStore.confirmHours,
        ])
        let address = try MailAddress(email, field: "email")
        let outbox = self.outbox
        return { db, id in
            _ = try outbox.enqueue(OutgoingMail(kind: Self.confirmKind, to: address, content: content, idempotencyKey: "privacy-confirm-\(id)"), in: db)
        }
    }

    func accessReady(to email: String, token: String, hours: Int) throws -> @Sendable (Database, PrivacyRequest) throws -> Void {
        let content = try templates.render("privacy_access_ready", values: [
            "site_name": siteName, "hours": hours,
            "download_url": links.url("/api/v1/privacy/downloads", query: [("token", token)]),
        ])
        let address = try MailAddress(email, field: "email")
        let outbox = self.outbox
        return { db, request in
            _ = try outbox.enqueue(OutgoingMail(kind: Self.accessKind, to: address, content: content), in: db)
        }
    }
}

/// How requests are answered, shared by the console and the visitor's links.
struct PrivacyAnswers: Sendable {
    let service: PrivacyService
    let requests: PrivacyRequestStore
    let mailer: PrivacyMailer
    let downloadHours: Int
    let now: @Sendable () -> Date

    /// A visitor's request: stored unconfirmed, and the confirmation link mailed to the address.
    func visitorRequest(kind: String, email: String) async throws {
        let token = Secrets.urlSafeToken()
        let mail = try mailer.confirmation(kind: kind, to: email, token: token)
        _ = try await requests.create(kind: kind, email: email, origin: "visitor", actor: nil, token: token, now: now(), prepare: mail)
    }

    /// Approves a confirmed request: an access request gets its download link mailed, an erasure
    /// request is carried out. 409 when the request is not waiting for an answer.
    func approve(id: Int64, actor: String) async throws -> PrivacyRequest {
        guard let request = try await requests.find(id: id) else { throw FrontdeskError.notFound("The request") }
        guard request.status == "confirmed" || (request.kind == "access" && request.status == "approved"), let email = request.email else {
            throw FrontdeskError(.conflict, code: "request_not_confirmed",
                                 message: "Request \(id) is \(request.status); only a confirmed request can be approved.")
        }
        if request.kind == "access" {
            let token = Secrets.urlSafeToken()
            let mail = try mailer.accessReady(to: email, token: token, hours: downloadHours)
            guard let approved = try await requests.approveAccess(id: id, token: token, hours: downloadHours, actor: actor, now: now(), prepare: mail) else {
                throw FrontdeskError(.conflict, code: "request_not_confirmed", message: "Request \(id) is not a confirmed access request.")
            }
            return approved
        }
        let report = try await service.erase(.email(email), actor: actor, dryRun: false)
        try await requests.markErased(id: id, erasureID: report.erasureID ?? 0, actor: actor, now: now())
        return try await requests.find(id: id) ?? request
    }

    /// The export a download link opens, once; nil for an unknown, used or expired link.
    func download(token: String) async throws -> PrivacyExport? {
        guard let request = try await requests.redeemDownload(token: token, now: now()), let email = request.email else { return nil }
        return try await service.export(.email(email))
    }
}
