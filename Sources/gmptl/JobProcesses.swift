import ArgumentParser
import Collectives
import GraphIR

/// The processes of a command started under mpirun (train, label): one process without it.
enum JobProcesses {
    /// The job this process belongs to; an MPI start-up failure is an error, not a trap.
    static func world() throws -> Communicator {
        do { return try Communicator.world() } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
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
