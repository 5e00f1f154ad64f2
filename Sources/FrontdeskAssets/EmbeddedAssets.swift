import Foundation

/// The files of the top-level `Resources/` folder, compiled into the binary.
///
/// Keys are paths relative to `Resources/`, e.g. `web/widget.js`.
public enum EmbeddedAssets {
    /// Every embedded file, decoded once on first use.
    public static let files: [String: Data] = {
        var files: [String: Data] = [:]
        for entry in encoded {
            files[entry.path] = Data(base64Encoded: entry.base64) ?? Data()
        }
        return files
    }()
}
