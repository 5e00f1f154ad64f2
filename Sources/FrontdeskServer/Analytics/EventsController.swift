import FrontdeskCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `POST /api/v1/events`: the tracker's beacons. The body is JSON sent as `text/plain` (what
/// `navigator.sendBeacon` sends, no CORS preflight) or `application/json`, at most 64 KiB.
///
/// The client address and the user agent are used here and dropped: the address goes into the
/// visitor hash and the country lookup, the user agent into the hash and its reduction to
/// families; neither reaches the queue, a log line or a file.
struct EventsController: Sendable {
    let analytics: AnalyticsRuntime
    let siteHosts: Set<String>
    let now: @Sendable () -> Date

    init(analytics: AnalyticsRuntime, siteOrigins: [String], now: @escaping @Sendable () -> Date) {
        self.analytics = analytics
        self.siteHosts = Set(siteOrigins.compactMap { URL(string: $0)?.host?.lowercased() })
        self.now = now
    }

    func addRoutes(to routes: Routes) {
        routes.events.post("/events") { request, context in
            try await accept(request, context: context)
        }
    }

    struct Accepted: Encodable { let accepted: Int }

    func accept(_ request: Request, context: AppRequestContext) async throws -> Response {
        let object = try await Self.body(request, limit: min(context.maxUploadSize, IngestBatch.maxBodyBytes))
        let events = try IngestBatch.parse(object)
        let userAgent = request.headers[.userAgent] ?? ""
        let facts = UserAgentFacts.parse(userAgent)
        let purpose = (request.headers[HTTPField.Name("Sec-Purpose")!] ?? request.headers[HTTPField.Name("Purpose")!] ?? "").lowercased()
        if facts.isBot || purpose.contains("prefetch") {
            // Answered like a counted beacon, so a crawler learns nothing; dropped here.
            analytics.ingest.bots.increment()
            return try Response.json(Accepted(accepted: events.count), status: .accepted)
        }
        let time = Int64(now().timeIntervalSince1970)
        var country: String? = nil
        if !context.clientAddress.isEmpty { country = analytics.countries.country(forAddress: context.clientAddress) }
        var cookieless: [String: Int64] = [:]
        let hits = events.map { event -> AnalyticsHit in
            let visitor: Int64
            if let persistent = event.visitor {
                visitor = VisitorSalt.consentedID(site: event.host, visitor: persistent)
            } else if let known = cookieless[event.host] {
                visitor = known
            } else {
                visitor = analytics.salt.cookielessID(site: event.host, address: context.clientAddress, userAgent: userAgent)
                cookieless[event.host] = visitor
            }
            let source = TrafficSource.classify(referrer: event.referrer, utmSource: event.utmSource, siteHosts: siteHosts.union([Self.hostOnly(event.host)]))
            let referrer = source.referrerHost.map { $0 + (source.referrerPath ?? "") }
            let device = event.screen?.rawValue ?? facts.device.rawValue
            let browser = facts.browserVersion.isEmpty ? facts.browser : "\(facts.browser) \(facts.browserVersion)"
            return AnalyticsHit(time: time, visitor: visitor, event: event, source: source.source, referrer: referrer, country: country,
                                device: device, browser: browser, os: facts.os)
        }
        guard analytics.ingest.enqueue(hits) else {
            if analytics.ingest.isClosed {
                throw FrontdeskError(.unavailable, code: "shutting_down", message: "Frontdesk is shutting down; send the events again in a few seconds.")
            }
            throw FrontdeskError(.unavailable, code: "events_queue_full", message: "Too many events are waiting to be written; send them again in a second.")
        }
        return try Response.json(Accepted(accepted: events.count), status: .accepted)
    }

    static func hostOnly(_ host: String) -> String {
        if host.hasPrefix("[") { return host }
        return host.split(separator: ":").first.map(String.init) ?? host
    }

    /// The body as one JSON object: `text/plain` or `application/json` (415 otherwise), at most
    /// `limit` bytes (413), valid JSON (400 naming the place).
    static func body(_ request: Request, limit: Int) async throws -> [String: JSONValue] {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        let mediaType = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard mediaType == "text/plain" || mediaType == "application/json" else {
            throw FrontdeskError(.unsupportedMediaType, code: "unsupported_media_type",
                                 message: "Send the events as text/plain or application/json" + (mediaType.isEmpty ? " (the Content-Type header is missing)." : ", not \(mediaType)."))
        }
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit { throw Request.tooLarge(limit: limit) }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw Request.tooLarge(limit: limit)
        }
        let data = Data(buffer: buffer)
        guard !data.isEmpty else {
            throw FrontdeskError(.badRequest, code: "malformed_json", message: "The request body is empty; send {\"events\": [...]}.")
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(data)
        } catch let error as JSONParseError {
            let location = Request.location(of: error.offset, in: data)
            throw FrontdeskError(.badRequest, code: "malformed_json",
                                 message: "The request body is not valid JSON: \(error.reason) at line \(location["line"]!), column \(location["column"]!).",
                                 details: location.merging(["reason": error.reason]) { $1 })
        }
        guard case .object(let object) = value else {
            throw FrontdeskError(.badRequest, code: "malformed_json", message: "The request body must be a JSON object, not \(value.typeName).")
        }
        return object
    }
}
