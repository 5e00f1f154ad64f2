import FrontdeskCore
import FrontdeskState
import Foundation
import HTTPTypes
import Hummingbird

/// Console sign-in, sign-out, the current session, and creating the first admin.
struct SessionController: Sendable {
    let accounts: AccountStore
    let users: CachedUsers
    let sessions: SessionStore
    let throttle: LoginThrottle
    let setupToken: SetupToken
    let absoluteLifetimeSeconds: Int
    let alwaysSecure: Bool
    /// Told after a user changed their own password (live agent sockets of old sessions close).
    var accountChanged: @Sendable (Int64) async -> Void = { _ in }

    /// One of the signed-in user's sessions as they may see it: never the session id itself.
    struct SessionView: Encodable {
        /// The first 16 hex digits of the SHA-256 of the session id: names it without revealing it.
        let id: String
        let current: Bool
        let createdAt: String
        let lastUsedAt: String
        let expiresAt: String
        /// The network signed in from (`203.0.113.0`), never the whole address.
        let network: String?
    }

    static func handle(_ session: Session) -> String { String(ContentDigest.sha256Hex(session.id).prefix(16)) }

    struct SessionBody: Encodable {
        let user: PublicUser
        let csrfToken: String
        let expiresAt: String
    }

    struct SetupStatus: Encodable {
        let required: Bool
    }

    func addRoutes(to routes: Routes) {
        routes.consoleSignIn.post("/session") { request, context in
            var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["email", "password"])
            let email = reader.text("email", required: true, maxLength: 254) ?? ""
            let password = Self.rawString(&reader, "password")
            try reader.validate()
            let attempt = try throttle.reserve(email: email, address: context.clientAddress)
            let found: User?
            do {
                found = try await accounts.authenticate(email: email, password: password ?? "")
            } catch {
                throttle.release(attempt)
                throw error
            }
            guard let user = found else {
                context.logger.notice("sign-in failed", metadata: ["request_id": "\(context.requestID)"])
                throw FrontdeskError(.unauthorized, code: "invalid_credentials", message: "The email address or password is wrong.")
            }
            throttle.refund(attempt)
            context.logger.info("signed in", metadata: ["user_id": "\(user.id ?? 0)", "request_id": "\(context.requestID)"])
            return try signIn(user, context: context, status: .ok)
        }

        routes.consoleOpen.get("/setup") { _, _ in
            try Response.json(SetupStatus(required: !(try await accounts.adminExists())))
        }

        routes.consoleSignIn.post("/setup") { request, context in
            let json = try await request.jsonObject(context: context)
            var reader = FieldReader(json, allowed: ["token", "email", "password", "name"])
            let token = reader.text("token", required: true, maxLength: 200) ?? ""
            let email = reader.email("email", required: true)
            let name = reader.text("name", required: false, maxLength: 200) ?? ""
            let password = Self.rawString(&reader, "password")
            try reader.validate()
            if try await accounts.adminExists() {
                throw FrontdeskError(.conflict, code: "already_set_up", message: "An admin account exists already; sign in instead.")
            }
            let input = try AccountStore.NewUser(email: email ?? "", name: name, password: password ?? "", role: .admin)
            guard setupToken.consume(token) else {
                throw FrontdeskError(.forbidden, code: "invalid_setup_token",
                                     message: "This setup link is not valid. Use the link `frontdesk serve` printed at its last start.")
            }
            let user = try await accounts.create(input)
            context.logger.notice("first admin created", metadata: ["user_id": "\(user.id ?? 0)"])
            return try signIn(user, context: context, status: .created)
        }

        let admin = routes.admin
        // Self service: one's own sessions, password and name.
        admin.get("/account/sessions") { _, context in
            let current = try context.admin.requireSession()
            let list = sessions.sessions(forUser: String(context.admin.id)).sorted { $0.lastAccessedAt > $1.lastAccessedAt }.map {
                SessionView(id: Self.handle($0), current: $0.id == current.id, createdAt: Timestamps.iso8601($0.createdAt),
                            lastUsedAt: Timestamps.iso8601($0.lastAccessedAt), expiresAt: Timestamps.iso8601($0.expiresAt), network: $0.data["network"])
            }
            return try Response.json(Items(items: list), headers: [.cacheControl: "no-store"])
        }
        admin.delete("/account/sessions") { _, context in
            _ = try context.admin.requireSession()
            let ended = sessions.destroyAll(forUser: String(context.admin.id))
            context.logger.notice("signed out everywhere", metadata: ["user_id": "\(context.admin.id)", "count": "\(ended)"])
            await accountChanged(context.admin.id)
            var response = Response(status: .noContent)
            response.setCookie(Self.cookie(value: "", maxAge: 0, secure: false))
            response.setCookie(Self.cookie(value: "", maxAge: 0, secure: true))
            return response
        }
        admin.delete("/account/sessions/:id") { _, context in
            _ = try context.admin.requireSession()
            let handle = context.parameters.get("id") ?? ""
            guard let session = sessions.sessions(forUser: String(context.admin.id)).first(where: { Self.handle($0) == handle }) else {
                throw FrontdeskError.notFound("The session")
            }
            sessions.destroy(session.id)
            return Response(status: .noContent)
        }
        admin.post("/account/password") { request, context in
            _ = try context.admin.requireSession()
            var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["currentPassword", "newPassword"])
            let current = Self.rawString(&reader, "currentPassword")
            let new = Self.rawString(&reader, "newPassword")
            if let new, let problem = AccountStore.NewUser.passwordProblems(new)["password"] { reader.fail("newPassword", problem) }
            try reader.validate()
            guard try await accounts.verifyPassword(id: context.admin.id, password: current ?? "") else {
                throw FrontdeskError.validation(["currentPassword": "is not your current password"])
            }
            // The new password bumps the user's session epoch, which ends every session of
            // theirs; this browser gets a fresh one in the answer.
            try await accounts.setPassword(id: context.admin.id, password: new ?? "")
            users.invalidate(id: context.admin.id)
            let ended = sessions.destroyAll(forUser: String(context.admin.id))
            await accountChanged(context.admin.id)
            context.logger.notice("password changed by its user", metadata: ["user_id": "\(context.admin.id)", "sessions_ended": "\(ended)"])
            guard let user = try await accounts.find(id: context.admin.id) else { throw FrontdeskError.notFound("The user") }
            return try signIn(user, secure: context.isSecure, clientAddress: context.clientAddress, status: .ok)
        }
        admin.patch("/account") { request, context in
            var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["name"])
            let name = reader.text("name", required: false, maxLength: 200) ?? ""
            try reader.validate()
            let user = try await accounts.updateProfile(id: context.admin.id, name: name)
            users.invalidate(id: context.admin.id)
            return try Response.json(PublicUser(user))
        }
        admin.get("/session") { _, context in
            try Response.json(SessionBody(user: PublicUser(context.admin.user), csrfToken: context.admin.csrfToken,
                                          expiresAt: Timestamps.iso8601(try context.admin.requireSession().expiresAt)))
        }
        admin.delete("/session") { _, context in
            sessions.destroy(try context.admin.requireSession().id)
            context.logger.info("signed out", metadata: ["user_id": "\(context.admin.id)"])
            var response = Response(status: .noContent)
            // Clear whichever of the two cookie names the browser holds.
            response.setCookie(Self.cookie(value: "", maxAge: 0, secure: false))
            response.setCookie(Self.cookie(value: "", maxAge: 0, secure: true))
            return response
        }
    }

    /// Starts a session for `user` and answers with the session cookie and the CSRF token.
    func signIn(_ user: User, context: AppRequestContext, status: HTTPResponse.Status) throws -> Response {
        try signIn(user, secure: context.isSecure, clientAddress: context.clientAddress, status: status)
    }

    /// The same for a signed-in route (a password change starts this browser's new session).
    func signIn(_ user: User, secure transportSecure: Bool, clientAddress: String, status: HTTPResponse.Status) throws -> Response {
        let csrf = Secrets.urlSafeToken()
        let session = sessions.create(userId: String(user.id ?? 0), data: ["csrf": csrf, "epoch": String(user.sessionEpoch),
                                                                         "network": ClientAddress.truncated(clientAddress)])
        let secure = alwaysSecure || transportSecure
        var response = try Response.json(SessionBody(user: PublicUser(user), csrfToken: csrf, expiresAt: Timestamps.iso8601(session.expiresAt)),
                                          status: status, headers: [.cacheControl: "no-store"])
        response.setCookie(Self.cookie(value: session.id, maxAge: absoluteLifetimeSeconds, secure: secure))
        return response
    }

    /// `HttpOnly; SameSite=Strict; Path=/`, plus `Secure` and the `__Host-` prefix over TLS.
    static func cookie(value: String, maxAge: Int, secure: Bool) -> Cookie {
        Cookie(name: secure ? AdminSessionMiddleware.secureCookieName : AdminSessionMiddleware.cookieName, value: value,
               maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }

    /// A password as typed: not trimmed, only type- and length-checked.
    static func rawString(_ reader: inout FieldReader, _ key: String) -> String? {
        guard let raw = reader.object[key], raw != .null else { reader.fail(key, "is required"); return nil }
        guard case .string(let value) = raw else { reader.fail(key, "must be a string, not \(raw.typeName)"); return nil }
        if value.isEmpty { reader.fail(key, "must not be empty"); return nil }
        if value.count > PasswordHasher.maximumLength { reader.fail(key, "must be at most \(PasswordHasher.maximumLength) characters"); return nil }
        return value
    }
}
