import Foundation

/// The POSIX ustar format, enough for Frontdesk's backups: regular files with paths under 100
/// bytes. A backup is a plain `.tar.gz` a person can open with `tar xzf`.
enum Tar {
    static let blockSize = 512

    /// The 512-byte header of one regular file.
    static func header(name: String, size: Int, mtime: Date) -> Data {
        var block = [UInt8](repeating: 0, count: blockSize)
        func put(_ text: String, at offset: Int, length: Int) {
            for (i, byte) in text.utf8.prefix(length).enumerated() { block[offset + i] = byte }
        }
        func octal(_ value: Int, length: Int) -> String {
            let digits = String(value, radix: 8)
            return String(repeating: "0", count: max(0, length - 1 - digits.count)) + digits
        }
        put(name, at: 0, length: 100)
        put(octal(0o640, length: 8), at: 100, length: 7)
        put(octal(0, length: 8), at: 108, length: 7)
        put(octal(0, length: 8), at: 116, length: 7)
        put(octal(size, length: 12), at: 124, length: 11)
        put(octal(Int(mtime.timeIntervalSince1970), length: 12), at: 136, length: 11)
        put("        ", at: 148, length: 8)
        block[156] = UInt8(ascii: "0")
        put("ustar", at: 257, length: 6)
        put("00", at: 263, length: 2)
        let checksum = block.reduce(0) { $0 + Int($1) }
        put(octal(checksum, length: 7), at: 148, length: 6)
        block[154] = 0
        block[155] = UInt8(ascii: " ")
        return Data(block)
    }

    /// Zero bytes that pad a file's data to a whole block.
    static func padding(for size: Int) -> Data {
        let remainder = size % blockSize
        return remainder == 0 ? Data() : Data(count: blockSize - remainder)
    }

    /// Parses a header block; nil at the end-of-archive (zero) block.
    static func parse(_ block: Data) throws -> (name: String, size: Int)? {
        guard block.count == blockSize else { throw invalid("it ends in the middle of a file header") }
        if block.allSatisfy({ $0 == 0 }) { return nil }
        let bytes = [UInt8](block)
        let stored = Int(String(decoding: bytes[148..<156].prefix { $0 != 0 && $0 != 32 }, as: UTF8.self), radix: 8)
        var copy = bytes
        for i in 148..<156 { copy[i] = 32 }
        guard stored == copy.reduce(0, { $0 + Int($1) }) else { throw invalid("a file header's checksum does not match") }
        let name = String(decoding: bytes[0..<100].prefix { $0 != 0 }, as: UTF8.self)
        guard let size = Int(String(decoding: bytes[124..<136].prefix { $0 != 0 && $0 != 32 }, as: UTF8.self), radix: 8) else {
            throw invalid("a file size is unreadable")
        }
        return (name, size)
    }

    static func invalid(_ why: String) -> FrontdeskError {
        FrontdeskError(.badRequest, code: "invalid_backup", message: "This is not a usable Frontdesk backup: \(why).")
    }
}
