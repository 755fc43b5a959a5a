/// The rows of a k-means fit spread over processes (data-parallel pseudo-labelling): this process holds rows
/// `first ..< first + n` of `total`, in the order one process would hold them all, and the fit reaches the others
/// through two collective operations. Every process makes the same calls in the same order, and gets the same
/// centroids as one process with every row, within the rounding of sums added in another order.
///
/// `whole(n)` is one process: the sums and gathers are the identity.
public struct KMeansShards: Sendable {
    /// Rows over all processes.
    public var total: Int
    /// The index over all processes of this process's first row.
    public var first: Int
    /// Element-wise sums over the processes.
    public var sum: @Sendable ([Double]) -> [Double]
    /// Every process's values (any count, whole rows), concatenated in rank order; bit patterns are kept.
    public var gather: @Sendable ([Float]) -> [Float]
    /// One process with every row: no collective call is made.
    public var isWhole = false

    public init(total: Int, first: Int, sum: @escaping @Sendable ([Double]) -> [Double], gather: @escaping @Sendable ([Float]) -> [Float]) {
        self.total = total
        self.first = first
        self.sum = sum
        self.gather = gather
    }

    /// All `n` rows in this process.
    public static func whole(_ n: Int) -> KMeansShards {
        var shards = KMeansShards(total: n, first: 0, sum: { $0 }, gather: { $0 })
        shards.isWhole = true
        return shards
    }

    /// The same processes over a subset of the rows: `local` of them here, after `before` on lower ranks, `total` in all.
    func subset(total: Int, before: Int) -> KMeansShards {
        var shards = KMeansShards(total: total, first: before, sum: sum, gather: gather)
        shards.isWhole = isWhole
        return shards
    }

    /// The rows whose indices over all processes are `indices` (sorted), gathered from their holders in that order.
    func rows(_ indices: [Int], x: UnsafePointer<Float>, n: Int, d: Int) -> [Float] {
        var mine = [Float]()
        for index in indices where index >= first && index < first + n {
            mine += UnsafeBufferPointer(start: x + (index - first) * d, count: d)
        }
        return gather(mine)
    }
}
