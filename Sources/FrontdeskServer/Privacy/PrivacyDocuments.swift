import FrontdeskCore
import Foundation

/// The record of processing activities (Art. 30), made from the running configuration and the
/// modules' `personalData`: what each kind stores, why, for how long, who receives it.
package struct ProcessingRecord: Sendable {
    package struct Activity: Sendable, Encodable {
        package let kind: String
        package let purpose: String
        package let storedIn: String
        package let tables: [String]
        package let retention: String
        package let erasure: String
    }

    package let siteName: String
    package let generatedAt: String
    package let activities: [Activity]
    package let recipients: [String]
    package let notes: [String]

    package init(config: FrontdeskConfig, kinds: [any PersonalDataKind], now: Date) {
        siteName = config.siteName
        generatedAt = Timestamps.iso8601(now)
        activities = kinds.map { kind in
            let retention: String
            if let setting = kind.retention {
                let days = config[setting]
                retention = days == 0 ? "until erased (\(setting.spec.key) = 0)" : "\(days) days (\(setting.spec.key))"
            } else {
                retention = "until erased or deleted (no retention setting of its own)"
            }
            let erasure: String
            switch kind.erasure {
            case .delete: erasure = "deleted"
            case .anonymise(let reason): erasure = "anonymised: \(reason)"
            }
            return Activity(kind: kind.name, purpose: kind.purpose, storedIn: kind.database == .main ? "frontdesk.sqlite" : "analytics.sqlite",
                            tables: kind.tables, retention: retention, erasure: erasure)
        }
        var recipients: [String] = []
        switch config.mail.transport {
        case .smtp: recipients.append("The SMTP relay \(config.mail.smtpHost):\(config.mail.smtpPort) (mail.transport = smtp) receives each mail to deliver it.")
        case .sendmail: recipients.append("The local mail system (\(config.mail.sendmailPath), mail.transport = sendmail) receives each mail to deliver it.")
        case .file: recipients.append("Nobody: mail is written to the local spool <data_dir>/mail (mail.transport = file).")
        }
        recipients.append("No other party: Frontdesk loads no third-party service, CDN or tracker.")
        recipients.append("Console users (agents and admins) see what visitors sent.")
        self.recipients = recipients
        notes = [
            "No raw IP address is stored: newsletter sign-ups and consent records keep the truncated network only; cookieless visitors are counted by a daily-rotating salted hash.",
            "Logs: JSON lines in the log directory, rotated at \(config.logMaxSizeMiB) MiB, \(config.logKeepFiles) files kept (log.keep).",
            "Backups: every \(config.backupIntervalHours) hours into \(config.backupDirectory), \(config.backupKeep) kept (backup.keep); an erasure reaches older backups only when they rotate out (`frontdesk backup --list` names the backups that predate the last erasure).",
        ]
    }

    /// The record as Markdown.
    package var markdown: String {
        var out = "# Record of processing activities — \(siteName)\n\nGenerated \(generatedAt) by Frontdesk \(FrontdeskVersion.current) from the running configuration.\n\n"
        out += "| Data | Purpose | Stored in | Retention | On erasure |\n|---|---|---|---|---|\n"
        for a in activities {
            out += "| `\(a.kind)` (\(a.tables.joined(separator: ", "))) | \(cell(a.purpose)) | \(a.storedIn) | \(cell(a.retention)) | \(cell(a.erasure)) |\n"
        }
        out += "\n## Recipients\n\n" + recipients.map { "- \($0)\n" }.joined()
        out += "\n## Notes\n\n" + notes.map { "- \($0)\n" }.joined()
        return out
    }

    private func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }

    /// The record as a standalone HTML page.
    package var html: String {
        var out = PrivacyHTML.head("Record of processing activities — \(siteName)")
        out += "<p>Generated \(SafeHTML.escape(generatedAt)) by Frontdesk \(SafeHTML.escape(FrontdeskVersion.current)) from the running configuration.</p>\n"
        out += "<table><thead><tr><th>Data</th><th>Purpose</th><th>Stored in</th><th>Retention</th><th>On erasure</th></tr></thead><tbody>\n"
        for a in activities {
            out += "<tr><td><code>\(SafeHTML.escape(a.kind))</code><br>\(SafeHTML.escape(a.tables.joined(separator: ", ")))</td><td>\(SafeHTML.escape(a.purpose))</td>"
                + "<td>\(a.storedIn)</td><td>\(SafeHTML.escape(a.retention))</td><td>\(SafeHTML.escape(a.erasure))</td></tr>\n"
        }
        out += "</tbody></table>\n<h2>Recipients</h2><ul>" + recipients.map { "<li>\(SafeHTML.escape($0))</li>" }.joined() + "</ul>\n"
        out += "<h2>Notes</h2><ul>" + notes.map { "<li>\(SafeHTML.escape($0))</li>" }.joined() + "</ul>\n</body></html>\n"
        return out
    }
}

/// Plain, escaped HTML for the privacy documents (no script, no external resource).
package enum PrivacyHTML {

    static func head(_ title: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>\(SafeHTML.escape(title))</title>
        <style>body{font:15px/1.5 system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .5em;vertical-align:top;text-align:left}pre{white-space:pre-wrap;background:#f6f6f6;padding:.5em}</style>
        </head><body><h1>\(SafeHTML.escape(title))</h1>

        """
    }

    /// A readable rendering of an export: the manifest, then each kind's rows as tables.
    package static func render(_ export: PrivacyExport) -> String {
        var out = head("Your data — \(export.request["kind"] ?? "") \(export.request["value"] ?? "")")
        out += "<p>Generated \(SafeHTML.escape(export.generatedAt)). \(export.rowCount) item\(export.rowCount == 1 ? "" : "s") found.</p>\n"
        out += "<h2>What was searched</h2><table><thead><tr><th>Data</th><th>Stored in</th><th>Tables</th><th>Found</th><th>Purpose</th></tr></thead><tbody>\n"
        for m in export.manifest {
            out += "<tr><td><code>\(SafeHTML.escape(m.kind))</code></td><td>\(SafeHTML.escape(m.database))</td><td>\(SafeHTML.escape(m.tables.joined(separator: ", ")))</td><td>\(m.rows)</td><td>\(SafeHTML.escape(m.purpose))</td></tr>\n"
        }
        out += "</tbody></table>\n"
        for kind in export.data.keys.sorted() {
            for (table, rows) in export.data[kind]!.sorted(by: { $0.key < $1.key }) where !rows.isEmpty {
                out += "<h2>\(SafeHTML.escape(table))</h2>\n"
                let columns = Array(Set(rows.flatMap { $0.keys })).sorted()
                out += "<table><thead><tr>" + columns.map { "<th>\(SafeHTML.escape($0))</th>" }.joined() + "</tr></thead><tbody>\n"
                for row in rows {
                    out += "<tr>" + columns.map { "<td>\(SafeHTML.escape(text(row[$0] ?? .null)))</td>" }.joined() + "</tr>\n"
                }
                out += "</tbody></table>\n"
            }
        }
        for file in export.files {
            out += "<h2>\(SafeHTML.escape(file.name))</h2><pre>\(SafeHTML.escape(file.text))</pre>\n"
        }
        return out + "</body></html>\n"
    }

    static func text(_ value: JSONValue) -> String {
        switch value {
        case .null: return ""
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .string(let s): return s
        case .array, .object:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
    }
}
