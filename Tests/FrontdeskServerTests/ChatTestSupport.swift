import Foundation
import FrontdeskCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import Logging
import NIOCore
import NIOWebSocket
@testable import FrontdeskServer

/// A decoded frame handed between tasks (JSON objects are plain values here).
struct FrameBox: @unchecked Sendable {
    let value: [String: Any]
}

/// Why a wait for a frame ended without one.
struct ChatTestTimeout: Error, CustomStringConvertible {
    let description: String
}

/// A real WebSocket client on a live server: frames it receives are kept in order and can be
/// awaited by type; the close code is recorded.
final class ChatTestSocket: @unchecked Sendable {
    private let lock = NSLock()
    private var frames: [[String: Any]] = []
    private var waiters: [(id: Int, match: ([String: Any]) -> Bool, continuation: CheckedContinuation<FrameBox?, Never>)] = []
    private var nextWaiter = 0
    private var closeCode: WebSocketErrorCode??
    private var closeWaiters: [CheckedContinuation<WebSocketErrorCode?, Never>] = []
    private var outbound: WebSocketOutboundWriter?
    private var refs = 0
    private var task: Task<Void, Never>?

    /// Opens a socket; throws when the server refuses the upgrade.
    static func connect(port: Int, path: String = "/api/v1/ws", headers: HTTPFields = [:]) async throws -> ChatTestSocket {
        let socket = ChatTestSocket()
        let (ready, readyContinuation) = AsyncStream<Result<Void, any Error>>.makeStream()
        socket.task = Task {
            do {
                let close = try await WebSocketClient.connect(
                    url: "ws://localhost:\(port)\(path)",
                    configuration: .init(maxFrameSize: 1 << 20, additionalHeaders: headers, autoPing: .disabled),
                    logger: Logger(label: "chat-test-client")
                ) { inbound, outbound, _ in
                    socket.lock.withLock { socket.outbound = outbound }
                    readyContinuation.yield(.success(()))
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        guard case .text(let text) = message,
                              let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { continue }
                        socket.received(object)
                    }
                }
                socket.closed(close?.closeCode)
            } catch {
                if socket.lock.withLock({ socket.outbound == nil }) { readyContinuation.yield(.failure(error)) }
                socket.closed(nil)
            }
            readyContinuation.finish()
        }
        for await result in ready {
            try result.get()
            return socket
        }
        throw ChatTestTimeout(description: "the socket ended before it opened")
    }

    private func received(_ frame: [String: Any]) {
        let waiter: CheckedContinuation<FrameBox?, Never>? = lock.withLock {
            if let index = waiters.firstIndex(where: { $0.match(frame) }) {
                return waiters.remove(at: index).continuation
            }
            frames.append(frame)
            return nil
        }
        waiter?.resume(returning: FrameBox(value: frame))
    }

    private func closed(_ code: WebSocketErrorCode?) {
        let (frameWaiters, closeWaiters) = lock.withLock { () -> ([CheckedContinuation<FrameBox?, Never>], [CheckedContinuation<WebSocketErrorCode?, Never>]) in
            if closeCode == nil { closeCode = .some(code) }
            defer { waiters = []; self.closeWaiters = [] }
            return (waiters.map(\.continuation), self.closeWaiters)
        }
        for waiter in frameWaiters { waiter.resume(returning: nil) }
        for waiter in closeWaiters { waiter.resume(returning: code) }
    }

    /// Sends one frame; returns its `ref`.
    @discardableResult
    func send(_ type: String, _ data: [String: Any] = [:], ref: String? = nil) async throws -> String {
        let ref = ref ?? lock.withLock { refs += 1; return "r\(refs)" }
        let object: [String: Any] = ["v": 1, "type": type, "ref": ref, "data": data]
        let text = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        try await sendRaw(text)
        return ref
    }

    func sendRaw(_ text: String) async throws {
        guard let outbound = lock.withLock({ outbound }) else { throw ChatTestTimeout(description: "not connected") }
        try await outbound.write(.text(text))
    }

    func sendBytes(_ bytes: [UInt8], opcode: WebSocketOpcode = .text) async throws {
        guard let outbound = lock.withLock({ outbound }) else { throw ChatTestTimeout(description: "not connected") }
        try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: opcode, data: ByteBuffer(bytes: bytes))))
    }

    /// The next frame of `type` (and matching `where`), waiting up to `timeout` for it.
    func next(_ type: String, timeout: Duration = .seconds(30), where predicate: @escaping ([String: Any]) -> Bool = { _ in true }) async throws -> [String: Any] {
        let match: ([String: Any]) -> Bool = { ($0["type"] as? String) == type && predicate($0) }
        let id = lock.withLock { nextWaiter += 1; return nextWaiter }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.cancelWaiter(id)
        }
        defer { timer.cancel() }
        let frame: FrameBox? = await withCheckedContinuation { continuation in
            let ready: FrameBox?? = lock.withLock {
                if let index = frames.firstIndex(where: match) { return .some(FrameBox(value: frames.remove(at: index))) }
                if closeCode != nil { return .some(nil) }
                waiters.append((id, match, continuation))
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
        guard let frame else {
            let (have, closed) = lock.withLock { (frames.map { $0["type"] as? String ?? "?" }, closeCode) }
            let state = closed.map { code in "the server closed the socket (\(code.map { "\($0)" } ?? "no code"))" } ?? "the socket is open"
            throw ChatTestTimeout(description: "no \(type) frame arrived; \(state) (have: \(have))")
        }
        return frame.value
    }

    private func cancelWaiter(_ id: Int) {
        let waiter = lock.withLock { () -> CheckedContinuation<FrameBox?, Never>? in
            guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return waiters.remove(at: index).continuation
        }
        waiter?.resume(returning: nil)
    }

    /// The `data` of the next frame of `type`.
    func data(_ type: String, timeout: Duration = .seconds(10), where predicate: @escaping ([String: Any]) -> Bool = { _ in true }) async throws -> [String: Any] {
        try await next(type, timeout: timeout, where: { predicate(($0["data"] as? [String: Any]) ?? [:]) })["data"] as? [String: Any] ?? [:]
    }

    /// Frames of `type` received and not yet taken.
    func pending(_ type: String) -> [[String: Any]] {
        lock.withLock { frames.filter { ($0["type"] as? String) == type } }
    }

    /// Sends `ping` and waits for its `pong`: every frame the server queued before is then here.
    func sync() async throws {
        let ref = try await send("ping")
        _ = try await next("pong", where: { ($0["ref"] as? String) == ref })
    }

    /// Waits for the server to close the socket; returns its close code.
    func closeCode(timeout: Duration = .seconds(10)) async -> WebSocketErrorCode? {
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            self?.closed(nil)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let known: WebSocketErrorCode?? = lock.withLock {
                if let closeCode { return .some(closeCode) }
                closeWaiters.append(continuation)
                return .none
            }
            if let known { continuation.resume(returning: known) }
        }
    }

    /// Closes from the client side (a normal closure).
    func close() async {
        if let outbound = lock.withLock({ outbound }) { try? await outbound.close(.normalClosure, reason: nil) }
        _ = await closeCode(timeout: .seconds(5))
    }

    /// Drops the connection without a close handshake (a network failure).
    func drop() {
        task?.cancel()
    }
}

extension TestEnvironment {
    /// Runs `body` against a live server with the chat sockets.
    func withChatServer(_ body: @escaping @Sendable (any TestClientProtocol, Int) async throws -> Void) async throws {
        let app = buildApplication(runtime)
        try await app.test(.live) { client in
            try await body(client, client.port!)
        }
    }
}

/// Helpers for writing chat tests briefly.
enum Chat {
    /// A visitor socket that said hello; returns it with the welcome data.
    static func visitor(_ port: Int, visitorId: String? = nil, origin: String? = nil) async throws -> (ChatTestSocket, [String: Any]) {
        var headers: HTTPFields = [:]
        if let origin { headers[.origin] = origin }
        let socket = try await ChatTestSocket.connect(port: port, headers: headers)
        var data: [String: Any] = [:]
        if let visitorId { data["visitorId"] = visitorId }
        try await socket.send("hello", data)
        return (socket, try await socket.data("welcome"))
    }

    /// Signs `email` in over HTTP and opens an agent socket with the session cookie.
    static func agent(_ env: TestEnvironment, _ client: any TestClientProtocol, port: Int, email: String, status: String = "online") async throws -> (ChatTestSocket, [String: Any]) {
        var console = ConsoleClient(client: client)
        let signedIn = try await console.signIn(email)
        guard signedIn == .ok else { throw ChatTestTimeout(description: "sign-in failed: \(signedIn)") }
        let socket = try await ChatTestSocket.connect(port: port, path: "/api/v1/admin/ws",
                                                      headers: [.cookie: console.cookie, .origin: "http://localhost:\(port)"])
        try await socket.send("hello", ["status": status])
        return (socket, try await socket.data("welcome"))
    }

    static func message(_ data: [String: Any]) -> [String: Any] { data["message"] as? [String: Any] ?? [:] }
    static func conversation(_ data: [String: Any]) -> [String: Any] { data["conversation"] as? [String: Any] ?? [:] }
    static func id(_ object: [String: Any]) -> Int64 { (object["id"] as? NSNumber)?.int64Value ?? -1 }
}
