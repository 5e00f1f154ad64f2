import FrontdeskCore
import Foundation
import Hummingbird

/// What the console's analytics screens need beyond the reports: previews of a goal or a funnel
/// before it is saved (the editor shows the count beside the form), and the tracking settings.
struct AnalyticsDashboardController: Sendable {
    let analytics: AnalyticsRuntime
    let config: FrontdeskConfig
    let now: @Sendable () -> Date

    /// The goal definition fields, read and checked the same way for a preview and a save.
    static let goalFields: Set<String> = ["kind", "pattern", "propertyKey", "propertyValue"]

    /// Reads kind, pattern and the optional property match, naming every bad field.
    static func readGoalDefinition(_ reader: inout FieldReader) -> (kind: AnalyticsGoal.Kind, pattern: String, key: String?, value: String?)? {
        let kindText = reader.text("kind", required: true, maxLength: 10)
        let pattern = reader.text("pattern", required: true, maxLength: 2048)
        let key = reader.text("propertyKey", required: false, maxLength: 64)
        let value = reader.text("propertyValue", required: false, maxLength: 256)
        let kind = kindText.flatMap(AnalyticsGoal.Kind.init(rawValue:))
        if kindText != nil, kind == nil { reader.fail("kind", "must be page or event") }
        if kind == .page, let pattern, !pattern.hasPrefix("/") { reader.fail("pattern", "must be a path starting with / (* matches any characters)") }
        if kind == .event, let pattern, !IngestBatch.isValidName(pattern.replacingOccurrences(of: "*", with: "x")) {
            reader.fail("pattern", "must be an event name: 1 to 64 characters of A-Z a-z 0-9 space _ . : / - (* matches any characters)")
        }
        if (key == nil) != (value == nil) { reader.fail(key == nil ? "propertyKey" : "propertyValue", "is required with \(key == nil ? "propertyValue" : "propertyKey")") }
        if kind == .page, key != nil { reader.fail("propertyKey", "is allowed on event goals only") }
        guard let kind, let pattern else { return nil }
        return (kind, pattern, key, value)
    }

    /// The tracking settings screen's facts: what the configuration says and what the engine loaded.
    struct TrackingSettings: Encodable, Sendable {
        struct GeoIP: Encodable, Sendable {
            var configured: Bool
            var path: String?
            var databaseType: String?
            var builtAt: String?
        }
        var timezone: String
        var rawRetentionDays: Int
        var hourlyDetailDays: Int
        var rollupMaxValues: Int
        var siteOrigins: [String]
        var publicURL: String
        var geoip: GeoIP
    }

    /// The settings as the running server holds them (read once: they change with a restart).
    static func trackingSettings(_ config: FrontdeskConfig, _ analytics: AnalyticsRuntime) -> TrackingSettings {
        var geoip = TrackingSettings.GeoIP(configured: false)
        if let lookup = analytics.countries as? MaxMindCountryLookup {
            geoip = .init(configured: true, path: lookup.path, databaseType: lookup.metadata.databaseType,
                          builtAt: ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(lookup.metadata.buildEpoch))))
        }
        return TrackingSettings(timezone: config[AnalyticsSettings.timezone], rawRetentionDays: analytics.retention.retentionDays,
                                hourlyDetailDays: analytics.retention.hourlyDetailDays, rollupMaxValues: config[AnalyticsSettings.maxValuesPerHour],
                                siteOrigins: config.siteOrigins, publicURL: config.publicURL, geoip: geoip)
    }

    func addRoutes(to routes: Routes) {
        let admin = routes.admin
        let goals = analytics.goals
        let settings = Self.trackingSettings(config, analytics)
        admin.get("/analytics/settings") { request, _ in
            let unknown = request.queryDictionary.keys.sorted()
            if !unknown.isEmpty { throw FrontdeskError.validation(Dictionary(uniqueKeysWithValues: unknown.map { ($0, "is not a known parameter") })) }
            return try Response.json(settings)
        }
        let days = analytics.queries.days
        admin.get("/analytics/goals/preview") { request, _ in
            let parameters = request.queryDictionary
            var problems: [String: String] = [:]
            var range: AnalyticsRange?
            do {
                range = try AnalyticsRequest(parameters.filter { !Self.goalFields.contains($0.key) }, days: days, now: now(), allowed: [], filtersAllowed: false).range
            } catch let error as FrontdeskError {
                problems = error.details
            }
            var reader = FieldReader(parameters.filter { Self.goalFields.contains($0.key) }.mapValues { JSONValue.string($0) }, allowed: Self.goalFields)
            let definition = Self.readGoalDefinition(&reader)
            for (field, message) in reader.problems { problems[field] = message }
            // The kind is an exact enumeration value here, as the schema says (no trimming).
            if let kind = parameters["kind"], AnalyticsGoal.Kind(rawValue: kind) == nil { problems["kind"] = "must be page or event" }
            guard problems.isEmpty, let range, let definition else { throw FrontdeskError.validation(problems) }
            let goal = AnalyticsGoal(id: 0, name: "preview", kind: definition.kind, pattern: definition.pattern, propertyKey: definition.key, propertyValue: definition.value)
            return try Response.json(try await goals.preview(goal: goal, range))
        }
        admin.get("/analytics/funnels/preview") { request, _ in
            let parameters = request.queryDictionary
            var problems: [String: String] = [:]
            var range: AnalyticsRange?
            do {
                range = try AnalyticsRequest(parameters.filter { $0.key != "steps" }, days: days, now: now(), allowed: [], filtersAllowed: false).range
            } catch let error as FrontdeskError {
                problems = error.details
            }
            var steps: [Int64] = []
            if let text = parameters["steps"] {
                let parts = text.split(separator: ",", omittingEmptySubsequences: false)
                if !(2...8).contains(parts.count) {
                    problems["steps"] = "must hold 2 to 8 goal ids, comma-separated, not \(parts.count)"
                } else {
                    for part in parts {
                        // Digits only, no sign or leading zero, as the schema's pattern says.
                        if (1...16).contains(part.count), part.first != "0", part.allSatisfy({ ("0"..."9").contains($0) }), let id = Int64(part) { steps.append(id) } else {
                            problems["steps"] = "must be goal ids (positive integers), comma-separated"
                            break
                        }
                    }
                }
            } else {
                problems["steps"] = "is required: 2 to 8 goal ids in order, comma-separated"
            }
            guard problems.isEmpty, let range else { throw FrontdeskError.validation(problems) }
            return try Response.json(try await goals.previewFunnel(steps: steps, range))
        }
    }
}
