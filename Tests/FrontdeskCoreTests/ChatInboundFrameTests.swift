import Foundation
import Testing
@testable import FrontdeskCore

/// Inbound frames go through the project's strict parser: what it refuses is `bad_frame`.
@Suite("Chat inbound frames")
struct ChatInboundFrameTests {
    static func refusal(_ text: String) -> FrontdeskError? {
        do {
            _ = try ChatInboundFrame.parse(Array(text.utf8))
            return nil
        } catch let error as FrontdeskError {
            return error
        } catch {
            return nil
        }
    }

    @Test("a frame with a key given twice is bad_frame, wherever the key is")
    func duplicateKey() throws {
        for text in [#"{"type":"chat.send","type":"ping"}"#,
                     #"{"type":"chat.send","data":{"conversationId":1,"conversationId":2,"text":"hi"}}"#] {
            let error = try #require(Self.refusal(text))
            #expect(error.code == "bad_frame")
            #expect(error.kind == .badRequest)
            #expect(error.details["reason"]?.contains("appears twice") == true, "\(error.details)")
        }
    }

    @Test("a frame nested deeper than 64 levels is bad_frame; 64 levels are fine")
    func tooDeep() throws {
        func frame(depth: Int) -> String {
            // The frame object and its data are two levels; the rest are arrays inside data.
            let inner = String(repeating: "[", count: depth - 2) + String(repeating: "]", count: depth - 2)
            return #"{"type":"ping","data":{"pad":"# + inner + "}}"
        }
        let error = try #require(Self.refusal(frame(depth: 65)))
        #expect(error.code == "bad_frame")
        #expect(error.details["reason"]?.contains("nested deeper than 64") == true, "\(error.details)")
        #expect(Self.refusal(frame(depth: 64)) == nil)
    }

    @Test("frame types the protocol knows become the enum; others keep their name and no kind")
    func kinds() throws {
        for kind in ChatClientFrameType.allCases {
            let frame = try ChatInboundFrame.parse(Array(#"{"type":"\#(kind.rawValue)"}"#.utf8))
            #expect(frame.kind == kind && frame.type == kind.rawValue)
        }
        let unknown = try ChatInboundFrame.parse(Array(#"{"type":"chat.sendd"}"#.utf8))
        #expect(unknown.kind == nil && unknown.type == "chat.sendd")
    }

    @Test("a bare value or a non-object data is still bad_frame; numbers and escapes read as before")
    func shapes() throws {
        #expect(Self.refusal("1")?.code == "bad_frame")
        #expect(Self.refusal(#""ping""#)?.code == "bad_frame")
        #expect(Self.refusal(#"{"type":"ping"} x"#)?.code == "bad_frame")
        let frame = try ChatInboundFrame.parse(Array(#"{"v":1,"type":"chat.send","data":{"conversationId":12,"text":"caf\u00e9 \ud83c\udf89","force":true}}"#.utf8))
        #expect(frame.integer("conversationId") == 12)
        #expect(frame.string("text") == "café 🎉")
        #expect(frame.bool("force") == true)
    }
}
