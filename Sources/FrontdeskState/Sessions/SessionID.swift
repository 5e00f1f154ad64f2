/// Session identifiers: 32 bytes from the system CSPRNG (`getrandom` on Linux), base64url
/// without padding — 43 characters, safe in a cookie and a URL as they are.
enum SessionID {
    static let byteCount = 32
    static let length = 43

    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// The reverse of `alphabet`; 0xFF for bytes outside it.
    static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

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
            alphabet.withUnsafeBufferPointer { a in
                while i + 3 <= byteCount {
                    let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
                    out[o] = a[Int(v >> 18 & 63)]; out[o + 1] = a[Int(v >> 12 & 63)]
                    out[o + 2] = a[Int(v >> 6 & 63)]; out[o + 3] = a[Int(v & 63)]
                    o += 4; i += 3
                }
                // 32 = 10·3 + 2: two bytes left, three characters.
                let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
                out[o] = a[Int(v >> 18 & 63)]; out[o + 1] = a[Int(v >> 12 & 63)]; out[o + 2] = a[Int(v >> 6 & 63)]
                o += 3
            }
            return o
        }
    }

    /// The 32 bytes behind a canonical 43-character id, written to `out`; false for anything
    /// else (wrong length, foreign characters, non-zero padding bits), which snapshots then store
    /// as a plain string.
    static func decode(_ id: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) -> Bool {
        guard id.count == length else { return false }
        return decodeTable.withUnsafeBufferPointer { t -> Bool in
            var o = 0, i = 0
            while i + 4 <= 40 {
                let a = t[Int(id[i])], b = t[Int(id[i + 1])], c = t[Int(id[i + 2])], d = t[Int(id[i + 3])]
                if (a | b | c | d) & 0xC0 != 0 { return false }
                let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                out[o] = UInt8(v >> 16 & 0xFF); out[o + 1] = UInt8(v >> 8 & 0xFF); out[o + 2] = UInt8(v & 0xFF)
                o += 3; i += 4
            }
            let a = t[Int(id[40])], b = t[Int(id[41])], c = t[Int(id[42])]
            if (a | b | c) & 0xC0 != 0 || c & 0x03 != 0 { return false }
            let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6
            out[o] = UInt8(v >> 16 & 0xFF); out[o + 1] = UInt8(v >> 8 & 0xFF)
            return true
        }
    }
}
