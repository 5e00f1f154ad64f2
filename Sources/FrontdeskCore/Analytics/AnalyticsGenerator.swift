import Foundation

/// Realistic synthetic traffic for `frontdesk analytics generate` and the benchmark: visits in
/// time order over the chosen months, page paths drawn from a Zipf distribution (s = 1) over
/// `paths` paths, `visitors` distinct visitors of whom `returningShare` come back on later
/// visits, and a mix of sources, UTM campaigns, countries, devices, browsers, engagement
/// reports and custom events. Seeded, so two runs make the same data.
package struct AnalyticsGenerator {
    package struct Options: Sendable {
        package var events: Int
        package var months: Int
        package var paths = 50_000
        package var visitors = 1_000_000
        package var returningShare = 0.3
        package var seed: UInt64 = 2026
        package var end: Date

        package init(events: Int, months: Int, end: Date) {
            self.events = events
            self.months = months
            self.end = end
        }
    }

    private var rng: SplitMix64
    private let options: Options
    private let zipf: [Double]
    private var visitorsMade = 0
    private var seenVisitors: [Int64] = []

    package init(_ options: Options) {
        self.options = options
        rng = SplitMix64(seed: options.seed)
        var cumulative: [Double] = []
        cumulative.reserveCapacity(options.paths)
        var sum = 0.0
        for k in 1...max(1, options.paths) {
            sum += 1.0 / Double(k)
            cumulative.append(sum)
        }
        zipf = cumulative.map { $0 / sum }
    }

    private mutating func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }

    private mutating func pick<T>(_ weighted: [(T, Double)]) -> T {
        var x = uniform() * weighted.reduce(0) { $0 + $1.1 }
        for (value, weight) in weighted {
            x -= weight
            if x <= 0 { return value }
        }
        return weighted[weighted.count - 1].0
    }

    private mutating func path() -> String {
        let x = uniform()
        var low = 0, high = zipf.count - 1
        while low < high {
            let mid = (low + high) / 2
            if zipf[mid] < x { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? "/" : "/section-\(low % 97)/page-\(low)"
    }

    private mutating func visitor() -> Int64 {
        if !seenVisitors.isEmpty, uniform() < options.returningShare || visitorsMade >= options.visitors {
            return seenVisitors[Int(rng.next() % UInt64(seenVisitors.count))]
        }
        visitorsMade += 1
        var mixer = SplitMix64(seed: UInt64(visitorsMade) &* 0x9E37_79B9)
        let id = Int64(bitPattern: mixer.next())
        if seenVisitors.count < 2_000_000 { seenVisitors.append(id) }
        return id
    }

    static let sources: [((String, String?, String?), Double)] = [
        (("Direct", nil, nil), 40), (("google.com", "www.google.com/", nil), 28), (("bing.com", "www.bing.com/search", nil), 4),
        (("duckduckgo.com", "duckduckgo.com/", nil), 4), (("news.ycombinator.com", "news.ycombinator.com/item", nil), 5),
        (("twitter.com", "t.co/", nil), 4), (("reddit.com", "www.reddit.com/r/selfhosted", nil), 4), (("newsletter", nil, "spring-sale"), 6),
        (("github.com", "github.com/", nil), 5),
    ]
    static let countries: [(String?, Double)] = [("US", 25), ("DE", 12), ("GB", 8), ("FR", 7), ("IN", 7), ("CA", 4), ("NL", 4), ("BR", 4),
                                                  ("JP", 3), ("ES", 3), ("IT", 3), ("PL", 3), ("SE", 2), ("AU", 2), (nil, 13)]
    static let devices: [((String, String, String), Double)] = [
        (("desktop", "Chrome 126", "Windows"), 30), (("desktop", "Firefox 127", "Linux"), 8), (("desktop", "Safari 17", "macOS"), 12),
        (("desktop", "Edge 126", "Windows"), 5), (("mobile", "Chrome 126", "Android"), 22), (("mobile", "Safari 17", "iOS"), 18),
        (("tablet", "Safari 17", "iOS"), 5),
    ]

    /// Calls `emit` with hits in batches (each visit's hits in order; visits in time order).
    package mutating func generate(_ emit: ([AnalyticsHit]) async throws -> Void) async throws {
        let end = Int64(options.end.timeIntervalSince1970)
        let start = end - Int64(options.months) * 30 * 86_400
        // About 4 events per visit (page views, engagement, some events).
        let visits = max(1, options.events / 4)
        let step = Double(end - start) / Double(visits)
        var made = 0
        var batch: [AnalyticsHit] = []
        batch.reserveCapacity(1000)
        var visitIndex = 0
        while made < options.events {
            let t0 = start + Int64(Double(visitIndex) * step)
            visitIndex += 1
            let who = visitor()
            let (source, referrer, campaign) = pick(Self.sources)
            let country = pick(Self.countries)
            let (device, browser, os) = pick(Self.devices)
            var t = t0
            let pages = 1 + Int(-log(max(uniform(), 1e-9)) * 1.6)
            for index in 0..<min(pages, 12) where made < options.events {
                let page = path()
                let event = IngestEvent(kind: .pageview, path: page, host: "www.example.com", utmSource: campaign == nil ? nil : "newsletter",
                                        utmMedium: campaign == nil ? nil : "email", utmCampaign: campaign, referrer: nil, name: nil, props: nil,
                                        engagedMs: nil, scrollDepth: nil, screen: nil, visitor: nil)
                batch.append(AnalyticsHit(time: t, visitor: who, event: event, source: source, referrer: index == 0 ? referrer : nil, country: country,
                                          device: device, browser: browser, os: os))
                made += 1
                let engaged = Int(uniform() * 90_000)
                if uniform() < 0.6, made < options.events {
                    var report = event
                    report.kind = .engagement
                    report.engagedMs = engaged
                    report.scrollDepth = Int(uniform() * 100)
                    batch.append(AnalyticsHit(time: t + Int64(engaged / 1000), visitor: who, event: report, source: source, referrer: nil,
                                              country: country, device: device, browser: browser, os: os))
                    made += 1
                }
                if uniform() < 0.08, made < options.events {
                    var custom = event
                    custom.kind = .event
                    custom.name = ["signup", "download", "outbound", "add_to_cart"][Int(rng.next() % 4)]
                    custom.props = #"{"plan":"\#(["free", "pro", "team"][Int(rng.next() % 3)])"}"#
                    batch.append(AnalyticsHit(time: t + 5, visitor: who, event: custom, source: source, referrer: nil, country: country,
                                              device: device, browser: browser, os: os))
                    made += 1
                }
                t += Int64(10 + uniform() * 120)
            }
            if batch.count >= 1000 {
                try await emit(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { try await emit(batch) }
    }
}

/// SplitMix64: a small seeded generator.
package struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    package init(seed: UInt64) { state = seed }
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
