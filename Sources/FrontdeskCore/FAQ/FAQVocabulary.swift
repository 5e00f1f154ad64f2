import GRDB
import Synchronization

/// The words the FAQ's word index knows (from the `faq_vocab` view of `faq_fts`), kept in memory
/// to correct a misspelt query word to its nearest known word before the index is asked:
/// "pasword" becomes "password", "internatonal" becomes "international". Asking the word index
/// with the corrected word keeps bm25's ranking and the highlights; matching the query's
/// trigrams against every entry (the fallback) costs a scan of nearly the whole trigram index.
///
/// The copy (with the published entries per locale) is rebuilt when `faq_index_version`
/// (bumped by the entries' triggers, whoever writes) has moved since it was read, so edits,
/// imports and other processes are all seen.
final class FAQVocabulary: Sendable {
    struct Word: Sendable {
        let scalars: [Unicode.Scalar]
        let text: String
        /// Entries holding the word: the tie-breaker between equally near words.
        let entries: Int
    }

    private struct Snapshot: Sendable {
        let version: Int64
        /// Words by their length in scalars.
        let byLength: [Int: [Word]]
        /// Published entries per locale, for the search's choice of plan.
        let published: [String: Int]
    }

    private let snapshot = Mutex<Snapshot?>(nil)

    /// The nearest known word to `term` (already folded as the tokenizer folds), or nil when
    /// none is near enough: an optimal-string-alignment distance of 1, or 2 from eight letters,
    /// against the word or the word's beginning (query words are matched as prefixes), the first
    /// letter right or swapped with the second.
    func correction(for term: String, _ db: Database) throws -> String? {
        let target = Array(term.unicodeScalars)
        let n = target.count
        guard n >= 4 else { return nil }
        let allowed = n >= 8 ? 2 : 1
        let words = try current(db).byLength
        var best: (distance: Int, word: Word)?
        for length in (n - allowed)...(n + allowed + 6) {
            for word in words[length] ?? [] {
                // Misspellings seldom touch the first letter; skipping the rest keeps this cheap.
                let w = word.scalars
                guard w[0] == target[0] || (w[0] == target[1] && w[1] == target[0]) else { continue }
                var distance = Self.distance(target, word.scalars[...], bound: allowed)
                if word.scalars.count > n {
                    // "internatonal" against "internationally": compare with the word's first n ± 1 letters.
                    for k in max(n - 1, 1)...min(n + 1, word.scalars.count) {
                        distance = min(distance, Self.distance(target, word.scalars[..<k], bound: allowed))
                    }
                }
                guard distance <= allowed else { continue }
                if best == nil || distance < best!.distance || (distance == best!.distance && word.entries > best!.word.entries) {
                    best = (distance, word)
                }
            }
        }
        return best?.word.text
    }

    /// How many published entries `locale` has.
    func publishedCount(locale: String, _ db: Database) throws -> Int {
        try current(db).published[locale] ?? 0
    }

    private func current(_ db: Database) throws -> Snapshot {
        let version = try Int64.fetchOne(db, sql: "SELECT version FROM faq_index_version WHERE id = 1") ?? 0
        if let cached = snapshot.withLock({ $0 }), cached.version == version { return cached }
        var byLength: [Int: [Word]] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT term, doc FROM faq_vocab")
        while let row = try rows.next() {
            let text: String = row[0]
            let scalars = Array(text.unicodeScalars)
            // Numbers and single letters are not misspelt words.
            guard scalars.count >= 3, !scalars.contains(where: { ("0"..."9").contains($0) }) else { continue }
            byLength[scalars.count, default: []].append(Word(scalars: scalars, text: text, entries: row[1]))
        }
        var published: [String: Int] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT locale, count(*) FROM faq_entries WHERE status = 'published' GROUP BY locale") {
            published[row[0]] = row[1]
        }
        let fresh = Snapshot(version: version, byLength: byLength, published: published)
        snapshot.withLock { $0 = fresh }
        return fresh
    }

    /// Optimal string alignment distance (Levenshtein plus adjacent transpositions), giving up
    /// past `bound` (returns `bound + 1`).
    static func distance(_ a: [Unicode.Scalar], _ b: ArraySlice<Unicode.Scalar>, bound: Int) -> Int {
        let b = Array(b)
        if abs(a.count - b.count) > bound { return bound + 1 }
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var row = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            row[0] = i
            var smallest = row[0]
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { value = min(value, previous2[j - 2] + 1) }
                row[j] = value
                smallest = min(smallest, value)
            }
            if smallest > bound { return bound + 1 }
            (previous2, previous, row) = (previous, row, previous2)
        }
        return previous[b.count]
    }
}
