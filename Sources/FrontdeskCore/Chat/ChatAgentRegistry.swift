import Foundation

/// An agent's presence as the chat shows it: `online` and `away` while they have a socket,
/// `offline` without one.
package enum ChatAgentStatus: String, Codable, Sendable, Equatable {
    case online, away, offline
}

/// One agent in the `presence.agent` list of an agent's `welcome`.
package struct ChatAgentPresence: Encodable, Sendable, Equatable {
    package let agentId: Int64
    package let name: String
    package let status: ChatAgentStatus

    package init(agentId: Int64, name: String, status: ChatAgentStatus) {
        self.agentId = agentId
        self.name = name
        self.status = status
    }
}

/// Round-robin assignment: of the candidates, the agent assigned longest ago goes next (never
/// assigned counts as longest; ties go to the lower id). Positions are kept per agent id, so an
/// agent who reconnects keeps their place instead of jumping to the front of the line.
package struct ChatRoundRobin: Sendable {
    /// The assignment counter at each agent's last assignment.
    private var lastAssigned: [Int64: UInt64] = [:]
    private var assignments: UInt64 = 0

    package init() {}

    /// The next agent among `candidates`, marked as assigned now; nil when there is none.
    package mutating func next(among candidates: some Sequence<ChatAgent>) -> ChatAgent? {
        guard let chosen = candidates.min(by: { (lastAssigned[$0.id] ?? 0, $0.id) < (lastAssigned[$1.id] ?? 0, $1.id) }) else { return nil }
        assignments += 1
        lastAssigned[chosen.id] = assignments
        return chosen
    }
}

/// The agents with at least one open socket, their presence, and the round-robin order that
/// picks who gets the next conversation from the queue. A value type: the hub keeps one behind
/// a lock and the rules live here, apart from socket writing, so they are tested without a
/// server. `Socket` is the server's connection type, compared by identity.
package struct ChatAgentRegistry<Socket: AnyObject & Sendable>: Sendable {
    struct Entry: Sendable {
        var agent: ChatAgent
        var away: Bool
        var sockets: [Socket]
    }

    private var entries: [Int64: Entry] = [:]
    private var roundRobin = ChatRoundRobin()
    /// Every agent socket, in the order they registered. Replaced, never mutated in place, so a
    /// reader copies the reference under the lock and iterates outside it.
    package private(set) var sockets: [Socket] = []

    package init() {}

    /// Adds an agent's socket; returns whether the agent's presence changed (they came online,
    /// or a socket that is not away joined an away agent).
    @discardableResult
    package mutating func add(_ socket: Socket, agent: ChatAgent, away: Bool) -> Bool {
        sockets = sockets + [socket]
        guard var entry = entries[agent.id] else {
            entries[agent.id] = Entry(agent: agent, away: away, sockets: [socket])
            return true
        }
        entry.sockets.append(socket)
        let changed = entry.away && !away
        if changed { entry.away = false }
        entries[agent.id] = entry
        return changed
    }

    /// Removes an agent's socket; returns whether it was the agent's last (they went offline).
    @discardableResult
    package mutating func remove(_ socket: Socket, agentId: Int64) -> Bool {
        sockets = sockets.filter { $0 !== socket }
        guard var entry = entries[agentId] else { return false }
        entry.sockets.removeAll { $0 === socket }
        if entry.sockets.isEmpty {
            entries[agentId] = nil
            return true
        }
        entries[agentId] = entry
        return false
    }

    /// Sets an online agent's presence; returns whether it changed (false for an agent without sockets).
    package mutating func setAway(_ agentId: Int64, _ away: Bool) -> Bool {
        guard let entry = entries[agentId], entry.away != away else { return false }
        entries[agentId]!.away = away
        return true
    }

    package func status(of agentId: Int64) -> ChatAgentStatus {
        guard let entry = entries[agentId] else { return .offline }
        return entry.away ? .away : .online
    }

    /// Agents with a socket, by id.
    package var presences: [ChatAgentPresence] {
        entries.values.map { ChatAgentPresence(agentId: $0.agent.id, name: $0.agent.name, status: $0.away ? .away : .online) }
            .sorted { $0.agentId < $1.agentId }
    }

    /// Agents with a socket who are not away.
    package var onlineCount: Int { entries.values.count(where: { !$0.away }) }

    /// The next online agent in round-robin order, marked as assigned; nil when nobody is online.
    package mutating func chooseAssignee() -> ChatAgent? {
        roundRobin.next(among: entries.values.lazy.filter { !$0.away }.map(\.agent))
    }
}
