import CZlib
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
    /// A checksum (of the header, the compressed stream or the decompressed payload) does not
    /// match, or the file has bytes after its payload.
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
    static let headerSize = 44
    static let compressedFlag: UInt16 = 1
}

/// Crash-safe binary snapshots of sessions.
///
/// Layout (integers little-endian):
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 4 | magic `FDSS` |
/// | 4 | 2 | format version (1) |
/// | 6 | 2 | flags (bit 0: payload is zlib-compressed; always set) |
/// | 8 | 8 | session count |
/// | 16 | 8 | payload length, uncompressed |
/// | 24 | 8 | payload length, compressed (the rest of the file) |
/// | 32 | 4 | CRC32 of the uncompressed payload |
/// | 36 | 4 | CRC32 of the compressed stream |
/// | 40 | 4 | CRC32 of bytes 0..<40 |
/// | 44 | … | zlib stream (level 1) |
///
/// The stream's own CRC is there because inflate ignores a few bits (the padding after the last
/// block): without it a flipped padding bit would read back fine, and "every flipped bit is
/// reported" is simpler to promise than "every flipped bit that matters".
///
/// Each session in the payload: a flags byte (bit 0: the id is a canonical 43-character
/// base64url id, stored as its 32 raw bytes), the id (raw, or length-prefixed UTF-8), the user
/// id, `createdAt` as zigzag-LEB128 milliseconds since 1970, then `lastAccessedAt − createdAt`,
/// `expiresAt − lastAccessedAt`, `absoluteExpiresAt − createdAt` (zigzag LEB128), then the data
/// as a count and key/value pairs. Strings are a LEB128 byte count and UTF-8.
///
/// A snapshot is written to `<path>.tmp`, fsynced, renamed over `path`, and the directory is
/// fsynced: after a crash `path` holds either the previous snapshot or the new one, whole. Only
/// one writer per path at a time (the snapshot service).
public enum SessionSnapshot {
    /// Writes `sessions` atomically and durably to `path`; returns the file's size in bytes.
    /// Throws `POSIXError` when the file system refuses.
    @discardableResult
    public static func write(_ sessions: [Session], to path: String) throws -> Int {
        let payload = encode(sessions)
        let payloadCRC = crc(payload.bytes)
        let file = try compress(payload.bytes, reservingHeader: SnapshotFormat.headerSize)
        defer { file.deallocate() }
        let compressedLength = file.count - SnapshotFormat.headerSize

        let header = ByteWriter(capacity: SnapshotFormat.headerSize)
        SnapshotFormat.magic.withUnsafeBufferPointer { header.raw($0) }
        header.littleEndian(UInt16(SnapshotFormat.version))
        header.littleEndian(SnapshotFormat.compressedFlag)
        header.littleEndian(UInt64(sessions.count))
        header.littleEndian(UInt64(payload.count))
        header.littleEndian(UInt64(compressedLength))
        header.littleEndian(payloadCRC)
        header.littleEndian(crc(UnsafeBufferPointer(rebasing: file[SnapshotFormat.headerSize...])))
        header.littleEndian(crc(header.bytes))
        file.baseAddress!.update(from: header.base, count: SnapshotFormat.headerSize)

        try writeDurably(UnsafeBufferPointer(file), to: path)
        return file.count
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

    // MARK: Encoding

    static func encode(_ sessions: [Session]) -> ByteWriter {
        let out = ByteWriter(capacity: sessions.count * 120 + 64)
        var rawID = [UInt8](repeating: 0, count: SessionID.byteCount)
        for session in sessions {
            var id = session.id
            let isCanonical = id.withUTF8 { utf8 in
                rawID.withUnsafeMutableBufferPointer { SessionID.decode(utf8, into: $0.baseAddress!) }
            }
            if isCanonical {
                out.byte(1)
                rawID.withUnsafeBufferPointer { out.raw($0) }
            } else {
                out.byte(0)
                out.string(id)
            }
            out.string(session.userId)
            let created = session.createdAt.millisecondsSinceEpoch
            let accessed = session.lastAccessedAt.millisecondsSinceEpoch
            out.signedVarint(created)
            out.signedVarint(accessed &- created)
            out.signedVarint(session.expiresAt.millisecondsSinceEpoch &- accessed)
            out.signedVarint(session.absoluteExpiresAt.millisecondsSinceEpoch &- created)
            out.varint(UInt64(session.data.count))
            for (key, value) in session.data {
                out.string(key)
                out.string(value)
            }
        }
        return out
    }

    static func decode(payload: UnsafeBufferPointer<UInt8>, count: Int) throws(SnapshotError) -> [Session] {
        var reader = ByteReader(payload)
        var sessions: [Session] = []
        // Each session takes at least 8 bytes, which bounds what a forged count can reserve.
        sessions.reserveCapacity(min(count, payload.count / 8))
        for _ in 0..<count {
            let flags = try reader.byte()
            let id: String
            switch flags {
            case 1: id = SessionID.encode(try reader.slice(SessionID.byteCount))
            case 0: id = try reader.string()
            default: throw .malformedPayload
            }
            let userId = try reader.string()
            let created = try reader.signedVarint()
            let accessed = created &+ (try reader.signedVarint())
            let expires = accessed &+ (try reader.signedVarint())
            let absolute = created &+ (try reader.signedVarint())
            let pairs = try reader.varint()
            guard pairs <= UInt64(payload.count) else { throw .malformedPayload }
            var data: [String: String] = [:]
            if pairs > 0 {
                data.reserveCapacity(Int(pairs))
                for _ in 0..<pairs {
                    let key = try reader.string()
                    data[key] = try reader.string()
                }
            }
            sessions.append(Session(id: id, userId: userId, data: data,
                                    expiresAt: Date(millisecondsSinceEpoch: expires),
                                    createdAt: Date(millisecondsSinceEpoch: created),
                                    lastAccessedAt: Date(millisecondsSinceEpoch: accessed),
                                    absoluteExpiresAt: Date(millisecondsSinceEpoch: absolute)))
        }
        guard reader.isAtEnd else { throw .malformedPayload }
        return sessions
    }

    /// Checks the header, inflates and verifies the payload, then decodes it.
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
        let count = try reader.littleEndian(UInt64.self)
        let uncompressedLength = try reader.littleEndian(UInt64.self)
        let compressedLength = try reader.littleEndian(UInt64.self)
        let payloadCRC = try reader.littleEndian(UInt32.self)
        let streamCRC = try reader.littleEndian(UInt32.self)
        let headerCRC = try reader.littleEndian(UInt32.self)
        guard headerCRC == crc(UnsafeBufferPointer(rebasing: file[0..<40])) else { throw .checksumMismatch }
        guard flags == SnapshotFormat.compressedFlag else { throw .malformedPayload }
        let available = UInt64(file.count - SnapshotFormat.headerSize)
        guard compressedLength <= available else { throw .truncated }
        guard compressedLength == available else { throw .checksumMismatch }
        // deflate never expands more than ~1032:1; anything claiming more is forged.
        guard uncompressedLength <= compressedLength &* 1032 &+ 64, count <= uncompressedLength else {
            throw .malformedPayload
        }
        let compressed = UnsafeBufferPointer(rebasing: file[SnapshotFormat.headerSize...])
        guard crc(compressed) == streamCRC else { throw .checksumMismatch }
        let payload = try inflate(compressed, expectedLength: Int(uncompressedLength))
        defer { payload.deallocate() }
        guard crc(UnsafeBufferPointer(payload)) == payloadCRC else { throw .checksumMismatch }
        return try decode(payload: UnsafeBufferPointer(payload), count: Int(count))
    }

    // MARK: zlib

    static func crc(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        UInt32(truncatingIfNeeded: crc32_z(0, bytes.baseAddress, z_size_t(bytes.count)))
    }

    /// zlib level 1: the payload is mostly random ids and tokens, which no level compresses,
    /// so a higher level would only cost time.
    static func compress(_ input: UnsafeBufferPointer<UInt8>, reservingHeader header: Int) throws -> UnsafeMutableBufferPointer<UInt8> {
        let bound = Int(compressBound(uLong(input.count)))
        let out = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: header + bound)
        var outLength = uLongf(bound)
        let status = compress2(out.baseAddress! + header, &outLength, input.baseAddress, uLong(input.count), 1)
        guard status == Z_OK else {
            out.deallocate()
            throw POSIXError(.ENOMEM)
        }
        // Hand back exactly header + stream, so the caller can write it in one go.
        let exact = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: header + Int(outLength))
        exact.baseAddress!.update(from: out.baseAddress!, count: header + Int(outLength))
        out.deallocate()
        return exact
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
    static func writeDurably(_ bytes: UnsafeBufferPointer<UInt8>, to path: String) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw posixError() }
        var written = 0
        while written < bytes.count {
            let n = systemWrite(fd, bytes.baseAddress! + written, bytes.count - written)
            if n < 0 {
                if errno == EINTR { continue }
                let error = posixError()
                close(fd)
                unlink(temporary)
                throw error
            }
            written += n
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
