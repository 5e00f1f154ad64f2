import Foundation
import Testing
@testable import FrontdeskState
import FrontdeskTestSupport

@Suite("Session snapshots")
struct SnapshotTests {
    static func sampleSessions(_ n: Int, seed: UInt64 = 1) -> [Session] {
        let clock = TestClock()
        let store = SessionStore(idleTimeout: .minutes(30), absoluteLifetime: .hours(12), now: clock.wall)
        var rng = SplitMix(seed: seed)
        var sessions: [Session] = []
        for i in 0..<n {
            var data: [String: String] = ["csrf": SessionID.random()]
            if i % 3 == 0 { data["locale"] = "de-CH" }
            if i % 7 == 0 { data["note"] = "ünïcödé ✓ \(i)" }
            if i % 11 == 0 { data = [:] }
            sessions.append(store.create(userId: "user-\(rng.next() % 100)", data: data))
            clock.advance(by: .milliseconds(Int64(rng.next() % 5_000)))
        }
        // Odd ids (not canonical base64url) take the string path of the format.
        sessions.append(Session(id: "legacy-id", userId: "", data: ["": ""], expiresAt: clock.date.wholeMilliseconds,
                                createdAt: clock.date.wholeMilliseconds, lastAccessedAt: clock.date.wholeMilliseconds,
                                absoluteExpiresAt: clock.date.addingTimeInterval(1).wholeMilliseconds))
        return sessions
    }

    @Test("1,000 sessions round-trip exactly")
    func roundTrip() throws {
        let dir = TempDirectory()
        let path = dir.file("sessions.snapshot")
        let sessions = Self.sampleSessions(1_000)
        let bytes = try SessionSnapshot.write(sessions, to: path)
        #expect(bytes == (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int))
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
        let read = try SessionSnapshot.read(from: path)
        #expect(read == sessions)
        // Writing again replaces the file whole.
        try SessionSnapshot.write(Array(sessions.prefix(10)), to: path)
        #expect(try SessionSnapshot.read(from: path) == Array(sessions.prefix(10)))
        try SessionSnapshot.write([], to: path)
        #expect(try SessionSnapshot.read(from: path) == [])
    }

    @Test("the file is private to its owner")
    func permissions() throws {
        let dir = TempDirectory()
        let path = dir.file("s")
        try SessionSnapshot.write(Self.sampleSessions(3), to: path)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test("every truncation is reported as truncated")
    func truncated() throws {
        let dir = TempDirectory()
        let path = dir.file("s")
        try SessionSnapshot.write(Self.sampleSessions(50), to: path)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        for length in [0, 1, 3, 4, 7, 8, 20, 31, 32, 33, 55, 56, 57, whole.count / 2, whole.count - 1] {
            try whole.prefix(length).write(to: URL(fileURLWithPath: path))
            #expect(throws: SnapshotError.truncated, "length \(length)") { try SessionSnapshot.read(from: path) }
        }
        try (whole + Data([0])).write(to: URL(fileURLWithPath: path))
        #expect(throws: SnapshotError.checksumMismatch) { try SessionSnapshot.read(from: path) }
    }

    @Test("a single flipped bit anywhere in a small snapshot is always a SnapshotError")
    func everyBitFlip() throws {
        let sessions = Self.sampleSessions(8)
        let dir = TempDirectory()
        let path = dir.file("s")
        try SessionSnapshot.write(sessions, to: path)
        let whole = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var kinds: [String: Int] = [:]
        for bit in 0..<(whole.count * 8) {
            var damaged = whole
            damaged[bit / 8] ^= 1 << UInt8(bit % 8)
            do {
                let read = try damaged.withUnsafeBufferPointer { try SessionSnapshot.decode(file: $0) }
                Issue.record("bit \(bit) went unnoticed: \(read.count) sessions")
            } catch {
                kinds["\(error)".components(separatedBy: "(").first!, default: 0] += 1
            }
        }
        #expect(kinds["checksumMismatch"] ?? 0 > 0)
        #expect(kinds["notASnapshot"] == 32)
    }

    @Test("random bit flips in a 1,000-session snapshot file are always detected")
    func randomBitFlips() throws {
        let dir = TempDirectory()
        let path = dir.file("s")
        try SessionSnapshot.write(Self.sampleSessions(1_000), to: path)
        let whole = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var rng = SplitMix(seed: 7)
        for _ in 0..<300 {
            let bit = Int(rng.next() % UInt64(whole.count * 8))
            var damaged = whole
            damaged[bit / 8] ^= 1 << UInt8(bit % 8)
            try Data(damaged).write(to: URL(fileURLWithPath: path))
            #expect(throws: SnapshotError.self, "bit \(bit)") { try SessionSnapshot.read(from: path) }
        }
    }

    @Test("foreign files are not snapshots; a newer version is refused by number")
    func foreign() throws {
        let dir = TempDirectory()
        let path = dir.file("s")
        try Data("{\"sessions\":[]}".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: SnapshotError.notASnapshot) { try SessionSnapshot.read(from: path) }
        try Data(repeating: 0, count: 4096).write(to: URL(fileURLWithPath: path))
        #expect(throws: SnapshotError.notASnapshot) { try SessionSnapshot.read(from: path) }
        try SessionSnapshot.write(Self.sampleSessions(2), to: path)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[4] = 2
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: SnapshotError.unsupportedVersion(2)) { try SessionSnapshot.read(from: path) }
    }

    @Test("a missing file throws POSIXError(.ENOENT); readIfPresent returns nil")
    func missing() throws {
        let dir = TempDirectory()
        let path = dir.file("absent")
        #expect(throws: POSIXError(.ENOENT)) { try SessionSnapshot.read(from: path) }
        #expect(try SessionSnapshot.readIfPresent(from: path) == nil)
        #expect(throws: POSIXError(.ENOENT)) { try SessionSnapshot.write([], to: dir.file("no/such/dir/s")) }
    }

    @Test("a forged payload that passes every checksum is still refused, not trusted")
    func forgedPayload() throws {
        // Valid header, directory and checksums around structured bytes that do not decode.
        let cases: [([UInt8], [UInt8], Int)] = [
            ([0, 1, 5, 5, 5], [], 1),  // empty string table, then a session cut short
            ([0, 1, 7], [], 1),  // a user id index outside the (empty) table
            ([0, 9], [], 1),  // an unknown id flag
            ([0], [], 1),  // a session that is not there
            ([0], [1, 2, 3], 0),  // raw bytes that no session uses
        ]
        for (structured, raw, count) in cases {
            let file = Self.forge(structured: structured, raw: raw, count: count)
            #expect(throws: SnapshotError.malformedPayload, "\(structured)") {
                try file.withUnsafeBufferPointer { try SessionSnapshot.decode(file: $0) }
            }
        }
    }

    /// A file whose framing and checksums are all right around the given chunk contents.
    static func forge(structured: [UInt8], raw: [UInt8], count: Int) -> [UInt8] {
        let s = ByteWriter(capacity: 16), r = ByteWriter(capacity: 16)
        structured.withUnsafeBufferPointer { s.raw($0) }
        raw.withUnsafeBufferPointer { r.raw($0) }
        let chunk = SessionSnapshot.EncodedChunk(structured: s, raw: r, sessionCount: count)
        let (header, directory) = SessionSnapshot.headerAndDirectory([chunk], sessionCount: count)
        return Array(header.bytes) + Array(directory.bytes) + Array(chunk.compressed) + Array(chunk.raw.bytes)
    }

    @Test("snapshots of more than one chunk round-trip in order")
    func multipleChunks() throws {
        let clock = TestClock()
        let sessions = (0..<(SnapshotFormat.chunkSize * 2 + 17)).map { i in
            Session(id: SessionID.random(), userId: "u\(i % 50)", data: i % 2 == 0 ? ["csrf": SessionID.random()] : [:],
                    expiresAt: clock.date.wholeMilliseconds, createdAt: clock.date.wholeMilliseconds,
                    lastAccessedAt: clock.date.wholeMilliseconds, absoluteExpiresAt: clock.date.wholeMilliseconds)
        }
        let dir = TempDirectory()
        try SessionSnapshot.write(sessions, to: dir.file("s"))
        #expect(try SessionSnapshot.read(from: dir.file("s")) == sessions)
    }

    @Test("a store restored from a snapshot finds the same sessions")
    func storeRoundTrip() throws {
        let clock = TestClock()
        let store = SessionStore(idleTimeout: .minutes(30), absoluteLifetime: .hours(12), now: clock.wall)
        let sessions = (0..<100).map { store.create(userId: "u\($0 % 7)", data: ["n": "\($0)"]) }
        let dir = TempDirectory()
        try SessionSnapshot.write(store.allSessions(), to: dir.file("s"))
        let restored = SessionStore(idleTimeout: .minutes(30), absoluteLifetime: .hours(12), now: clock.wall)
        restored.restore(try SessionSnapshot.read(from: dir.file("s")))
        for session in sessions { #expect(restored.get(session.id)?.data == session.data) }
        #expect(restored.destroyAll(forUser: "u0") == 15)
    }
}
