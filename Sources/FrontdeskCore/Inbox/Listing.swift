import Foundation
import GRDB

/// Paging, search and sorting for the admin lists, parsed from the query string and validated
/// in one place so every list answers bad parameters the same way.
package struct ListQuery: Sendable, Equatable {
    package var page: Int = 1
    package var perPage: Int = 25
    package var search: String?
    /// A column key of the list and its direction.
    package var sort: String
    package var descending: Bool
    /// Other filters by name (`status`, `priority`, …), already checked by the list's store.
    package var filters: [String: String] = [:]

    package static let maxPerPage = 100

    /// Reads `page`, `perPage`, `q`, `sort` (`-createdAt` for descending) and the named filters,
    /// reporting every bad parameter in one 422.
    package init(_ parameters: [String: String], sortable: [String], defaultSort: String, filters allowed: [String: Set<String>?]) throws {
        var problems: [String: String] = [:]
        sort = defaultSort.hasPrefix("-") ? String(defaultSort.dropFirst()) : defaultSort
        descending = defaultSort.hasPrefix("-")
        for (name, value) in parameters {
            switch name {
            case "page":
                if let n = Int(value), n >= 1, n <= 1_000_000 { page = n } else { problems["page"] = "must be an integer from 1" }
            case "perPage":
                if let n = Int(value), (1...Self.maxPerPage).contains(n) { perPage = n } else { problems["perPage"] = "must be an integer from 1 to \(Self.maxPerPage)" }
            case "q":
                let trimmed = value.trimmingCharacters(in: .whitespaces)
                if trimmed.count > 200 { problems["q"] = "must be at most 200 characters" } else if !trimmed.isEmpty { search = trimmed }
            case "sort":
                let key = value.hasPrefix("-") ? String(value.dropFirst()) : value
                if sortable.contains(key) { sort = key; descending = value.hasPrefix("-") } else {
                    problems["sort"] = "must be one of " + sortable.flatMap { [$0, "-" + $0] }.joined(separator: ", ")
                }
            default:
                guard let choices = allowed[name] else { problems[name] = "is not a known parameter"; continue }
                if let choices, !choices.contains(value) {
                    problems[name] = "must be one of " + choices.sorted().joined(separator: ", ")
                } else {
                    filters[name] = value
                }
            }
        }
        if !problems.isEmpty { throw FrontdeskError.validation(problems) }
    }

    package init(page: Int = 1, perPage: Int = 25, search: String? = nil, sort: String = "createdAt", descending: Bool = true, filters: [String: String] = [:]) {
        self.page = page
        self.perPage = perPage
        self.search = search
        self.sort = sort
        self.descending = descending
        self.filters = filters
    }

    package var offset: Int { (page - 1) * perPage }

    /// `%term%` for LIKE, with LIKE's wildcards escaped (`ESCAPE '\'`).
    var likePattern: String? {
        search.map(Self.likePattern(containing:))
    }

    /// `%text%` for `LIKE ? ESCAPE '\'`, with LIKE's own wildcards in `text` escaped.
    package static func likePattern(containing text: String) -> String {
        "%" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
    }
}

/// One page of a list and how many items match in all; `counts` (by status) where a list has them.
package struct Page<Item: Sendable & Encodable>: Sendable, Encodable {
    package let items: [Item]
    package let total: Int
    package let page: Int
    package let perPage: Int
    package var counts: [String: Int]?

    package init(items: [Item], total: Int, page: Int, perPage: Int, counts: [String: Int]? = nil) {
        self.items = items
        self.total = total
        self.page = page
        self.perPage = perPage
        self.counts = counts
    }

    /// The same page with each item turned into its API view.
    package func map<View: Sendable & Encodable>(_ transform: (Item) -> View) -> Page<View> {
        Page<View>(items: items.map(transform), total: total, page: page, perPage: perPage, counts: counts)
    }
}

/// A WHERE clause built from optional conditions.
struct SQLFilter: Sendable {
    var clauses: [String] = []
    var arguments: [DatabaseValue] = []

    mutating func add(_ clause: String, _ values: any DatabaseValueConvertible...) {
        clauses.append(clause)
        arguments.append(contentsOf: values.map(\.databaseValue))
    }

    /// `column LIKE ? ESCAPE '\'` over several columns, OR-ed.
    mutating func search(_ pattern: String?, columns: [String]) {
        guard let pattern else { return }
        clauses.append("(" + columns.map { "\($0) LIKE ? ESCAPE '\\'" }.joined(separator: " OR ") + ")")
        arguments.append(contentsOf: Array(repeating: pattern.databaseValue, count: columns.count))
    }

    var sql: String { clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ") }
    var statementArguments: StatementArguments { StatementArguments(arguments) }

    /// The arguments followed by `extra` (LIMIT, OFFSET, a cursor).
    func arguments(with extra: any DatabaseValueConvertible...) -> StatementArguments {
        StatementArguments(arguments + extra.map(\.databaseValue))
    }
}

extension AppDatabase {
    /// One page of `select` (which ends in its FROM clause) under `filter`, with the total count.
    func page<Record: FetchableRecord & Sendable & Encodable>(_ type: Record.Type, select: String, from: String, filter: SQLFilter,
                                                              order: String, query: ListQuery) async throws -> Page<Record> {
        let arguments = filter.arguments(with: query.perPage, query.offset)
        let countArguments = filter.statementArguments
        let clause = filter.sql
        return try await read { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(from) \(clause)", arguments: countArguments) ?? 0
            let items = try Record.fetchAll(db, sql: "\(select) \(clause) ORDER BY \(order) LIMIT ? OFFSET ?", arguments: arguments)
            return Page(items: items, total: total, page: query.page, perPage: query.perPage)
        }
    }

    /// Up to `limit` rows of `table` under `filter` with ids after `after`, by id: exports page
    /// through with this, so a large export never holds more than one batch.
    func batch<Record: FetchableRecord & Sendable>(_ type: Record.Type, table: String, filter: SQLFilter, after: Int64, limit: Int) async throws -> [Record] {
        let arguments = filter.arguments(with: after, limit)
        let clause = filter.sql.isEmpty ? "WHERE id > ?" : filter.sql + " AND id > ?"
        return try await read { db in
            try Record.fetchAll(db, sql: "SELECT * FROM \(table) \(clause) ORDER BY id LIMIT ?", arguments: arguments)
        }
    }
}

extension ListQuery {
    /// `column direction, id direction` for a sort key, so equal values keep a stable order.
    func order(_ columns: [String: String], default fallback: String, id: String = "id") -> String {
        let direction = descending ? "DESC" : "ASC"
        return "\(columns[sort] ?? fallback) \(direction), \(id) \(direction)"
    }
}
