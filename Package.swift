// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "GMPTL",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gmptl", targets: ["gmptl"]),
        .library(name: "Kernels", targets: ["Kernels"]),
        .library(name: "GraphIR", targets: ["GraphIR"]),
        .library(name: "GraphSpec", targets: ["GraphSpec"]),
        .library(name: "Compiler", targets: ["Compiler"]),
        .library(name: "Runtime", targets: ["Runtime"]),
        // Test support: preloaded into gmptl to make OpenBLAS look as if it had fallen back to Prescott.
        .library(name: "OpenBLASFallbackShim", type: .dynamic, targets: ["OpenBLASFallbackShim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries (Debian packages; pkg-config supplies the flags).
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CSndFile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),

        // Open MPI's calls over MPI_COMM_WORLD as plain C functions (the communicator is a macro Swift cannot import),
        // and the communicator of data-parallel training above them (size 1 and no MPI call without mpirun).
        .target(name: "MPIBridge", dependencies: ["CMPI"]),
        .target(name: "Collectives", dependencies: ["MPIBridge"]),

        // OpenBLAS kernels matched to the CPU: a constructor that runs before main in every process linking it
        // (gmptl, the test executables) and restarts with OPENBLAS_CORETYPE set when OpenBLAS chose a weaker core.
        .target(name: "BLASCoreSelection", dependencies: ["CBLAS"]),

        // Our single-precision GEMM for AVX2 CPUs (packed B, 6 x 16 FMA tile, fused bias and GELU), chosen at run
        // time where it beats OpenBLAS (Kernels/Gemm.swift); its functions carry their own target attributes.
        .target(name: "PackedGemm", cSettings: [.unsafeFlags(["-O3"])]),

        // Files written atomically (temporary file, fsync, rename), for every writer of the project; input files read
        // only when regular and bounded; folders made and locked.
        .target(name: "FileSystem"),

        // CPU kernels over raw buffers. Compiled for the building machine's CPU: without it Swift targets
        // baseline x86-64 (SSE2), where `floor` is a libm call and 16-lane SIMD is emulated, and the pointwise
        // kernels run 3-10x slower. The project builds from source on the machine that runs it.
        .target(
            name: "Kernels",
            dependencies: ["CBLAS", "BLASCoreSelection", "PackedGemm"],
            swiftSettings: [.unsafeFlags(["-target-cpu", "native"])]
        ),

        // The graph IR: values, ops, symbolic shapes, verifier, text and DOT; diagnostics shared by every stage.
        .target(name: "GraphIR"),

        // The YAML graph language: reader over libyaml with source marks, spec types, lowering to GraphIR.
        .target(name: "GraphSpec", dependencies: ["CYAML", "GraphIR", "FileSystem"]),

        // The compiler's passes over the IR: reverse-mode autodiff and the training graph of a stage (losses, gradients).
        .target(name: "Compiler", dependencies: ["GraphIR"]),

        // The interpreter: tensors, parameter stores, checkpoints (safetensors, HF directories), execution of the
        // compiler's plans.
        .target(name: "Runtime", dependencies: ["Kernels", "GraphIR", "Compiler", "FileSystem"]),

        // Audio input through libsndfile; resampling (threaded with the kernels' `Parallel`).
        .target(name: "Audio", dependencies: ["CSndFile", "GraphIR", "FileSystem", "Kernels"]),

        // ONNX export: the inference graph lowered op by op to ONNX nodes, written with our protobuf writer.
        .target(name: "ONNXExport", dependencies: ["GraphIR", "Runtime", "Kernels"]),

        // Speech emotion recognition: corpora, folds, batching, the demo corpus, metrics and reports (later: the stage runner).
        .target(name: "SER", dependencies: ["Audio", "Runtime", "Compiler", "GraphSpec", "GraphIR", "Kernels", "FileSystem", "Collectives"]),

        // The command line.
        .executableTarget(
            name: "gmptl",
            dependencies: [
                "Kernels", "GraphIR", "GraphSpec", "Compiler", "Runtime", "Audio", "SER", "FileSystem", "Collectives", "ONNXExport", "CYAML", "CSndFile", "CBLAS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Test support: counts heap allocations made by the calling thread; snapshot comparison.
        .target(name: "CAllocationCounter", path: "Tests/CAllocationCounter"),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .target(name: "OpenBLASFallbackShim", path: "Tests/OpenBLASFallbackShim"),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "CAllocationCounter"]),
        .testTarget(name: "GraphIRTests", dependencies: ["GraphIR", "TestSupport"], exclude: ["Snapshots"]),
        .testTarget(name: "CommandLineTests", dependencies: ["Runtime", "Kernels", "Audio", "ONNXExport"]),
        .testTarget(name: "FileSystemTests", dependencies: ["FileSystem"]),
        .testTarget(name: "AudioTests", dependencies: ["Audio", "Kernels"]),
        .testTarget(name: "ONNXExportTests", dependencies: ["ONNXExport", "GraphSpec", "GraphIR", "Runtime", "Kernels"]),
        .testTarget(name: "SERTests", dependencies: ["SER", "Audio", "Runtime", "Collectives", "GraphSpec"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "GraphSpec", "GraphIR", "Kernels", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "CompilerTests", dependencies: ["Compiler", "Runtime", "GraphSpec", "GraphIR", "Kernels", "SER", "TestSupport"], exclude: ["Fixtures", "Snapshots"]),
        .testTarget(name: "GraphSpecTests", dependencies: ["GraphSpec", "GraphIR", "TestSupport"], exclude: ["Snapshots"]),
    ]
)
