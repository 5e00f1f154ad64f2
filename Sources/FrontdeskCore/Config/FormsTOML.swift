import Foundation
import TOMLKit

/// Reads `[forms.<id>]` tables: a title and extra fields as an array of inline tables.
///
/// ```toml
/// [forms.quote]
/// title = "Ask for a quote"
/// fields = [
///   { name = "company", label = "Company", required = true, max_length = 120 },
///   { name = "budget", type = "select", options = ["< 1,000 €", "1,000–5,000 €", "more"] },
///   { name = "phone", type = "tel", pattern = "[+0-9 ()-]{6,20}" },
/// ]
/// ```
enum FormsTOML {
    static let fieldKeys: Set<String> = ["name", "label", "type", "required", "max_length", "pattern", "options"]

    static func read(_ raw: (any TOMLValueConvertible)?, path: String) -> ([String: FormDefinition], [ConfigProblem]) {
        var forms: [String: FormDefinition] = [:]
        var problems: [ConfigProblem] = []
        func fail(_ key: String, _ message: String) {
            problems.append(ConfigProblem(key: key, source: path, reason: .invalid(message)))
        }
        guard let table = raw?.table else {
            fail("forms", "must be a table of forms, like [forms.quote]")
            return (forms, problems)
        }
        for id in table.keys.sorted() {
            let key = "forms.\(id)"
            guard FormDefinition.isValidName(id) else { fail(key, "is not a valid form id (lower-case letters, digits, - and _; at most 40)"); continue }
            guard let formTable = table[id]?.table else { fail(key, "must be a table with title and fields"); continue }
            var form = FormDefinition(id: id, title: formTable["title"]?.string ?? "")
            for name in formTable.keys.sorted() where name != "title" && name != "fields" {
                problems.append(ConfigProblem(key: "\(key).\(name)", source: path, reason: .unknownKey(suggestion: nil)))
            }
            if let fields = formTable["fields"] {
                guard let array = fields.array else { fail("\(key).fields", "must be an array of inline tables like { name = \"company\" }"); continue }
                var seen: Set<String> = []
                for (index, element) in array.enumerated() {
                    let fieldKey = "\(key).fields[\(index)]"
                    guard let fieldTable = element.table else { fail(fieldKey, "must be an inline table like { name = \"company\" }"); continue }
                    for unknown in fieldTable.keys.sorted() where !fieldKeys.contains(unknown) {
                        problems.append(ConfigProblem(key: "\(fieldKey).\(unknown)", source: path,
                                                      reason: .unknownKey(suggestion: FrontdeskConfig.suggestion(for: unknown, among: Array(fieldKeys)))))
                    }
                    guard let name = fieldTable["name"]?.string, FormDefinition.isValidName(name) else {
                        fail("\(fieldKey).name", "is required: a lower-case field name like \"company\""); continue
                    }
                    if FormDefinition.builtInNames.contains(name) || !seen.insert(name).inserted {
                        fail("\(fieldKey).name", "\"\(name)\" is already a field of the form"); continue
                    }
                    var field = FormField(name: name)
                    if let label = fieldTable["label"] {
                        if let s = label.string { field.label = s } else { fail("\(fieldKey).label", "must be a string") }
                    }
                    if let type = fieldTable["type"] {
                        if let s = type.string, let parsed = FormField.FieldType(rawValue: s) { field.type = parsed } else {
                            fail("\(fieldKey).type", "must be one of " + FormField.FieldType.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))
                        }
                    }
                    if field.type == .textarea { field.maxLength = 2_000 }
                    if let required = fieldTable["required"] {
                        if let b = required.bool { field.required = b } else { fail("\(fieldKey).required", "must be true or false") }
                    }
                    if let max = fieldTable["max_length"] {
                        if let i = max.int, (1...NewContactSubmission.Limits.extraFieldValue).contains(i) { field.maxLength = i } else {
                            fail("\(fieldKey).max_length", "must be an integer from 1 to \(NewContactSubmission.Limits.extraFieldValue)")
                        }
                    }
                    if let pattern = fieldTable["pattern"] {
                        if let s = pattern.string, (try? NSRegularExpression(pattern: s)) != nil { field.pattern = s } else {
                            fail("\(fieldKey).pattern", "must be a valid regular expression")
                        }
                    }
                    if let options = fieldTable["options"] {
                        let strings = options.array.map { $0.compactMap(\.string) }
                        if let strings, strings.count == options.array?.count, !strings.isEmpty { field.options = strings } else {
                            fail("\(fieldKey).options", "must be a non-empty array of strings")
                        }
                    }
                    if field.type == .select && field.options.isEmpty { fail("\(fieldKey).options", "is required for a select field") }
                    form.fields.append(field)
                }
            }
            if form.fields.count > NewContactSubmission.Limits.extraFields {
                fail("\(key).fields", "may have at most \(NewContactSubmission.Limits.extraFields) fields")
            }
            forms[id] = form
        }
        return (forms, problems)
    }
}

/// Spam defences every public form shares.
package struct SpamSettings: Sendable, Equatable {
    package var honeypotField: String
    package var minFillSeconds: Int
    package var requireFormToken: Bool
    package var proofOfWork: Bool
    package var proofOfWorkMaxNumber: Int

    package init(honeypotField: String = "website", minFillSeconds: Int = 3, requireFormToken: Bool = false,
                proofOfWork: Bool = false, proofOfWorkMaxNumber: Int = 100_000) {
        self.honeypotField = honeypotField
        self.minFillSeconds = minFillSeconds
        self.requireFormToken = requireFormToken
        self.proofOfWork = proofOfWork
        self.proofOfWorkMaxNumber = proofOfWorkMaxNumber
    }
}

/// Newsletter sign-up settings.
package struct NewsletterSettings: Sendable, Equatable {
    package struct Topic: Sendable, Equatable, Encodable {
        package var id: String
        package var label: String

        /// `"news"` or `"news:Company news"`.
        init(spec: String) {
            let parts = spec.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            id = parts[0]
            label = parts.count > 1 ? parts[1] : parts[0].capitalized
        }

        package init(id: String, label: String) {
            self.id = id
            self.label = label
        }
    }

    package var topics: [Topic]
    package var consentText: String
    package var consentVersion: String
    package var pendingExpiryHours: Int
    package var resendMinutes: Int

    package init(topics: [Topic] = [], consentText: String = "Yes, send me the newsletter.", consentVersion: String = "1",
                pendingExpiryHours: Int = 72, resendMinutes: Int = 10) {
        self.topics = topics
        self.consentText = consentText
        self.consentVersion = consentVersion
        self.pendingExpiryHours = pendingExpiryHours
        self.resendMinutes = resendMinutes
    }
}
