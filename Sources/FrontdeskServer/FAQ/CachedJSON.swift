import FrontdeskCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A public read encoded once and kept in the in-process cache with its ETag, so a cache hit
/// costs no database read and no JSON encoding; a matching `If-None-Match` gets a 304.
struct CachedJSON: Sendable {
    let body: ByteBuffer
    let etag: String
    let contentType: String

    init(_ value: some Encodable, contentType: String = "application/json; charset=utf-8") throws {
        let data = try JSONEncoder.api.encode(value)
        body = ByteBuffer(bytes: data)
        etag = "\"" + String(ContentDigest.sha256Hex(data).prefix(20)) + "\""
        self.contentType = contentType
    }

    /// The answer to `request`: 304 when it already has this version, else the body.
    func response(to request: Request) -> Response {
        var headers = HTTPFields()
        headers[.eTag] = etag
        // Revalidate every time: the content changes whenever an editor saves.
        headers[.cacheControl] = "no-cache"
        if ETagMatch.notModified(request, etag: etag) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }
}

/// The query parameters of a public read, checked in one place: unknown names and bad values
/// are reported together in one 422.
struct QueryReader {
    let parameters: [String: String]
    private(set) var problems: [String: String] = [:]

    init(_ request: Request, allowed: Set<String>) {
        parameters = request.queryDictionary
        for name in parameters.keys where !allowed.contains(name) { problems[name] = "is not a known parameter" }
    }

    mutating func fail(_ name: String, _ message: String) {
        if problems[name] == nil { problems[name] = message }
    }

    /// A string parameter of at most `maxLength` code points (the contract's measure).
    mutating func text(_ name: String, maxLength: Int) -> String? {
        guard let value = parameters[name] else { return nil }
        if value.unicodeScalars.count > maxLength { fail(name, "must be at most \(maxLength) characters"); return nil }
        return value
    }

    mutating func integer(_ name: String, in range: ClosedRange<Int>, default value: Int) -> Int {
        guard let raw = parameters[name] else { return value }
        guard let n = Int(raw), range.contains(n) else { fail(name, "must be an integer from \(range.lowerBound) to \(range.upperBound)"); return value }
        return n
    }

    mutating func choice(_ name: String, _ choices: [String], default value: String) -> String {
        guard let raw = parameters[name] else { return value }
        guard choices.contains(raw) else { fail(name, "must be one of " + choices.joined(separator: ", ")); return value }
        return raw
    }

    func validate() throws {
        if !problems.isEmpty { throw FrontdeskError.validation(problems) }
    }
}

/// The visitor id a vote names: the widget's own random id (localStorage), 8–100 of `A-Z a-z 0-9 _ -`.
enum VisitorVote {
    static func visitorId(_ reader: inout FieldReader) -> String? {
        guard let id = reader.text("visitorId", required: true, maxLength: 100, minLength: 8) else { return nil }
        guard id.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }) else {
            reader.fail("visitorId", "must be letters, digits, _ and - only")
            return nil
        }
        return id
    }

    static func alreadyVoted(_ what: String) -> FrontdeskError {
        FrontdeskError(.conflict, code: "already_voted", message: "This visitor has voted on this \(what) already; one vote each.")
    }
}
