import Foundation
import GRDB

/// A message a visitor sent through a contact form (table `contact_submissions`).
package struct ContactSubmission: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    package static let databaseTableName = "contact_submissions"

    package var id: Int64?
    package var form: String
    package var name: String
    package var email: String
    package var subject: String?
    package var message: String
    /// Extra form fields as a JSON object of strings.
    package var fields: String
    /// `new` until an agent marks it `processed`.
    package var status: ContactStatus
    package var pageURL: String?
    package var userAgent: String?
    package var createdAt: String
    package var processedAt: String?

    package enum Columns {
        static let id = Column(CodingKeys.id)
        static let status = Column(CodingKeys.status)
        static let createdAt = Column(CodingKeys.createdAt)
    }

    enum CodingKeys: String, CodingKey {
        case id, form, name, email, subject, message, fields, status
        case pageURL = "page_url"
        case userAgent = "user_agent"
        case createdAt = "created_at"
        case processedAt = "processed_at"
    }

    package mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// A validated contact form submission, ready to store.
package struct NewContactSubmission: Sendable, Equatable {
    package var name: String
    package var email: String
    package var subject: String?
    package var message: String
    package var fields: [String: String]
    package var pageURL: String?
    /// The configured form it was sent through (`contact` by default).
    package var form: String

    /// Limits, documented in the OpenAPI document and enforced here.
    package enum Limits {
        package static let name = 200
        package static let subject = 200
        package static let message = 10_000
        package static let extraFields = 20
        package static let extraFieldValue = 2_000
        package static let pageURL = 2_048
    }

    /// The JSON field names the endpoint accepts.
    package static let fieldNames: Set<String> = ["name", "email", "subject", "message", "fields", "pageUrl", "form"]

    /// The form a JSON body names (`form`), or `contact` when it names none.
    package static func formID(in json: [String: JSONValue]) throws -> String {
        switch json["form"] {
        case nil, .null?: return FormDefinition.defaultContact.id
        case .string(let id)?: return id
        case let other?: throw FrontdeskError.validation(["form": "must be a string, not \(other.typeName)"])
        }
    }

    /// Validates a JSON object against the form's fields, reporting every bad field together.
    package init(json: [String: JSONValue], form: FormDefinition = .defaultContact) throws {
        var reader = FieldReader(json, allowed: Self.fieldNames)
        let name = reader.text("name", required: true, maxLength: Limits.name)
        let email = reader.email("email", required: true)
        let subject = reader.text("subject", required: false, maxLength: Limits.subject)
        let message = reader.text("message", required: true, maxLength: Limits.message, multiline: true)
        let fields = reader.stringMap("fields", maxEntries: Limits.extraFields, maxValueLength: Limits.extraFieldValue)
        let pageURL = reader.text("pageUrl", required: false, maxLength: Limits.pageURL)
        let accepted = reader.problems["fields"] == nil ? form.validate(fields ?? [:], into: &reader) : [:]
        try reader.validate()
        self.name = name!
        self.email = email!
        self.subject = subject
        self.message = message!
        self.fields = accepted
        self.pageURL = pageURL
        self.form = form.id
    }
}

extension JSONEncoder {
    /// Stable key order, so stored JSON compares and diffs cleanly.
    static let sorted: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
}
