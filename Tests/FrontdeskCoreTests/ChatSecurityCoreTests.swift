import Foundation
import GRDB
import Metrics
import Testing
@testable import FrontdeskCore
import FrontdeskTestSupport

/// The small shared pieces behind the chat's security mends: the visitor mail budget, the page
/// address sanitiser and the one take/transfer rule.
@Suite("Chat security core")
struct ChatSecurityCoreTests {
    @Test("the mail budget allows dailyLimit mails per address per UTC day, each address apart")
    func mailBudget() {
        let clock = TestClock()
        let budget = VisitorMailBudget(dailyLimit: 3, now: clock.wall)
        #expect((0..<3).map { _ in budget.spend(for: "203.0.113.7") } == [true, true, true])
        #expect(budget.spend(for: "203.0.113.7") == false)
        #expect(budget.remaining(for: "203.0.113.7") == 0)
        #expect(budget.spend(for: "198.51.100.1") == true)
        // 08:00 → midnight is 16 h.
        #expect(budget.secondsUntilRenewal() == 16 * 3600)
        clock.advance(seconds: 16 * 3600)
        #expect(budget.spend(for: "203.0.113.7") == true)
        #expect(budget.remaining(for: "203.0.113.7") == 2)
    }

    @Test("the mail budget's memory is bounded: past maxAddresses only blocked addresses are kept")
    func mailBudgetBounded() {
        let clock = TestClock()
        let budget = VisitorMailBudget(dailyLimit: 1, maxAddresses: 2, now: clock.wall)
        #expect(budget.spend(for: "a") && budget.spend(for: "b"))
        #expect(budget.spend(for: "c") == false, "both tracked addresses are blocked, so none is forgotten")
        #expect(budget.spend(for: "a") == false)
    }

    @Test("page URLs keep no fragment, no credentials and only allowed query parameters")
    func pageURL() {
        let allow = ["utm_*", "ref"]
        #expect(ChatPageURL.sanitise("https://shop.example/a?utm_source=x&token=t&ref=home#frag", allowedQueryParams: allow)
                == "https://shop.example/a?utm_source=x&ref=home")
        #expect(ChatPageURL.sanitise("https://shop.example/a?token=t#frag", allowedQueryParams: allow) == "https://shop.example/a")
        #expect(ChatPageURL.sanitise("https://user:pw@shop.example/", allowedQueryParams: allow) == "https://shop.example/")
        #expect(ChatPageURL.sanitise("https://shop.example/?utm_x=1", allowedQueryParams: []) == "https://shop.example/")
        #expect(ChatPageURL.sanitise("javascript:alert(1)", allowedQueryParams: allow) == nil)
        #expect(ChatPageURL.sanitise("https://shop.example/" + String(repeating: "a", count: 2100), allowedQueryParams: allow) == nil)
    }

    static func conversation(status: ChatConversationStatus, assignee: Int64?) throws -> ChatConversation {
        try ChatConversation(row: Row([
            "id": 1, "visitor_id": "v_1", "user_id": nil, "visitor_name": nil, "visitor_email": nil, "identified": false,
            "status": status.rawValue, "assignee_id": assignee, "assignee_name": assignee.map { "agent \($0)" }, "offline": false,
            "page_url": nil, "ticket_id": nil, "closed_by": nil, "created_at": "2027-01-15T08:00:00.000Z", "updated_at": "2027-01-15T08:00:00.000Z",
            "assigned_at": nil, "closed_at": nil, "last_message_at": nil, "last_message_id": nil, "visitor_delivered_up_to": 0,
            "visitor_read_up_to": 0, "agent_delivered_up_to": 0, "agent_read_up_to": 0,
        ]))
    }

    @Test("take and transfer: the queue is anyone's, one's own is one's own, another's only for an admin (take with force)")
    func assignmentRule() throws {
        func allowed(_ rule: ChatAssignmentRule, _ move: ChatAssignmentRule.Move, _ c: ChatConversation) -> String {
            do { try rule.check(move, on: c); return "ok" } catch let error as FrontdeskError { return error.code } catch { return "?" }
        }
        let agent = ChatAssignmentRule(actorId: 2, actorIsAdmin: false)
        let admin = ChatAssignmentRule(actorId: 3, actorIsAdmin: true)
        let queued = try Self.conversation(status: .open, assignee: nil)
        let others = try Self.conversation(status: .assigned, assignee: 1)
        let mine = try Self.conversation(status: .assigned, assignee: 2)
        let closed = try Self.conversation(status: .closed, assignee: 2)
        #expect(allowed(agent, .take(force: false), queued) == "ok")
        #expect(allowed(agent, .take(force: true), others) == "forbidden")
        #expect(allowed(agent, .transfer(to: 2), others) == "forbidden")
        #expect(allowed(agent, .unassign, others) == "forbidden")
        #expect(allowed(agent, .transfer(to: 1), mine) == "ok")
        #expect(allowed(agent, .unassign, mine) == "ok")
        #expect(allowed(agent, .transfer(to: 1), queued) == "forbidden")
        #expect(allowed(admin, .take(force: false), others) == "forbidden")
        #expect(allowed(admin, .take(force: true), others) == "ok")
        #expect(allowed(admin, .transfer(to: 2), others) == "ok")
        #expect(allowed(agent, .take(force: false), closed) == "conversation_closed")
    }
}
