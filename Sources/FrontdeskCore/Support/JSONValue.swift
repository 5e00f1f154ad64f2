import Foundation

/// Any JSON value, decoded without a schema so that validation can report every bad field at
/// once instead of stopping at the first type mismatch the way a `Decodable` struct would.
package enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let b = try? container.decode(Bool.self) { self = .bool(b) }
        else if let n = try? container.decode(Double.self) { self = .number(n) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else if let a = try? container.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .number(let n): try container.encode(n)
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }

    /// The JSON type's name, for messages: "a string", "a number".
    package var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// Reads the fields of one JSON object, collecting every problem (unknown field, wrong type,
/// missing, too long, malformed) so one 422 names them all.
package struct FieldReader {
    package let object: [String: JSONValue]
    package private(set) var problems: [String: String] = [:]

    /// Starts reading `object`; any key not in `allowed` is reported as unknown.
    package init(_ object: [String: JSONValue], allowed: Set<String>) {
        self.object = object
        for key in object.keys where !allowed.contains(key) {
            problems[key] = "is not a known field"
        }
    }

    package mutating func fail(_ field: String, _ message: String) {
        if problems[field] == nil { problems[field] = message }
    }

    /// A string field, trimmed of surrounding white space; `nil` when absent (and then an error if required).
    package mutating func text(_ key: String, required: Bool, maxLength: Int, minLength: Int = 1, multiline: Bool = false) -> String? {
        guard let raw = object[key], raw != .null else {
            if required { fail(key, "is required") }
            return nil
        }
        guard case .string(let value) = raw else {
            fail(key, "must be a string, not \(raw.typeName)")
            return nil
        }
        let trimmed = Self.trimmed(value)
        if trimmed.isEmpty {
            if required { fail(key, "must not be empty") }
            return nil
        }
        // Code points, as JSON Schema's minLength/maxLength count them (the OpenAPI document's
        // patterns for these fields are generated from the same rule).
        let length = trimmed.unicodeScalars.count
        if length < minLength { fail(key, "must be at least \(minLength) characters"); return nil }
        if length > maxLength { fail(key, "must be at most \(maxLength) characters"); return nil }
        if !multiline, trimmed.contains(where: { $0 == "\n" || $0 == "\r" }) { fail(key, "must be a single line"); return nil }
        if trimmed.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" && $0 != "\r" && $0 != "\t" }) {
            fail(key, "must not contain control characters"); return nil
        }
        return trimmed
    }

    /// An email address: syntax checked (RFC 5321 lengths: 64 local, 254 total), lower-cased domain.
    package mutating func email(_ key: String, required: Bool) -> String? {
        guard let value = text(key, required: required, maxLength: 254) else { return nil }
        guard let normalized = EmailAddress.normalize(value) else {
            fail(key, "must be a valid email address like name@example.com")
            return nil
        }
        return normalized
    }

    /// An object whose values are all strings, with bounded size.
    package mutating func stringMap(_ key: String, maxEntries: Int, maxValueLength: Int) -> [String: String]? {
        guard let raw = object[key], raw != .null else { return nil }
        guard case .object(let map) = raw else { fail(key, "must be an object of strings, not \(raw.typeName)"); return nil }
        if map.count > maxEntries { fail(key, "must have at most \(maxEntries) entries"); return nil }
        var out: [String: String] = [:]
        for (name, value) in map {
            guard case .string(let s) = value else { fail("\(key).\(name)", "must be a string, not \(value.typeName)"); continue }
            if name.unicodeScalars.count > 64 { fail(key, "has a field name longer than 64 characters"); continue }
            if s.unicodeScalars.count > maxValueLength { fail("\(key).\(name)", "must be at most \(maxValueLength) characters"); continue }
            out[name] = s
        }
        return out
    }

    /// `text` without leading and trailing white space and line breaks (Unicode White_Space),
    /// without a round trip through Foundation's `trimmingCharacters(in:)`.
    static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        var start = scalars.startIndex
        var end = scalars.endIndex
        while start < end, scalars[start].properties.isWhitespace { start = scalars.index(after: start) }
        while end > start, scalars[scalars.index(before: end)].properties.isWhitespace { end = scalars.index(before: end) }
        if start == scalars.startIndex && end == scalars.endIndex { return text }
        return String(scalars[start..<end])
    }

    /// Throws the 422 when anything was wrong.
    package func validate() throws {
        if !problems.isEmpty { throw FrontdeskError.validation(problems) }
    }
}

/// Email address syntax as a form can check it (no DNS).
package enum EmailAddress {
    /// The address with its domain lower-cased, or nil when it is not plausibly deliverable.
    /// RFC 5322 atext plus the dot; a byte test instead of a CharacterSet built on every call.
    static func isLocalPartScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9": return true
        default: return "!#$%&'*+/=?^_`{|}~.-".unicodeScalars.contains(scalar)
        }
    }

    package static func normalize(_ raw: String) -> String? {
        guard raw.utf8.count <= 254, let at = raw.lastIndex(of: "@") else { return nil }
        let local = raw[raw.startIndex..<at]
        let domain = raw[raw.index(after: at)...].lowercased()
        guard !local.isEmpty, local.utf8.count <= 64, !domain.isEmpty else { return nil }
        guard local.unicodeScalars.allSatisfy(isLocalPartScalar),
              !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..") else { return nil }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return nil }
        for label in labels {
            guard !label.isEmpty, label.count <= 63, !label.hasPrefix("-"), !label.hasSuffix("-"),
                  label.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || $0 == "-" }) else { return nil }
        }
        return "\(local)@\(domain)"
    }
}
