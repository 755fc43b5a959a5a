import MPIBridge
#if canImport(Glibc)
import Glibc
#endif

/// The processes of a job and the collective operations data-parallel training needs: sums over all processes,
/// broadcasts, and ending the whole job. Open MPI underneath when the process was started by `mpirun` (or srun with
/// PMIx); otherwise one process, size 1, and no MPI call at all, so a plain `gmptl train` behaves as before.
///
/// Kernel threads never call it: only the thread that runs the training loop does (MPI_THREAD_FUNNELED).
public final class Communicator: @unchecked Sendable {
    /// This process's rank, 0 ..< size.
    public let rank: Int
    public let size: Int
    /// Whether MPI was started (false: one process, every operation is the identity).
    public let usesMPI: Bool

    /// One process, no MPI.
    public static let single = Communicator(rank: 0, size: 1, usesMPI: false)

    private init(rank: Int, size: Int, usesMPI: Bool) {
        self.rank = rank
        self.size = size
        self.usesMPI = usesMPI
    }

    /// The job this process belongs to: MPI's world when a launcher started it (`mpirun`, `srun --mpi=pmix`),
    /// else `single`. MPI is initialised on first use and finalised when the process exits normally.
    public static func world() throws(CommunicationError) -> Communicator {
        if let existing = worldInstance { return existing }
        guard launchedByMPI(ProcessEnvironment.variables) else {
            worldInstance = single
            return single
        }
        var rank: Int32 = 0, size: Int32 = 1
        try check(gmptl_mpi_init(&rank, &size), "MPI_Init")
        atexit { _ = gmptl_mpi_finalize() }
        let world = Communicator(rank: Int(rank), size: Int(size), usesMPI: true)
        worldInstance = world
        return world
    }

    nonisolated(unsafe) private static var worldInstance: Communicator?

    /// Whether the environment is that of a process an MPI launcher started: Open MPI's `mpirun` sets
    /// OMPI_COMM_WORLD_SIZE, PMIx launchers (Slurm's srun --mpi=pmix, prterun) set PMIX_RANK.
    static func launchedByMPI(_ environment: [String: String]) -> Bool {
        environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMIX_RANK"] != nil
    }

    public var isDistributed: Bool { size > 1 }

    /// `values` summed element by element over all ranks, in place on every rank.
    public func sum(_ values: UnsafeMutableBufferPointer<Float>) throws(CommunicationError) {
        guard usesMPI, size > 1, let base = values.baseAddress else { return }
        try Self.check(gmptl_mpi_allreduce_sum_float(base, values.count), "MPI_Allreduce")
    }

    public func sum(_ values: inout [Double]) throws(CommunicationError) {
        guard usesMPI, size > 1, !values.isEmpty else { return }
        let status = values.withUnsafeMutableBufferPointer { gmptl_mpi_allreduce_sum_double($0.baseAddress, $0.count) }
        try Self.check(status, "MPI_Allreduce")
    }

    /// Starts summing `values` over all ranks without waiting (one process: nothing to do). `values` must stay
    /// allocated and untouched until the returned sum is complete.
    public func startSum(_ values: UnsafeMutableBufferPointer<Float>) throws(CommunicationError) -> PendingSum {
        let pending = PendingSum()
        guard usesMPI, size > 1, let base = values.baseAddress, !values.isEmpty else { return pending }
        guard values.count <= Int(Int32.max) else { throw CommunicationError("a sum of \(values.count) values is too large to start at once") }
        try Self.check(gmptl_mpi_start_sum_float(base, Int32(values.count), &pending.handle), "MPI_Iallreduce")
        return pending
    }

    /// The largest of each element over all ranks.
    public func maximum(_ values: inout [Int]) throws(CommunicationError) {
        guard usesMPI, size > 1, !values.isEmpty else { return }
        let status = values.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CLong.self) { gmptl_mpi_allreduce_max_long($0.baseAddress, $0.count) }
        }
        try Self.check(status, "MPI_Allreduce")
    }

    /// Rank `root`'s bytes on every rank (the others' `bytes` are replaced; sizes are sent first).
    public func broadcast(_ bytes: inout [UInt8], from root: Int = 0) throws(CommunicationError) {
        guard usesMPI, size > 1 else { return }
        var count = [Int64(bytes.count)]
        var status = count.withUnsafeMutableBytes { gmptl_mpi_broadcast($0.baseAddress, $0.count, Int32(root)) }
        try Self.check(status, "MPI_Bcast")
        if rank != root { bytes = [UInt8](repeating: 0, count: Int(count[0])) }
        status = bytes.withUnsafeMutableBytes { gmptl_mpi_broadcast($0.baseAddress, $0.count, Int32(root)) }
        try Self.check(status, "MPI_Bcast")
    }

    /// Every rank's `values` (their counts may differ), in rank order, on every rank. Bit patterns travel as they
    /// are (Int32 and Float alike); a rank's part is at most 2^31 - 1 values.
    public func gather<Word: BitwiseCopyable>(_ values: [Word]) throws(CommunicationError) -> [[Word]] {
        precondition(MemoryLayout<Word>.size == 4, "gather moves 4-byte values")
        guard usesMPI, size > 1 else { return [values] }
        guard values.count < Int(Int32.max) else { throw CommunicationError("a part of \(values.count) values is too large to gather") }
        var counts = [Double](repeating: 0, count: size)
        counts[rank] = Double(values.count)
        try sum(&counts)
        guard counts.reduce(0, +) < Double(Int32.max) else {
            throw CommunicationError("\(Int(counts.reduce(0, +))) values are too many to gather at once")
        }
        let words = counts.map { Int32($0) }
        var offsets = [Int32](repeating: 0, count: size)
        for r in 1..<size { offsets[r] = offsets[r - 1] + words[r - 1] }
        var gathered = [Word](unsafeUninitializedCapacity: Int(words.reduce(0, +))) { buffer, initialized in
            initialized = buffer.count
        }
        let status = values.withUnsafeBytes { part in
            gathered.withUnsafeMutableBytes { all in
                gmptl_mpi_allgatherv_words(part.baseAddress, Int32(values.count), all.baseAddress, words, offsets)
            }
        }
        try Self.check(status, "MPI_Allgatherv")
        return (0..<size).map { r in Array(gathered[Int(offsets[r])..<Int(offsets[r] + words[r])]) }
    }

    /// Ends every process of the job with `code` (MPI_Abort), or this process alone without MPI. The caller has
    /// printed why, naming this rank.
    public func abort(code: Int32 = 1) -> Never {
        if usesMPI, size > 1 { gmptl_mpi_abort(code) }
        exit(code)
    }

    /// "rank 1 of 4: " for messages of a distributed job, "" for one process.
    public var messagePrefix: String { size > 1 ? "rank \(rank) of \(size): " : "" }

    static func check(_ status: Int32, _ call: String) throws(CommunicationError) {
        guard status != 0 else { return }
        var text = [CChar](repeating: 0, count: 512)
        gmptl_mpi_error_text(status, &text, text.count)
        let message = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        throw CommunicationError("\(call) failed: \(message.isEmpty ? "error \(status)" : message)")
    }
}

/// A sum started by `Communicator.startSum`. MPI moves it along only inside MPI calls: `isComplete` (cheap) between
/// pieces of work, `wait` at the end.
public final class PendingSum: @unchecked Sendable {
    fileprivate var handle: UnsafeMutableRawPointer?

    /// Whether the sum is done (and MPI's progress driven a step).
    public func isComplete() throws(CommunicationError) -> Bool {
        guard handle != nil else { return true }
        var done: Int32 = 0
        try Communicator.check(gmptl_mpi_test(&handle, &done), "MPI_Test")
        return done != 0
    }

    public func wait() throws(CommunicationError) {
        guard handle != nil else { return }
        try Communicator.check(gmptl_mpi_wait(&handle), "MPI_Wait")
    }

    deinit { if handle != nil { _ = gmptl_mpi_wait(&handle) } }
}

/// A failed collective operation (a peer gone, a network error).
public struct CommunicationError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The process's environment variables.
enum ProcessEnvironment {
    static var variables: [String: String] {
        var result = [String: String]()
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            cursor += 1
        }
        return result
    }
}
