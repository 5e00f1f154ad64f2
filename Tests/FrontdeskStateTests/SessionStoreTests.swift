import Foundation
import Testing
@testable import FrontdeskState
import FrontdeskTestSupport

@Suite("Session store")
struct SessionStoreTests {
    let clock = TestClock()

    func makeStore(idle: Duration = .minutes(30), absolute: Duration = .hours(12)) -> SessionStore {
        SessionStore(idleTimeout: idle, absoluteLifetime: absolute, now: clock.wall)
    }

    @Test("create issues a 43-character base64url id with 256 random bits and sets the times")
    func create() {
        let store = makeStore()
        let session = store.create(userId: "u1", data: ["csrf": "t"])
        #expect(session.id.utf8.count == 43)
        #expect(session.id.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(session.createdAt == clock.date)
        #expect(session.lastAccessedAt == clock.date)
        #expect(session.expiresAt == clock.date.addingTimeInterval(30 * 60))
        #expect(session.absoluteExpiresAt == clock.date.addingTimeInterval(12 * 3600))
        #expect(store.get(session.id) == session)
        let ids = Set((0..<1_000).map { _ in store.create(userId: "u2").id })
        #expect(ids.count == 1_000)
        #expect(store.count == 1_001)
    }

    @Test("get slides the idle expiry and updates lastAccessedAt")
    func slide() throws {
        let store = makeStore()
        let session = store.create(userId: "u1")
        clock.advance(by: .minutes(20))
        let seen = try #require(store.get(session.id))
        #expect(seen.lastAccessedAt == clock.date)
        #expect(seen.expiresAt == clock.date.addingTimeInterval(30 * 60))
        clock.advance(by: .minutes(29))
        #expect(store.get(session.id) != nil)
        clock.advance(by: .minutes(30))
        #expect(store.get(session.id) == nil)
        #expect(store.count == 0)
    }

    @Test("the absolute lifetime ends a session however active it is")
    func absoluteLifetime() throws {
        let store = makeStore(idle: .minutes(30), absolute: .hours(1))
        let session = store.create(userId: "u1")
        for _ in 0..<5 {  // active every 10 minutes for 50 minutes
            clock.advance(by: .minutes(10))
            #expect(store.get(session.id) != nil)
        }
        let late = try #require(store.get(session.id))
        #expect(late.expiresAt == session.absoluteExpiresAt)  // capped: 50 + 30 > 60
        clock.advance(by: .minutes(10))
        #expect(store.get(session.id) == nil)
    }

    @Test("update replaces the data of a live session only")
    func update() {
        let store = makeStore()
        let session = store.create(userId: "u1", data: ["a": "1"])
        let updated = store.update(session.id, data: ["b": "2"])
        #expect(updated?.data == ["b": "2"])
        #expect(store.get(session.id)?.data == ["b": "2"])
        #expect(store.update("unknown", data: [:]) == nil)
        clock.advance(by: .hours(1))
        #expect(store.update(session.id, data: ["c": "3"]) == nil)
    }

    @Test("destroy ends one session")
    func destroy() {
        let store = makeStore()
        let a = store.create(userId: "u1")
        let b = store.create(userId: "u1")
        #expect(store.destroy(a.id))
        #expect(!store.destroy(a.id))
        #expect(store.get(a.id) == nil)
        #expect(store.get(b.id) != nil)
        #expect(store.sessions(forUser: "u1").map(\.id) == [b.id])
    }

    @Test("destroyAll(forUser:) ends exactly that user's sessions")
    func destroyAll() {
        let store = makeStore()
        let mine = (0..<5).map { _ in store.create(userId: "alice") }
        let theirs = (0..<3).map { _ in store.create(userId: "bob") }
        store.destroy(mine[0].id)
        #expect(store.destroyAll(forUser: "alice") == 4)
        #expect(store.destroyAll(forUser: "alice") == 0)
        #expect(mine.allSatisfy { store.get($0.id) == nil })
        #expect(theirs.allSatisfy { store.get($0.id) != nil })
        #expect(store.count == 3)
        #expect(store.destroyAll(forUser: "nobody") == 0)
    }

    @Test("cleanup removes expired sessions and their index entries")
    func cleanup() {
        let store = makeStore(idle: .minutes(10), absolute: .hours(1))
        let old = (0..<10).map { i in store.create(userId: "u\(i % 3)") }
        clock.advance(by: .minutes(5))
        let fresh = (0..<4).map { i in store.create(userId: "u\(i % 3)") }
        #expect(store.cleanup() == 0)
        clock.advance(by: .minutes(6))
        #expect(store.cleanup() == 10)
        #expect(store.count == 4)
        #expect(old.allSatisfy { store.get($0.id) == nil })
        #expect(fresh.allSatisfy { store.get($0.id) != nil })
        #expect(store.sessions(forUser: "u0").count == 2)
        #expect(store.destroyAll(forUser: "u0") == 2)
    }

    @Test("allSessions and restore carry live sessions over, dropping expired ones")
    func restore() {
        let store = makeStore(idle: .minutes(10), absolute: .hours(1))
        let first = (0..<20).map { i in store.create(userId: "u\(i % 4)") }
        clock.advance(by: .minutes(8))
        let second = (0..<5).map { _ in store.create(userId: "u9") }
        let saved = store.allSessions()
        #expect(saved.count == 25)
        clock.advance(by: .minutes(3))  // the first twenty are now past their idle timeout
        let restored = makeStore(idle: .minutes(10), absolute: .hours(1))
        restored.restore(saved)
        #expect(restored.count == 5)
        #expect(first.allSatisfy { restored.get($0.id) == nil })
        #expect(second.allSatisfy { restored.get($0.id) != nil })
        #expect(restored.destroyAll(forUser: "u9") == 5)
    }
}
