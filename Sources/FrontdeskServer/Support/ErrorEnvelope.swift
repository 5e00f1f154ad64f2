import FrontdeskCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The one error body of every 4xx and 5xx:
/// `{"error":{"code":"…","message":"…","details":{…},"timestamp":"…"}}`.
struct ErrorEnvelope: Encodable {
    struct Body: Encodable {
        let code: String
        let message: String
        let details: [String: String]
        let timestamp: String
    }
    let error: Body

    /// The status each kind of `FrontdeskError` is sent with.
    static func status(for kind: FrontdeskError.Kind) -> HTTPResponse.Status {
        switch kind {
        case .badRequest: return .badRequest
        case .unauthorized: return .unauthorized
        case .forbidden: return .forbidden
        case .notFound: return .notFound
        case .methodNotAllowed: return .methodNotAllowed
        case .conflict: return .conflict
        case .payloadTooLarge: return .contentTooLarge
        case .unsupportedMediaType: return .unsupportedMediaType
        case .validation: return .unprocessableContent
        case .rateLimited: return .tooManyRequests
        case .unavailable: return .serviceUnavailable
        case .internal: return .internalServerError
        }
    }

    /// A complete response carrying `error`.
    static func response(for error: FrontdeskError, headers: HTTPFields = [:]) -> Response {
        let envelope = ErrorEnvelope(error: .init(code: error.code, message: error.message, details: error.details,
                                                  timestamp: Timestamps.iso8601(Date())))
        let data = (try? JSONEncoder.api.encode(envelope)) ?? Data(#"{"error":{"code":"internal_error","message":"Internal error.","details":{},"timestamp":""}}"#.utf8)
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status(for: error.kind), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension JSONEncoder {
    /// The encoder for API responses: stable key order.
    static let api: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

/// Turns anything thrown into a `FrontdeskError`; unknown errors become a generic 500.
enum ErrorMapping {
    static func publicError(for error: any Error) -> FrontdeskError? {
        if let error = error as? FrontdeskError { return error }
        if let error = error as? HTTPError {
            switch error.status {
            case .notFound:
                return FrontdeskError(.notFound, code: "not_found", message: "There is nothing at this address.")
            case .contentTooLarge:
                return FrontdeskError(.payloadTooLarge, code: "payload_too_large", message: "The request body is larger than this endpoint accepts.")
            case .methodNotAllowed:
                return FrontdeskError(.methodNotAllowed, code: "method_not_allowed", message: "This address does not accept that method.")
            case .unsupportedMediaType:
                return FrontdeskError(.unsupportedMediaType, code: "unsupported_media_type", message: "Send the body as application/json.")
            case .badRequest:
                return FrontdeskError(.badRequest, code: "bad_request", message: "The request could not be understood.")
            case .unauthorized:
                return FrontdeskError(.unauthorized, code: "unauthorized", message: "Sign in first.")
            case .forbidden:
                return FrontdeskError(.forbidden, code: "forbidden", message: "You may not do this.")
            default:
                return nil
            }
        }
        return nil
    }
}
