import ArgumentParser
import Collectives
import Foundation
import GraphIR
import Kernels

/// The processes of a command started under mpirun (train, label): one process without it.
enum JobProcesses {
    /// The job this process belongs to; an MPI start-up failure is an error, not a trap.
    static func world() throws -> Communicator {
        do { return try Communicator.world() } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }

    /// The job this process belongs to, with the kernel threads set: `threads` when given; else, for one of several
    /// processes, the machine's cores shared among the job's processes on it (Open MPI's OMPI_COMM_WORLD_LOCAL_SIZE,
    /// or Slurm's SLURM_CPUS_PER_TASK), so that N processes do not each start a thread per core.
    static func world(threads: Int?) throws -> Communicator {
        if let threads { KernelThreads.set(threads) }
        let world = try world()
        if threads == nil, world.isDistributed {
            let environment = ProcessInfo.processInfo.environment
            if let perTask = environment["SLURM_CPUS_PER_TASK"].flatMap(Int.init), perTask > 0 {
                KernelThreads.set(perTask)
            } else if let local = environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init), local > 0 {
                KernelThreads.set(max(1, ProcessInfo.processInfo.activeProcessorCount / local))
            }
        }
        return world
    }

    /// Reports a failure headed by this process's rank when there are several, and ends the whole job at once (the
    /// others would wait for this one in their next collective call); one process exits with status 1.
    static func fail(_ error: any Error, world: Communicator) throws -> Never {
        let text = (error as? any DiagnosticError).map { Diagnostic.render($0) } ?? "error: \(error)"
        printError(world.messagePrefix + text)
        if world.isDistributed { world.abort(code: 1) }
        throw ExitCode(1)
    }
}
