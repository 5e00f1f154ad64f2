/// Session identifiers: 32 bytes from the system CSPRNG (`getrandom` on Linux), base64url
/// without padding — 43 characters, safe in a cookie and a URL as they are.
enum SessionID {
    static let byteCount = 32
    static let length = 43

    /// The base64url character for a 6-bit value. Arithmetic rather than a lookup table, so the
    /// parallel snapshot encoders share no global array (and its reference count) per call.
    @inline(__always)
    static func character(_ v: UInt32) -> UInt8 {
        switch v {
        case 0..<26: UInt8(truncatingIfNeeded: v) &+ UInt8(ascii: "A")
        case 26..<52: UInt8(truncatingIfNeeded: v - 26) &+ UInt8(ascii: "a")
        case 52..<62: UInt8(truncatingIfNeeded: v - 52) &+ UInt8(ascii: "0")
        case 62: UInt8(ascii: "-")
        default: UInt8(ascii: "_")
        }
    }

    /// The 6-bit value of a base64url character, or 0xFF for anything else.
    @inline(__always)
    static func value(_ c: UInt8) -> UInt8 {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): c &- UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): c &- UInt8(ascii: "a") &+ 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c &- UInt8(ascii: "0") &+ 52
        case UInt8(ascii: "-"): 62
        case UInt8(ascii: "_"): 63
        default: 0xFF
        }
    }

    static func random() -> String {
        var rng = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: byteCount)
        for i in stride(from: 0, to: byteCount, by: 8) {
            var word = rng.next()
            for j in 0..<8 {
                bytes[i + j] = UInt8(truncatingIfNeeded: word)
                word >>= 8
            }
        }
        return bytes.withUnsafeBufferPointer { encode($0) }
    }

    /// Base64url without padding of exactly `byteCount` bytes.
    static func encode(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        precondition(bytes.count == byteCount)
        return String(unsafeUninitializedCapacity: length) { out in
            var o = 0, i = 0
            while i + 3 <= byteCount {
                let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
                out[o] = character(v >> 18 & 63); out[o + 1] = character(v >> 12 & 63)
                out[o + 2] = character(v >> 6 & 63); out[o + 3] = character(v & 63)
                o += 4; i += 3
            }
            // 32 = 10·3 + 2: two bytes left, three characters.
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out[o] = character(v >> 18 & 63); out[o + 1] = character(v >> 12 & 63); out[o + 2] = character(v >> 6 & 63)
            return o + 3
        }
    }

    /// The 32 bytes behind a canonical 43-character id, written to `out`; false for anything
    /// else (wrong length, foreign characters, non-zero padding bits), which snapshots then store
    /// as a plain string.
    static func decode(_ id: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) -> Bool {
        guard id.count == length else { return false }
        var o = 0, i = 0
        while i + 4 <= 40 {
            let a = value(id[i]), b = value(id[i + 1]), c = value(id[i + 2]), d = value(id[i + 3])
            if (a | b | c | d) & 0xC0 != 0 { return false }
            let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
            out[o] = UInt8(v >> 16 & 0xFF); out[o + 1] = UInt8(v >> 8 & 0xFF); out[o + 2] = UInt8(v & 0xFF)
            o += 3; i += 4
        }
        let a = value(id[40]), b = value(id[41]), c = value(id[42])
        if (a | b | c) & 0xC0 != 0 || c & 0x03 != 0 { return false }
        let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6
        out[o] = UInt8(v >> 16 & 0xFF); out[o + 1] = UInt8(v >> 8 & 0xFF)
        return true
    }
}
