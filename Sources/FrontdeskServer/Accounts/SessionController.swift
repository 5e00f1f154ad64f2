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
        let csrf = Secrets.urlSafeToken()
        let session = sessions.create(userId: String(user.id ?? 0), data: ["csrf": csrf, "epoch": String(user.sessionEpoch)])
        let secure = alwaysSecure || context.isSecure
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
