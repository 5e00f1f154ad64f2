import FrontdeskCore
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// The scripted demo visitor's settings (used only with `serve --demo`).
package enum DemoVisitorSettings {
    package static let interval = Setting<Int>.integer(
        "demo.visitor_interval_seconds", env: "FRONTDESK_DEMO_VISITOR_INTERVAL_SECONDS", default: 180, range: 0...86_400,
        doc: "In demo mode, a scripted demo visitor opens a chat this often (while an agent is online); 0 turns it off.")
    package static let replyDelay = Setting<Int>.integer(
        "demo.visitor_reply_seconds", env: "FRONTDESK_DEMO_VISITOR_REPLY_SECONDS", default: 4, range: 0...600,
        doc: "In demo mode, how long the scripted demo visitor takes to answer an agent's reply.")
    static var all: [SettingSpec] { [interval.spec, replyDelay.spec] }
}

/// What the scripted visitor says: an opening question and the lines it answers an agent with.
struct DemoVisitorScript: Sendable {
    /// Every line the scripted visitor writes starts with this, so nobody mistakes it for a customer.
    static let marker = "[Demo visitor]"
    /// The name the console shows for the scripted visitor's chats.
    static let visitorName = "Demo visitor (scripted)"
    let opening: String
    let answers: [String]

    static let all: [DemoVisitorScript] = [
        DemoVisitorScript(opening: "Hi! Do you have gluten-free bread today?",
                          answers: ["Great, thank you! Could you keep one for me until this afternoon?",
                                    "Perfect — the name is Alex. I'll come by around four.",
                                    "Thanks a lot, see you later!"]),
        DemoVisitorScript(opening: "Hello, can I still order a birthday cake for Saturday?",
                          answers: ["It's for twelve people, chocolate if possible.",
                                    "No nuts, please — one of the kids is allergic.",
                                    "Wonderful, thank you for your help!"]),
        DemoVisitorScript(opening: "Are you open on Sunday morning?",
                          answers: ["Good to know. Do you bake croissants on Sundays too?",
                                    "Lovely, I'll be there early then.",
                                    "Thanks, have a nice day!"]),
    ]
}

/// What the scripted visitor did, for tests and logs.
enum DemoVisitorEvent: Sendable, Equatable {
    case opened(conversationId: Int64, visitorId: String)
    case answered(conversationId: Int64, text: String)
    case left(visitorId: String)
}

/// One scripted visit: an in-process visitor socket on the hub. Frames the hub writes to it are
/// read here instead of going to a browser; everything the visitor says goes through
/// `ChatHub.handleVisitor`, the same path a widget's frames take.
final class DemoVisit: Sendable {
    let visitorId = ChatIdentity.newVisitorId()
    let script: DemoVisitorScript
    let socket: ChatConnection
    private let state = Mutex<(conversationId: Int64?, answered: Int, sent: Int, done: Bool)>((nil, 0, 0, false))
    /// The socket's transport reaches the visit through this; emptied when the visit ends.
    private let box: Locked<DemoVisit?>

    /// `onAgentMessage` is called (on the hub's writer) for each message an agent sends here.
    init(hub: ChatHub, script: DemoVisitorScript, onFrame: @escaping @Sendable (DemoVisit, [String: Any]) -> Void) {
        self.script = script
        let box = Locked<DemoVisit?>(nil)
        self.box = box
        socket = ChatConnection(id: hub.nextConnectionId(), role: .visitor, address: "demo-visitor", transport: ChatConnection.Transport(
            write: { buffer in
                guard let visit = box.withLock({ $0 }),
                      let object = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any] else { return }
                onFrame(visit, object)
            },
            isWritable: { true }, close: { _ in }, abort: {}))
        box.withLock { $0 = self }
    }

    var conversationId: Int64? { state.withLock { $0.conversationId } }
    var isDone: Bool { state.withLock { $0.done } }

    /// The next canned answer, or nil when the script is used up (the visit then ends).
    func nextAnswer() -> String? {
        state.withLock { s in
            guard !s.done, s.answered < script.answers.count else { s.done = true; return nil }
            defer { s.answered += 1 }
            return script.answers[s.answered]
        }
    }

    func remember(conversationId: Int64) { state.withLock { $0.conversationId = conversationId } }

    func nextClientMessageId() -> String {
        state.withLock { s in
            s.sent += 1
            return "demo-\(visitorId.suffix(8))-\(s.sent)"
        }
    }

    func finish() {
        state.withLock { $0.done = true }
        box.withLock { $0 = nil }
    }
}

/// `serve --demo`'s scripted visitor: every `interval`, while an agent is online, a visitor
/// "on the demo page" opens a chat with a question, and answers each agent reply with the next
/// line of its script, after `replyDelay`. It runs on the server, over the real chat path (the
/// hub's visitor frames, the store, the fan-out to agent sockets); its lines are marked
/// `[Demo visitor]`.
struct DemoVisitorService<C: Clock>: Service where C.Duration == Duration {
    let hub: ChatHub
    let pageURL: @Sendable () -> String
    let interval: Duration
    let replyDelay: Duration
    let clock: C
    let logger: Logger
    /// At most this many scripted visits at once; the next waits until one ends.
    var maxOpenVisits = 3
    /// Told about every visit opened, answer sent and visit ended (tests wait on it).
    var events: (@Sendable (DemoVisitorEvent) -> Void)? = nil

    func run() async throws {
        let (replies, sink) = AsyncStream<DemoVisit>.makeStream()
        let visits = Locked<[DemoVisit]>([])
        let counter = Locked(0)
        await withDiscardingTaskGroup { group in
            group.addTask {
                while !Task.isShuttingDownGracefully && !Task.isCancelled {
                    do { try await cancelWhenGracefulShutdown { try await clock.sleep(for: interval) } } catch { break }
                    visits.withLock { $0.removeAll { $0.isDone } }
                    guard hub.availability().available, visits.withLock({ $0.count }) < maxOpenVisits else { continue }
                    let n = counter.withLock { n -> Int in n += 1; return n }
                    let script = DemoVisitorScript.all[(n - 1) % DemoVisitorScript.all.count]
                    let visit = DemoVisit(hub: hub, script: script) { visit, frame in
                        // An agent's message to this visitor: answer it (on the reply task).
                        guard frame["type"] as? String == "chat.message",
                              let message = (frame["data"] as? [String: Any])?["message"] as? [String: Any],
                              message["sender"] as? String == "agent" else { return }
                        sink.yield(visit)
                    }
                    do {
                        try await open(visit)
                        visits.withLock { $0.append(visit) }
                    } catch {
                        logger.error("demo visitor could not open a chat", metadata: ["error": "\(error)"])
                        leave(visit)
                    }
                }
                sink.finish()
            }
            group.addTask {
                for await visit in replies {
                    do { try await cancelWhenGracefulShutdown { try await clock.sleep(for: replyDelay) } } catch { break }
                    await answer(visit)
                }
            }
        }
        for visit in visits.withLock({ $0 }) { leave(visit) }
    }

    /// Says hello from the demo page and sends the script's opening line.
    func open(_ visit: DemoVisit) async throws {
        try await hub.handleVisitor(try frame("hello", ["visitorId": visit.visitorId, "pageUrl": pageURL()]), on: visit.socket)
        // The name the console lists the chat under (the visitor stays unidentified).
        visit.socket.state.withLock { $0.visitor?.name = DemoVisitorScript.visitorName }
        try await hub.handleVisitor(try frame("chat.send", ["clientMessageId": visit.nextClientMessageId(),
                                                            "text": "\(DemoVisitorScript.marker) \(visit.script.opening)"]), on: visit.socket)
        guard let conversationId = visit.socket.conversationId else { throw FrontdeskError(.internal, code: "internal_error", message: "The demo chat has no conversation.") }
        visit.remember(conversationId: conversationId)
        logger.info("demo visitor opened a chat", metadata: ["conversation_id": "\(conversationId)"])
        events?(.opened(conversationId: conversationId, visitorId: visit.visitorId))
    }

    /// Sends the next canned line, or ends the visit when the script is used up.
    func answer(_ visit: DemoVisit) async {
        guard let line = visit.nextAnswer(), let conversationId = visit.conversationId else {
            leave(visit)
            return
        }
        do {
            try await hub.handleVisitor(try frame("chat.send", ["clientMessageId": visit.nextClientMessageId(), "conversationId": conversationId,
                                                                "text": "\(DemoVisitorScript.marker) \(line)"]), on: visit.socket)
            events?(.answered(conversationId: conversationId, text: line))
        } catch {
            // A closed conversation, most likely: the visit is over.
            logger.info("demo visitor stopped", metadata: ["conversation_id": "\(conversationId)", "reason": "\(error)"])
            leave(visit)
        }
    }

    /// Takes the visitor's socket off the hub, as a browser closing its tab would.
    func leave(_ visit: DemoVisit) {
        visit.finish()
        visit.socket.finish()
        if hub.unregister(visitor: visit.visitorId, visit.socket), let conversationId = visit.socket.conversationId {
            hub.broadcastVisitorPresence(visitorId: visit.visitorId, conversationId: conversationId, online: false)
        }
        events?(.left(visitorId: visit.visitorId))
    }

    func frame(_ type: String, _ data: [String: Any]) throws -> ChatInboundFrame {
        let bytes = try JSONSerialization.data(withJSONObject: ["v": 1, "type": type, "data": data], options: [.sortedKeys])
        return try ChatInboundFrame.parse(Array(bytes))
    }
}
