// StateBench: throughput, latency, hit ratio and snapshot figures for FrontdeskState, printed as a
// table beside the Redis figures that Benchmarks/state.sh measured in the same run (passed in the
// environment as REDIS_GET_RPS, REDIS_SET_RPS, REDIS_GET_P16_RPS, REDIS_SET_P16_RPS and the
// matching *_P50_MS).
import Dispatch
import Foundation
import FrontdeskState
#if canImport(Glibc)
import Glibc
#endif

// MARK: Harness

/// Monotonic nanoseconds; read directly because every op of the latency pass reads it twice.
@inline(__always)
func nanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// CPU time of the process (all threads), to tell our own cost from time lost to other processes on a busy machine.
func processCPUNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Wall and CPU seconds of `body`.
func measure<T>(_ body: () throws -> T) rethrows -> (T, Double, Double) {
    let wall = nanos(), cpu = processCPUNanos()
    let result = try body()
    return (result, Double(nanos() - wall) / 1e9, Double(processCPUNanos() - cpu) / 1e9)
}

/// A reproducible generator, so every run replays the same key sequences.
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Results the optimizer must not see as unused.
final class Sink: @unchecked Sendable {
    var values = [Int](repeating: 0, count: 64 * 8)  // one cache line per thread
}

let environment = ProcessInfo.processInfo.environment
let quick = CommandLine.arguments.contains("--quick")
/// `--only cache|zipf|snapshot` runs one section (for profiling).
let only: String? = CommandLine.arguments.firstIndex(of: "--only").flatMap {
    $0 + 1 < CommandLine.arguments.count ? CommandLine.arguments[$0 + 1] : nil
}
func runs(_ section: String) -> Bool { only == nil || only == section }
let opsPerThread = quick ? 1_000_000 : 10_000_000
let latencySamples = quick ? 200_000 : 2_000_000
let keyCount = 100_000
let keys = (0..<keyCount).map { String(format: "key:%06d", $0) }  // 10 bytes: inline small strings
let value = "xxx"  // redis-benchmark's default 3-byte payload

/// Per-thread random key sequences (1 Mi keys each, so threads do not walk in lockstep), laid out
/// in order so that fetching the next key costs the harness no cache miss of its own.
func keyOrder(seed: UInt64) -> [String] {
    var rng = SplitMix(state: seed)
    return (0..<(1 << 20)).map { _ in keys[Int(rng.next() % UInt64(keyCount))] }
}

enum Op { case get, set }

struct Throughput {
    let opsPerSecond: Double
}

/// Runs `ops` operations on each of `threads` threads at once and returns the aggregate rate.
func throughput(_ cache: ShardedCache<String>, _ op: Op, threads: Int, orders: [[String]], sink: Sink) -> Double {
    let start = nanos()
    DispatchQueue.concurrentPerform(iterations: threads) { t in
        orders[t].withUnsafeBufferPointer { order in
            var acc = 0
            let mask = order.count - 1
            switch op {
            case .get:
                for i in 0..<opsPerThread {
                    if let v = cache.get(order[i & mask]) { acc &+= v.utf8.count }
                }
            case .set:
                for i in 0..<opsPerThread {
                    cache.set(order[i & mask], value)
                    acc &+= 1
                }
            }
            sink.values[t * 8] = acc
        }
    }
    let seconds = Double(nanos() - start) / 1e9
    return Double(opsPerThread * threads) / seconds
}

/// Times every operation; returns (p50, p99) in nanoseconds over all threads' samples.
func latency(_ cache: ShardedCache<String>, _ op: Op, threads: Int, orders: [[String]], sink: Sink) -> (Double, Double) {
    final class Samples: @unchecked Sendable {  // each thread writes only its own slot
        var perThread: [[UInt32]]
        init(_ n: Int) { perThread = Array(repeating: [], count: n) }
    }
    let samples = Samples(threads)
    DispatchQueue.concurrentPerform(iterations: threads) { t in
        var mine = [UInt32](repeating: 0, count: latencySamples)
        var acc = 0
        let order = orders[t]
        let mask = order.count - 1
        for i in 0..<latencySamples {
            let key = order[i & mask]
            let start = nanos()
            switch op {
            case .get: if let v = cache.get(key) { acc &+= v.utf8.count }
            case .set: cache.set(key, value)
            }
            mine[i] = UInt32(min(nanos() - start, UInt64(UInt32.max)))
        }
        sink.values[t * 8] = acc
        samples.perThread[t] = mine
    }
    let all = samples.perThread.flatMap { $0 }.sorted()
    return (Double(all[all.count / 2]), Double(all[all.count * 99 / 100]))
}

/// What reading the clock twice costs; included in every latency figure.
func timerOverhead() -> Double {
    var samples = [UInt64](repeating: 0, count: 100_000)
    for i in samples.indices {
        let a = nanos()
        samples[i] = nanos() - a
    }
    samples.sort()
    return Double(samples[samples.count / 2])
}

// MARK: Zipf

/// Samples ranks 0..<n with P(rank k) ∝ 1/(k+1)^s by binary search over the cumulative weights.
struct Zipf {
    let cdf: [Double]
    init(n: Int, s: Double) {
        var cdf = [Double](repeating: 0, count: n)
        var sum = 0.0
        for k in 0..<n {
            sum += 1 / pow(Double(k + 1), s)
            cdf[k] = sum
        }
        self.cdf = cdf.map { $0 / sum }
    }

    func sample(_ u: Double) -> Int {
        var lo = 0, hi = cdf.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cdf[mid] < u { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

/// Hit ratio of a read-through cache (get, then set on a miss) of `capacity` entries over a Zipf
/// trace; the first `warmup` requests fill the cache and are not counted.
func zipfHitRatio(capacity: Int, trace: [Int32], warmup: Int, keys: [String]) -> Double {
    let cache = ShardedCache<UInt8>(shards: 16, maxEntries: capacity, maxBytes: Int.max / 2)
    var hits = 0
    for (i, rank) in trace.enumerated() {
        let key = keys[Int(rank)]
        if cache.get(key) != nil {
            if i >= warmup { hits += 1 }
        } else {
            cache.set(key, 1)
        }
    }
    return Double(hits) / Double(trace.count - warmup)
}

// MARK: Output

func rate(_ r: Double) -> String {
    r >= 1e6 ? String(format: "%.2f M/s", r / 1e6) : String(format: "%.0f k/s", r / 1e3)
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }

func row(_ cells: [String], _ widths: [Int]) {
    print(zip(cells, widths).map { pad($0, $1) }.joined(separator: "  "))
}

// MARK: Run

print("StateBench — FrontdeskState in process (\(ProcessInfo.processInfo.activeProcessorCount) CPUs, \(quick ? "quick" : "full") run)")
print("")

let sink = Sink()
let cache = ShardedCache<String>(shards: 16, maxEntries: 200_000, maxBytes: 1 << 40)
for key in keys { cache.set(key, value) }
let orders = (0..<2).map { keyOrder(seed: UInt64($0) + 1) }
let overhead = timerOverhead()

var results: [String: Double] = [:]
if runs("cache") {
if let only = environment["STATEBENCH_PROFILE_GET"] {  // perf record target: GET only
    let threads = Int(only) ?? 1
    print(rate(throughput(cache, .get, threads: threads, orders: orders, sink: sink)))
    exit(0)
}
let widths = [22, 12, 12, 12]
print("Cache, \(keyCount / 1000)k keys, 3-byte values, 16 shards (latency includes \(Int(overhead)) ns of clock reads)")
row(["operation", "throughput", "p50", "p99"], widths)
for threads in [1, 2] {
    for op in [Op.get, .set] {
        _ = throughput(cache, op, threads: threads, orders: orders, sink: sink)  // warm up
        let r = throughput(cache, op, threads: threads, orders: orders, sink: sink)
        let (p50, p99) = latency(cache, op, threads: threads, orders: orders, sink: sink)
        let name = "\(op == .get ? "GET" : "SET") \(threads) thread\(threads == 1 ? "" : "s")"
        results[name] = r
        row([name, rate(r), String(format: "%.0f ns", p50), String(format: "%.0f ns", p99)], widths)
    }
}
// redis-benchmark without -r reads one key over and over ("key:__rand_int__"); this row does the
// same, so the two figures differ only in the transport, not in cache misses.
let hotOrders = (0..<2).map { _ in [String](repeating: keys[0], count: 1 << 20) }
_ = throughput(cache, .get, threads: 1, orders: hotOrders, sink: sink)
let hot = throughput(cache, .get, threads: 1, orders: hotOrders, sink: sink)
let (hotP50, hotP99) = latency(cache, .get, threads: 1, orders: hotOrders, sink: sink)
results["GET 1 thread, one key"] = hot
row(["GET 1 thread, one key", rate(hot), String(format: "%.0f ns", hotP50), String(format: "%.0f ns", hotP99)], widths)
print("")
}

if runs("zipf") {
print("Hit ratio, Zipf(0.99) over 1M keys (read-through: get, set on miss)")
let zipfKeys = (0..<1_000_000).map { "z:\($0)" }
let zipf = Zipf(n: zipfKeys.count, s: 0.99)
var rng = SplitMix(state: 99)
let traceLength = quick ? 2_000_000 : 6_000_000
let warmup = traceLength / 6
let trace = (0..<traceLength).map { _ in Int32(zipf.sample(Double(rng.next() >> 11) / Double(1 << 53))) }
row(["cache size", "hit ratio"], [22, 12])
for fraction in [0.01, 0.10] {
    let ratio = zipfHitRatio(capacity: Int(Double(zipfKeys.count) * fraction), trace: trace, warmup: warmup, keys: zipfKeys)
    row([String(format: "%.0f%% (%dk entries)", fraction * 100, Int(Double(zipfKeys.count) * fraction) / 1000),
         String(format: "%.1f %%", ratio * 100)], [22, 12])
}
print("")
}

if runs("snapshot") {
let sessionCount = quick ? 200_000 : 1_000_000
print("Session snapshot, \(sessionCount / 1000)k sessions (10k users, a 43-character CSRF token each)")
let directory = environment["STATEBENCH_DIR"] ?? NSTemporaryDirectory()
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
let path = directory + "/statebench-sessions.snapshot"
let store = SessionStore(idleTimeout: .seconds(1800), absoluteLifetime: .seconds(43_200))
var userRNG = SplitMix(state: 5)
for _ in 0..<sessionCount {
    // A CSRF token shaped like the lead's: 32 random bytes, base64url (an id serves).
    let csrf = store.create(userId: "token-source").id
    _ = store.create(userId: "user-\(userRNG.next() % 10_000)", data: ["csrf": csrf])
}
store.destroyAll(forUser: "token-source")
let (all, collectSeconds, collectCPU) = measure { store.allSessions() }
let (bytes, writeSeconds, writeCPU) = try measure { try SessionSnapshot.write(all, to: path) }
let (read, readSeconds, readCPU) = try measure { try SessionSnapshot.read(from: path) }
let restored = SessionStore(idleTimeout: .seconds(1800), absoluteLifetime: .seconds(43_200))
let (_, restoreSeconds, restoreCPU) = measure { restored.restore(read) }
precondition(read.count == all.count && restored.count == all.count, "snapshot lost sessions")
try? FileManager.default.removeItem(atPath: path)
let sw = [40, 10, 10]
row(["step", "wall s", "CPU s"], sw)
row(["allSessions() (copy out)", String(format: "%.3f", collectSeconds), String(format: "%.3f", collectCPU)], sw)
row(["write (encode, zlib 1, fsync, rename)", String(format: "%.3f", writeSeconds), String(format: "%.3f", writeCPU)], sw)
row(["read (verify, inflate, decode)", String(format: "%.3f", readSeconds), String(format: "%.3f", readCPU)], sw)
row(["restore() into a store", String(format: "%.3f", restoreSeconds), String(format: "%.3f", restoreCPU)], sw)
print(String(format: "file: %.1f MB, %.1f bytes/session; write total %.3f s (goal ≤ 1), read + restore %.3f s (goal ≤ 1)",
             Double(bytes) / 1e6, Double(bytes) / Double(all.count), collectSeconds + writeSeconds,
             readSeconds + restoreSeconds))
print("")
}

// MARK: Ratios against Redis

func env(_ name: String) -> Double? { environment[name].flatMap(Double.init) }
if let redisGet = env("REDIS_GET_RPS"), let redisGetP16 = env("REDIS_GET_P16_RPS") {
    print("Against redis-server on loopback (redis-benchmark, 50 clients, same run)")
    let w = [26, 14, 14, 14]
    row(["", "Redis", "in-process 1T", "in-process 2T"], w)
    let get1 = results["GET 1 thread", default: 0], get2 = results["GET 2 threads", default: 0]
    let set1 = results["SET 1 thread", default: 0], set2 = results["SET 2 threads", default: 0]
    row(["GET ops/s, unpipelined", rate(redisGet), rate(get1), rate(get2)], w)
    row(["GET ops/s, -P 16", rate(redisGetP16), rate(get1), rate(get2)], w)
    if let redisSet = env("REDIS_SET_RPS"), let redisSetP16 = env("REDIS_SET_P16_RPS") {
        row(["SET ops/s, unpipelined", rate(redisSet), rate(set1), rate(set2)], w)
        row(["SET ops/s, -P 16", rate(redisSetP16), rate(set1), rate(set2)], w)
    }
    if let p50 = env("REDIS_GET_P50_MS") {
        row(["GET p50, unpipelined", String(format: "%.0f ns", p50 * 1e6), "", ""], w)
    }
    if let hot = results["GET 1 thread, one key"] {
        row(["GET ops/s, one key", "", rate(hot), ""], w)
    }
    print("")
    let best = max(get1, get2)
    let unpipelined = best / redisGet, pipelined = best / redisGetP16
    print(String(format: "RATIO GET in-process ÷ Redis unpipelined: %.0f× (1 thread %.0f×, 2 threads %.0f×) — goal ≥ 100× ",
                 unpipelined, get1 / redisGet, get2 / redisGet) + (unpipelined >= 100 ? "MET" : "NOT MET"))
    print(String(format: "RATIO GET in-process ÷ Redis -P 16:       %.1f× (1 thread %.1f×, 2 threads %.1f×) — goal ≥ 5× ",
                 pipelined, get1 / redisGetP16, get2 / redisGetP16) + (pipelined >= 5 ? "MET" : "NOT MET"))
    if let hot = results["GET 1 thread, one key"] {
        print(String(format: "(one key, as redis-benchmark reads it: %.0f× unpipelined, %.1f× -P 16; the goals are judged on the 100k-key figures above)",
                     hot / redisGet, hot / redisGetP16))
    }
} else {
    print("(no Redis figures in the environment; run Benchmarks/state.sh for the ratios)")
}
_ = sink.values.reduce(0, &+)
