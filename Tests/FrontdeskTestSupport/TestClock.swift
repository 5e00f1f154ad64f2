import Foundation
import Synchronization

/// The one clock of the tests: time moves only when a test says so. It is a `Clock` (services
/// generic over their clock sleep on it; a sleeper wakes when `advance` passes its deadline)
/// and a wall clock (`date`, and `wall` for the `now: () -> Date` closures of stores and state
/// types) that moves with it, so a service's sleep and the timestamps it compares stay in step.
package final class TestClock: Clock, Sendable {
    /// A point on the clock: how far it was advanced since it was made.
    package struct Instant: InstantProtocol {
        package var offset: Duration
        package init(offset: Duration) { self.offset = offset }
        package func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        package func duration(to other: Instant) -> Duration { other.offset - offset }
        package static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private struct Sleeper {
        let id: Int
        let deadline: Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [Sleeper] = []
        var nextID = 0
        var sleepStarted: [(id: Int, count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())
    /// The wall time at `Instant(offset: .zero)`.
    package let start: Date

    /// A clock whose wall time starts at `start` (by default 2027-01-15 08:00 UTC, a Friday).
    package init(start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        self.start = start
    }

    package var now: Instant { state.withLock { $0.now } }
    package var minimumResolution: Duration { .zero }

    /// The wall time now.
    package var date: Date {
        let (seconds, attoseconds) = now.offset.components
        return start.addingTimeInterval(Double(seconds) + Double(attoseconds) * 1e-18)
    }

    /// The wall time as the `now` closure stores, services and state types take.
    package var wall: @Sendable () -> Date { { self.date } }

    package func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (resumeNow, started) = state.withLock { state -> (Bool, [CheckedContinuation<Void, Never>]) in
                    if deadline <= state.now || Task.isCancelled { return (true, []) }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    let sleeping = state.sleepers.count
                    defer { state.sleepStarted.removeAll { $0.count <= sleeping } }
                    return (false, state.sleepStarted.filter { $0.count <= sleeping }.map(\.continuation))
                }
                if resumeNow {
                    if Task.isCancelled { continuation.resume(throwing: CancellationError()) } else { continuation.resume() }
                }
                started.forEach { $0.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes every sleeper whose deadline has come.
    package func advance(by duration: Duration) {
        let due = state.withLock { state -> [Sleeper] in
            state.now = state.now.advanced(by: duration)
            let due = state.sleepers.filter { $0.deadline <= state.now }
            state.sleepers.removeAll { $0.deadline <= state.now }
            return due
        }
        due.forEach { $0.continuation.resume() }
    }

    /// Moves time forward by (fractional) seconds.
    package func advance(seconds: TimeInterval) {
        advance(by: .nanoseconds(Int64((seconds * 1e9).rounded())))
    }

    /// Returns once someone is sleeping on this clock (at once if someone already is).
    package func waitForSleeper() async {
        await waitForSleepers(1)
    }

    /// Returns once at least `count` tasks are sleeping on this clock. A service with two loops
    /// (one asleep already) needs this to know the second one has gone to sleep before the test
    /// moves time: an advance made earlier would pass a deadline that was not set yet.
    /// A cancelled wait returns at once, so a test's time limit can end a test stuck here.
    package func waitForSleepers(_ count: Int) async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let already = state.withLock { state -> Bool in
                    if state.sleepers.count >= count || Task.isCancelled { return true }
                    state.sleepStarted.append((id, count, continuation))
                    return false
                }
                if already { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let index = state.sleepStarted.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepStarted.remove(at: index).continuation
            }
            waiter?.resume()
        }
    }
}
