/// Shell-style glob matching over UTF-8 bytes: `*` matches any run (including none), `?` one
/// character; everything else matches itself. Used by `ShardedCache.invalidatePattern(_:)`.
struct Glob: Sendable {
    private let pattern: [UInt8]
    /// `"faq:*"`-style patterns (one trailing star, no other wildcard) are by far the common case;
    /// they are answered with a prefix comparison instead of the general matcher.
    private let literalPrefix: [UInt8]?

    init(_ pattern: String) {
        self.pattern = Array(pattern.utf8)
        let stars = self.pattern.filter { $0 == UInt8(ascii: "*") }.count
        let questions = self.pattern.contains(UInt8(ascii: "?"))
        if stars == 1, !questions, self.pattern.last == UInt8(ascii: "*") {
            literalPrefix = Array(self.pattern.dropLast())
        } else {
            literalPrefix = nil
        }
    }

    func matches(_ string: String) -> Bool {
        var string = string
        return string.withUTF8 { matches($0) }
    }

    func matches(_ s: UnsafeBufferPointer<UInt8>) -> Bool {
        if let prefix = literalPrefix {
            guard s.count >= prefix.count else { return false }
            for i in 0..<prefix.count where s[i] != prefix[i] { return false }
            return true
        }
        // Iterative matcher with single-star backtracking: linear for patterns with one star and
        // O(n·m) at worst, never exponential.
        let p = pattern
        var si = 0, pi = 0
        var starP = -1, starS = 0
        while si < s.count {
            if pi < p.count, p[pi] == UInt8(ascii: "*") {
                starP = pi; starS = si; pi += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "?") {
                // `?` is one character, not one byte: skip the UTF-8 continuation bytes too.
                si += 1
                while si < s.count, s[si] & 0xC0 == 0x80 { si += 1 }
                pi += 1
            } else if pi < p.count, p[pi] == s[si] {
                si += 1; pi += 1
            } else if starP >= 0 {
                pi = starP + 1
                starS += 1
                while starS < s.count, s[starS] & 0xC0 == 0x80 { starS += 1 }
                si = starS
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
