import FrontdeskCore
import FrontdeskState
import Foundation
import Hummingbird

/// `GET/POST /api/v1/admin/users`, `PATCH /api/v1/admin/users/{id}`: admins manage accounts.
/// Disabling a user or changing their password ends all their sessions at once.
struct UsersController: Sendable {
    let accounts: AccountStore
    let users: CachedUsers
    let sessions: SessionStore
    /// Told after every change to a user (role, disabled, password), with its id.
    var accountChanged: @Sendable (Int64) async -> Void = { _ in }

    struct UserList: Encodable {
        let users: [PublicUser]
    }

    func addRoutes(to routes: Routes) {
        let group = routes.admin.group("/users")
        group.get { _, context in
            try context.requireAdminRole()
            return try Response.json(UserList(users: try await accounts.list().map(PublicUser.init)))
        }
        group.post { request, context in
            try context.requireAdminRole()
            let input = try AccountStore.NewUser(json: try await request.jsonObject(context: context))
            let user = try await accounts.create(input)
            context.logger.notice("user created", metadata: ["user_id": "\(user.id ?? 0)", "by": "\(context.admin.id)", "role": "\(user.role.rawValue)"])
            return try Response.json(PublicUser(user), status: .created)
        }
        group.patch("/:id") { request, context in
            try context.requireAdminRole()
            guard let id = context.parameters.get("id").flatMap(Int64.init) else { throw FrontdeskError.notFound("The user") }
            var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["role", "disabled", "password"])
            var role: Role?
            if let raw = reader.text("role", required: false, maxLength: 20) {
                role = Role(rawValue: raw)
                if role == nil { reader.fail("role", "must be \"admin\" or \"agent\"") }
            }
            var disabled: Bool?
            if let raw = reader.object["disabled"], raw != .null {
                if case .bool(let value) = raw { disabled = value } else { reader.fail("disabled", "must be true or false, not \(raw.typeName)") }
            }
            var password: String?
            if reader.object["password"] != nil {
                password = SessionController.rawString(&reader, "password")
                if let password, let problem = AccountStore.NewUser.passwordProblems(password)["password"] { reader.fail("password", problem) }
            }
            try reader.validate()
            guard try await accounts.find(id: id) != nil else { throw FrontdeskError.notFound("The user") }
            if let password { try await accounts.setPassword(id: id, password: password) }
            let user = try await accounts.update(id: id, role: role, disabled: disabled)
            users.invalidate(id: id)
            if password != nil || disabled == true {
                let ended = sessions.destroyAll(forUser: String(id))
                context.logger.notice("sessions ended", metadata: ["user_id": "\(id)", "count": "\(ended)"])
            }
            // A live agent socket of this user closes now (1008), not at its next frame.
            await accountChanged(id)
            return try Response.json(PublicUser(user))
        }
    }
}
