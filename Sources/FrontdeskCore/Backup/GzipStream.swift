import CZlib
import Foundation

/// Writes a gzip file a chunk at a time, so backups of any size stream through a fixed buffer.
final class GzipFileWriter {
    private var stream = z_stream()
    private let handle: FileHandle
    private var output = [UInt8](repeating: 0, count: 256 * 1024)
    private(set) var compressedBytes = 0

    init(path: String, level: Int32 = 6) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o640]) else {
            throw FrontdeskError(.internal, code: "backup_failed", message: "Cannot create \(path).")
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        guard deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw FrontdeskError(.internal, code: "backup_failed", message: "zlib could not start.")
        }
    }

    func write(_ data: Data) throws {
        try run(data, flush: Z_NO_FLUSH)
    }

    /// Finishes the gzip member, fsyncs and closes the file.
    func finish() throws {
        try run(Data(), flush: Z_FINISH)
        deflateEnd(&stream)
        try handle.synchronize()
        try handle.close()
    }

    private func run(_ data: Data, flush: Int32) throws {
        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(input.count)
            var status: Int32 = Z_OK
            repeat {
                let produced: Int = output.withUnsafeMutableBufferPointer { buffer in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = uInt(buffer.count)
                    status = deflate(&stream, flush)
                    return buffer.count - Int(stream.avail_out)
                }
                if status == Z_STREAM_ERROR { throw FrontdeskError(.internal, code: "backup_failed", message: "Compression failed.") }
                if produced > 0 {
                    try handle.write(contentsOf: output[0..<produced])
                    compressedBytes += produced
                }
            } while stream.avail_out == 0 || (flush == Z_FINISH && status != Z_STREAM_END)
        }
    }
}

/// Reads a gzip file a chunk at a time.
final class GzipFileReader {
    private var stream = z_stream()
    private let handle: FileHandle
    private var input = Data()
    private var finished = false
    private var output = [UInt8](repeating: 0, count: 256 * 1024)
    private var pending = Data()

    init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FrontdeskError(.notFound, code: "not_found", message: "\(path) cannot be opened.")
        }
        self.handle = handle
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw FrontdeskError(.internal, code: "restore_failed", message: "zlib could not start.")
        }
    }

    deinit {
        inflateEnd(&stream)
        try? handle.close()
    }

    /// Exactly `count` bytes, or fewer only at the end of the stream.
    func read(_ count: Int) throws -> Data {
        while pending.count < count && !finished {
            try inflateMore()
        }
        let chunk = pending.prefix(count)
        pending.removeFirst(chunk.count)
        return Data(chunk)
    }

    private func inflateMore() throws {
        if input.isEmpty {
            input = handle.readData(ofLength: 256 * 1024)
            if input.isEmpty {
                throw FrontdeskError(.badRequest, code: "invalid_backup", message: "The backup file ends early; it is truncated.")
            }
        }
        var status: Int32 = Z_OK
        let consumed: Int = try input.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Int in
            stream.next_in = UnsafeMutablePointer(mutating: raw.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(raw.count)
            let produced: Int = output.withUnsafeMutableBufferPointer { buffer in
                stream.next_out = buffer.baseAddress
                stream.avail_out = uInt(buffer.count)
                status = inflate(&stream, Z_NO_FLUSH)
                return buffer.count - Int(stream.avail_out)
            }
            guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                throw FrontdeskError(.badRequest, code: "invalid_backup", message: "The backup file is damaged (not valid gzip).")
            }
            pending.append(contentsOf: output[0..<produced])
            return raw.count - Int(stream.avail_in)
        }
        input.removeFirst(consumed)
        if status == Z_STREAM_END { finished = true }
    }
}
