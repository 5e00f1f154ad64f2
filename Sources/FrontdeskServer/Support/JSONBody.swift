import FrontdeskCore
import Foundation
import Hummingbird
import NIOCore

extension Request {
    /// Reads the body as one JSON object, enforcing the size limit (413), the content type (415)
    /// and JSON syntax (400 naming the place), and returning the object for field-level validation.
    func jsonObject(context: some RequestContext) async throws -> [String: JSONValue] {
        try await jsonBody(context: context).object
    }

    /// The JSON object and the bytes it was parsed from (for idempotency fingerprints).
    func jsonBody(context: some RequestContext) async throws -> (object: [String: JSONValue], data: Data) {
        let contentType = headers[.contentType]?.lowercased() ?? ""
        let mediaType = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json")) else {
            throw FrontdeskError(.unsupportedMediaType, code: "unsupported_media_type",
                                 message: "Send the body as application/json" + (mediaType.isEmpty ? " (the Content-Type header is missing)." : ", not \(mediaType)."))
        }
        if let declared = headers[.contentLength].flatMap(Int.init), declared > context.maxUploadSize {
            throw Self.tooLarge(limit: context.maxUploadSize)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: context.maxUploadSize)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw Self.tooLarge(limit: context.maxUploadSize)
        }
        let data = Data(buffer: buffer)
        guard !data.isEmpty else {
            throw FrontdeskError(.badRequest, code: "malformed_json", message: "The request body is empty; send a JSON object.")
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(data)
        } catch let error as JSONParseError {
            let location = Self.location(of: error.offset, in: data)
            throw FrontdeskError(.badRequest, code: "malformed_json",
                                 message: "The request body is not valid JSON: \(error.reason) at line \(location["line"]!), column \(location["column"]!).",
                                 details: location.merging(["reason": error.reason]) { $1 })
        }
        guard case .object(let object) = value else {
            throw FrontdeskError(.badRequest, code: "malformed_json", message: "The request body must be a JSON object, not \(value.typeName).")
        }
        return (object, data)
    }

    static func tooLarge(limit: Int) -> FrontdeskError {
        FrontdeskError(.payloadTooLarge, code: "payload_too_large",
                       message: "The request body is larger than the \(limit / 1024) KiB this endpoint accepts.",
                       details: ["limitBytes": String(limit)])
    }

    /// `{"line": "2", "column": "11", "offset": "24"}` for a byte offset (columns count characters).
    static func location(of offset: Int, in data: Data) -> [String: String] {
        var line = 1, column = 1
        for (index, byte) in data.enumerated() {
            if index >= offset { break }
            if byte == UInt8(ascii: "\n") { line += 1; column = 1 } else if byte & 0xC0 != 0x80 { column += 1 }
        }
        return ["line": String(line), "column": String(column), "offset": String(offset)]
    }
}

extension Response {
    /// A JSON response with the API encoder.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        let data = try JSONEncoder.api.encode(value)
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
