import Foundation
import FrontdeskState

/// Whether a console session still speaks for its user: the user exists, is not disabled, and
/// has not changed password or been disabled since the session began (the session's `epoch` is
/// the user's `session_epoch` at sign-in; `frontdesk user passwd|disable` from another process
/// bumps it in SQLite). The one check behind the console's HTTP requests and the agent socket,
/// which runs it again on every frame and in the hub's sweep.
package enum ConsoleSessionCheck {
    /// `user` when `session` is still valid for it, else nil.
    package static func validUser(_ user: User?, for session: Session) -> User? {
        guard let user, user.id.map(String.init(describing:)) == session.userId, !user.disabled,
              String(user.sessionEpoch) == session.data["epoch"] else { return nil }
        return user
    }

    /// The session's user id as the store keys it.
    package static func userId(of session: Session) -> Int64? {
        Int64(session.userId)
    }
}
