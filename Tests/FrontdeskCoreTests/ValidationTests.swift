import Foundation
import Testing
@testable import FrontdeskCore

@Suite("Validation")
struct ValidationTests {
    @Test("every bad field is named at once", arguments: [
        (["name": JSONValue.number(1), "email": .string("nope"), "extra": .bool(true)], Set(["name", "email", "message", "extra"])),
        (["name": .string(""), "email": .string("a@b.co"), "message": .string(String(repeating: "x", count: 10_001))], Set(["name", "message"])),
        (["name": .string("Line\nbreak"), "email": .string("a@b.co"), "message": .string("ok"), "fields": .array([])], Set(["name", "fields"])),
    ])
    func contactValidation(json: [String: JSONValue], badFields: Set<String>) throws {
        let error = try #require(throws: FrontdeskError.self) { try NewContactSubmission(json: json) }
        #expect(error.kind == .validation)
        #expect(error.code == "validation_failed")
        #expect(Set(error.details.keys) == badFields)
    }

    @Test("email syntax", arguments: [
        ("ann@example.com", "ann@example.com"), ("Ann.Lee+news@Example.ORG", "Ann.Lee+news@example.org"),
        ("no-at-sign", nil), ("a@b", nil), (".a@example.com", nil), ("a..b@example.com", nil), ("a@-x.com", nil),
        ("a b@example.com", nil), ("a@exa mple.com", nil), (String(repeating: "a", count: 65) + "@example.com", nil),
    ] as [(String, String?)])
    func email(raw: String, expected: String?) {
        #expect(EmailAddress.normalize(raw) == expected)
    }

    @Test("gzip round trip")
    func gzip() throws {
        let text = Data(String(repeating: "Frontdesk keeps what visitors write. ", count: 200).utf8)
        let compressed = Gzip.compress(text)
        #expect(compressed.count < text.count / 5)
        #expect(compressed.prefix(2) == Data([0x1f, 0x8b]))
        #expect(Gzip.decompress(compressed) == text)
        #expect(Gzip.decompress(Data("not gzip".utf8)) == nil)
    }

    @Test("client addresses are truncated")
    func truncation() {
        #expect(ClientAddress.truncated("203.0.113.77") == "203.0.113.0")
        #expect(ClientAddress.truncated("2001:db8:85a3:8d3:1319:8a2e:370:7348") == "2001:db8:85a3::")
        #expect(ClientAddress.truncated(nil) == "-")
        #expect(ClientAddress.truncated("::1") == "::")
        #expect(ClientAddress.truncated("10.0.0") == "-")
    }
}
