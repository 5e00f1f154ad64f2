import Foundation

/// Who may move a conversation between agents — the one rule behind the agent socket's
/// `conversation.take` / `conversation.transfer` and the console's
/// `PATCH /api/v1/admin/chat/conversations/{id}`. Checked inside the write transaction that
/// makes the move (`ChatStore.assign`, `ChatStore.unassign`), so it sees the row it changes.
///
/// - taking: a conversation waiting in the queue, or one's own; another agent's only by an
///   admin who says so (`force`);
/// - transferring to someone else, or back to the queue: the assigned agent or an admin.
package struct ChatAssignmentRule: Sendable {
    /// The console user asking.
    package let actorId: Int64
    package let actorIsAdmin: Bool

    /// What the actor asks for.
    package enum Move: Sendable, Equatable {
        /// Assign to the actor.
        case take(force: Bool)
        /// Assign to another agent.
        case transfer(to: Int64)
        /// Back to the queue.
        case unassign
    }

    package init(actorId: Int64, actorIsAdmin: Bool) {
        self.actorId = actorId
        self.actorIsAdmin = actorIsAdmin
    }

    /// The move a console reassignment (`PATCH … {"assigneeId"}`) asks for: to oneself, a
    /// deliberate take-over (force); to someone else, a transfer; nil, back to the queue.
    package func reassignment(to agentId: Int64?) -> Move {
        guard let agentId else { return .unassign }
        return agentId == actorId ? .take(force: true) : .transfer(to: agentId)
    }

    /// Throws `conversation_closed` (409) or `forbidden` (403) when the move is not allowed.
    package func check(_ move: Move, on conversation: ChatConversation) throws {
        guard conversation.status != .closed else {
            throw FrontdeskError(.conflict, code: "conversation_closed", message: "Conversation \(conversation.id) is closed.")
        }
        let assignedToOther = conversation.status == .assigned && conversation.assigneeId != actorId
        switch move {
        case .take(let force):
            if assignedToOther && !(force && actorIsAdmin) {
                throw FrontdeskError(.forbidden, code: "forbidden",
                                     message: "Conversation \(conversation.id) is assigned to \(conversation.assigneeName ?? "another agent"); only an admin may take it over (force).")
            }
        case .transfer, .unassign:
            let mine = conversation.status == .assigned && conversation.assigneeId == actorId
            if !(actorIsAdmin || mine) {
                throw FrontdeskError(.forbidden, code: "forbidden",
                                     message: "Only the assigned agent or an admin may transfer conversation \(conversation.id).")
            }
        }
    }
}
