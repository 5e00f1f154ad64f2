import Foundation

/// One extra field of a configured form (`[forms.<id>]` in the TOML file), validated on the
/// server and rendered by the widget from `GET /api/v1/forms/{form}`.
package struct FormField: Sendable, Equatable, Encodable {
    package enum FieldType: String, Sendable, CaseIterable, Encodable {
        case text, textarea, email, tel, url, number, select, checkbox
    }

    package var name: String
    package var label: String
    package var type: FieldType
    package var required: Bool
    package var maxLength: Int
    /// A regular expression the whole value must match (ICU syntax, as in `NSRegularExpression`).
    package var pattern: String?
    /// The choices of a `select` field.
    package var options: [String]

    package init(name: String, label: String? = nil, type: FieldType = .text, required: Bool = false, maxLength: Int = 200,
                pattern: String? = nil, options: [String] = []) {
        self.name = name
        self.label = label ?? name.replacingOccurrences(of: "_", with: " ").capitalized
        self.type = type
        self.required = required
        self.maxLength = maxLength
        self.pattern = pattern
        self.options = options
    }

    /// What is wrong with `value`, or nil when it is acceptable. `value` is already trimmed.
    func problem(with value: String) -> String? {
        if value.count > maxLength { return "must be at most \(maxLength) characters" }
        switch type {
        case .text, .tel:
            if value.contains(where: \.isNewline) { return "must be a single line" }
        case .textarea:
            break
        case .email:
            if EmailAddress.normalize(value) == nil { return "must be a valid email address like name@example.com" }
        case .url:
            guard let url = URL(string: value), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                return "must be a web address starting with https://"
            }
        case .number:
            if Double(value) == nil { return "must be a number" }
        case .select:
            if !options.contains(value) { return "must be one of: " + options.joined(separator: ", ") }
        case .checkbox:
            if value != "true" && value != "false" { return "must be \"true\" or \"false\"" }
        }
        if let pattern, let regex = try? NSRegularExpression(pattern: "^(?:\(pattern))$") {
            let range = NSRange(value.startIndex..., in: value)
            if regex.firstMatch(in: value, range: range) == nil { return "does not have the expected format" }
        }
        return nil
    }
}

/// A contact form: the built-in fields (name, email, subject, message) plus configured extras.
/// The form `contact` always exists; others are added in the TOML file.
package struct FormDefinition: Sendable, Equatable {
    package var id: String
    package var title: String
    package var fields: [FormField]

    package init(id: String, title: String = "", fields: [FormField] = []) {
        self.id = id
        self.title = title
        self.fields = fields
    }

    package static let defaultContact = FormDefinition(id: "contact", title: "Contact us")

    /// Checks submitted extra fields against the definition; problems are keyed `fields.<name>`.
    package func validate(_ values: [String: String], into reader: inout FieldReader) -> [String: String] {
        var accepted: [String: String] = [:]
        let known = Set(fields.map(\.name))
        for name in values.keys.sorted() where !known.contains(name) {
            reader.fail("fields.\(name)", fields.isEmpty ? "is not a field of this form (it has no extra fields)" : "is not a field of this form")
        }
        for field in fields {
            let value = values[field.name]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if value.isEmpty || (field.type == .checkbox && value == "false" && field.required) {
                if field.required { reader.fail("fields.\(field.name)", "is required") }
                continue
            }
            if let problem = field.problem(with: value) {
                reader.fail("fields.\(field.name)", problem)
            } else {
                accepted[field.name] = value
            }
        }
        return accepted
    }

    /// Form ids and field names: lower-case words, so they can appear in URLs and JSON keys.
    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.count <= 40, CharacterSet.lowercaseLetters.contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
    }

    /// Names the built-in fields use; an extra field must not shadow them.
    static let builtInNames: Set<String> = ["name", "email", "subject", "message", "fields", "form", "pageurl"]
}
