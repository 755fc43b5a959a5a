import ArgumentParser
import CBLAS
import CSndFile
import CYAML
import Kernels

/// `gmptl info`: the system libraries this build links and the kernel thread count.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the linked libraries and the thread settings.")

    func run() throws {
        let yaml = String(cString: yaml_get_version_string())
        let sndfile = String(cString: sf_version_string())
        let blas = String(cString: openblas_get_config())
        print("libyaml     \(yaml)")
        print("libsndfile  \(sndfile)")
        print("OpenBLAS    \(blas) (core \(String(cString: openblas_get_corename())))")
        print("threads     \(KernelThreads.count)")
    }
}
