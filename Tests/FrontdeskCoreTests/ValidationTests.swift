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

@Suite("JSON parser")
struct JSONParserTests {
    @Test("parses what JSONDecoder parses, to the same values")
    func agreesWithFoundation() throws {
        let documents = [
            #"{"name": " Ann ", "n": -12.5e2, "ok": true, "no": false, "nil": null, "list": [1, "two", {"x": []}], "empty": {}}"#,
            #"{"escapes": "a\"b\\c\/d\b\f\n\r\t", "unicode": "caf\u00e9 \ud83d\ude00 ü 日本", "zero": 0, "small": 1E-3}"#,
            "  [ ]  ", #""just a string""#, "42",
        ]
        for document in documents {
            let data = Data(document.utf8)
            #expect(try JSONValue.parse(data) == JSONDecoder().decode(JSONValue.self, from: data), "\(document)")
        }
    }

    @Test("refuses what is not JSON, with the offset")
    func refuses() {
        let bad = ["", "{", #"{"a" 1}"#, "[1,]", "{\"a\":1,}", "01", "1.", "-", "tru", #""\x""#, "\"a\u{01}b\"", #""\ud800""#,
                   "[1] 2", #"{"dup": 1, "dup": 2}"#, String(repeating: "[", count: 100) + String(repeating: "]", count: 100), "1e999"]
        for document in bad {
            #expect(throws: JSONParseError.self, "\(document)") { try JSONValue.parse(Data(document.utf8)) }
        }
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Data([0x22, 0xC3, 0x28, 0x22])) }  // invalid UTF-8
        let error = try? #require(throws: JSONParseError.self) { try JSONValue.parse(Data(#"{"a": [1, 2 3]}"#.utf8)) }
        #expect(error?.offset == 12)
    }

    @Test("trimming keeps inner white space and removes outer Unicode white space")
    func trimming() {
        #expect(FieldReader.trimmed("  a b \n") == "a b")
        #expect(FieldReader.trimmed("\u{00A0}\u{2003}x\u{3000}") == "x")
        #expect(FieldReader.trimmed("x") == "x")
        #expect(FieldReader.trimmed(" \n\t ") == "")
    }
}
