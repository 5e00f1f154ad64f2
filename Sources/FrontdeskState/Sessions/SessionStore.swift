import Foundation
import Synchronization

/// Server-side sessions held in memory: sliding idle expiry capped by an absolute lifetime,
/// sharded by session id, with an index by user so `destroyAll(forUser:)` costs only that user's
/// sessions.
///
/// Locking: sessions live in id-sharded maps, the user index in user-sharded maps. `create` and
/// `destroyAll(forUser:)` hold the user's index lock while they touch session shards, so a
/// session created concurrently with `destroyAll` is either destroyed by it or created after it —
/// never left alive from before (what "changing a password ends every session" needs). Locks are
/// only ever nested user-then-session; everything else takes one lock at a time, so there is no
/// deadlock. Other paths drop index entries after the fact; a stale index entry only costs a
/// lookup.
///
/// All times are rounded to whole milliseconds, the precision snapshots keep.
public final class SessionStore: Sendable {
    final class SessionShard: Sendable {
        let sessions = Mutex<[HashedKey: Session]>([:])
    }

    /// Session ids per user. A set, not an array: one account can hold very many sessions
    /// (a script logging in in a loop), and removing one must not cost a scan of them all.
    final class UserShard: Sendable {
        let index = Mutex<[String: Set<String>]>([:])
    }

    public let idleTimeout: Duration
    public let absoluteLifetime: Duration
    private let layout: ShardLayout
    private let sessionShards: [SessionShard]
    private let userShards: [UserShard]
    private let now: @Sendable () -> Date

    public init(idleTimeout: Duration, absoluteLifetime: Duration, shards: Int = 16,
                now: @escaping @Sendable () -> Date = { Date() }) {
        precondition(idleTimeout > .zero && absoluteLifetime > .zero, "session timeouts must be positive")
        self.idleTimeout = idleTimeout
        self.absoluteLifetime = absoluteLifetime
        self.now = now
        layout = ShardLayout(requested: shards)
        sessionShards = (0..<layout.count).map { _ in SessionShard() }
        userShards = (0..<layout.count).map { _ in UserShard() }
    }

    private func currentTime() -> Date { now().wholeMilliseconds }

    private func sessionShard(_ key: HashedKey) -> SessionShard {
        sessionShards[layout.shard(forHash: key.hash)]
    }

    private func userShard(_ userId: String) -> UserShard {
        userShards[layout.shard(forHash: userId.hashValue)]
    }

    private func slidExpiry(at time: Date, absolute: Date) -> Date {
        min(time.addingTimeInterval(idleTimeout.seconds).wholeMilliseconds, absolute)
    }

    /// Starts a session for `userId` with a fresh 256-bit random id.
    public func create(userId: String, data: [String: String] = [:]) -> Session {
        let time = currentTime()
        let absolute = time.addingTimeInterval(absoluteLifetime.seconds).wholeMilliseconds
        let session = Session(id: SessionID.random(), userId: userId, data: data,
                              expiresAt: slidExpiry(at: time, absolute: absolute), createdAt: time,
                              lastAccessedAt: time, absoluteExpiresAt: absolute)
        let key = HashedKey(session.id)
        let shard = sessionShard(key)
        userShard(userId).index.withLock { index in
            shard.sessions.withLock { $0[key] = session }
            index[userId, default: []].insert(session.id)
        }
        return session
    }

    /// The live session with this id, its idle expiry slid forward (never past the absolute
    /// lifetime); nil when unknown or expired (an expired one is dropped here).
    public func get(_ id: String) -> Session? {
        access(id, newData: nil)
    }

    /// Replaces the session's data (and counts as an access); nil when unknown or expired.
    @discardableResult
    public func update(_ id: String, data: [String: String]) -> Session? {
        access(id, newData: data)
    }

    private func access(_ id: String, newData: [String: String]?) -> Session? {
        let time = currentTime()
        let key = HashedKey(id)
        let (session, expiredUser): (Session?, String?) = sessionShard(key).sessions.withLock { sessions in
            guard var session = sessions[key] else { return (nil, nil) }
            if session.isExpired(at: time) {
                sessions[key] = nil
                return (nil, session.userId)
            }
            session.lastAccessedAt = time
            session.expiresAt = slidExpiry(at: time, absolute: session.absoluteExpiresAt)
            if let newData { session.data = newData }
            sessions[key] = session
            return (session, nil)
        }
        if let expiredUser { unindex([(expiredUser, id)]) }
        return session
    }

    /// Ends one session; true when it existed.
    @discardableResult
    public func destroy(_ id: String) -> Bool {
        let key = HashedKey(id)
        guard let removed = sessionShard(key).sessions.withLock({ $0.removeValue(forKey: key) }) else {
            return false
        }
        unindex([(removed.userId, id)])
        return true
    }

    /// Ends every session of `userId` (log out everywhere, password change, disabled account) and
    /// returns how many there were.
    @discardableResult
    public func destroyAll(forUser userId: String) -> Int {
        userShard(userId).index.withLock { index in
            guard let ids = index.removeValue(forKey: userId) else { return 0 }
            var removed = 0
            for id in ids {
                let key = HashedKey(id)
                let gone = sessionShard(key).sessions.withLock { sessions -> Bool in
                    guard sessions[key]?.userId == userId else { return false }
                    sessions[key] = nil
                    return true
                }
                if gone { removed += 1 }
            }
            return removed
        }
    }

    /// The live sessions of `userId`, oldest first (for a "where am I signed in" list).
    public func sessions(forUser userId: String) -> [Session] {
        let time = currentTime()
        let ids = userShard(userId).index.withLock { $0[userId] ?? [] }
        return ids.compactMap { id in
            let key = HashedKey(id)
            return sessionShard(key).sessions.withLock { sessions in
                sessions[key].flatMap { $0.userId == userId && !$0.isExpired(at: time) ? $0 : nil }
            }
        }.sorted { $0.createdAt < $1.createdAt }
    }

    /// Drops every expired session and returns how many went; the sweeper service calls this.
    @discardableResult
    public func cleanup() -> Int {
        let time = currentTime()
        var removed: [(String, String)] = []
        for shard in sessionShards {
            let expired = shard.sessions.withLock { sessions -> [(String, String)] in
                let expired = sessions.values.filter { $0.isExpired(at: time) }.map { ($0.userId, $0.id) }
                for (_, id) in expired { sessions[HashedKey(id)] = nil }
                return expired
            }
            removed.append(contentsOf: expired)
        }
        unindex(removed)
        return removed.count
    }

    /// Removes `(userId, sessionId)` pairs from the user index, one user shard lock at a time.
    private func unindex(_ pairs: [(String, String)]) {
        guard !pairs.isEmpty else { return }
        var byShard = [[(String, String)]](repeating: [], count: userShards.count)
        for pair in pairs { byShard[layout.shard(forHash: pair.0.hashValue)].append(pair) }
        for (i, pairs) in byShard.enumerated() where !pairs.isEmpty {
            userShards[i].index.withLock { index in
                for (userId, id) in pairs {
                    index[userId]?.remove(id)
                    if index[userId]?.isEmpty == true { index[userId] = nil }
                }
            }
        }
    }

    /// Sessions held, counting expired ones that no read or `cleanup()` has dropped yet.
    public var count: Int {
        sessionShards.reduce(0) { sum, shard in sum + shard.sessions.withLock { $0.count } }
    }

    /// Every live session, for a snapshot.
    public func allSessions() -> [Session] {
        let time = currentTime()
        var all: [Session] = []
        all.reserveCapacity(count)
        for shard in sessionShards {
            shard.sessions.withLock { sessions in
                for session in sessions.values where !session.isExpired(at: time) { all.append(session) }
            }
        }
        return all
    }

    /// Loads sessions (from a snapshot), replacing any with the same id and dropping those already
    /// expired. Meant for start-up, before requests arrive.
    public func restore(_ sessions: [Session]) {
        let time = currentTime()
        var bySessionShard = [[Session]](repeating: [], count: sessionShards.count)
        var byUserShard = [[(String, String)]](repeating: [], count: userShards.count)
        let expected = sessions.count / sessionShards.count + 16
        for i in bySessionShard.indices { bySessionShard[i].reserveCapacity(expected) }
        for i in byUserShard.indices { byUserShard[i].reserveCapacity(expected) }
        for session in sessions where !session.isExpired(at: time) {
            bySessionShard[layout.shard(forHash: HashedKey(session.id).hash)].append(session)
            byUserShard[layout.shard(forHash: session.userId.hashValue)].append((session.userId, session.id))
        }
        // Shards are independent, so a large restore (a million sessions at start-up) uses every
        // core; each shard is still filled under its own lock.
        parallelFor(sessionShards.count + userShards.count) { i in
            if i < sessionShards.count {
                let batch = bySessionShard[i]
                guard !batch.isEmpty else { return }
                sessionShards[i].sessions.withLock { map in
                    map.reserveCapacity(map.count + batch.count)
                    for session in batch { map[HashedKey(session.id)] = session }
                }
            } else {
                let batch = byUserShard[i - sessionShards.count]
                guard !batch.isEmpty else { return }
                userShards[i - sessionShards.count].index.withLock { index in
                    for (userId, id) in batch { index[userId, default: []].insert(id) }
                }
            }
        }
    }
}

/// A string key with its hash computed once: the shard choice and the dictionary both use it, so
/// a 43-character session id is hashed once per operation instead of twice.
struct HashedKey: Hashable, Sendable {
    let string: String
    let hash: Int

    init(_ string: String) {
        self.string = string
        hash = string.hashValue
    }

    static func == (a: HashedKey, b: HashedKey) -> Bool { a.hash == b.hash && a.string == b.string }

    func hash(into hasher: inout Hasher) { hasher.combine(hash) }
}
