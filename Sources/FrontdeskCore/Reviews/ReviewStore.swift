import Foundation
import GRDB

/// A review of the site or of one subject (table `reviews`): stored as the visitor wrote it,
/// shown as text; public only once approved.
package struct Review: Sendable, Equatable, Codable, FetchableRecord, MutablePersistableRecord {
    package static let databaseTableName = "reviews"

    package var id: Int64?
    /// What is reviewed (a product key, a page); empty for the whole site.
    package var subject: String
    package var rating: Int
    package var title: String?
    package var content: String
    package var name: String
    package var email: String?
    /// `pending`, `approved`, `rejected` or `spam`.
    package var status: String
    /// The reviewer was identified by the site (a valid `frontdesk.identify` HMAC).
    package var verified: Bool
    /// SHA-256 of the normalised content, for the duplicate check.
    package var contentHash: String
    package var helpful: Int
    package var reports: Int
    package var reply: String?
    package var repliedAt: String?
    package var repliedBy: Int64?
    package var createdAt: String
    package var approvedAt: String?
    package var moderatedAt: String?
    package var moderatedBy: Int64?

    enum CodingKeys: String, CodingKey {
        case id, subject, rating, title, content, name, email, status, verified, helpful, reports, reply
        case contentHash = "content_hash"
        case repliedAt = "replied_at"
        case repliedBy = "replied_by"
        case createdAt = "created_at"
        case approvedAt = "approved_at"
        case moderatedAt = "moderated_at"
        case moderatedBy = "moderated_by"
    }

    package mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    package static let statuses = ["pending", "approved", "rejected", "spam"]
}

/// Field limits of a review, checked on input and stated in the contract.
package enum ReviewLimits {
    package static let title = 120
    package static let content = 5_000
    package static let name = 100
    package static let subject = 100
    package static let reply = 5_000

    /// A subject key: empty (the whole site), or 1–100 of lower-case letters, digits and `. _ : / -`,
    /// starting with a letter or digit.
    package static func isSubject(_ value: String) -> Bool {
        if value.isEmpty { return true }
        guard value.count <= subject, let first = value.unicodeScalars.first, ("a"..."z").contains(first) || ("0"..."9").contains(first) else { return false }
        return value.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "._:/-".unicodeScalars.contains($0) }
    }

    /// Web addresses in `text` (`http://`, `https://`, `www.`).
    package static func linkCount(_ text: String) -> Int {
        let lower = text.lowercased()
        return ["http://", "https://", "www."].reduce(0) { $0 + lower.components(separatedBy: $1).count - 1 }
            - (lower.components(separatedBy: "://www.").count - 1)
    }

    /// The content as the duplicate check compares it: case and white space ignored.
    package static func contentHash(_ content: String) -> String {
        ContentDigest.sha256Hex(content.lowercased().split(whereSeparator: { $0.isWhitespace || $0.isNewline }).joined(separator: " "))
    }
}

/// A validated review submission.
package struct NewReview: Sendable, Equatable {
    package var rating: Int
    package var title: String?
    package var content: String
    package var name: String
    package var email: String?
    package var subject: String
    /// An identity the site vouched for: `{userId, hash}` as `frontdesk.identify` takes it.
    package var identity: (userId: String, hash: String)?
    /// The token of a review request's link (`ReviewRequests`): the reviewer was a customer.
    package var requestToken: String?

    package static func == (a: NewReview, b: NewReview) -> Bool {
        a.rating == b.rating && a.title == b.title && a.content == b.content && a.name == b.name && a.email == b.email && a.subject == b.subject
            && a.identity?.userId == b.identity?.userId && a.identity?.hash == b.identity?.hash && a.requestToken == b.requestToken
    }

    package static let fields: Set<String> = ["rating", "title", "content", "name", "email", "subject", "identity", "requestToken"]

    /// Reads the fields of a post (the spam fields already taken out); `maxLinks` bounds the web
    /// addresses in title and content.
    package init(json: [String: JSONValue], maxLinks: Int) throws {
        var reader = FieldReader(json, allowed: Self.fields)
        var rating = 0
        switch json["rating"] {
        case .number(let n)? where n.rounded() == n && (1...5).contains(n): rating = Int(n)
        case .number?: reader.fail("rating", "must be a whole number from 1 to 5")
        case nil, .null?: reader.fail("rating", "is required (a whole number from 1 to 5)")
        case let other?: reader.fail("rating", "must be a whole number from 1 to 5, not \(other.typeName)")
        }
        title = reader.text("title", required: false, maxLength: ReviewLimits.title)
        let content = reader.text("content", required: true, maxLength: ReviewLimits.content, multiline: true)
        let name = reader.text("name", required: true, maxLength: ReviewLimits.name)
        email = reader.email("email", required: false)
        let subject: String
        switch json["subject"] {
        case nil, .null?: subject = ""
        case .string(let s)? where ReviewLimits.isSubject(s): subject = s
        case .string?:
            subject = ""
            reader.fail("subject", "must be empty or 1–100 lower-case letters, digits and . _ : / - (like product:blue-mug)")
        case let other?:
            subject = ""
            reader.fail("subject", "must be a string, not \(other.typeName)")
        }
        switch json["identity"] {
        case nil, .null?: identity = nil
        case .object(let object)?:
            var inner = FieldReader(object, allowed: ["userId", "hash"])
            let user = inner.text("userId", required: true, maxLength: 200)
            let hash = inner.text("hash", required: true, maxLength: 128)
            for (key, problem) in inner.problems { reader.fail("identity.\(key)", problem) }
            identity = user.flatMap { u in hash.map { (u, $0) } }
        case let other?:
            identity = nil
            reader.fail("identity", "must be an object {userId, hash} or null, not \(other.typeName)")
        }
        if let token = reader.text("requestToken", required: false, maxLength: 64) {
            if token.count >= 20, token.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) {
                requestToken = token
            } else {
                reader.fail("requestToken", "must be the token of a review link (20–64 letters, digits, - and _)")
            }
        }
        if let content, ReviewLimits.linkCount(content) + ReviewLimits.linkCount(title ?? "") > maxLinks {
            reader.fail("content", maxLinks == 0 ? "must not contain web addresses" : "must contain at most \(maxLinks) web address\(maxLinks == 1 ? "" : "es")")
        }
        try reader.validate()
        self.rating = rating
        self.content = content!
        self.name = name!
        self.subject = subject
    }

    package init(rating: Int, title: String? = nil, content: String, name: String, email: String? = nil, subject: String = "") {
        self.rating = rating
        self.title = title
        self.content = content
        self.name = name
        self.email = email
        self.subject = subject
        self.identity = nil
    }
}

/// A review as the public sees it: no email, no moderation fields.
package struct PublicReview: Sendable, Encodable, Equatable, FetchableRecord {
    package let id: Int64
    package let subject: String
    package let rating: Int
    package let title: String?
    package let content: String
    package let name: String
    package let verified: Bool
    package let helpful: Int
    package let reply: String?
    package let repliedAt: String?
    package let createdAt: String

    package init(row: Row) {
        id = row["id"]; subject = row["subject"]; rating = row["rating"]; title = row["title"]; content = row["content"]; name = row["name"]
        verified = row["verified"]; helpful = row["helpful"]; reply = row["reply"]; repliedAt = row["replied_at"]; createdAt = row["created_at"]
    }
}

/// Count, average and histogram of the approved reviews of a subject.
package struct ReviewSummary: Sendable, Encodable, Equatable {
    package let subject: String
    package let count: Int
    /// The mean rating rounded to two decimals; null without reviews.
    package let average: Double?
    /// Reviews per rating, keys "1" to "5".
    package let histogram: [String: Int]
}

/// Reviews: submission with the duplicate check, the public list and summary, helpful votes and
/// reports, and moderation with owner replies. The only place with their SQL.
package struct ReviewStore: Sendable {
    let database: AppDatabase
    let secret: Data

    package init(database: AppDatabase, secret: Data) {
        self.database = database
        self.secret = secret
    }

    package static let migrations = [
        SchemaMigration("0021-reviews") { db in
            try db.execute(sql: """
                CREATE TABLE reviews (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    subject TEXT NOT NULL DEFAULT '',
                    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
                    title TEXT,
                    content TEXT NOT NULL,
                    name TEXT NOT NULL,
                    email TEXT,
                    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'spam')),
                    verified INTEGER NOT NULL DEFAULT 0,
                    content_hash TEXT NOT NULL,
                    helpful INTEGER NOT NULL DEFAULT 0,
                    reports INTEGER NOT NULL DEFAULT 0,
                    reply TEXT,
                    replied_at TEXT,
                    replied_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
                    created_at TEXT NOT NULL,
                    approved_at TEXT,
                    moderated_at TEXT,
                    moderated_by INTEGER REFERENCES users(id) ON DELETE SET NULL
                ) STRICT;
                CREATE INDEX reviews_public ON reviews(subject, status, created_at);
                CREATE INDEX reviews_status ON reviews(status, created_at);
                CREATE INDEX reviews_content_hash ON reviews(content_hash);
                CREATE TABLE review_votes (
                    review_id INTEGER NOT NULL REFERENCES reviews(id) ON DELETE CASCADE,
                    visitor TEXT NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('helpful', 'report')),
                    created_at TEXT NOT NULL,
                    PRIMARY KEY (review_id, visitor, kind)
                ) STRICT, WITHOUT ROWID;
                """)
        },
    ]

    /// Stores a new pending review; `onStored` runs in the same transaction (the idempotency
    /// record). 422 `duplicate_review` when the same content was sent in the last 30 days.
    package func submit(_ input: NewReview, verified: Bool, now: Date, onStored: @escaping @Sendable (Database, Review) throws -> Void = { _, _ in }) async throws -> Review {
        let stamp = Timestamps.iso8601Milliseconds(now)
        let since = Timestamps.iso8601Milliseconds(now.addingTimeInterval(-30 * 86_400))
        let hash = ReviewLimits.contentHash(input.content)
        return try await database.writer.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM reviews WHERE content_hash = ? AND created_at >= ?", arguments: [hash, since]) == true {
                throw FrontdeskError(.validation, code: "duplicate_review", message: "This review was sent already; it is waiting for moderation or published.",
                                     details: ["content": "is the same as a review sent in the last 30 days"])
            }
            var review = Review(id: nil, subject: input.subject, rating: input.rating, title: input.title, content: input.content, name: input.name,
                                email: input.email, status: "pending", verified: verified, contentHash: hash, helpful: 0, reports: 0, reply: nil,
                                repliedAt: nil, repliedBy: nil, createdAt: stamp, approvedAt: nil, moderatedAt: nil, moderatedBy: nil)
            try review.insert(db)
            try onStored(db, review)
            return review
        }
    }

    /// Public sort orders.
    package static let sorts = ["newest", "highest", "lowest", "helpful"]

    /// One page of the approved reviews of `subject`.
    package func approved(subject: String, sort: String, page: Int, perPage: Int) async throws -> Page<PublicReview> {
        let order: String
        switch sort {
        case "highest": order = "rating DESC, created_at DESC, id DESC"
        case "lowest": order = "rating ASC, created_at DESC, id DESC"
        case "helpful": order = "helpful DESC, created_at DESC, id DESC"
        default: order = "created_at DESC, id DESC"
        }
        return try await database.read { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM reviews WHERE subject = ? AND status = 'approved'", arguments: [subject]) ?? 0
            let items = try PublicReview.fetchAll(db, sql: "SELECT * FROM reviews WHERE subject = ? AND status = 'approved' ORDER BY \(order) LIMIT ? OFFSET ?",
                                                  arguments: [subject, perPage, (page - 1) * perPage])
            return Page(items: items, total: total, page: page, perPage: perPage)
        }
    }

    /// Count, average and histogram of the approved reviews of `subject`.
    package func summary(subject: String) async throws -> ReviewSummary {
        try await database.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT rating, COUNT(*) AS n FROM reviews WHERE subject = ? AND status = 'approved' GROUP BY rating",
                                        arguments: [subject])
            var histogram = Dictionary(uniqueKeysWithValues: (1...5).map { (String($0), 0) })
            var count = 0, sum = 0
            for row in rows {
                let rating: Int = row["rating"], n: Int = row["n"]
                histogram[String(rating)] = n
                count += n
                sum += rating * n
            }
            let average = count == 0 ? nil : (Double(sum) * 100 / Double(count)).rounded() / 100
            return ReviewSummary(subject: subject, count: count, average: average, histogram: histogram)
        }
    }

    func visitorKey(_ visitor: String) -> String {
        ContentDigest.hex(ContentDigest.hmacSHA256("review-vote:" + visitor, key: secret).prefix(16))
    }

    /// What a vote or a report did.
    package enum VoteOutcome: Sendable, Equatable {
        case counted
        case alreadyVoted
        /// The report reached the threshold: the review went back to the moderation queue.
        case returnedToQueue
    }

    /// One helpful vote per visitor per approved review.
    package func voteHelpful(reviewID: Int64, visitor: String, now: Date) async throws -> VoteOutcome {
        try await mark(reviewID: reviewID, visitor: visitor, kind: "helpful", threshold: nil, now: now)
    }

    /// One report per visitor per approved review; at `threshold` reports the review is pending again.
    package func report(reviewID: Int64, visitor: String, threshold: Int, now: Date) async throws -> VoteOutcome {
        try await mark(reviewID: reviewID, visitor: visitor, kind: "report", threshold: threshold, now: now)
    }

    private func mark(reviewID: Int64, visitor: String, kind: String, threshold: Int?, now: Date) async throws -> VoteOutcome {
        let key = visitorKey(visitor)
        let stamp = Timestamps.iso8601Milliseconds(now)
        return try await database.writer.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM reviews WHERE id = ? AND status = 'approved'", arguments: [reviewID]) == true else {
                throw FrontdeskError.notFound("The review")
            }
            try db.execute(sql: "INSERT INTO review_votes (review_id, visitor, kind, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                           arguments: [reviewID, key, kind, stamp])
            guard db.changesCount == 1 else { return .alreadyVoted }
            if let threshold {
                try db.execute(sql: "UPDATE reviews SET reports = reports + 1 WHERE id = ?", arguments: [reviewID])
                let reports = try Int.fetchOne(db, sql: "SELECT reports FROM reviews WHERE id = ?", arguments: [reviewID]) ?? 0
                if reports >= threshold {
                    try db.execute(sql: "UPDATE reviews SET status = 'pending', moderated_at = ? WHERE id = ?", arguments: [stamp, reviewID])
                    return .returnedToQueue
                }
            } else {
                try db.execute(sql: "UPDATE reviews SET helpful = helpful + 1 WHERE id = ?", arguments: [reviewID])
            }
            return .counted
        }
    }

    // MARK: Console

    package static let sortable = ["createdAt", "rating", "helpful", "reports"]
    package static let filters: [String: Set<String>?] = ["status": Set(Review.statuses), "subject": nil, "rating": ["1", "2", "3", "4", "5"]]

    /// One page of every review under the console's filters.
    package func list(_ query: ListQuery) async throws -> Page<Review> {
        var filter = SQLFilter()
        if let status = query.filters["status"] { filter.add("status = ?", status) }
        if let subject = query.filters["subject"] { filter.add("subject = ?", subject) }
        if let rating = query.filters["rating"].flatMap(Int.init) { filter.add("rating = ?", rating) }
        filter.search(query.likePattern, columns: ["title", "content", "name", "email"])
        let order = query.order(["createdAt": "created_at", "rating": "rating", "helpful": "helpful", "reports": "reports"], default: "created_at")
        var page = try await database.page(Review.self, select: "SELECT * FROM reviews", from: "reviews", filter: filter, order: order, query: query)
        page.counts = try await counts()
        return page
    }

    /// Reviews per status.
    package func counts() async throws -> [String: Int] {
        try await database.read { db in
            var counts = Dictionary(uniqueKeysWithValues: Review.statuses.map { ($0, 0) })
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM reviews GROUP BY status") { counts[row["status"]] = row["n"] }
            return counts
        }
    }

    package func review(id: Int64) async throws -> Review {
        guard let review = try await database.read({ db in try Review.fetchOne(db, key: id) }) else { throw FrontdeskError.notFound("The review") }
        return review
    }

    /// Sets the status of every review in `ids` (one transaction); `approved_at` on approval. 404 when any id is unknown.
    package func moderate(_ ids: [Int64], status: String, by userID: Int64?, now: Date) async throws -> [Review] {
        let stamp = Timestamps.iso8601Milliseconds(now)
        return try await database.writer.write { db in
            var changed: [Review] = []
            for id in ids {
                guard var review = try Review.fetchOne(db, key: id) else { throw FrontdeskError.notFound("The review \(id)") }
                if status == "approved" && review.status != "approved" { review.approvedAt = stamp; review.reports = 0 }
                if status != "approved" { review.approvedAt = nil }
                review.status = status
                review.moderatedAt = stamp
                review.moderatedBy = userID
                try review.update(db)
                changed.append(review)
            }
            return changed
        }
    }

    /// Sets (or, with nil, removes) the owner's one reply to a review.
    package func reply(id: Int64, text: String?, by userID: Int64?, now: Date) async throws -> Review {
        let stamp = Timestamps.iso8601Milliseconds(now)
        return try await database.writer.write { db in
            guard var review = try Review.fetchOne(db, key: id) else { throw FrontdeskError.notFound("The review") }
            review.reply = text
            review.repliedAt = text == nil ? nil : stamp
            review.repliedBy = text == nil ? nil : userID
            try review.update(db)
            return review
        }
    }

    package func delete(id: Int64) async throws {
        try await database.writer.write { db in
            try db.execute(sql: "DELETE FROM reviews WHERE id = ?", arguments: [id])
            if db.changesCount == 0 { throw FrontdeskError.notFound("The review") }
        }
    }
}
