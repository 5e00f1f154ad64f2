import FrontdeskCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The console's consent API (signed in; publishing needs the admin role):
/// - `GET consent/banner` — the published version, the draft and the configuration's defaults;
/// - `PUT consent/draft` — save the editor's draft; `POST consent/versions` — publish (a new version);
/// - `GET consent/versions` — every version with its hashes and from which version it asks again;
/// - `GET consent/records` — the log, by consent id and date range; `GET consent/records/export`
///   — the same as CSV or JSON; `GET consent/stats` — counts and rates per day and version.
/// No route changes or deletes a record.
struct ConsentAdminController: Sendable {
    let banner: ConsentBanner
    let now: @Sendable () -> Date

    struct VersionView: Encodable {
        let version: Int
        let promptSince: Int
        let source: String
        let publishedAt: String
        let publishedBy: Int64?
        let textHashes: [String: String]
        let configuration: ConsentConfiguration

        init(_ v: ConsentVersion) {
            version = v.version
            promptSince = v.promptSince
            source = v.source
            publishedAt = v.publishedAt
            publishedBy = v.publishedBy
            textHashes = v.textHashes
            configuration = v.configuration
        }
    }

    struct BannerView: Encodable {
        let published: VersionView
        let draft: ConsentConfiguration?
        let draftSavedAt: String?
        let defaults: ConsentConfiguration
    }

    typealias RecordView = ConsentRecordView

    struct StatsView: Encodable {
        struct Row: Encodable {
            let day: String
            let version: Int
            let acceptAll: Int
            let rejectAll: Int
            let custom: Int
            let withdraw: Int
            let expired: Int
            let acceptRate: Double
            let rejectRate: Double
            let customRate: Double
        }
        let items: [Row]
    }

    /// The filter of the log, export and statistics routes; `allowed` names the other parameters a route takes.
    static func filter(_ query: [String: String], allowed: Set<String>) throws -> ConsentRecordFilter {
        var problems: [String: String] = [:]
        for key in query.keys where !allowed.union(["consentId", "from", "to"]).contains(key) { problems[key] = "is not a known parameter" }
        let filter = ConsentRecordFilter(consentID: query["consentId"].flatMap { $0.isEmpty ? nil : $0 }, from: query["from"], to: query["to"])
        if let id = filter.consentID, id.unicodeScalars.count > 64 { problems["consentId"] = "must be at most 64 characters" }
        for (key, value) in [("from", filter.from), ("to", filter.to)] {
            if let value, !ConsentRecordFilter.isDay(value) { problems[key] = "must be a date like 2026-12-01" }
        }
        if !problems.isEmpty { throw FrontdeskError.validation(problems) }
        return filter
    }

    static func integer(_ query: [String: String], _ key: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let raw = query[key] else { return value }
        guard let n = Int(raw), range.contains(n) else {
            throw FrontdeskError.validation([key: "must be a whole number from \(range.lowerBound) to \(range.upperBound)"])
        }
        return n
    }

    /// A configuration from the editor's JSON, every unknown key or wrong type named.
    static func configuration(_ data: Data) throws -> ConsentConfiguration {
        do {
            return try JSONDecoder().decode(ConsentConfiguration.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw FrontdeskError.validation([path(context.codingPath + [key]): "is required"])
        } catch let DecodingError.typeMismatch(_, context) {
            throw FrontdeskError.validation([path(context.codingPath).isEmpty ? "body" : path(context.codingPath): "has the wrong type"])
        } catch let DecodingError.valueNotFound(_, context) {
            throw FrontdeskError.validation([path(context.codingPath): "must not be null"])
        } catch {
            throw FrontdeskError.validation(["body": "is not a banner configuration"])
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        keys.reduce("") { out, key in
            if let index = key.intValue { return out + "[\(index)]" }
            return out.isEmpty ? key.stringValue : out + "." + key.stringValue
        }
    }

    /// Refuses keys a configuration does not have, at every level the editor sends.
    static func unknownKeys(_ json: [String: JSONValue]) -> [String: String] {
        var problems: [String: String] = [:]
        let top: Set<String> = ["categories", "services", "texts", "position", "privacyPolicyURL", "gpcRefusesAnalytics", "consentMode", "consentModeMap"]
        for key in json.keys where !top.contains(key) { problems[key] = "is not a known field" }
        if case .array(let services)? = json["services"] {
            let known: Set<String> = ["id", "name", "category", "provider", "purpose", "storage", "retention"]
            for (index, service) in services.enumerated() {
                if case .object(let object) = service { for key in object.keys where !known.contains(key) { problems["services[\(index)].\(key)"] = "is not a known field" } }
            }
        }
        if case .object(let texts)? = json["texts"] {
            let known = Set(["title", "body", "acceptAll", "rejectAll", "customize", "save", "privacyLink", "gpcNotice", "placeholder", "loadButton",
                             "settings", "alwaysOn", "provider", "purpose", "storage", "retention", "categories"])
            for (locale, text) in texts {
                guard case .object(let object) = text else { continue }
                for key in object.keys where !known.contains(key) { problems["texts.\(locale).\(key)"] = "is not a known field" }
                if case .object(let categories)? = object["categories"] {
                    for (category, value) in categories {
                        if case .object(let parts) = value {
                            for key in parts.keys where key != "name" && key != "description" { problems["texts.\(locale).categories.\(category).\(key)"] = "is not a known field" }
                        }
                    }
                }
            }
        }
        return problems
    }

    static func requireAdmin(_ context: AdminRequestContext) throws {
        guard context.admin.user.role == .admin else {
            throw FrontdeskError(.forbidden, code: "forbidden", message: "Only admins may change the consent banner.")
        }
    }

    func addRoutes(to routes: Routes) {
        let admin = routes.admin
        let store = banner.store
        admin.get("/consent/banner") { _, _ in
            let published = try await banner.current()
            let draft = try await store.draft()
            return try Response.json(BannerView(published: VersionView(published), draft: draft?.configuration, draftSavedAt: draft?.updatedAt,
                                                defaults: banner.defaults))
        }
        admin.put("/consent/draft") { request, context in
            try Self.requireAdmin(context)
            let (json, data) = try await request.jsonBody(context: context)
            let unknown = Self.unknownKeys(json)
            if !unknown.isEmpty { throw FrontdeskError.validation(unknown) }
            try await store.saveDraft(try Self.configuration(data), by: context.admin.id, now: now())
            return try Response.json(["savedAt": Timestamps.iso8601Milliseconds(now())])
        }
        admin.post("/consent/versions") { request, context in
            try Self.requireAdmin(context)
            let (json, data) = try await request.jsonBody(context: context)
            let unknown = Self.unknownKeys(json)
            if !unknown.isEmpty { throw FrontdeskError.validation(unknown) }
            let configuration = try Self.configuration(data)
            _ = try await banner.current()
            let version = try await store.publishFromConsole(configuration, by: context.admin.id, now: now())
            return try Response.json(VersionView(version), status: .created)
        }
        admin.get("/consent/versions") { _, _ in
            _ = try await banner.current()
            return try Response.json(Items(items: try await store.versions().map(VersionView.init)))
        }
        admin.get("/consent/records") { request, _ in
            let query = request.queryDictionary
            let filter = try Self.filter(query, allowed: ["page", "perPage"])
            let page = try Self.integer(query, "page", default: 1, range: 1...1_000_000)
            let perPage = try Self.integer(query, "perPage", default: 25, range: 1...ListQuery.maxPerPage)
            return try Response.json(try await store.records(filter, page: page, perPage: perPage).map(RecordView.init))
        }
        admin.get("/consent/records/export") { request, _ in
            let query = request.queryDictionary
            let filter = try Self.filter(query, allowed: ["format"])
            let format = query["format"] ?? "csv"
            guard format == "csv" || format == "json" else { throw FrontdeskError.validation(["format": "must be csv or json"]) }
            if format == "csv" {
                return AdminRoutes.csvResponse(filename: "consent-records.csv", header: ConsentRecord.exportHeader) { after in
                    let rows = try await store.exportBatch(filter, after: after)
                    return (rows.map(\.exportFields), rows.last?.id)
                }
            }
            return Self.jsonExport(store: store, filter: filter)
        }
        admin.get("/consent/stats") { request, _ in
            let filter = try Self.filter(request.queryDictionary, allowed: [])
            let rows = try await store.statistics(filter).map {
                StatsView.Row(day: $0.day, version: $0.version, acceptAll: $0.acceptAll, rejectAll: $0.rejectAll, custom: $0.custom, withdraw: $0.withdraw,
                              expired: $0.expired, acceptRate: $0.acceptRate, rejectRate: $0.rejectRate, customRate: $0.customRate)
            }
            return try Response.json(StatsView(items: rows))
        }
    }

    /// A streamed JSON array of the records under `filter`, one batch at a time.
    static func jsonExport(store: ConsentStore, filter: ConsentRecordFilter) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"consent-records.json\""
        headers[.cacheControl] = "no-store"
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: "["))
            var after: Int64 = 0
            var first = true
            while true {
                let rows = try await store.exportBatch(filter, after: after)
                guard let last = rows.last else { break }
                var chunk = ""
                for row in rows {
                    chunk += (first ? "" : ",") + String(decoding: try JSONEncoder.api.encode(RecordView(row)), as: UTF8.self)
                    first = false
                }
                try await writer.write(ByteBuffer(string: chunk))
                after = last.id
            }
            try await writer.write(ByteBuffer(string: "]\n"))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}
