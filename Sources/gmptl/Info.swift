import ArgumentParser
import CSndFile
import CYAML
import Kernels

/// `gmptl info`: the CPU, the OpenBLAS kernels in use and why, the linked libraries and the kernel thread count.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the CPU, the OpenBLAS core in use and why, the linked libraries and the thread settings.",
        discussion: """
            gmptl checks OpenBLAS's choice of kernels at start-up: when OpenBLAS picked a core weaker than the CPU \
            runs (a processor newer than the library), it restarts with OPENBLAS_CORETYPE set to the best one. A \
            user's own OPENBLAS_CORETYPE is always respected.
            """)

    @Option(name: .customLong("can-run"), help: ArgumentHelp(
        "Only answer whether this CPU runs an OpenBLAS core's kernels (exit status 0 or 1).", valueName: "core"))
    var canRun: String?

    func run() throws {
        let cpu = CPUIdentity.current
        if let core = canRun {
            guard BLASCore.tier(of: core) != nil else {
                throw ValidationError("'\(core)' is not an OpenBLAS x86-64 core name (Prescott, Sandybridge, Haswell, Zen, SkylakeX, Cooperlake, ...)")
            }
            let runs = BLASCore.canRun(core, on: cpu)
            print(runs ? "\(core): this CPU runs it" : "\(core): this CPU lacks \(BLASCore.tier(of: core).map(\.description) ?? "")")
            throw ExitCode(runs ? 0 : 1)
        }
        let selection = BLASCore.selection
        print("CPU         \(cpu) (\(cpu.features.list.joined(separator: " ")))")
        print("OpenBLAS    \(BLASCore.configuration)")
        print("core        \(selection.core) (\(BLASCore.tier(of: selection.core).map(\.description) ?? "unranked")): \(selection.reason)")
        print("libyaml     \(String(cString: yaml_get_version_string()))")
        print("libsndfile  \(String(cString: sf_version_string()))")
        print("gemm        \(Gemm.engine.rawValue): \(Gemm.selection.reason)")
        print("threads     \(KernelThreads.count)")
    }
}
