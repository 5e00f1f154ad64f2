import Foundation

/// A growable byte buffer for the snapshot encoder: raw memory and unchecked appends, because the
/// encoder writes about a hundred million bytes for a million sessions and `Array.append` per byte
/// would dominate.
final class ByteWriter {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(64, capacity)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    @inline(__always)
    func reserve(_ n: Int) {
        if count + n > capacity { grow(count + n) }
    }

    private func grow(_ needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        bigger.update(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity = newCapacity
    }

    @inline(__always)
    func byte(_ b: UInt8) {
        reserve(1)
        base[count] = b
        count += 1
    }

    /// LEB128: 7 bits a byte, low group first.
    @inline(__always)
    func varint(_ value: UInt64) {
        reserve(10)
        var v = value
        while v >= 0x80 {
            base[count] = UInt8(truncatingIfNeeded: v) | 0x80
            count += 1
            v >>= 7
        }
        base[count] = UInt8(v)
        count += 1
    }

    /// Zigzag then LEB128, so small negative numbers stay short too.
    @inline(__always)
    func signedVarint(_ value: Int64) {
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    func raw(_ bytes: UnsafeBufferPointer<UInt8>) {
        reserve(bytes.count)
        if let start = bytes.baseAddress { (base + count).update(from: start, count: bytes.count) }
        count += bytes.count
    }

    /// Appends the 32 bytes behind `utf8` if it is a canonical 43-character base64url token
    /// (session ids, CSRF tokens); false, appending nothing, for anything else.
    func token(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        guard utf8.count == SessionID.length else { return false }
        reserve(SessionID.byteCount)
        guard SessionID.decode(utf8, into: base + count) else { return false }
        count += SessionID.byteCount
        return true
    }

    /// A length-prefixed UTF-8 string.
    func string(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            varint(UInt64(utf8.count))
            raw(utf8)
        }
    }

    func littleEndian<T: FixedWidthInteger>(_ value: T) {
        reserve(MemoryLayout<T>.size)
        var v = value.littleEndian
        withUnsafeBytes(of: &v) { (base + count).update(from: $0.bindMemory(to: UInt8.self).baseAddress!, count: $0.count) }
        count += MemoryLayout<T>.size
    }
}

/// A bounds-checked reader over decoded snapshot bytes; running past the end or a malformed number
/// is a `SnapshotError`, never a trap.
struct ByteReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var offset = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    var isAtEnd: Bool { offset == bytes.count }

    @inline(__always)
    mutating func byte() throws(SnapshotError) -> UInt8 {
        guard offset < bytes.count else { throw .malformedPayload }
        defer { offset += 1 }
        return bytes[offset]
    }

    @inline(__always)
    mutating func varint() throws(SnapshotError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count, shift < 64 else { throw .malformedPayload }
            let b = bytes[offset]
            offset += 1
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    @inline(__always)
    mutating func signedVarint() throws(SnapshotError) -> Int64 {
        let v = try varint()
        return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
    }

    /// `n` bytes in place.
    @inline(__always)
    mutating func slice(_ n: Int) throws(SnapshotError) -> UnsafeBufferPointer<UInt8> {
        guard n >= 0, n <= bytes.count - offset else { throw .malformedPayload }
        defer { offset += n }
        return UnsafeBufferPointer(rebasing: bytes[offset..<offset + n])
    }

    mutating func string() throws(SnapshotError) -> String {
        let length = try varint()
        guard length <= UInt64(bytes.count - offset) else { throw .malformedPayload }
        return String(decoding: try slice(Int(length)), as: UTF8.self)
    }

    mutating func littleEndian<T: FixedWidthInteger>(_: T.Type) throws(SnapshotError) -> T {
        let raw = try slice(MemoryLayout<T>.size)
        var v: T = 0
        withUnsafeMutableBytes(of: &v) { $0.copyMemory(from: UnsafeRawBufferPointer(raw)) }
        return T(littleEndian: v)
    }
}
