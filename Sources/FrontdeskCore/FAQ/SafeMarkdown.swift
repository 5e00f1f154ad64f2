import Foundation

/// A small, strict Markdown renderer for FAQ answers: a CommonMark subset (paragraphs,
/// headings, emphasis, code spans and fenced code, lists, links, block quotes, rules) turned
/// into HTML that is safe to insert into any page.
///
/// Why not Ink (available locally): Ink passes raw HTML through by design, so its output would
/// still need a full HTML sanitiser. Here nothing the author typed becomes markup unless it is
/// one of the constructs above: every other character is escaped, raw HTML included, links keep
/// only http(s), mailto and relative targets and get `rel="nofollow noopener"`, and a final pass
/// (`SafeHTML.enforce`) turns any tag outside the allowlist back into text.
package enum SafeMarkdown {
    /// The elements the renderer emits; `SafeHTML.enforce` lets nothing else through.
    package static let allowedElements: Set<String> = ["p", "em", "strong", "code", "pre", "ul", "ol", "li", "a", "h2", "h3", "h4", "h5", "h6",
                                                       "blockquote", "hr", "br"]

    /// Renders `source` to safe HTML.
    package static func render(_ source: String) -> String {
        let lines = source.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var out = ""
        renderBlocks(lines, into: &out, depth: 0)
        return SafeHTML.enforce(out)
    }

    /// The text a reader sees, for search and JSON-LD: tags dropped, entities decoded.
    package static func plainText(_ source: String) -> String {
        SafeHTML.text(ofHTML: render(source))
    }

    // MARK: Blocks

    private static func renderBlocks(_ lines: [String], into out: inout String, depth: Int) {
        var i = 0
        var paragraph: [String] = []
        func flushParagraph() {
            guard !paragraph.isEmpty else { return }
            out += "<p>" + inline(paragraph.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "\n")) + "</p>\n"
            paragraph = []
        }
        while i < lines.count {
            let line = lines[i]
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { flushParagraph(); i += 1; continue }
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                flushParagraph()
                let fence = String(trimmed.prefix(3))
                var code: [String] = []
                i += 1
                while i < lines.count, !lines[i].trimmingCharacters(in: .whitespaces).hasPrefix(fence) {
                    code.append(lines[i]); i += 1
                }
                i += 1
                out += "<pre><code>" + SafeHTML.escape(code.joined(separator: "\n")) + "</code></pre>\n"
                continue
            }
            if let (level, text) = heading(trimmed) {
                flushParagraph()
                let tag = "h\(min(level + 1, 6))"
                out += "<\(tag)>" + inline(text) + "</\(tag)>\n"
                i += 1; continue
            }
            if isRule(trimmed) {
                flushParagraph()
                out += "<hr>\n"
                i += 1; continue
            }
            if trimmed.hasPrefix(">") {
                flushParagraph()
                var quoted: [String] = []
                while i < lines.count {
                    let t = lines[i].trimmingCharacters(in: .whitespaces)
                    guard t.hasPrefix(">") else { break }
                    var rest = t.dropFirst()
                    if rest.first == " " { rest = rest.dropFirst() }
                    quoted.append(String(rest)); i += 1
                }
                if depth < 4 {
                    out += "<blockquote>\n"
                    renderBlocks(quoted, into: &out, depth: depth + 1)
                    out += "</blockquote>\n"
                } else {
                    out += "<p>" + inline(quoted.joined(separator: "\n")) + "</p>\n"
                }
                continue
            }
            if let (ordered, _) = listItem(trimmed) {
                flushParagraph()
                var items: [String] = []
                while i < lines.count {
                    let t = lines[i].trimmingCharacters(in: .whitespaces)
                    if let (kind, text) = listItem(t), kind == ordered {
                        items.append(text)
                    } else if !t.isEmpty, !items.isEmpty, lines[i].hasPrefix(" ") || lines[i].hasPrefix("\t") {
                        items[items.count - 1] += "\n" + t   // a continuation line of the item
                    } else {
                        break
                    }
                    i += 1
                }
                let tag = ordered ? "ol" : "ul"
                out += "<\(tag)>\n" + items.map { "<li>" + inline($0) + "</li>\n" }.joined() + "</\(tag)>\n"
                continue
            }
            paragraph.append(line)
            i += 1
        }
        flushParagraph()
    }

    private static func heading(_ line: String) -> (Int, String)? {
        let hashes = line.prefix { $0 == "#" }.count
        guard (1...6).contains(hashes) else { return nil }
        let rest = line.dropFirst(hashes)
        guard rest.isEmpty || rest.first == " " else { return nil }
        var text = rest.trimmingCharacters(in: .whitespaces)
        while text.hasSuffix("#") { text.removeLast() }
        return (hashes, text.trimmingCharacters(in: .whitespaces))
    }

    private static func isRule(_ line: String) -> Bool {
        let compact = line.filter { $0 != " " }
        guard compact.count >= 3, let first = compact.first, "-*_".contains(first) else { return false }
        return compact.allSatisfy { $0 == first }
    }

    /// `(ordered, text)` for a list item line: `- x`, `* x`, `+ x` or `1. x` / `1) x`.
    private static func listItem(_ line: String) -> (Bool, String)? {
        if let first = line.first, "-*+".contains(first), line.dropFirst().first == " " {
            return (false, String(line.dropFirst(2)))
        }
        let digits = line.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 9 else { return nil }
        let rest = line.dropFirst(digits.count)
        guard let mark = rest.first, mark == "." || mark == ")", rest.dropFirst().first == " " else { return nil }
        return (true, String(rest.dropFirst(2)))
    }

    // MARK: Inline

    /// How far an opening delimiter looks for its closer: bounds the work on adversarial input.
    private static let window = 1_000

    static func inline(_ text: String) -> String {
        var out = ""
        renderInline(Array(text), 0..<text.count, into: &out, depth: 0, inLink: false)
        return out
    }

    private static func renderInline(_ c: [Character], _ range: Range<Int>, into out: inout String, depth: Int, inLink: Bool) {
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            let ch = c[i]
            switch ch {
            case "\\" where i + 1 < end && isPunctuation(c[i + 1]):
                out += SafeHTML.escape(String(c[i + 1])); i += 2
            case "\n":
                out += "\n"; i += 1
            case "`":
                let ticks = run(of: "`", in: c, from: i, end: end)
                if let close = find(run: ticks, of: "`", in: c, from: i + ticks, end: end) {
                    let code = String(c[(i + ticks)..<close]).trimmingCharacters(in: .whitespaces)
                    out += "<code>" + SafeHTML.escape(code) + "</code>"
                    i = close + ticks
                } else {
                    out += String(repeating: "`", count: ticks); i += ticks
                }
            case "*", "_":
                let count = min(run(of: ch, in: c, from: i, end: end), 2)
                if depth < 8, let close = closer(ch, count: count, in: c, from: i, end: end) {
                    let tag = count == 2 ? "strong" : "em"
                    out += "<\(tag)>"
                    renderInline(c, (i + count)..<close, into: &out, depth: depth + 1, inLink: inLink)
                    out += "</\(tag)>"
                    i = close + count
                } else {
                    let all = run(of: ch, in: c, from: i, end: end)
                    out += String(repeating: ch, count: all); i += all
                }
            case "[" where !inLink && depth < 8:
                if let (textRange, href, next) = link(c, from: i, end: end) {
                    if let href = safeHref(href) {
                        out += "<a href=\"" + SafeHTML.escape(href) + "\" rel=\"nofollow noopener\">"
                        renderInline(c, textRange, into: &out, depth: depth + 1, inLink: true)
                        out += "</a>"
                    } else {
                        renderInline(c, textRange, into: &out, depth: depth + 1, inLink: true)
                    }
                    i = next
                } else {
                    out += "["; i += 1
                }
            case "<" where !inLink:
                // An autolink <https://…>; anything else starting with < is text.
                if let close = c[(i + 1)..<min(end, i + window)].firstIndex(of: ">") {
                    let target = String(c[(i + 1)..<close])
                    let lower = target.lowercased()
                    if (lower.hasPrefix("http://") || lower.hasPrefix("https://") || lower.hasPrefix("mailto:")), let href = safeHref(target) {
                        out += "<a href=\"" + SafeHTML.escape(href) + "\" rel=\"nofollow noopener\">" + SafeHTML.escape(target) + "</a>"
                        i = close + 1
                        continue
                    }
                }
                out += "&lt;"; i += 1
            default:
                out += SafeHTML.escape(String(ch)); i += 1
            }
        }
    }

    private static func isPunctuation(_ ch: Character) -> Bool {
        ch.isASCII && (ch.isPunctuation || ch.isSymbol)
    }

    private static func run(of ch: Character, in c: [Character], from start: Int, end: Int) -> Int {
        var n = 0
        while start + n < end, c[start + n] == ch { n += 1 }
        return n
    }

    /// The start of the next run of exactly `count` backticks.
    private static func find(run count: Int, of ch: Character, in c: [Character], from start: Int, end: Int) -> Int? {
        var j = start
        let limit = min(end, start + window)
        while j < limit {
            if c[j] == ch {
                let n = run(of: ch, in: c, from: j, end: end)
                if n == count { return j }
                j += n
            } else {
                j += 1
            }
        }
        return nil
    }

    /// The closing delimiter of emphasis opened at `start`: the opener must not be followed by
    /// space, the closer not preceded by one; `_` does not open or close inside a word.
    private static func closer(_ ch: Character, count: Int, in c: [Character], from start: Int, end: Int) -> Int? {
        let open = start + count
        guard open < end, !c[open].isWhitespace else { return nil }
        if ch == "_", start > 0, c[start - 1].isLetter || c[start - 1].isNumber { return nil }
        var j = open + 1
        let limit = min(end, open + window)
        while j < limit {
            if c[j] == "`" {   // emphasis does not close inside a code span
                let ticks = run(of: "`", in: c, from: j, end: end)
                if let close = find(run: ticks, of: "`", in: c, from: j + ticks, end: end) { j = close + ticks; continue }
            }
            if c[j] == ch {
                let n = run(of: ch, in: c, from: j, end: end)
                let after = j + n
                let closesWord = ch == "*" || after >= end || !(c[after].isLetter || c[after].isNumber)
                if n >= count, !c[j - 1].isWhitespace, closesWord {
                    return j + (n - count)
                }
                j += n
            } else {
                j += 1
            }
        }
        return nil
    }

    /// `[text](target)`: the text's range, the target and the index after the `)`.
    private static func link(_ c: [Character], from start: Int, end: Int) -> (Range<Int>, String, Int)? {
        let limit = min(end, start + window)
        var j = start + 1
        var nesting = 0
        while j < limit {
            if c[j] == "\\" { j += 2; continue }
            if c[j] == "[" { nesting += 1 }
            if c[j] == "]" { if nesting == 0 { break }; nesting -= 1 }
            j += 1
        }
        guard j < limit, j + 1 < end, c[j + 1] == "(" else { return nil }
        // The destination ends at the `)` that balances its own parentheses, as in CommonMark.
        var close = j + 2
        var depth = 0
        let destinationLimit = min(end, j + 2 + window)
        while close < destinationLimit {
            if c[close] == "(" { depth += 1 } else if c[close] == ")" { if depth == 0 { break }; depth -= 1 }
            close += 1
        }
        guard close < destinationLimit else { return nil }
        var target = String(c[(j + 2)..<close]).trimmingCharacters(in: .whitespaces)
        if let space = target.firstIndex(where: { $0 == " " }) { target = String(target[..<space]) }   // drop a "title"
        if target.hasPrefix("<") && target.hasSuffix(">") && target.count >= 2 { target = String(target.dropFirst().dropLast()) }
        return ((start + 1)..<j, target, close + 1)
    }

    /// The link target when it is http(s), mailto or relative; nil for anything else
    /// (`javascript:`, `data:`, `vbscript:`, control characters, white space).
    package static func safeHref(_ raw: String) -> String? {
        guard !raw.isEmpty, raw.count <= 2_000 else { return nil }
        guard !raw.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F || $0.properties.isWhitespace || $0 == "\\" || $0 == "\"" || $0 == "<" || $0 == ">" })
        else { return nil }
        let schemeEnd = raw.firstIndex(where: { $0 == ":" || $0 == "/" || $0 == "?" || $0 == "#" })
        if let schemeEnd, raw[schemeEnd] == ":" {
            let scheme = raw[..<schemeEnd].lowercased()
            guard ["http", "https", "mailto"].contains(scheme) else { return nil }
            if scheme != "mailto" && !raw[raw.index(after: schemeEnd)...].hasPrefix("//") { return nil }
        }
        return raw
    }
}

/// HTML escaping and the allowlist pass that every rendered answer goes through last.
package enum SafeHTML {
    /// `text` with `& < > " '` escaped: safe in element content and in quoted attributes.
    package static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `html` with every tag that is not exactly one the renderer emits (an allowed element, the
    /// one link form `<a href="…" rel="nofollow noopener">`) turned into text.
    package static func enforce(_ html: String) -> String {
        var out = ""
        var rest = Substring(html)
        while let open = rest.firstIndex(of: "<") {
            out += rest[..<open]
            guard let close = rest[open...].firstIndex(of: ">") else {
                out += escape(String(rest[open...])); return out
            }
            let tag = rest[open...close]
            out += isAllowed(tag) ? String(tag) : escape(String(tag))
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        return out
    }

    private static func isAllowed(_ tag: Substring) -> Bool {
        var body = tag.dropFirst().dropLast()
        let closing = body.first == "/"
        if closing { body = body.dropFirst() }
        if SafeMarkdown.allowedElements.contains(String(body)) { return true }
        guard !closing, body.hasPrefix("a href=\""), body.hasSuffix("\" rel=\"nofollow noopener\"") else { return false }
        let href = body.dropFirst("a href=\"".count).dropLast("\" rel=\"nofollow noopener\"".count)
        return !href.contains("\"") && !href.contains("<") && !href.contains(">")
    }

    /// The text content of safe HTML: tags removed, the five entities decoded.
    package static func text(ofHTML html: String) -> String {
        var out = ""
        var tag: String?
        for ch in html {
            if ch == "<" { tag = ""; continue }
            if ch == ">", let name = tag {
                // Block boundaries become spaces; inline tags join their text.
                if !["em", "strong", "code", "a"].contains(name.split(separator: " ").first.map { String($0.drop { $0 == "/" }) } ?? "") { out += " " }
                tag = nil
                continue
            }
            if tag != nil { tag!.append(ch) } else { out.append(ch) }
        }
        let decoded = out.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
        return decoded.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).joined(separator: " ")
    }
}
