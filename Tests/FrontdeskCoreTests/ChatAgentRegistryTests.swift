import Foundation
import Testing
@testable import FrontdeskCore

/// Presence, round-robin assignment and the console's reassignment move, without a server.
@Suite("Chat agent registry")
struct ChatAgentRegistryTests {
    /// Stands in for the server's socket: compared by identity.
    final class Socket: Sendable {}

    let ann = ChatAgent(id: 1, name: "Ann")
    let bob = ChatAgent(id: 2, name: "Bob")
    let cy = ChatAgent(id: 3, name: "Cy")

    @Test("presence: first socket brings an agent online, the last one takes them offline; away only while connected")
    func presence() {
        var registry = ChatAgentRegistry<Socket>()
        let a1 = Socket(), a2 = Socket(), b1 = Socket()
        #expect(registry.status(of: ann.id) == .offline)
        #expect(registry.add(a1, agent: ann, away: false) == true)
        #expect(registry.add(a2, agent: ann, away: false) == false, "a second tab changes nothing")
        #expect(registry.add(b1, agent: bob, away: true) == true)
        #expect(registry.status(of: bob.id) == .away)
        #expect(registry.onlineCount == 1)
        #expect(registry.presences == [ChatAgentPresence(agentId: 1, name: "Ann", status: .online),
                                       ChatAgentPresence(agentId: 2, name: "Bob", status: .away)])
        #expect(registry.sockets.map(ObjectIdentifier.init) == [a1, a2, b1].map(ObjectIdentifier.init))

        #expect(registry.setAway(ann.id, true) == true)
        #expect(registry.setAway(ann.id, true) == false, "no change, no broadcast")
        #expect(registry.setAway(cy.id, true) == false, "an agent without a socket has no presence to set")
        #expect(registry.onlineCount == 0)
        #expect(registry.add(Socket(), agent: bob, away: false) == true, "a socket that is not away brings an away agent back")
        #expect(registry.status(of: bob.id) == .online)

        #expect(registry.remove(a1, agentId: ann.id) == false)
        #expect(registry.status(of: ann.id) == .away)
        #expect(registry.remove(a2, agentId: ann.id) == true)
        #expect(registry.status(of: ann.id) == .offline)
        #expect(registry.remove(a2, agentId: ann.id) == false, "removing twice is harmless")
        #expect(!registry.sockets.contains { $0 === a1 || $0 === a2 })
    }

    @Test("round robin: the agent assigned longest ago goes next, ties to the lower id; away agents are skipped")
    func roundRobin() {
        var registry = ChatAgentRegistry<Socket>()
        #expect(registry.chooseAssignee() == nil, "nobody online")
        registry.add(Socket(), agent: bob, away: false)
        registry.add(Socket(), agent: ann, away: false)
        registry.add(Socket(), agent: cy, away: false)
        #expect((0..<6).map { _ in registry.chooseAssignee()?.id } == [1, 2, 3, 1, 2, 3])
        _ = registry.setAway(bob.id, true)
        #expect((0..<3).map { _ in registry.chooseAssignee()?.id } == [1, 3, 1])
        _ = registry.setAway(bob.id, false)
        #expect(registry.chooseAssignee()?.id == 2, "back from away, Bob has waited longest")
    }

    @Test("round robin: an agent who reconnects keeps their place in the line")
    func roundRobinSurvivesReconnect() {
        var registry = ChatAgentRegistry<Socket>()
        let annSocket = Socket()
        registry.add(annSocket, agent: ann, away: false)
        registry.add(Socket(), agent: bob, away: false)
        #expect(registry.chooseAssignee()?.id == 1)
        registry.remove(annSocket, agentId: ann.id)
        registry.add(Socket(), agent: ann, away: false)
        #expect(registry.chooseAssignee()?.id == 2, "Ann was just assigned; reconnecting does not put her first")
        #expect(registry.chooseAssignee()?.id == 1)
    }

    @Test("ChatRoundRobin alone picks among any candidates and remembers agents it has not seen for a while")
    func roundRobinAlone() {
        var order = ChatRoundRobin()
        #expect(order.next(among: [ChatAgent]()) == nil)
        #expect(order.next(among: [cy, ann]) == ann)
        #expect(order.next(among: [cy, ann]) == cy)
        #expect(order.next(among: [bob, ann, cy]) == bob, "never assigned goes first")
        #expect(order.next(among: [ann, cy]) == ann)
    }

    @Test("a console reassignment: to oneself is a forced take, to another a transfer, nil back to the queue")
    func reassignmentMove() {
        let rule = ChatAssignmentRule(actorId: 1, actorIsAdmin: true)
        #expect(rule.reassignment(to: 1) == .take(force: true))
        #expect(rule.reassignment(to: 2) == .transfer(to: 2))
        #expect(rule.reassignment(to: nil) == .unassign)
    }
}
