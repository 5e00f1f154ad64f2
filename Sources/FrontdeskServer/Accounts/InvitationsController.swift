import FrontdeskCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The invitations' settings, declared once.
enum InvitationSettings {
    static let ttlHours = Setting<Int>.integer("accounts.invitation_ttl", env: "FRONTDESK_ACCOUNTS_INVITATION_TTL", default: 72, range: 1...720,
                                               doc: "Hours an invitation link to the console works (once) after it was sent.")
}

/// Invitations by mail:
/// - `GET/POST /api/v1/admin/invitations`, `DELETE /api/v1/admin/invitations/{id}`: admins invite
///   an e-mail with a role (the mail goes through the outbox in the same transaction), list and revoke;
/// - `GET /api/v1/admin/invitations/accept?token=`: the link's page, where the person sets their
///   own name and password (a used, revoked or expired link gets a page that says so);
/// - `POST /api/v1/admin/invitations/accept`: the page's form; creates the account, signs the new
///   user in and sends them to the console.
struct InvitationsController: Sendable {
    static let template = "invitation"
    static let kind = MailKind(rawValue: "invitation")

    let store: InvitationStore
    let accounts: AccountStore
    let outbox: MailOutbox
    let templates: MailTemplates
    let links: PublicLinks
    let siteName: String
    let ttlHours: Int
    let sessions: SessionController
    let now: @Sendable () -> Date

    struct InvitationView: Encodable {
        let id: Int64
        let email: String
        let role: String
        let status: String
        let createdAt: String
        let expiresAt: String
        let acceptedAt: String?
    }

    func view(_ i: Invitation) -> InvitationView {
        InvitationView(id: i.id ?? 0, email: i.email, role: i.role.rawValue, status: i.status(at: now()), createdAt: i.createdAt,
                       expiresAt: i.expiresAt, acceptedAt: i.acceptedAt)
    }

    func addRoutes(to routes: Routes) {
        let group = routes.admin.group("/invitations")
        group.get { _, context in
            try context.requireAdminRole()
            return try Response.json(Items(items: try await store.list().map(view)), headers: [.cacheControl: "no-store"])
        }
        group.post { request, context in
            try context.requireAdminRole()
            var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["email", "role"])
            let email = reader.email("email", required: true)
            var role: Role?
            if let raw = reader.text("role", required: true, maxLength: 20) {
                role = Role(rawValue: raw)
                if role == nil { reader.fail("role", "must be \"admin\" or \"agent\"") }
            }
            try reader.validate()
            let token = Secrets.urlSafeToken()
            let inviter = context.admin.user.name.isEmpty ? context.admin.user.email : context.admin.user.name
            let content = try templates.render(Self.template, values: [
                "site_name": siteName, "inviter": inviter, "role": role == .admin ? "an admin" : "an agent", "hours": ttlHours,
                "accept_url": links.url("/api/v1/admin/invitations/accept", query: [("token", token)]),
            ])
            let address = try MailAddress(email ?? "", field: "email")
            let invitation = try await store.create(email: email ?? "", role: role ?? .agent, invitedBy: context.admin.id, token: token,
                                                    validFor: ttlHours, now: now()) { [outbox] db, invitation in
                _ = try outbox.enqueue(OutgoingMail(kind: Self.kind, to: address, content: content, idempotencyKey: "invitation-\(invitation.id ?? 0)"), in: db)
            }
            context.logger.notice("invitation sent", metadata: ["invitation_id": "\(invitation.id ?? 0)", "by": "\(context.admin.id)", "role": "\(invitation.role.rawValue)"])
            return try Response.json(view(invitation), status: .created)
        }
        group.delete("/:id") { _, context in
            try context.requireAdminRole()
            let invitation = try await store.revoke(id: try AdminRoutes.id(context), now: now())
            context.logger.notice("invitation revoked", metadata: ["invitation_id": "\(invitation.id ?? 0)", "by": "\(context.admin.id)"])
            return try Response.json(view(invitation))
        }

        routes.consoleOpen.get("/invitations/accept") { request, _ in
            let token = String(request.uri.queryParameters.get("token") ?? "")
            guard PrivacyRequestController.isToken(token) else { return Self.refusedPage(.unknown) }
            switch try await store.pending(token: token, now: now()) {
            case .failure(let refusal): return Self.refusedPage(refusal)
            case .success(let invitation): return acceptPage(invitation, token: token)
            }
        }
        routes.consoleSignIn.post("/invitations/accept") { request, context in
            let body = String(buffer: try await request.body.collect(upTo: 8192))
            let token = HTMLPage.formField("token", in: body) ?? ""
            let name = (HTMLPage.formField("name", in: body) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            let password = HTMLPage.formField("password", in: body) ?? ""
            guard PrivacyRequestController.isToken(token) else { return Self.refusedPage(.unknown) }
            var problems: [String] = []
            if name.isEmpty { problems.append("Your name must not be empty.") }
            if name.unicodeScalars.count > 200 { problems.append("Your name must be at most 200 characters.") }
            if let problem = AccountStore.NewUser.passwordProblems(password)["password"] { problems.append("The password \(problem).") }
            if !problems.isEmpty {
                switch try await store.pending(token: token, now: now()) {
                case .failure(let refusal): return Self.refusedPage(refusal)
                case .success(let invitation): return acceptPage(invitation, token: token, name: name, problems: problems)
                }
            }
            switch try await store.accept(token: token, name: name, password: password, now: now()) {
            case .failure(let refusal): return Self.refusedPage(refusal)
            case .success(let user):
                context.logger.notice("invitation accepted", metadata: ["user_id": "\(user.id ?? 0)", "role": "\(user.role.rawValue)"])
                var response = try sessions.signIn(user, context: context, status: .seeOther)
                response.headers[.location] = "/admin/"
                return response
            }
        }
    }

    /// The form where the invited person sets their name and password.
    func acceptPage(_ invitation: Invitation, token: String, name: String = "", problems: [String] = []) -> Response {
        var html = Self.head(title: "Join \(siteName)")
        html += "<h1>Join \(SafeHTML.escape(siteName))</h1>"
        html += "<p>You are invited as \(invitation.role == .admin ? "an admin" : "an agent") with <strong>\(SafeHTML.escape(invitation.email))</strong>. Choose the name visitors see and your password.</p>"
        if !problems.isEmpty {
            html += "<div role=\"alert\" class=\"form-error\">" + problems.map { "<p>\(SafeHTML.escape($0))</p>" }.joined() + "</div>"
        }
        html += """
            <form method="post" action="/api/v1/admin/invitations/accept" id="invitation-form">
            <input type="hidden" name="token" value="\(SafeHTML.escape(token))">
            <p><label for="invitation-name">Your name</label><br><input id="invitation-name" name="name" type="text" required maxlength="200" autocomplete="name" value="\(SafeHTML.escape(name))"></p>
            <p><label for="invitation-password">Password (at least \(PasswordHasher.minimumLength) characters)</label><br><input id="invitation-password" name="password" type="password" required minlength="\(PasswordHasher.minimumLength)" autocomplete="new-password"></p>
            <button type="submit" id="invitation-accept">Create my account</button>
            </form>
            """
        return Self.page(html, status: problems.isEmpty ? .ok : .unprocessableContent)
    }

    /// The clear page a used, revoked, expired or unknown link gets.
    static func refusedPage(_ refusal: InvitationRefusal) -> Response {
        let (heading, text): (String, String)
        switch refusal {
        case .used: (heading, text) = ("This invitation was used already", "An account was made with it. Sign in to the console instead, or ask an admin for a new invitation.")
        case .expired: (heading, text) = ("This invitation has expired", "Invitation links work for a limited time. Ask an admin to invite you again.")
        case .revoked: (heading, text) = ("This invitation was withdrawn", "An admin revoked it, or sent a newer one. Use the newest mail, or ask an admin to invite you again.")
        case .unknown: (heading, text) = ("This invitation link is not valid", "Check that the whole link was copied, or ask an admin to invite you again.")
        }
        return page(head(title: heading) + "<h1>\(SafeHTML.escape(heading))</h1><p>\(SafeHTML.escape(text))</p><p><a href=\"/admin/signin\">Go to sign-in</a></p>",
                    status: refusal == .unknown ? .notFound : .gone)
    }

    static func head(title: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="robots" content="noindex"><meta name="referrer" content="same-origin"><title>\(SafeHTML.escape(title))</title><link rel="stylesheet" href="/static/page.css"></head>
        <body><main class="card">
        """
    }

    static func page(_ html: String, status: HTTPResponse.Status) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html + "</main></body></html>\n")))
    }
}
