import Foundation
import GRDB

/// A FAQ category (table `faq_categories`), shown in `position` order.
package struct FAQCategory: Sendable, Equatable, Codable, FetchableRecord, MutablePersistableRecord {
    package static let databaseTableName = "faq_categories"

    package var id: Int64?
    package var slug: String
    package var name: String
    package var position: Int
    package var createdAt: String
    package var updatedAt: String

    enum CodingKeys: String, CodingKey {
        case id, slug, name, position
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    package mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// One question and its answer in one locale (table `faq_entries`). The answer is kept as the
/// author wrote it (Markdown), as safe HTML rendered once at save time, and as plain text for
/// the search index.
package struct FAQEntry: Sendable, Equatable, Codable, FetchableRecord, MutablePersistableRecord {
    package static let databaseTableName = "faq_entries"

    package var id: Int64?
    package var categoryID: Int64?
    package var locale: String
    package var slug: String
    package var question: String
    package var answerMarkdown: String
    package var answerHTML: String
    package var answerText: String
    /// `draft` or `published`; only published entries are ever public.
    package var status: String
    package var position: Int
    package var views: Int
    package var helpfulYes: Int
    package var helpfulNo: Int
    /// Times a visitor opened the entry from the chat's suggestions and then sent no message.
    package var deflections: Int
    package var createdAt: String
    package var updatedAt: String
    package var publishedAt: String?

    enum CodingKeys: String, CodingKey {
        case id, locale, slug, question, status, position, views, deflections
        case categoryID = "category_id"
        case answerMarkdown = "answer_markdown"
        case answerHTML = "answer_html"
        case answerText = "answer_text"
        case helpfulYes = "helpful_yes"
        case helpfulNo = "helpful_no"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case publishedAt = "published_at"
    }

    package mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    package static let statuses = ["draft", "published"]
}

/// Limits and formats of FAQ fields, checked by the inputs and stated in the contract.
package enum FAQLimits {
    package static let question = 300
    package static let answer = 20_000
    package static let slug = 80
    package static let categoryName = 100
    package static let query = 200
    /// A locale tag like `en`, `de`, `pt-BR`.
    package static func isLocale(_ value: String) -> Bool {
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        guard let language = parts.first, (2...3).contains(language.count), language.allSatisfy({ $0.isASCII && $0.isLowercase }) else { return false }
        if parts.count == 1 { return true }
        return parts.count == 2 && parts[1].count == 2 && parts[1].allSatisfy { $0.isASCII && $0.isUppercase }
    }

    /// A slug: lower-case ASCII letters and digits in words joined by `-`.
    package static func isSlug(_ value: String) -> Bool {
        !value.isEmpty && value.count <= slug && !value.hasPrefix("-") && !value.hasSuffix("-") && !value.contains("--")
            && value.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    /// A slug made from `text`: diacritics folded (`ß` → `ss`), words of letters and digits joined by `-`.
    package static func slug(from text: String) -> String {
        let folded = text.replacingOccurrences(of: "ß", with: "ss").folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil).lowercased()
        var words: [String] = []
        var word = ""
        for scalar in folded.unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) { word.unicodeScalars.append(scalar) }
            else if !word.isEmpty { words.append(word); word = "" }
        }
        if !word.isEmpty { words.append(word) }
        var slug = ""
        for w in words {
            let next = slug.isEmpty ? w : slug + "-" + w
            if next.count > Self.slug { break }
            slug = next
        }
        return slug.isEmpty ? "entry" : slug
    }
}

/// A validated new or changed FAQ entry: only the fields present are applied on a change.
package struct FAQEntryInput: Sendable, Equatable {
    package var question: String?
    package var answer: String?
    package var locale: String?
    package var slug: String?
    /// `.some(nil)` removes the category.
    package var categoryID: Int64??
    package var status: String?
    package var position: Int?

    static let fields: Set<String> = ["question", "answer", "locale", "slug", "categoryId", "status", "position"]

    /// Reads a body; `creating` requires question and answer.
    package init(json: [String: JSONValue], creating: Bool) throws {
        var reader = FieldReader(json, allowed: Self.fields)
        question = reader.text("question", required: creating, maxLength: FAQLimits.question)
        answer = reader.text("answer", required: creating, maxLength: FAQLimits.answer, multiline: true)
        if let locale = reader.text("locale", required: false, maxLength: 10) {
            if FAQLimits.isLocale(locale) { self.locale = locale } else { reader.fail("locale", "must be a language tag like en, de or pt-BR") }
        }
        if let slug = reader.text("slug", required: false, maxLength: FAQLimits.slug) {
            if FAQLimits.isSlug(slug) { self.slug = slug } else { reader.fail("slug", "must be lower-case letters and digits joined by - (like how-to-pay)") }
        }
        switch json["categoryId"] {
        case nil: break
        case .null?: categoryID = .some(nil)
        case .number(let n)? where n >= 1 && n <= 9_007_199_254_740_991 && n.rounded() == n: categoryID = .some(Int64(n))
        case .number?: reader.fail("categoryId", "must be a category id (an integer from 1) or null")
        case let other?: reader.fail("categoryId", "must be an integer or null, not \(other.typeName)")
        }
        if let status = reader.text("status", required: false, maxLength: 20) {
            if FAQEntry.statuses.contains(status) { self.status = status } else { reader.fail("status", "must be draft or published") }
        }
        switch json["position"] {
        case nil: break
        case .number(let n)? where n >= 0 && n <= 100_000 && n.rounded() == n: position = Int(n)
        case let other?: reader.fail("position", other.typeName == "a number" ? "must be an integer from 0 to 100000" : "must be an integer, not \(other.typeName)")
        }
        try reader.validate()
    }

    package init(question: String? = nil, answer: String? = nil, locale: String? = nil, slug: String? = nil, categoryID: Int64?? = nil,
                 status: String? = nil, position: Int? = nil) {
        self.question = question
        self.answer = answer
        self.locale = locale
        self.slug = slug
        self.categoryID = categoryID
        self.status = status
        self.position = position
    }
}

/// A validated new or changed category.
package struct FAQCategoryInput: Sendable, Equatable {
    package var name: String?
    package var slug: String?
    package var position: Int?

    package init(json: [String: JSONValue], creating: Bool) throws {
        var reader = FieldReader(json, allowed: ["name", "slug", "position"])
        name = reader.text("name", required: creating, maxLength: FAQLimits.categoryName)
        if let slug = reader.text("slug", required: false, maxLength: FAQLimits.slug) {
            if FAQLimits.isSlug(slug) { self.slug = slug } else { reader.fail("slug", "must be lower-case letters and digits joined by - (like billing)") }
        }
        switch json["position"] {
        case nil: break
        case .number(let n)? where n >= 0 && n <= 100_000 && n.rounded() == n: position = Int(n)
        case let other?: reader.fail("position", other.typeName == "a number" ? "must be an integer from 0 to 100000" : "must be an integer, not \(other.typeName)")
        }
        try reader.validate()
    }

    package init(name: String? = nil, slug: String? = nil, position: Int? = nil) {
        self.name = name
        self.slug = slug
        self.position = position
    }
}

/// What a visitor sees: published entries of one locale with their categories.
package struct FAQListing: Sendable, Encodable, Equatable {
    package struct Category: Sendable, Encodable, Equatable {
        package let id: Int64
        package let slug: String
        package let name: String
    }

    package struct Entry: Sendable, Encodable, Equatable {
        package let id: Int64
        package let slug: String
        package let question: String
        /// Safe HTML, rendered on the server.
        package let answerHtml: String
        package let categoryId: Int64?
        package let updatedAt: String
    }

    package let locale: String
    package let categories: [Category]
    package let entries: [Entry]
}

/// One search result: the entry and a snippet with matches in `<mark>`, everything else escaped.
package struct FAQSearchHit: Sendable, Encodable, Equatable {
    package let id: Int64
    package let slug: String
    package let question: String
    /// The question, HTML-escaped, with the matched words in `<mark>`.
    package let questionHtml: String
    /// A piece of the answer, HTML-escaped, with the matched words in `<mark>`.
    package let snippetHtml: String
    /// `fts` (word and prefix match) or `fuzzy` (trigram similarity, for typos).
    package let match: String
}

/// The console's figures per entry and the searches that found nothing.
package struct FAQStats: Sendable, Encodable, Equatable {
    package struct Entry: Sendable, Encodable, Equatable {
        package let id: Int64
        package let question: String
        package let locale: String
        package let status: String
        package let views: Int
        package let helpfulYes: Int
        package let helpfulNo: Int
        /// Yes votes as a share of all votes, 0–100; null before the first vote.
        package let helpfulPercent: Double?
        package let deflections: Int
    }

    package struct Gap: Sendable, Encodable, Equatable {
        package let query: String
        package let locale: String
        package let count: Int
        package let lastAt: String
    }

    package let entries: [Entry]
    /// Searches with no result, most asked first: "questions nobody has answered yet".
    package let gaps: [Gap]
}
