import Foundation

/// A mailbox: an address and an optional display name, both safe to put in a header.
///
/// The address is checked when the value is made (`EmailAddress.normalize`, ASCII only, since
/// Frontdesk does not speak SMTPUTF8), so an address can never carry a CR/LF into a header or
/// an SMTP command. The display name is cleaned with `MailHeaderText.singleLine`, so a visitor's
/// name like `"Eve\r\nBcc: x@example.com"` becomes harmless text.
package struct MailAddress: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `local@domain`, domain lower-cased.
    package let address: String
    /// The human name shown beside the address; empty for none.
    package let name: String

    /// Validates and normalises `address`; throws a `validation_failed` error naming `field` when it is not deliverable.
    ///
    /// - Parameter allowLocalhost: also accept `name@localhost` (the default sender, so a fresh
    ///   install with the file transport works); never for recipients.
    package init(_ address: String, name: String = "", field: String = "address", allowLocalhost: Bool = false) throws {
        let trimmed = address.trimmingCharacters(in: .whitespaces)
        guard trimmed.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }) else {
            throw FrontdeskError.validation([field: "is not a deliverable email address"])
        }
        if let normalized = EmailAddress.normalize(trimmed) {
            self.address = normalized
        } else if allowLocalhost, trimmed.lowercased().hasSuffix("@localhost"),
                  let checked = EmailAddress.normalize(trimmed.dropLast("localhost".count) + "localhost.localdomain") {
            self.address = String(checked.dropLast(".localdomain".count))
        } else {
            throw FrontdeskError.validation([field: "is not a deliverable email address"])
        }
        self.name = MailHeaderText.singleLine(name, maxLength: 200)
    }

    /// The domain part, used for Message-IDs.
    package var domain: String { String(address[address.index(after: address.lastIndex(of: "@")!)...]) }

    /// The address for logs: `a***@example.com`, so a log line never identifies a person on its own.
    package var masked: String { MailAddress.mask(address) }

    /// `a***@example.com` for any string that looks like an address; `***` otherwise.
    package static func mask(_ address: String) -> String {
        guard let at = address.lastIndex(of: "@"), at > address.startIndex else { return "***" }
        return "\(address[address.startIndex])***\(address[at...])"
    }

    /// `text` with every address in it masked (`j***@example.com`): for what a mail server or
    /// sendmail said (`550 5.1.1 <jane@example.com>: Recipient address rejected`), before it
    /// goes into a log line or the outbox's `last_error`, which outlive the mail.
    package static func maskAddresses(in text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        func isLocal(_ s: Unicode.Scalar) -> Bool {
            s.properties.isAlphabetic || s.properties.numericType != nil || "!#$%&'*+-/=?^_`{|}~.".unicodeScalars.contains(s)
        }
        func isDomain(_ s: Unicode.Scalar) -> Bool {
            s.properties.isAlphabetic || s.properties.numericType != nil || s == "-" || s == "." || s == "[" || s == "]" || s == ":"
        }
        var out = String.UnicodeScalarView()
        var index = 0
        var copied = 0
        while index < scalars.count {
            guard scalars[index] == "@" else { index += 1; continue }
            var start = index
            while start > copied, isLocal(scalars[start - 1]) { start -= 1 }
            var end = index + 1
            while end < scalars.count, isDomain(scalars[end]) { end += 1 }
            while end > index + 1, scalars[end - 1] == "." || scalars[end - 1] == ":" { end -= 1 }  // a sentence's full stop
            guard start < index, end > index + 1 else { index += 1; continue }
            out.append(contentsOf: scalars[copied..<start])
            out.append(contentsOf: mask(String(String.UnicodeScalarView(scalars[start..<end]))).unicodeScalars)
            copied = end
            index = end
        }
        out.append(contentsOf: scalars[copied...])
        return String(out)
    }

    package var description: String { name.isEmpty ? address : "\(name) <\(address)>" }
}

/// Turns untrusted text into something that can sit inside one header line.
package enum MailHeaderText {
    /// Replaces every control character (C0, DEL, C1, and the Unicode line and paragraph
    /// separators) with a space, collapses runs of whitespace and trims.
    ///
    /// Why replace rather than reject: names and subjects come from visitors, and a form
    /// submission should not fail because someone pasted a line break into the subject; what
    /// matters is that no CR or LF ever reaches the header block.
    package static func singleLine(_ text: String, maxLength: Int = 998) -> String {
        var out = String.UnicodeScalarView()
        var lastWasSpace = true
        for scalar in text.unicodeScalars {
            let isBreak = scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
                || scalar == "\u{2028}" || scalar == "\u{2029}" || scalar.properties.isWhitespace
            if isBreak {
                if !lastWasSpace { out.append(" ") }
                lastWasSpace = true
            } else {
                out.append(scalar)
                lastWasSpace = false
            }
        }
        var result = String(out)
        while result.hasSuffix(" ") { result.removeLast() }
        if result.count > maxLength { result = String(result.prefix(maxLength)) }
        return result
    }

    /// Whether `text` contains anything that could end or fold a header line.
    package static func hasControlCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "\u{2028}" || $0 == "\u{2029}" }
    }
}
