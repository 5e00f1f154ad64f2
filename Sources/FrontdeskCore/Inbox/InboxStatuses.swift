import GRDB

/// Where a contact message stands: `new` until an agent marks it `processed`.
package enum ContactStatus: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case new
    case processed
}

/// A newsletter sign-up: `pending` until its link is followed, then `confirmed`, until `unsubscribed`.
package enum SubscriptionStatus: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case pending
    case confirmed
    case unsubscribed
}

/// A ticket's workflow: open → in-progress (first agent reply) → resolved → closed; a customer
/// reply reopens a resolved or closed ticket.
package enum TicketStatus: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case open
    case inProgress = "in-progress"
    case resolved
    case closed
}

package enum TicketPriority: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case low
    case medium
    case high
    case urgent
}

extension CaseIterable where Self: RawRepresentable, RawValue == String {
    /// The raw values in declaration order, for filters and error messages.
    package static var rawValues: [String] { allCases.map(\.rawValue) }
}
