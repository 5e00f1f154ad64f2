/// The one error type Frontdesk shows to people: a stable snake_case `code`, a message that is
/// safe to show, and per-field `details`. Core code throws it without knowing about HTTP; the
/// server maps `kind` to a status in one place.
///
/// Anything else thrown is an internal error: logged with the request id, shown as a generic 500.
package struct FrontdeskError: Error, Sendable, Equatable {
    /// What went wrong, in terms the server turns into a status code.
    package enum Kind: Sendable, Equatable {
        case badRequest
        case unauthorized
        case forbidden
        case notFound
        case methodNotAllowed
        case conflict
        case payloadTooLarge
        case unsupportedMediaType
        case validation
        case rateLimited
        case unavailable
        case `internal`
    }

    package let kind: Kind
    package let code: String
    package let message: String
    package let details: [String: String]

    package init(_ kind: Kind, code: String, message: String, details: [String: String] = [:]) {
        self.kind = kind
        self.code = code
        self.message = message
        self.details = details
    }

    /// 422 listing every bad field: `details` maps each field name to what is wrong with it.
    package static func validation(_ fields: [String: String]) -> FrontdeskError {
        let names = fields.keys.sorted().joined(separator: ", ")
        return FrontdeskError(.validation, code: "validation_failed",
                              message: "Some fields are missing or invalid: \(names).", details: fields)
    }

    package static func notFound(_ what: String) -> FrontdeskError {
        FrontdeskError(.notFound, code: "not_found", message: "\(what) was not found.")
    }
}
