import Foundation
import Synchronization

/// A fresh directory under the system temp directory, removed when the value goes away.
final class TempDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "frontdesk-state-tests-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }
}

/// Seconds of a `Duration`, for comparing with tolerances.
extension Duration {
    var inSeconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) * 1e-18
    }
}

extension Duration {
    static func minutes(_ n: Int64) -> Duration { .seconds(n * 60) }
    static func hours(_ n: Int64) -> Duration { .seconds(n * 3_600) }
}

/// A counter that concurrent tasks can share.
final class Counter: Sendable {
    private let value = Mutex(0)
    func increment() { value.withLock { $0 += 1 } }
    var count: Int { value.withLock { $0 } }
}
