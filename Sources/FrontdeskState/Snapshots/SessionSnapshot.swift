import CZlib
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a snapshot file could not be used. Every kind of damage — a short file, a flipped bit, a
/// file that is not a snapshot at all — ends here rather than in a crash or in wrong sessions.
public enum SnapshotError: Error, Equatable {
    /// The file ends before its header or its payload does.
    case truncated
    /// A checksum (of the header, the stored bytes or the decompressed payload) does not match,
    /// or the file has bytes after its payload.
    case checksumMismatch
    /// Written by a newer (or unknown) format version.
    case unsupportedVersion(Int)
    /// The file does not start with the `FDSS` magic.
    case notASnapshot
    /// zlib rejected the compressed payload, or it inflated to a different length.
    case decompressionFailed
    /// The payload passed its checksum but does not decode (only a bug or a forged file does this).
    case malformedPayload
}

#if canImport(Glibc)
private let systemWrite = Glibc.write
private let systemRead = Glibc.read
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
private let systemRead = Darwin.read
#endif

/// Constants of the snapshot file format (see `SessionSnapshot`).
public enum SnapshotFormat {
    public static let magic: [UInt8] = Array("FDSS".utf8)
    public static let version = 1
    static let headerSize = 32
    static let directoryEntrySize = 24
    /// Flag bit 0: each chunk's structured part is a zlib stream.
    static let compressedFlag: UInt16 = 1
    /// Sessions per chunk: big enough that per-chunk overhead vanishes, small enough that a
    /// million sessions make sixteen chunks for the cores to share.
    static let chunkSize = 65_536
    /// A raw random block: a session id or token, 32 bytes behind its 43 base64url characters.
    static let tokenSize = SessionID.byteCount
}

/// Crash-safe binary snapshots of sessions.
///
/// Sessions are mostly random bytes (the id, usually a CSRF token), which no compressor shrinks
/// and which zlib is slowest on; the rest (user ids, data keys, times) compresses very well. So
/// the payload is split in two: random 32-byte tokens go into a *raw* part stored as they are, and
/// everything else into a *structured* part compressed with zlib level 1. Sessions are cut into
/// chunks of 65,536 that are encoded, compressed, checked and decoded in parallel.
///
/// File layout (integers little-endian):
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 4 | magic `FDSS` |
/// | 4 | 2 | format version (1) |
/// | 6 | 2 | flags (bit 0: structured parts are zlib streams; always set) |
/// | 8 | 8 | session count |
/// | 16 | 4 | chunk count |
/// | 20 | 4 | CRC32 of the uncompressed payload: every chunk's structured then raw part, in order |
/// | 24 | 4 | CRC32 of everything after the header, as stored |
/// | 28 | 4 | CRC32 of bytes 0..<28 |
/// | 32 | 24 × chunks | directory: per chunk its session count, structured length, compressed length, raw length, CRC32 of structured, CRC32 of raw (u32 each) |
/// | … | … | per chunk: the zlib stream of its structured part, then its raw part |
///
/// The CRC over the stored bytes is there because inflate ignores a few bits (the padding after
/// the last block): without it a flipped padding bit would read back fine, and "every flipped bit
/// is reported" is simpler to promise than "every flipped bit that matters".
///
/// A chunk's structured part: a string table (LEB128 count, then strings) holding its user ids
/// and data keys, then per session: a flags byte (bit 0: the id is a canonical 43-character
/// base64url id, its 32 bytes taken from the raw part; otherwise a string follows), the user id's
/// table index, `createdAt` as zigzag-LEB128 milliseconds since 1970, then `lastAccessedAt −
/// createdAt`, `expiresAt − lastAccessedAt`, `absoluteExpiresAt − createdAt` (zigzag LEB128), the
/// number of data pairs, and per pair the key's table index and the value: LEB128 `1` for a
/// canonical 32-byte token taken from the raw part, or `length << 1` and the UTF-8 bytes. Strings
/// in the table are a LEB128 byte count and UTF-8.
///
/// A snapshot is written to `<path>.tmp`, fsynced, renamed over `path`, and the directory is
/// fsynced: after a crash `path` holds either the previous snapshot or the new one, whole. Only
/// one writer per path at a time (the snapshot service).
public enum SessionSnapshot {
    /// Writes `sessions` atomically and durably to `path`; returns the file's size in bytes.
    /// Throws `POSIXError` when the file system refuses.
    @discardableResult
    public static func write(_ sessions: [Session], to path: String) throws -> Int {
        let chunkCount = (sessions.count + SnapshotFormat.chunkSize - 1) / SnapshotFormat.chunkSize
        let chunks = ParallelResults<EncodedChunk>(count: chunkCount)
        sessions.withUnsafeBufferPointer { all in
            parallelFor(chunkCount) { i in
                let range = i * SnapshotFormat.chunkSize..<min(all.count, (i + 1) * SnapshotFormat.chunkSize)
                chunks[i] = EncodedChunk(UnsafeBufferPointer(rebasing: all[range]))
            }
        }
        let encoded = chunks.values.prefix(chunkCount).map { $0! }
        let (header, directory) = headerAndDirectory(encoded, sessionCount: sessions.count)
        var parts = [header.bytes, directory.bytes]
        for chunk in encoded {
            parts.append(UnsafeBufferPointer(chunk.compressed))
            parts.append(chunk.raw.bytes)
        }
        return try withExtendedLifetime((encoded, header, directory)) { try writeDurably(parts, to: path) }
    }

    /// The file's header and chunk directory, with every checksum derived from the chunks' own.
    static func headerAndDirectory(_ encoded: [EncodedChunk], sessionCount: Int) -> (ByteWriter, ByteWriter) {
        let directory = ByteWriter(capacity: encoded.count * SnapshotFormat.directoryEntrySize)
        var payloadCRC: UInt32 = 0
        for chunk in encoded {
            directory.littleEndian(UInt32(chunk.sessionCount))
            directory.littleEndian(UInt32(chunk.structuredLength))
            directory.littleEndian(UInt32(chunk.compressed.count))
            directory.littleEndian(UInt32(chunk.raw.count))
            directory.littleEndian(chunk.structuredCRC)
            directory.littleEndian(chunk.rawCRC)
            payloadCRC = crcCombine(crcCombine(payloadCRC, chunk.structuredCRC, chunk.structuredLength), chunk.rawCRC, chunk.raw.count)
        }
        var bodyCRC = crc(directory.bytes)
        for chunk in encoded {
            bodyCRC = crcCombine(crcCombine(bodyCRC, chunk.compressedCRC, chunk.compressed.count), chunk.rawCRC, chunk.raw.count)
        }
        let header = ByteWriter(capacity: SnapshotFormat.headerSize)
        SnapshotFormat.magic.withUnsafeBufferPointer { header.raw($0) }
        header.littleEndian(UInt16(SnapshotFormat.version))
        header.littleEndian(SnapshotFormat.compressedFlag)
        header.littleEndian(UInt64(sessionCount))
        header.littleEndian(UInt32(encoded.count))
        header.littleEndian(payloadCRC)
        header.littleEndian(bodyCRC)
        header.littleEndian(crc(header.bytes))
        return (header, directory)
    }

    /// Reads the sessions in the snapshot at `path`, checking everything.
    ///
    /// A missing file throws `POSIXError(.ENOENT)` (see `readIfPresent(from:)`), other I/O failures
    /// their `POSIXError`; a damaged or foreign file throws `SnapshotError`.
    public static func read(from path: String) throws -> [Session] {
        let file = try readFile(path)
        defer { file.deallocate() }
        return try decode(file: UnsafeBufferPointer(file))
    }

    /// Like `read(from:)`, but nil when there is no file (the first start).
    public static func readIfPresent(from path: String) throws -> [Session]? {
        do {
            return try read(from: path)
        } catch let error as POSIXError where error.code == .ENOENT {
            return nil
        }
    }

    // MARK: Chunks

    /// One chunk, encoded, compressed and checksummed.
    final class EncodedChunk: @unchecked Sendable {  // built by one thread, then only read
        let sessionCount: Int
        let structuredLength: Int
        let structuredCRC: UInt32
        let compressed: UnsafeMutableBufferPointer<UInt8>
        let compressedCRC: UInt32
        let raw: ByteWriter
        let rawCRC: UInt32

        convenience init(_ sessions: UnsafeBufferPointer<Session>) {
            let (structured, raw) = SessionSnapshot.encode(sessions)
            self.init(structured: structured, raw: raw, sessionCount: sessions.count)
        }

        /// A chunk from parts already encoded (tests use it to build forged files).
        init(structured: ByteWriter, raw: ByteWriter, sessionCount: Int) {
            self.sessionCount = sessionCount
            structuredLength = structured.count
            structuredCRC = crc(structured.bytes)
            compressed = SessionSnapshot.compress(structured.bytes)
            compressedCRC = crc(UnsafeBufferPointer(compressed))
            self.raw = raw
            rawCRC = crc(raw.bytes)
        }

        deinit { compressed.deallocate() }
    }

    /// A chunk's structured and raw parts (see the type's documentation for the layout).
    static func encode(_ sessions: UnsafeBufferPointer<Session>) -> (structured: ByteWriter, raw: ByteWriter) {
        var table: [String: Int] = [:]
        var strings: [String] = []
        func index(_ s: String) -> Int {
            if let i = table[s] { return i }
            table[s] = strings.count
            strings.append(s)
            return strings.count - 1
        }
        let body = ByteWriter(capacity: sessions.count * 24 + 64)
        let raw = ByteWriter(capacity: sessions.count * 64 + 64)
        for session in sessions {
            var id = session.id
            let isToken = id.withUTF8 { utf8 in raw.token(utf8) }
            if isToken {
                body.byte(1)
            } else {
                body.byte(0)
                body.string(id)
            }
            body.varint(UInt64(index(session.userId)))
            let created = session.createdAt.millisecondsSinceEpoch
            let accessed = session.lastAccessedAt.millisecondsSinceEpoch
            body.signedVarint(created)
            body.signedVarint(accessed &- created)
            body.signedVarint(session.expiresAt.millisecondsSinceEpoch &- accessed)
            body.signedVarint(session.absoluteExpiresAt.millisecondsSinceEpoch &- created)
            body.varint(UInt64(session.data.count))
            for (key, value) in session.data {
                body.varint(UInt64(index(key)))
                var value = value
                value.withUTF8 { utf8 in
                    if raw.token(utf8) {
                        body.varint(1)
                    } else {
                        body.varint(UInt64(utf8.count) << 1)
                        body.raw(utf8)
                    }
                }
            }
        }
        let structured = ByteWriter(capacity: body.count + strings.count * 16 + 16)
        structured.varint(UInt64(strings.count))
        for s in strings { structured.string(s) }
        structured.raw(body.bytes)
        return (structured, raw)
    }

    /// Decodes one chunk into `out`, which has room for exactly `count` sessions; returns how many
    /// it initialized (all of them, unless it throws — the caller then deinitializes that many,
    /// reported through `initialized`).
    static func decode(structured: UnsafeBufferPointer<UInt8>, raw: UnsafeBufferPointer<UInt8>, count: Int,
                       into out: UnsafeMutableBufferPointer<Session>, initialized: inout Int) throws(SnapshotError) {
        var reader = ByteReader(structured)
        var tokens = ByteReader(raw)
        let stringCount = try reader.varint()
        guard stringCount <= UInt64(structured.count) else { throw .malformedPayload }
        var strings: [String] = []
        strings.reserveCapacity(Int(stringCount))
        for _ in 0..<stringCount { strings.append(try reader.string()) }
        func tableString(_ r: inout ByteReader) throws(SnapshotError) -> String {
            let i = try r.varint()
            guard i < UInt64(strings.count) else { throw .malformedPayload }
            return strings[Int(i)]
        }
        for n in 0..<count {
            let id: String
            switch try reader.byte() {
            case 1: id = SessionID.encode(try tokens.slice(SnapshotFormat.tokenSize))
            case 0: id = try reader.string()
            default: throw .malformedPayload
            }
            let userId = try tableString(&reader)
            let created = try reader.signedVarint()
            let accessed = created &+ (try reader.signedVarint())
            let expires = accessed &+ (try reader.signedVarint())
            let absolute = created &+ (try reader.signedVarint())
            let pairs = try reader.varint()
            guard pairs <= UInt64(structured.count) else { throw .malformedPayload }
            var data: [String: String] = [:]
            if pairs > 0 {
                data.reserveCapacity(Int(pairs))
                for _ in 0..<pairs {
                    let key = try tableString(&reader)
                    let tag = try reader.varint()
                    if tag == 1 {
                        data[key] = SessionID.encode(try tokens.slice(SnapshotFormat.tokenSize))
                    } else if tag & 1 == 0, tag >> 1 <= UInt64(structured.count) {
                        data[key] = String(decoding: try reader.slice(Int(tag >> 1)), as: UTF8.self)
                    } else {
                        throw .malformedPayload
                    }
                }
            }
            (out.baseAddress! + n).initialize(to: Session(
                id: id, userId: userId, data: data,
                expiresAt: Date(millisecondsSinceEpoch: expires),
                createdAt: Date(millisecondsSinceEpoch: created),
                lastAccessedAt: Date(millisecondsSinceEpoch: accessed),
                absoluteExpiresAt: Date(millisecondsSinceEpoch: absolute)))
            initialized = n + 1
        }
        guard reader.isAtEnd, tokens.isAtEnd else { throw .malformedPayload }
    }

    /// One chunk's place in the file, from the directory.
    struct ChunkEntry {
        var sessions: Int
        var structuredLength: Int
        var compressedLength: Int
        var rawLength: Int
        var structuredCRC: UInt32
        var rawCRC: UInt32
        /// Where its compressed stream starts in the file; its raw part follows the stream.
        var offset: Int
        /// Index of its first session in the result.
        var firstSession: Int
    }

    /// Checks the header, directory and checksums, then inflates and decodes the chunks in
    /// parallel.
    static func decode(file: UnsafeBufferPointer<UInt8>) throws(SnapshotError) -> [Session] {
        let magic = SnapshotFormat.magic
        // A file shorter than the magic that agrees with it so far is a cut-off snapshot.
        let prefix = min(file.count, magic.count)
        guard (0..<prefix).allSatisfy({ file[$0] == magic[$0] }) else { throw .notASnapshot }
        guard file.count >= 8 else { throw .truncated }
        var reader = ByteReader(file)
        reader.offset = 4
        let version = try reader.littleEndian(UInt16.self)
        guard Int(version) == SnapshotFormat.version else { throw .unsupportedVersion(Int(version)) }
        guard file.count >= SnapshotFormat.headerSize else { throw .truncated }
        let flags = try reader.littleEndian(UInt16.self)
        let sessionCount = try reader.littleEndian(UInt64.self)
        let chunkCount = Int(try reader.littleEndian(UInt32.self))
        let payloadCRC = try reader.littleEndian(UInt32.self)
        let bodyCRC = try reader.littleEndian(UInt32.self)
        let headerCRC = try reader.littleEndian(UInt32.self)
        guard headerCRC == crc(UnsafeBufferPointer(rebasing: file[0..<28])) else { throw .checksumMismatch }
        guard flags == SnapshotFormat.compressedFlag else { throw .malformedPayload }

        let directoryEnd = SnapshotFormat.headerSize + chunkCount * SnapshotFormat.directoryEntrySize
        guard file.count >= directoryEnd else { throw .truncated }
        var entries: [ChunkEntry] = []
        entries.reserveCapacity(chunkCount)
        var offset = directoryEnd, first = 0
        for _ in 0..<chunkCount {
            var entry = ChunkEntry(sessions: Int(try reader.littleEndian(UInt32.self)),
                                   structuredLength: Int(try reader.littleEndian(UInt32.self)),
                                   compressedLength: Int(try reader.littleEndian(UInt32.self)),
                                   rawLength: Int(try reader.littleEndian(UInt32.self)),
                                   structuredCRC: try reader.littleEndian(UInt32.self),
                                   rawCRC: try reader.littleEndian(UInt32.self),
                                   offset: offset, firstSession: first)
            offset += entry.compressedLength + entry.rawLength
            first += entry.sessions
            entry.offset = offset - entry.compressedLength - entry.rawLength
            entries.append(entry)
        }
        guard offset <= file.count else { throw .truncated }
        guard offset == file.count else { throw .checksumMismatch }

        let entryList = entries
        // Checksums first, all of them, before anything is inflated or decoded.
        let directoryBytes = UnsafeBufferPointer(rebasing: file[SnapshotFormat.headerSize..<directoryEnd])
        let storedCRCs = ParallelResults<(UInt32, UInt32)>(count: chunkCount)
        parallelFor(chunkCount) { i in
            let e = entryList[i]
            storedCRCs[i] = (crc(UnsafeBufferPointer(rebasing: file[e.offset..<e.offset + e.compressedLength])),
                             crc(UnsafeBufferPointer(rebasing: file[e.offset + e.compressedLength..<e.offset + e.compressedLength + e.rawLength])))
        }
        var computedBody = crc(directoryBytes)
        var computedPayload: UInt32 = 0
        for (i, e) in entries.enumerated() {
            let (compressedCRC, rawCRC) = storedCRCs.values[i]!
            guard rawCRC == e.rawCRC else { throw .checksumMismatch }
            computedBody = crcCombine(crcCombine(computedBody, compressedCRC, e.compressedLength), rawCRC, e.rawLength)
            computedPayload = crcCombine(crcCombine(computedPayload, e.structuredCRC, e.structuredLength), e.rawCRC, e.rawLength)
        }
        guard computedBody == bodyCRC, computedPayload == payloadCRC else { throw .checksumMismatch }
        guard UInt64(first) == sessionCount else { throw .malformedPayload }
        for e in entries {
            // deflate never expands more than ~1032:1; a directory claiming more is forged.
            guard e.structuredLength <= e.compressedLength &* 1032 &+ 64,
                  e.rawLength <= e.sessions * SnapshotFormat.tokenSize * 64 else { throw .malformedPayload }
        }

        let failures = ParallelResults<SnapshotError>(count: chunkCount)
        let initializedCounts = ParallelResults<Int>(count: chunkCount)
        let sessions = [Session](unsafeUninitializedCapacity: first) { buffer, count in
            let all = buffer
            parallelFor(chunkCount) { i in
                let e = entryList[i]
                let out = UnsafeMutableBufferPointer(rebasing: all[e.firstSession..<e.firstSession + e.sessions])
                var initialized = 0
                do {
                    let compressed = UnsafeBufferPointer(rebasing: file[e.offset..<e.offset + e.compressedLength])
                    let structured = try inflate(compressed, expectedLength: e.structuredLength)
                    defer { structured.deallocate() }
                    guard crc(UnsafeBufferPointer(structured)) == e.structuredCRC else { throw SnapshotError.checksumMismatch }
                    let raw = UnsafeBufferPointer(rebasing: file[e.offset + e.compressedLength..<e.offset + e.compressedLength + e.rawLength])
                    try decode(structured: UnsafeBufferPointer(structured), raw: raw, count: e.sessions,
                               into: out, initialized: &initialized)
                } catch {
                    failures[i] = error as? SnapshotError ?? .malformedPayload
                }
                initializedCounts[i] = initialized
            }
            if failures.values.contains(where: { $0 != nil }) {
                // Leave no half-built array behind: undo what the chunks did initialize.
                for (i, e) in entries.enumerated() {
                    (buffer.baseAddress! + e.firstSession).deinitialize(count: initializedCounts.values[i] ?? 0)
                }
                count = 0
            } else {
                count = first
            }
        }
        if let failure = failures.values.lazy.compactMap({ $0 }).first { throw failure }
        return sessions
    }

    // MARK: zlib

    static func crc(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        UInt32(truncatingIfNeeded: crc32_z(0, bytes.baseAddress, z_size_t(bytes.count)))
    }

    /// The CRC32 of `a ‖ b` from the CRCs of `a` and `b` and the length of `b`.
    static func crcCombine(_ a: UInt32, _ b: UInt32, _ lengthOfB: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: crc32_combine(uLong(a), uLong(b), off_t(lengthOfB)))
    }

    /// zlib level 1: the structured part is repetitive and level 1 already shrinks it several
    /// times over; higher levels cost time for little more.
    static func compress(_ input: UnsafeBufferPointer<UInt8>) -> UnsafeMutableBufferPointer<UInt8> {
        let bound = Int(compressBound(uLong(input.count)))
        let out = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: bound)
        var outLength = uLongf(bound)
        let status = compress2(out.baseAddress!, &outLength, input.baseAddress, uLong(input.count), 1)
        // With an output buffer of compressBound() bytes, compress2 can only fail to allocate.
        precondition(status == Z_OK, "zlib compress2 failed (\(status))")
        return UnsafeMutableBufferPointer(rebasing: out[0..<Int(outLength)])
    }

    static func inflate(_ input: UnsafeBufferPointer<UInt8>, expectedLength: Int) throws(SnapshotError) -> UnsafeMutableBufferPointer<UInt8> {
        let out = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, expectedLength))
        var outLength = uLongf(expectedLength)
        var inLength = uLong(input.count)
        let status = uncompress2(out.baseAddress, &outLength, input.baseAddress, &inLength)
        guard status == Z_OK, Int(outLength) == expectedLength, Int(inLength) == input.count else {
            out.deallocate()
            throw .decompressionFailed
        }
        return UnsafeMutableBufferPointer(rebasing: out[0..<expectedLength])
    }

    // MARK: Files

    private static func posixError() -> POSIXError {
        POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
    }

    /// Temp file, fsync, rename, fsync of the directory: the rename is what makes the new snapshot
    /// visible, and the directory fsync is what makes the rename itself survive a power cut.
    static func writeDurably(_ parts: [UnsafeBufferPointer<UInt8>], to path: String) throws -> Int {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw posixError() }
        var total = 0
        for part in parts where part.count > 0 {
            var written = 0
            while written < part.count {
                let n = systemWrite(fd, part.baseAddress! + written, part.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    let error = posixError()
                    close(fd)
                    unlink(temporary)
                    throw error
                }
                written += n
            }
            total += written
        }
        guard fsync(fd) == 0 else {
            let error = posixError()
            close(fd)
            unlink(temporary)
            throw error
        }
        guard close(fd) == 0 else { throw posixError() }
        guard rename(temporary, path) == 0 else {
            let error = posixError()
            unlink(temporary)
            throw error
        }
        let directory = (path as NSString).deletingLastPathComponent
        let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirFD >= 0 else { throw posixError() }
        defer { close(dirFD) }
        guard fsync(dirFD) == 0 else { throw posixError() }
        return total
    }

    static func readFile(_ path: String) throws -> UnsafeMutableBufferPointer<UInt8> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw posixError() }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw posixError() }
        let size = Int(info.st_size)
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, size))
        var filled = 0
        while filled < size {
            let n = systemRead(fd, buffer.baseAddress! + filled, size - filled)
            if n < 0 {
                if errno == EINTR { continue }
                let error = posixError()
                buffer.deallocate()
                throw error
            }
            if n == 0 { break }
            filled += n
        }
        return UnsafeMutableBufferPointer(rebasing: buffer[0..<filled])
    }
}

/// One slot per parallel task, each written by its own task only and read after all finish.
/// Raw memory rather than an array property: concurrent writes to distinct elements of a class's
/// array would trip Swift's exclusivity checks, which see the whole array as one variable.
final class ParallelResults<T>: @unchecked Sendable {
    private let slots: UnsafeMutableBufferPointer<T?>

    init(count: Int) {
        slots = .allocate(capacity: max(1, count))
        slots.initialize(repeating: nil)
    }

    deinit {
        slots.deinitialize()
        slots.deallocate()
    }

    var values: [T?] { Array(slots.prefix(count)) }
    private var count: Int { slots.count }

    subscript(i: Int) -> T? {
        get { slots[i] }
        set { slots[i] = newValue }
    }
}

/// Runs `body` for 0..<n spread over the cores and returns when every iteration is done.
///
/// The closure is deliberately not `@Sendable`: the snapshot code hands each iteration its own
/// disjoint slice of shared buffers, which the compiler cannot see; callers keep to that.
func parallelFor(_ n: Int, _ body: (Int) -> Void) {
    guard n > 1 else {
        if n == 1 { body(0) }
        return
    }
    withoutActuallyEscaping(body) { body in
        let shared = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: n) { shared.value($0) }
    }
}

/// Carries a value across a concurrency boundary the caller has made safe by other means.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
