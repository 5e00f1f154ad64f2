import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Keeps administrators from leaving root-owned files in the service's data directory.
///
/// On an installed system `/var/lib/frontdesk` belongs to the `frontdesk` user. When a command
/// (`user add`, `migrate`, `backup`, `restore`, `serve`) runs as root there, it first switches to
/// the owner of the data directory, so every file it creates stays the service's. When the
/// directory is root's own (a developer running as root), nothing changes.
enum Privileges {
    /// Switches to the data directory's owner when running as root; exits with a clear message if that fails.
    static func dropToDataDirectoryOwner(_ dataDirectory: String) {
        guard geteuid() == 0 else { return }
        var info = stat()
        guard stat(dataDirectory, &info) == 0, info.st_uid != 0 else { return }
        let uid = info.st_uid
        let gid = info.st_gid
        let name = getpwuid(uid).map { String(cString: $0.pointee.pw_name) } ?? String(uid)
        var groups = [gid]
        guard setgroups(1, &groups) == 0, setgid(gid) == 0, setuid(uid) == 0 else {
            printError("frontdesk: running as root, and cannot switch to \(name), the owner of \(dataDirectory): \(String(cString: strerror(errno))).\n  Run the command as that user instead: sudo -u \(name) frontdesk …")
            Foundation.exit(1)
        }
        // What the service's unit sets (UMask=0027): nothing the CLI writes is world-readable.
        umask(0o027)
        if let home = getpwuid(uid).map({ String(cString: $0.pointee.pw_dir) }) { setenv("HOME", home, 1) }
        printError("frontdesk: running as \(name), the owner of \(dataDirectory), so the files it writes stay the service's.")
    }
}
