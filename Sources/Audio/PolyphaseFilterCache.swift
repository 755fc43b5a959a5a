import Synchronization

/// The polyphase filters built so far, by rate pair: each pair's filter is designed once per process.
final class PolyphaseFilterCache: Sendable {
    /// The cache the resampler uses.
    static let shared = PolyphaseFilterCache()

    /// The most rate pairs kept; the cache starts over when it is full (a process meets a handful of rates).
    static let capacity = 8

    private struct RatePair: Hashable {
        var source: Int
        var target: Int
    }

    private let filters = Mutex<[RatePair: PolyphaseFilter]>([:])

    /// The filter for `source` Hz to `target` Hz (both positive), designed on first use. The design runs outside the
    /// lock; two threads asking for a new pair at once may both design it, and the first stored is kept.
    func filter(from source: Int, to target: Int) -> PolyphaseFilter {
        let key = RatePair(source: source, target: target)
        if let filter = filters.withLock({ $0[key] }) { return filter }
        let designed = PolyphaseFilter(from: source, to: target)
        return filters.withLock { table in
            if let existing = table[key] { return existing }
            if table.count >= Self.capacity { table.removeAll() }
            table[key] = designed
            return designed
        }
    }
}
