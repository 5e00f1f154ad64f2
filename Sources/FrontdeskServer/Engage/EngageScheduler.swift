import FrontdeskCore
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// The scheduler of a running server, on the system's clock.
package typealias EngageScheduler = EngageSchedulerService<ContinuousClock>

/// What changed on the page's side after an edit or a schedule edge.
package struct EngageChanges: Sendable, Equatable {
    /// Banners that became live or changed while live, best first.
    package var published: [PublicBanner] = []
    /// Banners that stopped being live (unpublished, deleted, or past their end).
    package var withdrawn: [Int64] = []
    package var isEmpty: Bool { published.isEmpty && withdrawn.isEmpty }
}

/// Keeps the set of live banners and tells the pages when it changes: after every edit
/// (`refresh()`, called by the console's API once the write committed) and at every schedule
/// edge — a banner's start or end in the site's time zone — which it sleeps until on `clock`.
///
/// A `Service` generic over its clock: tests drive it on a manual clock, across a
/// daylight-saving change, without sleeping. It sleeps at most a second at a time, so an edit
/// that moves an edge nearer is honoured within a second without a wake-up channel; a wake-up
/// costs a comparison of two dates, the database is read only at an edge or after an edit.
package final class EngageSchedulerService<C: Clock>: Service, Sendable where C.Duration == Duration {
    package let store: EngageStore
    let clock: C
    let now: @Sendable () -> Date
    let logger: Logger
    /// Called with every non-empty change, after the public document's cache was dropped.
    let publish: @Sendable (EngageChanges) -> Void

    struct State {
        var live: [Int64: PublicBanner] = [:]
        var edge: Date?
        var applied: UInt64 = 0
    }
    let state = Mutex(State())
    let tickets = Atomic<UInt64>(0)

    package init(store: EngageStore, clock: C, now: @escaping @Sendable () -> Date, logger: Logger,
                 publish: @escaping @Sendable (EngageChanges) -> Void) {
        self.store = store
        self.clock = clock
        self.now = now
        self.logger = logger
        self.publish = publish
    }

    /// The next schedule edge the scheduler waits for (nil: none), for tests and the console.
    package var nextEdge: Date? { state.withLock { $0.edge } }

    package func run() async throws {
        try? await cancelWhenGracefulShutdown {
            await self.refresh()
            while !Task.isCancelled {
                let edge = self.state.withLock { $0.edge }
                var wait = 1.0
                if let edge { wait = min(wait, max(0, edge.timeIntervalSince(self.now()))) }
                try await self.clock.sleep(for: .nanoseconds(Int64(wait * 1e9)))
                if let edge = self.state.withLock({ $0.edge }), self.now() >= edge { await self.refresh() }
            }
        }
    }

    /// Reads the live banners now, compares them with the last known set, and publishes the
    /// difference. Refreshes may overlap (an edit during an edge): each takes a ticket before it
    /// reads, and a result older than one already applied is dropped, so the pages never go back.
    @discardableResult
    package func refresh() async -> EngageChanges {
        let ticket = tickets.add(1, ordering: .sequentiallyConsistent).newValue
        let at = now()
        let live: [Banner]
        let edge: Date?
        do {
            live = try await store.liveBanners(at: at)
            edge = try await store.nextEdge(after: at)
        } catch {
            logger.error("engage refresh failed", metadata: ["error": "\(error)"])
            return EngageChanges()
        }
        let views = live.map(PublicBanner.init)
        let changes = state.withLock { state -> EngageChanges? in
            guard ticket > state.applied else { return nil }
            state.applied = ticket
            state.edge = edge
            var changes = EngageChanges()
            var next: [Int64: PublicBanner] = [:]
            for view in views {
                next[view.id] = view
                if state.live[view.id] != view { changes.published.append(view) }
            }
            changes.withdrawn = state.live.keys.filter { next[$0] == nil }.sorted()
            state.live = next
            return changes
        }
        guard let changes, !changes.isEmpty else { return changes ?? EngageChanges() }
        logger.info("engage banners changed", metadata: ["published": "\(changes.published.map(\.id))", "withdrawn": "\(changes.withdrawn)"])
        publish(changes)
        return changes
    }
}

extension EngageSchedulerService where C == ContinuousClock {
    /// The scheduler of one running Frontdesk: edits and edges drop the cached public document
    /// and go to every open visitor socket as `banner.published` / `banner.withdrawn` frames.
    static func make(config: FrontdeskConfig, database: AppDatabase, cache: ReadThrough, hub: ChatHub, timeZone: TimeZone, logger: Logger,
                     now: @escaping @Sendable () -> Date) -> EngageScheduler {
        let origins = Set(config.siteOrigins + config[EngageSettings.allowedOrigins].map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 })
        let store = EngageStore(database: database, timeZone: timeZone, allowedOrigins: origins)
        return EngageScheduler(store: store, clock: ContinuousClock(), now: now, logger: logger) { changes in
            cache.invalidate(matching: "engage:*")
            for frame in EngageFrames.encode(changes) { hub.broadcastToVisitors(frame) }
        }
    }
}

/// The `banner.*` frames of the visitor socket (documented in the chat protocol document).
enum EngageFrames {
    struct Withdrawn: Encodable, Sendable {
        let id: Int64
    }

    struct Published: Encodable, Sendable {
        let banner: PublicBanner
    }

    static func encode(_ changes: EngageChanges) -> [ByteBuffer] {
        changes.withdrawn.map { ChatFrame.encode("banner.withdrawn", Withdrawn(id: $0)) }
            + changes.published.map { ChatFrame.encode("banner.published", Published(banner: $0)) }
    }
}

extension ChatHubService {
    /// Sends one frame to every visitor socket that said hello (every open page with the widget's socket).
    func broadcastToVisitors(_ frame: ByteBuffer) {
        var sockets: [ChatConnection] = []
        for shard in visitorShards { shard.withLock { for list in $0.values { sockets.append(contentsOf: list) } } }
        broadcast(frame, to: sockets)
    }
}
