import HTTPTypes
import Hummingbird

/// `If-None-Match` against a response's strong ETag, with the weak comparison RFC 9110 §13.1.2
/// asks for: `"x"`, `W/"x"` and `*` all match `"x"`.
enum ETagMatch {
    static func notModified(_ request: Request, etag: String) -> Bool {
        guard let header = request.headers[.ifNoneMatch] else { return false }
        return header.split(separator: ",").contains { candidate in
            let tag = candidate.trimmingCharacters(in: .whitespaces)
            return tag == etag || tag == "W/" + etag || tag == "*"
        }
    }
}
