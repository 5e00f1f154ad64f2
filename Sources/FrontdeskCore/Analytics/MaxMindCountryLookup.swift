import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a MaxMind-format database could not be opened; the message names the file.
package enum MaxMindDatabaseError: Error, CustomStringConvertible, Equatable {
    case notFound(path: String)
    case unreadable(path: String, reason: String)
    case notMaxMind(path: String)
    case corrupt(path: String, reason: String)

    package var description: String {
        switch self {
        case .notFound(let path): "GeoIP database \(path) does not exist"
        case .unreadable(let path, let reason): "GeoIP database \(path) cannot be read: \(reason)"
        case .notMaxMind(let path): "GeoIP database \(path) is not a MaxMind DB file (no metadata marker; expected a .mmdb such as GeoLite2-Country or DB-IP Lite)"
        case .corrupt(let path, let reason): "GeoIP database \(path) is corrupt: \(reason)"
        }
    }
}

/// A value of the MaxMind DB data section (https://maxmind.github.io/MaxMind-DB/).
package indirect enum MaxMindValue: Sendable, Equatable {
    case string(String)
    case double(Double)
    case float(Float)
    case bytes([UInt8])
    case unsigned(UInt64)
    /// uint128: kept as its big-endian bytes, Frontdesk reads none.
    case unsigned128([UInt8])
    case int32(Int32)
    case map([String: MaxMindValue])
    case array([MaxMindValue])
    case bool(Bool)

    package subscript(key: String) -> MaxMindValue? {
        if case .map(let map) = self { return map[key] }
        return nil
    }

    package var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    package var unsignedValue: UInt64? { if case .unsigned(let u) = self { u } else { nil } }
}

/// The country (and first subdivision) of a client address from a local MaxMind-format
/// database (`tracking.geoip_db`: GeoLite2-Country/City, DB-IP Lite, or any `.mmdb` with
/// `country.iso_code`), read in pure Swift so the build needs no libmaxminddb.
///
/// The whole file is read into memory once (a country database is a few MiB) and never
/// written; lookups walk the binary search tree bit by bit and decode only the map path they
/// need, so they allocate little and are safe from any thread. A corrupt record answers nil
/// instead of trapping: bounds are checked at every read.
package struct MaxMindCountryLookup: CountryLookup {
    package struct Metadata: Sendable, Equatable {
        package var nodeCount: Int
        package var recordSize: Int
        package var ipVersion: Int
        package var databaseType: String
        package var buildEpoch: UInt64
        package var majorVersion: Int
    }

    /// Country and region codes of one address.
    package struct Location: Sendable, Equatable {
        package var country: String?
        package var region: String?
    }

    package let path: String
    package let metadata: Metadata
    private let bytes: [UInt8]
    private let treeSize: Int
    /// The node an IPv4 address starts from in an IPv6 tree (after 96 zero bits).
    private let ipv4Start: Int

    /// `\xAB\xCD\xEFMaxMind.com`, the marker the metadata map follows.
    private static let metadataMarker: [UInt8] = [0xAB, 0xCD, 0xEF] + Array("MaxMind.com".utf8)

    package init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw MaxMindDatabaseError.notFound(path: path) }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw MaxMindDatabaseError.unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        try self.init(bytes: [UInt8](data), path: path)
    }

    package init(bytes: [UInt8], path: String = "(memory)") throws {
        self.path = path
        self.bytes = bytes
        // The metadata is at most 128 KiB from the end; the last marker wins.
        let searchStart = max(0, bytes.count - 128 * 1024)
        guard let markerAt = Self.lastIndex(of: Self.metadataMarker, in: bytes, from: searchStart) else {
            throw MaxMindDatabaseError.notMaxMind(path: path)
        }
        let metadataStart = markerAt + Self.metadataMarker.count
        var decoder = Decoder(bytes: bytes, dataStart: metadataStart, limit: bytes.count)
        guard let value = decoder.decode(at: metadataStart)?.value, case .map(let map) = value else {
            throw MaxMindDatabaseError.corrupt(path: path, reason: "the metadata is not a map")
        }
        func unsigned(_ key: String) throws -> Int {
            guard let u = map[key]?.unsignedValue, u <= UInt64(Int32.max) else {
                throw MaxMindDatabaseError.corrupt(path: path, reason: "metadata \(key) is missing or out of range")
            }
            return Int(u)
        }
        let metadata = Metadata(
            nodeCount: try unsigned("node_count"), recordSize: try unsigned("record_size"), ipVersion: try unsigned("ip_version"),
            databaseType: map["database_type"]?.stringValue ?? "", buildEpoch: map["build_epoch"]?.unsignedValue ?? 0,
            majorVersion: try unsigned("binary_format_major_version"))
        guard metadata.majorVersion == 2 else {
            throw MaxMindDatabaseError.corrupt(path: path, reason: "binary format \(metadata.majorVersion) is not 2")
        }
        guard [24, 28, 32].contains(metadata.recordSize) else {
            throw MaxMindDatabaseError.corrupt(path: path, reason: "record size \(metadata.recordSize) is not 24, 28 or 32")
        }
        guard metadata.ipVersion == 4 || metadata.ipVersion == 6 else {
            throw MaxMindDatabaseError.corrupt(path: path, reason: "ip_version \(metadata.ipVersion) is not 4 or 6")
        }
        let treeSize = metadata.nodeCount * metadata.recordSize / 4
        guard metadata.nodeCount > 0, treeSize + 16 <= markerAt else {
            throw MaxMindDatabaseError.corrupt(path: path, reason: "the search tree (\(metadata.nodeCount) nodes) is larger than the file")
        }
        self.metadata = metadata
        self.treeSize = treeSize
        var node = 0
        if metadata.ipVersion == 6 {
            for _ in 0..<96 where node < metadata.nodeCount {
                node = Self.record(bytes, node: node, bit: 0, recordSize: metadata.recordSize)
            }
        }
        self.ipv4Start = node
    }

    package func country(forAddress address: String) -> String? {
        location(forAddress: address)?.country
    }

    /// Country (`country.iso_code`, else `registered_country.iso_code`) and first subdivision
    /// (`subdivisions[0].iso_code`) of an address; nil when the address is malformed or the
    /// database has no record for it.
    package func location(forAddress address: String) -> Location? {
        guard let offset = dataOffset(forAddress: address) else { return nil }
        var decoder = Decoder(bytes: bytes, dataStart: treeSize + 16, limit: bytes.count)
        let country = decoder.string(at: offset, path: ["country", "iso_code"])
            ?? decoder.string(at: offset, path: ["registered_country", "iso_code"])
        let region = decoder.string(at: offset, path: ["subdivisions", "0", "iso_code"])
        return Location(country: country, region: region)
    }

    /// The whole record of an address (for `frontdesk geoip lookup` and tests).
    package func record(forAddress address: String) -> MaxMindValue? {
        guard let offset = dataOffset(forAddress: address) else { return nil }
        var decoder = Decoder(bytes: bytes, dataStart: treeSize + 16, limit: bytes.count)
        return decoder.decode(at: offset)?.value
    }

    /// Offset of an address's record in the file, nil when not found.
    private func dataOffset(forAddress address: String) -> Int? {
        guard let (octets, isIPv4) = Self.parse(address) else { return nil }
        if isIPv4 == false && metadata.ipVersion == 4 { return nil }
        var node = isIPv4 && metadata.ipVersion == 6 ? ipv4Start : 0
        let bits = isIPv4 ? 32 : 128
                let nodeCount = metadata.nodeCount
        var depth = 0
        while depth < bits && node < nodeCount {
            let byte = octets[depth >> 3]
            let bit = Int(byte >> (7 - UInt8(depth & 7))) & 1
            node = Self.record(bytes, node: node, bit: bit, recordSize: metadata.recordSize)
            depth += 1
        }
        guard node > nodeCount else { return nil }  // == nodeCount: no data for this network
        let offset = (node - nodeCount - 16) + treeSize + 16
        return offset >= treeSize + 16 && offset < bytes.count ? offset : nil
    }

    /// Left (`bit` 0) or right record of a node.
    private static func record(_ b: [UInt8], node: Int, bit: Int, recordSize: Int) -> Int {
        let base = node * recordSize / 4
        switch recordSize {
        case 24:
            let o = base + bit * 3
            return Int(b[o]) << 16 | Int(b[o + 1]) << 8 | Int(b[o + 2])
        case 28:
            if bit == 0 {
                return (Int(b[base + 3]) & 0xF0) << 20 | Int(b[base]) << 16 | Int(b[base + 1]) << 8 | Int(b[base + 2])
            }
            return (Int(b[base + 3]) & 0x0F) << 24 | Int(b[base + 4]) << 16 | Int(b[base + 5]) << 8 | Int(b[base + 6])
        default:
            let o = base + bit * 4
            return Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3])
        }
    }

    /// The bytes of an address (4 for IPv4, 16 for IPv6) and whether it is IPv4 (dotted, or
    /// IPv4-mapped IPv6 `::ffff:a.b.c.d`, which is looked up as the IPv4 address).
    static func parse(_ address: String) -> ([UInt8], Bool)? {
        var text = address
        if text.hasPrefix("[") && text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if let zone = text.firstIndex(of: "%") { text = String(text[..<zone]) }
        if !text.contains(":") {
            var v4 = in_addr()
            guard text.withCString({ inet_pton(AF_INET, $0, &v4) }) == 1 else { return nil }
            return (withUnsafeBytes(of: &v4) { Array($0) }, true)
        }
        var v6 = in6_addr()
        guard text.withCString({ inet_pton(AF_INET6, $0, &v6) }) == 1 else { return nil }
        let octets = withUnsafeBytes(of: &v6) { Array($0) }
        if octets[0..<10].allSatisfy({ $0 == 0 }) && octets[10] == 0xff && octets[11] == 0xff {
            return (Array(octets[12...]), true)
        }
        return (octets, false)
    }

    private static func lastIndex(of needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var i = haystack.count - needle.count
        while i >= start {
            if haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i -= 1
        }
        return nil
    }

    /// Decodes data-section values; every read is bounds-checked and nesting is limited, so a
    /// corrupt file yields nil rather than a crash or an endless pointer loop.
    struct Decoder {
        let bytes: [UInt8]
        /// Where pointers count from.
        let dataStart: Int
        let limit: Int
        var depth = 0

        init(bytes: [UInt8], dataStart: Int, limit: Int) {
            self.bytes = bytes
            self.dataStart = dataStart
            self.limit = limit
        }

        /// Type and size from the control byte(s) at `offset`; returns the payload offset.
        private func control(at offset: Int) -> (type: Int, size: Int, payload: Int)? {
            guard offset < limit else { return nil }
            let ctrl = Int(bytes[offset])
            var type = ctrl >> 5
            var at = offset + 1
            if type == 1 { return (1, ctrl, at) }  // pointer: its size bits are decoded by `pointer`
            if type == 0 {
                guard at < limit else { return nil }
                type = 7 + Int(bytes[at])
                at += 1
            }
            var size = ctrl & 0x1F
            if size >= 29 {
                let extra = size - 28
                guard at + extra <= limit else { return nil }
                var n = 0
                for i in 0..<extra { n = n << 8 | Int(bytes[at + i]) }
                size = [29, 285, 65821][extra - 1] + n
                at += extra
            }
            return (type, size, at)
        }

        /// A pointer's target offset and the offset after the pointer.
        private func pointer(ctrl: Int, at: Int) -> (target: Int, next: Int)? {
            let ss = (ctrl >> 3) & 3
            let count = ss + 1
            guard at + count <= limit else { return nil }
            var n = ss == 3 ? 0 : ctrl & 7
            for i in 0..<count { n = n << 8 | Int(bytes[at + i]) }
            let bias = [0, 2048, 526_336, 0][ss]
            return (dataStart + n + bias, at + count)
        }

        private func unsigned(at: Int, size: Int) -> UInt64? {
            guard size <= 8, at + size <= limit else { return nil }
            var n: UInt64 = 0
            for i in 0..<size { n = n << 8 | UInt64(bytes[at + i]) }
            return n
        }

        /// The value at `offset` and the offset just after it (after the pointer, for a pointer).
        mutating func decode(at offset: Int) -> (value: MaxMindValue, next: Int)? {
            guard depth < 64, let (type, size, at) = control(at: offset) else { return nil }
            depth += 1
            defer { depth -= 1 }
            switch type {
            case 1:
                guard let (target, next) = pointer(ctrl: size, at: at), let value = decode(at: target)?.value else { return nil }
                return (value, next)
            case 2:
                guard at + size <= limit else { return nil }
                return (.string(String(decoding: bytes[at..<(at + size)], as: UTF8.self)), at + size)
            case 3:
                guard size == 8, let bits = unsigned(at: at, size: 8) else { return nil }
                return (.double(Double(bitPattern: bits)), at + 8)
            case 4:
                guard at + size <= limit else { return nil }
                return (.bytes(Array(bytes[at..<(at + size)])), at + size)
            case 5, 6, 9:
                guard size <= [5: 2, 6: 4, 9: 8][type]!, let n = unsigned(at: at, size: size) else { return nil }
                return (.unsigned(n), at + size)
            case 10:
                guard size <= 16, at + size <= limit else { return nil }
                return (.unsigned128(Array(bytes[at..<(at + size)])), at + size)
            case 8:
                guard size <= 4, let n = unsigned(at: at, size: size) else { return nil }
                // Sign-extend from `size` bytes.
                let shift = UInt64(64 - 8 * max(size, 1))
                let value = size == 0 ? 0 : Int64(bitPattern: n << shift) >> shift
                return (.int32(Int32(truncatingIfNeeded: value)), at + size)
            case 7:
                var map: [String: MaxMindValue] = [:]
                var next = at
                for _ in 0..<size {
                    guard let (key, afterKey) = decode(at: next), case .string(let k) = key,
                          let (value, afterValue) = decode(at: afterKey) else { return nil }
                    map[k] = value
                    next = afterValue
                }
                return (.map(map), next)
            case 11:
                var array: [MaxMindValue] = []
                var next = at
                for _ in 0..<size {
                    guard let (value, after) = decode(at: next) else { return nil }
                    array.append(value)
                    next = after
                }
                return (.array(array), next)
            case 14:
                return (.bool(size != 0), at)
            case 15:
                guard size == 4, let bits = unsigned(at: at, size: 4) else { return nil }
                return (.float(Float(bitPattern: UInt32(bits))), at + 4)
            default:
                return nil  // 12 (data cache container), 13 (end marker) never appear in records
            }
        }

        /// Offset just after the value at `offset`, without building it.
        mutating func skip(at offset: Int) -> Int? {
            guard depth < 64, let (type, size, at) = control(at: offset) else { return nil }
            depth += 1
            defer { depth -= 1 }
            switch type {
            case 1: return pointer(ctrl: size, at: at)?.next
            case 7, 11:
                var next = at
                for _ in 0..<(type == 7 ? size * 2 : size) {
                    guard let after = skip(at: next) else { return nil }
                    next = after
                }
                return next
            case 14: return at
            default:
                let end = at + size
                return end <= limit ? end : nil
            }
        }

        /// Follows pointers: the offset of the value itself and its control.
        private mutating func resolve(_ offset: Int) -> (type: Int, size: Int, payload: Int)? {
            guard let c = control(at: offset) else { return nil }
            if c.type == 1 {
                guard let (target, _) = pointer(ctrl: c.size, at: c.payload), let resolved = control(at: target), resolved.type != 1 else { return nil }
                return resolved
            }
            return c
        }

        /// The string at `path` (map keys, or array indexes as decimal strings) under the value
        /// at `offset`, decoding nothing else.
        mutating func string(at offset: Int, path: [String]) -> String? {
            var current = offset
            for key in path {
                guard let (type, size, payload) = resolve(current) else { return nil }
                var next = payload
                var found: Int?
                if type == 7 {
                    for _ in 0..<size {
                        guard let (k, afterKey) = decode(at: next), case .string(let name) = k else { return nil }
                        if name == key { found = afterKey; break }
                        guard let afterValue = skip(at: afterKey) else { return nil }
                        next = afterValue
                    }
                } else if type == 11, let index = Int(key), index >= 0, index < size {
                    for _ in 0..<index {
                        guard let after = skip(at: next) else { return nil }
                        next = after
                    }
                    found = next
                } else {
                    return nil
                }
                guard let found else { return nil }
                current = found
            }
            return decode(at: current)?.value.stringValue
        }
    }
}
