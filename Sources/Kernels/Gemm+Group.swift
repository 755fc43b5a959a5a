import PackedGemm

/// Products that share their left operand (`x W_i^T` for the attention's q, k and v), run as one.
extension Gemm {
    /// One product of a group: its right operand, where its result goes, and its epilogue.
    public struct GroupMember {
        public var b: UnsafePointer<Float>
        public var ldb: Int
        public var n: Int
        public var c: UnsafeMutablePointer<Float>
        public var ldc: Int
        public var epilogue: Epilogue

        public init(b: UnsafePointer<Float>, ldb: Int, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: Epilogue = .none) {
            self.b = b
            self.ldb = ldb
            self.n = n
            self.c = c
            self.ldc = ldc
            self.epilogue = epilogue
        }
    }

    /// `C_i = A op(B_i)` for every member, A `m x k`. On the packed engine the members' columns, taken together,
    /// are split across the kernel threads in one parallel region, as one product of their summed width would be
    /// (three 768-column products at 199 rows become one 2,304-column product's work: each thread runs a share of
    /// 1,152 columns instead of three shares of 384, with one fork instead of three); tall products split by rows,
    /// each thread running every member over its rows. Every element is computed as `multiply` computes it alone,
    /// so the results are bitwise those of separate products. OpenBLAS runs the members one after the other.
    public static func multiplyGroup(
        transB: Bool, m: Int, k: Int, a: UnsafePointer<Float>, lda: Int, members: [GroupMember], engine: Engine? = nil
    ) {
        guard m > 0, k > 0, engine ?? Self.engine == .packed else {
            for member in members {
                multiply(transB: transB, m: m, n: member.n, k: k, a: a, lda: lda, b: member.b, ldb: member.ldb,
                         c: member.c, ldc: member.ldc, epilogue: member.epilogue, engine: engine)
            }
            return
        }
        func run(_ member: GroupMember, rows: Range<Int>, columns: Range<Int>) {
            packedRectangle(transA: false, transB: transB, k: k, alpha: 1, a: a, lda: lda, b: member.b, ldb: member.ldb,
                            beta: 0, c: member.c, ldc: member.ldc, rows: rows, columns: columns, epilogue: member.epilogue)
        }
        let threads = KernelThreads.count
        let tileRows = Int(GMPTL_GEMM_TILE_ROWS), tileColumns = Int(GMPTL_GEMM_TILE_COLUMNS)
        let width = members.reduce(0) { $0 + $1.n }
        guard threads > 1, m * width * k >= parallelThreshold else {
            for member in members where member.n > 0 { run(member, rows: 0..<m, columns: 0..<member.n) }
            return
        }
        // The same split as one product of the summed width (`packedMultiply`).
        let panelCounts = members.map { ($0.n + tileColumns - 1) / tileColumns }
        let panels = panelCounts.reduce(0, +)
        if splitsByColumns(m: m, n: width, k: k, panels: panels, threads: threads) {
            Parallel.forChunks(panels, threads: threads) { range in
                // The members' panels in order: member i owns panels [start, start + panelCounts[i]).
                var start = 0
                for (index, member) in members.enumerated() {
                    let owned = start..<(start + panelCounts[index])
                    start = owned.upperBound
                    let taken = owned.clamped(to: range)
                    guard !taken.isEmpty else { continue }
                    let from = (taken.lowerBound - owned.lowerBound) * tileColumns
                    let to = min(member.n, (taken.upperBound - owned.lowerBound) * tileColumns)
                    run(member, rows: 0..<m, columns: from..<to)
                }
            }
        } else {
            let groups = (m + tileRows - 1) / tileRows
            Parallel.forChunks(groups, threads: threads) { range in
                let rows = range.lowerBound * tileRows..<min(m, range.upperBound * tileRows)
                for member in members where member.n > 0 { run(member, rows: rows, columns: 0..<member.n) }
            }
        }
    }
}
