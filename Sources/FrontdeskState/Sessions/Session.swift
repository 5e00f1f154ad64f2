import Foundation

/// A signed-in browser's server-side session.
///
/// Times are whole milliseconds (`SessionStore` truncates its clock), which is what snapshots
/// store, so a session read back from a snapshot compares equal to the one written.
public struct Session: Sendable, Codable, Equatable {
    /// 256 random bits, base64url without padding (43 characters).
    public let id: String
    public let userId: String
    public var data: [String: String]
    /// When the session ends unless used again: `min(lastAccessedAt + idle timeout, absoluteExpiresAt)`.
    public var expiresAt: Date
    public let createdAt: Date
    public var lastAccessedAt: Date
    /// When the session ends however active it is.
    public let absoluteExpiresAt: Date

    public init(id: String, userId: String, data: [String: String], expiresAt: Date, createdAt: Date,
                lastAccessedAt: Date, absoluteExpiresAt: Date) {
        self.id = id
        self.userId = userId
        self.data = data
        self.expiresAt = expiresAt
        self.createdAt = createdAt
        self.lastAccessedAt = lastAccessedAt
        self.absoluteExpiresAt = absoluteExpiresAt
    }

    /// True once `expiresAt` (always ≤ `absoluteExpiresAt`) is reached.
    public func isExpired(at now: Date) -> Bool {
        expiresAt <= now || absoluteExpiresAt <= now
    }
}

extension Date {
    /// The date on a whole millisecond (the nearest), the precision sessions and snapshots keep.
    /// Nearest rather than floor: `Double(ms) / 1000` is not exact, and flooring it back could
    /// lose a millisecond on every round trip.
    var wholeMilliseconds: Date {
        Date(millisecondsSinceEpoch: millisecondsSinceEpoch)
    }

    var millisecondsSinceEpoch: Int64 {
        Int64((timeIntervalSince1970 * 1000).rounded())
    }

    init(millisecondsSinceEpoch ms: Int64) {
        self.init(timeIntervalSince1970: Double(ms) / 1000)
    }
}
