import Foundation
import Logging
import Testing
@testable import FrontdeskCore

@Suite("File logs")
struct LogFileTests {
    @Test("lines are JSON, secrets are redacted")
    func jsonLines() throws {
        let dir = TempDirectory()
        let file = try LogFile(directory: dir.path, maxBytes: 1 << 20, keep: 3)
        let logger = Logger(label: "frontdesk") { JSONLogHandler(label: $0, file: file, level: .info, echoToStderr: false) }
        logger.info("signed in", metadata: ["user_id": "7", "password": "hunter2", "session_token": "abc"])
        logger.debug("not written")
        file.flush()
        let text = try String(contentsOfFile: file.path, encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: String])
        #expect(object["msg"] == "signed in")
        #expect(object["level"] == "info")
        #expect(object["user_id"] == "7")
        #expect(object["password"] == "[redacted]")
        #expect(object["session_token"] == "[redacted]")
        #expect(!text.contains("hunter2"))
    }

    @Test("the file rotates by size, old files gzip-compressed, only `keep` kept")
    func rotation() throws {
        let dir = TempDirectory()
        let file = try LogFile(directory: dir.path, maxBytes: 4096, keep: 2)
        let logger = Logger(label: "frontdesk") { JSONLogHandler(label: $0, file: file, level: .info, echoToStderr: false) }
        for i in 0..<400 {
            logger.warning("line \(i)")  // warnings are written at once, so each write may rotate
        }
        file.flush()
        file.waitForCompression()
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names == ["frontdesk.log", "frontdesk.log.1.gz", "frontdesk.log.2.gz"])
        let rotated = try #require(Gzip.decompress(try Data(contentsOf: URL(fileURLWithPath: dir.file("frontdesk.log.1.gz")))))
        let lines = String(decoding: rotated, as: UTF8.self).split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil)
        }
        let current = try Data(contentsOf: URL(fileURLWithPath: file.path))
        #expect(current.count <= 4096)
        #expect(String(decoding: current, as: UTF8.self).contains("line 399"))
    }
}
