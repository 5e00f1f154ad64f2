import ArgumentParser
import Foundation
import FrontdeskCore
import FrontdeskServer

/// `frontdesk serve`: runs the server until SIGTERM or SIGINT.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run Frontdesk.",
        discussion: """
        With no flags and no file, Frontdesk creates ./frontdesk-data, migrates the database and
        listens on http://127.0.0.1:8080/. Precedence: flags > environment (FRONTDESK_…) > TOML file > defaults.

        Examples:
          frontdesk serve
          frontdesk serve --demo                      # an offline demo with a sample site at /demo
          frontdesk serve --port 9000 --data-dir /srv/frontdesk
          frontdesk serve --config /etc/frontdesk/frontdesk.toml
          FRONTDESK_PORT=9000 frontdesk serve
        """
    )

    @OptionGroup var data: DataOptions

    @Option(help: ArgumentHelp("Address to listen on. Default: 127.0.0.1", valueName: "host"))
    var host: String?

    @Option(help: ArgumentHelp("Port to listen on (0 picks a free one). Default: 8080", valueName: "port"))
    var port: String?

    @Flag(help: "Seed demo content and serve a demo site at /demo.")
    var demo = false

    @Option(help: ArgumentHelp("Serve Resources/ from this folder instead of the copy in the binary (development).", valueName: "dir"))
    var assetsDir: String?

    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical.", valueName: "level"))
    var logLevel: String?

    @Option(help: ArgumentHelp("Per-client request limits: on (default) or off — off is for load tests only.", valueName: "on|off"))
    var rateLimit: String?

    func run() async throws {
        // A peer or a child that went away must give EPIPE to the writer, never end the server.
        signal(SIGPIPE, SIG_IGN)
        let environment = ProcessInfo.processInfo.environment
        var flags = data.flagValues
        if let host { flags["server.host"] = host }
        if let port { flags["server.port"] = port }
        if demo { flags["demo.enabled"] = "true" }
        if let assetsDir { flags["assets.dir"] = assetsDir }
        if let logLevel { flags["log.level"] = logLevel }
        if let rateLimit { flags["rate_limit.enabled"] = rateLimit }
        let config = try loadConfigOrExit(file: data.configFile(environment: environment), environment: environment, flags: flags)
        Privileges.dropToDataDirectoryOwner(config.dataDirectory)

        try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
        let lock = try DataDirectoryLock(dataDirectory: config.dataDirectory)
        guard lock.tryLock() else {
            printError("frontdesk: another Frontdesk is already running on \(config.dataDirectory)\(lock.holderDescription).")
            throw ExitCode(1)
        }
        defer { lock.unlock() }
        let runtime: FrontdeskRuntime
        do {
            runtime = try FrontdeskRuntime.open(config, echoLogsToStderr: isatty(STDERR_FILENO) == 1)
            try await runtime.prepare()
        } catch {
            printError("frontdesk: cannot start: \(error)\n  data directory: \(config.dataDirectory)")
            throw ExitCode(1)
        }
        if !config.rateLimits.enabled {
            runtime.logger.warning("RATE LIMITS ARE OFF: every per-client request limit is disabled (sign-in throttling stays on). Use this for load tests only.")
            printError("frontdesk: WARNING: per-client rate limits are OFF (--rate-limit off). Use this for load tests only.")
        }
        let demoAccount = try? await runtime.demoAccount()
        runtime.logger.info("starting", metadata: ["version": "\(FrontdeskVersion.current)", "data_dir": "\(config.dataDirectory)",
                                                   "synchronous": "\(config.synchronous.rawValue)"])
        try await runFrontdesk(runtime) { host, port in
            let base = "\(runtime.scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)/"
            var lines = [
                "Frontdesk \(FrontdeskVersion.current) is ready at \(base)",
                "  open:     \(base)   (the front page: console, API reference, health, the embed snippet)",
                "  console:  \(base)admin/",
                "  API docs: \(base)api/   (the document itself: \(base)api/openapi.json)",
                "  health:   \(base)healthz",
            ]
            if config.demo { lines.append("  demo:     \(base)demo") }
            if let files = config.tlsFiles {
                lines.append("  TLS:      \(files.certificate)   (HTTP/2 \(config[TLSSettings.http2] ? "and" : "off,") HTTP/1.1; SIGHUP reloads it)")
                let redirect = config[TLSSettings.redirectPort]
                if redirect != 0 {
                    let bound = host.contains(":") ? "[\(host)]" : host
                    lines.append("  redirect: http://\(bound):\(redirect)/ answers 308 to \(base)")
                }
            }
            if let demoAccount {
                lines.append("  demo sign-in: \(demoAccount.email)  password: \(demoAccount.password)   (at \(base)admin/)")
                let interval = config[DemoVisitorSettings.interval]
                if interval > 0 {
                    lines.append("            a scripted demo visitor opens a chat every \(interval) s while you are signed in")
                }
            }
            // The address people use: server.public_url, else the one bound (the base of mailed links too).
            let publicBase = runtime.links.baseURL + "/"
            if let setup = runtime.setupURL(base: publicBase) {
                lines.append("  setup:    no admin account yet — create the first one at \(setup)")
                lines.append("            (or: frontdesk user add --email you@example.com --role admin --password-stdin)")
            }
            lines.append("  data:     \(config.dataDirectory)   logs: \(config.logDirectory)/frontdesk.log")
            lines.append("Next: embed <script src=\"\(publicBase)widget.js\" defer></script> in your site. Stop with Ctrl-C.")
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
        runtime.logger.info("stopped")
        runtime.logFile?.flush()
        runtime.logFile?.waitForCompression()
    }
}

/// Loads the configuration, or prints every problem and exits with status 2.
func loadConfigOrExit(file: String?, environment: [String: String], flags: [String: String]) throws -> FrontdeskConfig {
    do {
        return try FrontdeskConfig.load(file: file, environment: environment, flags: flags, features: FeatureModules.settings)
    } catch let errors as ConfigErrors {
        printError("frontdesk: \(errors)")
        throw ExitCode(2)
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
