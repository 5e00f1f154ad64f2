import Synchronization

/// At most `limit` bodies run at once; up to `queueLimit` more wait their turn in order; any
/// further caller is refused at once with 503 `busy` instead of joining an unbounded queue.
///
/// Guards CPU-bound work a stranger can start: one PBKDF2 password check at 600,000 iterations
/// is ~0.2 s of a core, so a queue of thousands of sign-ins would hold the CPU for minutes.
package final class ConcurrencyGate: Sendable {
    private struct State {
        var running = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    package let limit: Int
    package let queueLimit: Int
    private let state = Mutex(State())

    package init(limit: Int, queueLimit: Int) {
        precondition(limit >= 1 && queueLimit >= 0)
        self.limit = limit
        self.queueLimit = queueLimit
    }

    /// Runs `body` when a slot is free; throws `FrontdeskError` `busy` when the queue is full.
    package func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await enter()
        defer { leave() }
        return try await body()
    }

    /// Bodies running now, and callers waiting.
    package var load: (running: Int, waiting: Int) { state.withLock { ($0.running, $0.waiting.count) } }

    private func enter() async throws {
        enum Admission { case now, queued, refused }
        let admission = state.withLock { state -> Admission in
            if state.running < limit { state.running += 1; return .now }
            return state.waiting.count < queueLimit ? .queued : .refused
        }
        switch admission {
        case .now: return
        case .refused:
            throw FrontdeskError(.unavailable, code: "busy", message: "Too many sign-ins are being checked right now. Try again in a moment.",
                                 details: ["retryAfterSeconds": "1"])
        case .queued:
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    // A slot may have freed between the two locks.
                    if state.running < limit { state.running += 1; return true }
                    state.waiting.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    private func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            // The slot passes straight to the first waiter: `running` stays the same.
            if !state.waiting.isEmpty { return state.waiting.removeFirst() }
            state.running -= 1
            return nil
        }
        next?.resume()
    }
}
