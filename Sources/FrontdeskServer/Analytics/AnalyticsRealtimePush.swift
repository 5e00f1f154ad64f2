import FrontdeskCore
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

extension ChatHubService {
    /// Agent sockets connected now.
    var agentSocketCount: Int { agents.withLock { $0.sockets.count } }

    /// Sends one frame to every agent socket (visitors never get it).
    func broadcastToAgents(_ frame: ByteBuffer) {
        broadcast(frame, to: agents.withLock { $0.sockets })
    }
}

/// Pushes `visitors.now` (the realtime report with the visits behind it) to the agent sockets
/// every `interval` while any agent is connected, and only when it changed, so the console's
/// "visitors now" tile and the chat screen's list follow the site without polling.
struct AnalyticsRealtimePushService<C: Clock>: Service where C.Duration == Duration {
    static var frameType: String { "visitors.now" }
    let queries: AnalyticsQueries
    let hub: ChatHub
    let interval: Duration
    let clock: C
    let now: @Sendable () -> Date
    let logger: Logger

    /// One round: the frame to send, or nil when no agent listens or nothing changed since `last`.
    func round(last: inout RealtimeNow?) async throws -> ByteBuffer? {
        guard hub.agentSocketCount > 0 else { last = nil; return nil }
        let report = try await queries.realtimeNow(now: Int64(now().timeIntervalSince1970))
        guard report != last else { return nil }
        last = report
        return ChatFrame.encode(Self.frameType, report)
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var last: RealtimeNow?
            while !Task.isCancelled {
                do {
                    if let frame = try await round(last: &last) { hub.broadcastToAgents(frame) }
                } catch is CancellationError {
                    break
                } catch {
                    logger.error("visitors now push failed", metadata: ["error": "\(error)"])
                }
                do { try await clock.sleep(for: interval) } catch { break }
            }
        }
    }
}
