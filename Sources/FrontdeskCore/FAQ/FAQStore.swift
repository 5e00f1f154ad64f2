import Foundation
import GRDB

/// The FAQ: categories, entries per locale, helpful votes, view and deflection counters, the
/// search index and the searches that found nothing. The only place with their SQL.
///
/// Search runs on two FTS5 indexes over the entries' question and plain-text answer, kept in
/// step by triggers: `faq_fts` (`unicode61 remove_diacritics 2`, prefix indexes, bm25 with the
/// question weighted ten times the answer) answers word and prefix queries; `faq_trigram`
/// (SQLite's `trigram` tokenizer) is asked with the query's trigrams OR-ed when a misspelt word
/// has no near word in the index's vocabulary (`faq_vocab`, see `FAQVocabulary`).
package struct FAQStore: Sendable {
    let database: AppDatabase
    /// Keys visitor ids for the vote table, so the table holds no id a visitor sent.
    let secret: Data
    /// The index's words, to correct a misspelt query word.
    let vocabulary = FAQVocabulary()

    package init(database: AppDatabase, secret: Data) {
        self.database = database
        self.secret = secret
    }

    package static let migrations = [
        SchemaMigration("0020-faq") { db in
            try db.execute(sql: """
                CREATE TABLE faq_categories (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    slug TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    position INTEGER NOT NULL DEFAULT 0,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                ) STRICT;
                CREATE TABLE faq_entries (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    category_id INTEGER REFERENCES faq_categories(id) ON DELETE SET NULL,
                    locale TEXT NOT NULL,
                    slug TEXT NOT NULL,
                    question TEXT NOT NULL,
                    answer_markdown TEXT NOT NULL,
                    answer_html TEXT NOT NULL,
                    answer_text TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
                    position INTEGER NOT NULL DEFAULT 0,
                    views INTEGER NOT NULL DEFAULT 0,
                    helpful_yes INTEGER NOT NULL DEFAULT 0,
                    helpful_no INTEGER NOT NULL DEFAULT 0,
                    deflections INTEGER NOT NULL DEFAULT 0,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    published_at TEXT,
                    UNIQUE (locale, slug)
                ) STRICT;
                CREATE INDEX faq_entries_listing ON faq_entries(locale, status, position);
                CREATE TABLE faq_votes (
                    entry_id INTEGER NOT NULL REFERENCES faq_entries(id) ON DELETE CASCADE,
                    visitor TEXT NOT NULL,
                    helpful INTEGER NOT NULL,
                    created_at TEXT NOT NULL,
                    PRIMARY KEY (entry_id, visitor)
                ) STRICT, WITHOUT ROWID;
                CREATE TABLE faq_search_gaps (
                    locale TEXT NOT NULL,
                    query TEXT NOT NULL,
                    count INTEGER NOT NULL,
                    last_at TEXT NOT NULL,
                    PRIMARY KEY (locale, query)
                ) STRICT, WITHOUT ROWID;
                CREATE VIRTUAL TABLE faq_fts USING fts5(
                    question, answer_text, content='faq_entries', content_rowid='id',
                    tokenize='unicode61 remove_diacritics 2', prefix='2 3 4'
                );
                CREATE VIRTUAL TABLE faq_trigram USING fts5(
                    question, answer_text, content='faq_entries', content_rowid='id', tokenize='trigram'
                );
                CREATE TRIGGER faq_entries_ai AFTER INSERT ON faq_entries BEGIN
                    INSERT INTO faq_fts(rowid, question, answer_text) VALUES (new.id, new.question, new.answer_text);
                    INSERT INTO faq_trigram(rowid, question, answer_text) VALUES (new.id, new.question, new.answer_text);
                END;
                CREATE TRIGGER faq_entries_ad AFTER DELETE ON faq_entries BEGIN
                    INSERT INTO faq_fts(faq_fts, rowid, question, answer_text) VALUES ('delete', old.id, old.question, old.answer_text);
                    INSERT INTO faq_trigram(faq_trigram, rowid, question, answer_text) VALUES ('delete', old.id, old.question, old.answer_text);
                END;
                CREATE TRIGGER faq_entries_au AFTER UPDATE OF question, answer_text ON faq_entries BEGIN
                    INSERT INTO faq_fts(faq_fts, rowid, question, answer_text) VALUES ('delete', old.id, old.question, old.answer_text);
                    INSERT INTO faq_trigram(faq_trigram, rowid, question, answer_text) VALUES ('delete', old.id, old.question, old.answer_text);
                    INSERT INTO faq_fts(rowid, question, answer_text) VALUES (new.id, new.question, new.answer_text);
                    INSERT INTO faq_trigram(rowid, question, answer_text) VALUES (new.id, new.question, new.answer_text);
                END;
                """)
        },
        SchemaMigration("0022-faq-vocabulary") { db in
            // The word index's vocabulary, and a version the entries' triggers bump so the
            // in-memory copy (`FAQVocabulary`) knows when to read it again.
            try db.execute(sql: """
                CREATE VIRTUAL TABLE faq_vocab USING fts5vocab(faq_fts, 'row');
                CREATE TABLE faq_index_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL) STRICT;
                INSERT INTO faq_index_version (id, version) VALUES (1, 0);
                CREATE TRIGGER faq_entries_version_ai AFTER INSERT ON faq_entries BEGIN
                    UPDATE faq_index_version SET version = version + 1 WHERE id = 1;
                END;
                CREATE TRIGGER faq_entries_version_ad AFTER DELETE ON faq_entries BEGIN
                    UPDATE faq_index_version SET version = version + 1 WHERE id = 1;
                END;
                CREATE TRIGGER faq_entries_version_au AFTER UPDATE OF question, answer_text ON faq_entries BEGIN
                    UPDATE faq_index_version SET version = version + 1 WHERE id = 1;
                END;
                """)
        },
    ]

    // MARK: Public reads

    /// The published entries of `locale` (optionally of one category slug), in order.
    package func publishedListing(locale: String, category: String?) async throws -> FAQListing {
        try await database.read { db in
            let categories = try FAQCategory.fetchAll(db, sql: "SELECT * FROM faq_categories ORDER BY position, id")
            var sql = "SELECT e.* FROM faq_entries e LEFT JOIN faq_categories c ON c.id = e.category_id WHERE e.locale = ? AND e.status = 'published'"
            var arguments: StatementArguments = [locale]
            if let category {
                sql += " AND c.slug = ?"
                arguments += [category]
            }
            sql += " ORDER BY COALESCE(c.position, 1000000), e.position, e.id"
            let entries = try FAQEntry.fetchAll(db, sql: sql, arguments: arguments)
            let used = Set(entries.compactMap(\.categoryID))
            return FAQListing(
                locale: locale,
                categories: categories.filter { used.contains($0.id ?? 0) }.map { FAQListing.Category(id: $0.id ?? 0, slug: $0.slug, name: $0.name) },
                entries: entries.map {
                    FAQListing.Entry(id: $0.id ?? 0, slug: $0.slug, question: $0.question, answerHtml: $0.answerHTML, categoryId: $0.categoryID, updatedAt: $0.updatedAt)
                })
        }
    }

    /// Words of a query as the word index sees them, without the commonest function words
    /// (unless nothing else is left).
    package static func terms(_ query: String) -> [String] {
        var words: [String] = []
        var word = ""
        for scalar in query.lowercased().unicodeScalars {
            if scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) { word.unicodeScalars.append(scalar) }
            else if !word.isEmpty { words.append(word); word = "" }
        }
        if !word.isEmpty { words.append(word) }
        words = Array(words.prefix(16))
        let content = words.filter { !stopWords.contains($0) && $0.count >= 2 }
        return content.isEmpty ? words : content
    }

    /// English and German function words that match nearly every entry and only add noise to bm25.
    static let stopWords: Set<String> = [
        "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how", "i", "if", "in", "is", "it", "me", "my",
        "of", "on", "or", "the", "to", "we", "what", "when", "where", "which", "who", "why", "will", "with", "you", "your", "there", "this",
        "that", "get", "have", "has", "our", "us", "am", "was", "so", "any", "about", "into", "would", "should", "could", "just", "much",
        "der", "die", "das", "ein", "eine", "einen", "und", "oder", "ich", "ist", "wie", "was", "wo", "wann", "kann", "ich", "mein", "meine",
        "mit", "für", "von", "zu", "im", "in", "auf", "es", "sie", "wir", "den", "dem", "des", "bei", "nicht", "gibt", "man",
    ]

    /// The FTS5 query for `terms`: each term as a prefix of its stem, OR-ed with the words of its
    /// synonym group; every word quoted, so FTS5 syntax in a query is only text. bm25 then ranks
    /// entries matching more and rarer words first.
    static func matchExpression(_ terms: [String]) -> String {
        var seen: Set<String> = []
        var parts: [String] = []
        for term in terms {
            var words = [stem(term)]
            let key = fold(term)
            for group in [FAQSynonyms.groupIndex[key], FAQSynonyms.groupIndex[stem(key)]].compactMap({ $0 }) {
                words += FAQSynonyms.groups[group].map(stem)
            }
            for word in words where seen.insert(word).inserted {
                parts.append("\"\(word)\"*")
            }
        }
        return parts.joined(separator: " OR ")
    }

    /// Lower case without diacritics, as the `unicode61 remove_diacritics 2` tokenizer sees a word.
    static func fold(_ word: String) -> String {
        word.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil).lowercased()
    }

    /// A light suffix stripper for English and German (`shipping` → `ship`, `delivered` →
    /// `deliver`, `Lieferungen` → `liefer`): matched as a prefix, it finds the word's other forms.
    static func stem(_ word: String) -> String {
        guard word.count >= 6 else { return word }
        for suffix in ["ations", "ation", "ungen", "ings", "ing", "ment", "ness", "ung", "ed", "es", "en", "er", "ly", "s"] where word.hasSuffix(suffix) {
            var stem = String(word.dropLast(suffix.count))
            guard stem.count >= 4 else { continue }
            if let last = stem.last, stem.dropLast().last == last, !"aeiou".contains(last) { stem.removeLast() }   // shipp → ship
            return stem
        }
        return word
    }

    /// Up to `limit` published entries of `locale` matching `query`, best first.
    ///
    /// A word the index knows neither as the start of a word nor through a synonym is taken as
    /// misspelt and replaced by the nearest word the index knows (`FAQVocabulary`). A
    /// misspelling with no near word falls back to trigram similarity, and so, in a small FAQ,
    /// do word results shorter than `limit`.
    ///
    /// Ranking every entry that holds a query word costs time in proportion to the FAQ: common
    /// words are in most answers. Past `rankAnswersUpTo` published entries the word index is
    /// asked about the questions first (a question match nearly always outranks an answer
    /// match: the question weighs ten times the answer), and the answers are ranked only when
    /// the questions do not fill `limit` — a fifth of the cost at 10,000 entries, for a ranking
    /// that may put a strong answer-only match below a weak question match.
    package func search(_ query: String, locale: String, limit: Int) async throws -> [FAQSearchHit] {
        let terms = Self.terms(query)
        guard !terms.isEmpty else { return [] }
        let vocabulary = self.vocabulary
        return try await database.read { db in
            var asked = terms
            var corrected = false, unknown = false
            for (i, term) in terms.enumerated() where term.count >= 4 {
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM faq_fts WHERE faq_fts MATCH ? LIMIT 1", arguments: [Self.matchExpression([term])]) == true {
                    continue
                }
                if let word = try vocabulary.correction(for: Self.fold(term), db) {
                    asked[i] = word
                    corrected = true
                } else {
                    unknown = true
                }
            }
            let match = Self.matchExpression(asked)
            let kind = corrected ? "fuzzy" : "fts"
            var hits: [FAQSearchHit] = []
            let large = try vocabulary.publishedCount(locale: locale, db) > Self.rankAnswersUpTo
            if large {
                hits = try Self.wordMatches("question : (\(match))", locale: locale, limit: limit, kind: kind, db)
            }
            if hits.count < limit {
                var seen = Set(hits.map(\.id))
                for hit in try Self.wordMatches(match, locale: locale, limit: limit + hits.count, kind: kind, db)
                where hits.count < limit && seen.insert(hit.id).inserted {
                    hits.append(hit)
                }
            }
            // A small FAQ also fills up short word results with trigram neighbours.
            let trigrams = Self.trigrams(of: terms)
            guard unknown || hits.isEmpty || (!large && hits.count < limit), !trigrams.isEmpty else { return hits }
            // Typo tolerance of last resort: the entries sharing the most trigrams with the
            // query. A typo breaks at most three of a word's trigrams, the rest still match.
            var fuzzyHits: [FAQSearchHit] = []
            let fuzzy = try Row.fetchAll(db, sql: """
                SELECT e.id, e.slug, e.question, e.answer_text
                FROM faq_trigram JOIN faq_entries e ON e.id = faq_trigram.rowid
                WHERE faq_trigram MATCH ? AND e.locale = ? AND e.status = 'published'
                ORDER BY bm25(faq_trigram, 10.0, 1.0), e.id LIMIT ?
                """, arguments: [trigrams.map { "\"\($0)\"" }.joined(separator: " OR "), locale, limit * 2])
            for row in fuzzy {
                let text: String = row["answer_text"]
                let question: String = row["question"]
                fuzzyHits.append(FAQSearchHit(id: row["id"], slug: row["slug"], question: question, questionHtml: SafeHTML.escape(question),
                                              snippetHtml: SafeHTML.escape(Self.lead(text)), match: "fuzzy"))
            }
            if !unknown {
                var seen = Set(hits.map(\.id))
                for hit in fuzzyHits where hits.count < limit && seen.insert(hit.id).inserted { hits.append(hit) }
                return hits
            }
            // With a typo the word matches are partial: take the two lists in turns.
            var merged: [FAQSearchHit] = []
            var ids: Set<Int64> = []
            for i in 0..<max(hits.count, fuzzyHits.count) {
                for hit in [i < hits.count ? hits[i] : nil, i < fuzzyHits.count ? fuzzyHits[i] : nil].compactMap({ $0 }) where ids.insert(hit.id).inserted {
                    merged.append(hit)
                }
            }
            return Array(merged.prefix(limit))
        }
    }

    /// Up to this many published entries in a locale, search ranks questions and answers together.
    static let rankAnswersUpTo = 2_000

    /// The word index's best `limit` published entries of `locale` for the FTS5 expression `match`.
    static func wordMatches(_ match: String, locale: String, limit: Int, kind: String, _ db: Database) throws -> [FAQSearchHit] {
        try Row.fetchAll(db, sql: """
            SELECT e.id, e.slug, e.question,
                   highlight(faq_fts, 0, char(2), char(3)) AS q_marked,
                   snippet(faq_fts, 1, char(2), char(3), '…', 16) AS snippet
            FROM faq_fts JOIN faq_entries e ON e.id = faq_fts.rowid
            WHERE faq_fts MATCH ? AND e.locale = ? AND e.status = 'published'
            ORDER BY bm25(faq_fts, 10.0, 1.0), e.id LIMIT ?
            """, arguments: [match, locale, limit]).map { row in
            FAQSearchHit(id: row["id"], slug: row["slug"], question: row["question"], questionHtml: marked(row["q_marked"]),
                         snippetHtml: marked(row["snippet"]), match: kind)
        }
    }

    /// The distinct trigrams of the terms of three letters or more (at most 60, so a long query stays cheap).
    static func trigrams(of terms: [String]) -> [String] {
        var out: [String] = []
        var seen: Set<String> = []
        for term in terms where term.count >= 3 {
            let chars = Array(term)
            for i in 0...(chars.count - 3) {
                let gram = String(chars[i..<(i + 3)])
                if seen.insert(gram).inserted { out.append(gram) }
            }
        }
        return Array(out.prefix(60))
    }

    /// FTS5 output with char(2)/char(3) around matches, turned into escaped HTML with `<mark>`.
    /// The markers cannot come from the content: entries refuse control characters.
    static func marked(_ text: String?) -> String {
        SafeHTML.escape(text ?? "").replacingOccurrences(of: "\u{2}", with: "<mark>").replacingOccurrences(of: "\u{3}", with: "</mark>")
    }

    /// The first words of an answer, for a result without a highlighted snippet.
    static func lead(_ text: String) -> String {
        let words = text.split(separator: " ")
        return words.count <= 24 ? text : words.prefix(24).joined(separator: " ") + " …"
    }

    /// Counts a search that found nothing, for the console's content gaps.
    package func recordGap(query: String, locale: String, now: Date) async throws {
        let normalized = query.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
        guard !normalized.isEmpty else { return }
        let stamp = Timestamps.iso8601Milliseconds(now)
        try await database.writer.write { db in
            try db.execute(sql: """
                INSERT INTO faq_search_gaps (locale, query, count, last_at) VALUES (?, ?, 1, ?)
                ON CONFLICT (locale, query) DO UPDATE SET count = count + 1, last_at = excluded.last_at
                """, arguments: [locale, String(normalized.prefix(FAQLimits.query)), stamp])
        }
    }

    /// The outcome of a vote: counted, or the visitor had voted on this entry already.
    package enum VoteOutcome: Sendable, Equatable { case counted, alreadyVoted }

    /// The vote table's key for a visitor: keyed with the install secret, never the sent id.
    func visitorKey(_ visitor: String) -> String {
        ContentDigest.hex(ContentDigest.hmacSHA256("faq-vote:" + visitor, key: secret).prefix(16))
    }

    /// One "was this helpful?" answer per visitor per published entry.
    package func vote(entryID: Int64, visitor: String, helpful: Bool, now: Date) async throws -> VoteOutcome {
        let key = visitorKey(visitor)
        let stamp = Timestamps.iso8601Milliseconds(now)
        return try await database.writer.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM faq_entries WHERE id = ? AND status = 'published'", arguments: [entryID]) == true else {
                throw FrontdeskError.notFound("The FAQ entry")
            }
            try db.execute(sql: "INSERT INTO faq_votes (entry_id, visitor, helpful, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                           arguments: [entryID, key, helpful, stamp])
            guard db.changesCount == 1 else { return .alreadyVoted }
            let column = helpful ? "helpful_yes" : "helpful_no"
            try db.execute(sql: "UPDATE faq_entries SET \(column) = \(column) + 1 WHERE id = ?", arguments: [entryID])
            return .counted
        }
    }

    /// What a visitor did with an entry: opened it, or opened it from the chat and sent nothing.
    package enum Event: String, Sendable, CaseIterable { case view, deflection }

    /// Counts a view or a deflection of a published entry.
    package func record(_ event: Event, entryID: Int64) async throws {
        let column = event == .view ? "views" : "deflections"
        try await database.writer.write { db in
            try db.execute(sql: "UPDATE faq_entries SET \(column) = \(column) + 1 WHERE id = ? AND status = 'published'", arguments: [entryID])
            if db.changesCount == 0 { throw FrontdeskError.notFound("The FAQ entry") }
        }
    }

    // MARK: Console

    package func categories() async throws -> [FAQCategory] {
        try await database.read { db in try FAQCategory.fetchAll(db, sql: "SELECT * FROM faq_categories ORDER BY position, id") }
    }

    /// Adds a category; its slug is made from the name unless given. 409 when the slug is taken.
    package func createCategory(_ input: FAQCategoryInput, now: Date) async throws -> FAQCategory {
        let stamp = Timestamps.iso8601Milliseconds(now)
        return try await database.writer.write { db in
            let slug = input.slug ?? FAQLimits.slug(from: input.name ?? "")
            try Self.requireFreeCategorySlug(slug, except: nil, db)
            let position = try input.position ?? (Int.fetchOne(db, sql: "SELECT COALESCE(MAX(position) + 1, 0) FROM faq_categories") ?? 0)
            var category = FAQCategory(id: nil, slug: slug, name: input.name ?? "", position: position, createdAt: stamp, updatedAt: stamp)
            try category.insert(db)
            return category
        }
    }

    package func updateCategory(id: Int64, _ input: FAQCategoryInput, now: Date) async throws -> FAQCategory {
        let stamp = Timestamps.iso8601Milliseconds(now)
        return try await database.writer.write { db in
            guard var category = try FAQCategory.fetchOne(db, key: id) else { throw FrontdeskError.notFound("The category") }
            if let slug = input.slug { try Self.requireFreeCategorySlug(slug, except: id, db); category.slug = slug }
            if let name = input.name { category.name = name }
            if let position = input.position { category.position = position }
            category.updatedAt = stamp
            try category.update(db)
            return category
        }
    }

    /// Deletes a category; its entries stay, without a category.
    package func deleteCategory(id: Int64) async throws {
        try await database.writer.write { db in
            try db.execute(sql: "DELETE FROM faq_categories WHERE id = ?", arguments: [id])
            if db.changesCount == 0 { throw FrontdeskError.notFound("The category") }
        }
    }

    static func requireFreeCategorySlug(_ slug: String, except id: Int64?, _ db: Database) throws {
        if let other = try Int64.fetchOne(db, sql: "SELECT id FROM faq_categories WHERE slug = ?", arguments: [slug]), other != id {
            throw FrontdeskError(.conflict, code: "slug_taken", message: "Another category has the slug \(slug).", details: ["slug": "is taken"])
        }
    }

    /// Every entry (drafts included), optionally of one locale, status or category, in order.
    package func entries(locale: String?, status: String?, categoryID: Int64?) async throws -> [FAQEntry] {
        var filter = SQLFilter()
        if let locale { filter.add("locale = ?", locale) }
        if let status { filter.add("status = ?", status) }
        if let categoryID { filter.add("category_id = ?", categoryID) }
        let (clause, arguments) = (filter.sql, filter.statementArguments)
        return try await database.read { db in
            try FAQEntry.fetchAll(db, sql: "SELECT * FROM faq_entries \(clause) ORDER BY locale, position, id", arguments: arguments)
        }
    }

    package func entry(id: Int64) async throws -> FAQEntry {
        guard let entry = try await database.read({ db in try FAQEntry.fetchOne(db, key: id) }) else { throw FrontdeskError.notFound("The FAQ entry") }
        return entry
    }

    /// Adds an entry with its answer rendered; the slug is made from the question unless given.
    package func createEntry(_ input: FAQEntryInput, now: Date) async throws -> FAQEntry {
        let stamp = Timestamps.iso8601Milliseconds(now)
        let markdown = input.answer ?? ""
        let html = SafeMarkdown.render(markdown)
        let text = SafeHTML.text(ofHTML: html)
        return try await database.writer.write { db in
            let locale = input.locale ?? "en"
            let slug = try input.slug ?? Self.freeSlug(FAQLimits.slug(from: input.question ?? ""), locale: locale, db)
            try Self.requireFreeEntrySlug(slug, locale: locale, except: nil, db)
            let categoryID = input.categoryID ?? nil
            if let categoryID { try Self.requireCategory(categoryID, db) }
            let position = try input.position
                ?? (Int.fetchOne(db, sql: "SELECT COALESCE(MAX(position) + 1, 0) FROM faq_entries WHERE locale = ?", arguments: [locale]) ?? 0)
            let status = input.status ?? "draft"
            var entry = FAQEntry(id: nil, categoryID: categoryID, locale: locale, slug: slug, question: input.question ?? "", answerMarkdown: markdown,
                                 answerHTML: html, answerText: text, status: status, position: position, views: 0, helpfulYes: 0, helpfulNo: 0,
                                 deflections: 0, createdAt: stamp, updatedAt: stamp, publishedAt: status == "published" ? stamp : nil)
            try entry.insert(db)
            return entry
        }
    }

    /// Changes the given fields of an entry (publishing or unpublishing it included).
    package func updateEntry(id: Int64, _ input: FAQEntryInput, now: Date) async throws -> FAQEntry {
        let stamp = Timestamps.iso8601Milliseconds(now)
        let rendered = input.answer.map { markdown -> (String, String, String) in
            let html = SafeMarkdown.render(markdown)
            return (markdown, html, SafeHTML.text(ofHTML: html))
        }
        return try await database.writer.write { db in
            guard var entry = try FAQEntry.fetchOne(db, key: id) else { throw FrontdeskError.notFound("The FAQ entry") }
            if let question = input.question { entry.question = question }
            if let (markdown, html, text) = rendered { entry.answerMarkdown = markdown; entry.answerHTML = html; entry.answerText = text }
            if let locale = input.locale { entry.locale = locale }
            if let slug = input.slug { entry.slug = slug }
            if input.slug != nil || input.locale != nil { try Self.requireFreeEntrySlug(entry.slug, locale: entry.locale, except: id, db) }
            if let categoryID = input.categoryID {
                if let categoryID { try Self.requireCategory(categoryID, db) }
                entry.categoryID = categoryID
            }
            if let status = input.status {
                if status == "published" && entry.status != "published" { entry.publishedAt = stamp }
                entry.status = status
            }
            if let position = input.position { entry.position = position }
            entry.updatedAt = stamp
            try entry.update(db)
            return entry
        }
    }

    package func deleteEntry(id: Int64) async throws {
        try await database.writer.write { db in
            try db.execute(sql: "DELETE FROM faq_entries WHERE id = ?", arguments: [id])
            if db.changesCount == 0 { throw FrontdeskError.notFound("The FAQ entry") }
        }
    }

    /// Puts the entries `ids` in this order (positions 0, 1, …), in one transaction.
    package func reorder(_ ids: [Int64], now: Date) async throws {
        let stamp = Timestamps.iso8601Milliseconds(now)
        try await database.writer.write { db in
            let known = try Set(Int64.fetchAll(db, sql: "SELECT id FROM faq_entries WHERE id IN (\(ids.map { _ in "?" }.joined(separator: ",")))",
                                               arguments: StatementArguments(ids)))
            if let missing = ids.first(where: { !known.contains($0) }) {
                throw FrontdeskError.validation(["ids": "has \(missing), which is no FAQ entry"])
            }
            for (position, id) in ids.enumerated() {
                try db.execute(sql: "UPDATE faq_entries SET position = ?, updated_at = ? WHERE id = ?", arguments: [position, stamp, id])
            }
        }
    }

    /// Views, votes and deflections per entry, and the most asked searches that found nothing.
    package func stats(locale: String?, gapLimit: Int = 50) async throws -> FAQStats {
        try await database.read { db in
            var filter = SQLFilter()
            if let locale { filter.add("locale = ?", locale) }
            let entries = try FAQEntry.fetchAll(db, sql: "SELECT * FROM faq_entries \(filter.sql) ORDER BY views DESC, id", arguments: filter.statementArguments)
            let gaps = try Row.fetchAll(db, sql: "SELECT * FROM faq_search_gaps \(filter.sql) ORDER BY count DESC, last_at DESC LIMIT ?",
                                        arguments: filter.arguments(with: gapLimit))
            return FAQStats(
                entries: entries.map { e in
                    let votes = e.helpfulYes + e.helpfulNo
                    return FAQStats.Entry(id: e.id ?? 0, question: e.question, locale: e.locale, status: e.status, views: e.views,
                                          helpfulYes: e.helpfulYes, helpfulNo: e.helpfulNo,
                                          helpfulPercent: votes == 0 ? nil : (Double(e.helpfulYes) * 1000 / Double(votes)).rounded() / 10,
                                          deflections: e.deflections)
                },
                gaps: gaps.map { FAQStats.Gap(query: $0["query"], locale: $0["locale"], count: $0["count"], lastAt: $0["last_at"]) })
        }
    }

    static func requireFreeEntrySlug(_ slug: String, locale: String, except id: Int64?, _ db: Database) throws {
        if let other = try Int64.fetchOne(db, sql: "SELECT id FROM faq_entries WHERE locale = ? AND slug = ?", arguments: [locale, slug]), other != id {
            throw FrontdeskError(.conflict, code: "slug_taken", message: "Another \(locale) entry has the slug \(slug).", details: ["slug": "is taken"])
        }
    }

    /// `base`, or `base-2`, `base-3`, … when taken in `locale`.
    static func freeSlug(_ base: String, locale: String, _ db: Database) throws -> String {
        var candidate = base
        var n = 2
        while try Bool.fetchOne(db, sql: "SELECT 1 FROM faq_entries WHERE locale = ? AND slug = ?", arguments: [locale, candidate]) == true {
            let suffix = "-\(n)"
            candidate = String(base.prefix(FAQLimits.slug - suffix.count)) + suffix
            n += 1
        }
        return candidate
    }

    static func requireCategory(_ id: Int64, _ db: Database) throws {
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM faq_categories WHERE id = ?", arguments: [id]) == true else {
            throw FrontdeskError.validation(["categoryId": "is no category (\(id))"])
        }
    }
}
