import BLASCoreSelection

/// The processor as cpuid describes it: vendor, family and model as /proc/cpuinfo shows them, and the
/// instruction-set features that decide which OpenBLAS kernels it runs.
public struct CPUIdentity: Sendable, Equatable, CustomStringConvertible {
    public var vendor: String
    public var family: Int
    public var model: Int
    public var features: CPUFeatures

    public init(vendor: String, family: Int, model: Int, features: CPUFeatures) {
        self.vendor = vendor
        self.family = family
        self.model = model
        self.features = features
    }

    /// The CPU this process runs on.
    public static let current: CPUIdentity = {
        var cpu = gmptl_cpu()
        gmptl_cpu_read(&cpu)
        return CPUIdentity(cpu)
    }()

    init(_ cpu: gmptl_cpu) {
        let vendor = withUnsafeBytes(of: cpu.vendor) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        self.init(vendor: vendor, family: Int(cpu.family), model: Int(cpu.model), features: CPUFeatures(rawValue: cpu.features))
    }

    /// The C form, for the decision functions.
    var cValue: gmptl_cpu {
        var cpu = gmptl_cpu()
        withUnsafeMutableBytes(of: &cpu.vendor) { bytes in
            for (index, byte) in vendor.utf8.prefix(12).enumerated() { bytes[index] = byte }
        }
        cpu.family = Int32(family)
        cpu.model = Int32(model)
        cpu.features = features.rawValue
        return cpu
    }

    /// "GenuineIntel family 6 model 207".
    public var description: String { vendor.isEmpty ? "unknown CPU" : "\(vendor) family \(family) model \(model)" }
}

/// Instruction-set features of a CPU. AVX and AVX-512 features count only when the operating system saves their
/// registers, as a virtual machine may not.
public struct CPUFeatures: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let sse3 = CPUFeatures(rawValue: GMPTL_CPU_SSE3.rawValue)
    public static let avx = CPUFeatures(rawValue: GMPTL_CPU_AVX.rawValue)
    public static let fma = CPUFeatures(rawValue: GMPTL_CPU_FMA.rawValue)
    public static let avx2 = CPUFeatures(rawValue: GMPTL_CPU_AVX2.rawValue)
    public static let avx512f = CPUFeatures(rawValue: GMPTL_CPU_AVX512F.rawValue)
    public static let avx512bw = CPUFeatures(rawValue: GMPTL_CPU_AVX512BW.rawValue)
    public static let avx512vl = CPUFeatures(rawValue: GMPTL_CPU_AVX512VL.rawValue)
    public static let avx512dq = CPUFeatures(rawValue: GMPTL_CPU_AVX512DQ.rawValue)
    public static let avx512cd = CPUFeatures(rawValue: GMPTL_CPU_AVX512CD.rawValue)
    public static let avx512bf16 = CPUFeatures(rawValue: GMPTL_CPU_AVX512_BF16.rawValue)
    public static let avx512fp16 = CPUFeatures(rawValue: GMPTL_CPU_AVX512_FP16.rawValue)
    public static let amxbf16 = CPUFeatures(rawValue: GMPTL_CPU_AMX_BF16.rawValue)

    /// AVX2 with FMA: what OpenBLAS's Haswell and Zen kernels need.
    public static let avx2Level: CPUFeatures = [.avx, .fma, .avx2]
    /// The AVX-512 subsets OpenBLAS's SkylakeX kernels need.
    public static let avx512Level: CPUFeatures = avx2Level.union([.avx512f, .avx512cd, .avx512bw, .avx512dq, .avx512vl])

    /// The features by the names /proc/cpuinfo gives them, in a fixed order.
    public static let names: [(CPUFeatures, String)] = [
        (.sse3, "sse3"), (.avx, "avx"), (.fma, "fma"), (.avx2, "avx2"), (.avx512f, "avx512f"), (.avx512cd, "avx512cd"),
        (.avx512bw, "avx512bw"), (.avx512dq, "avx512dq"), (.avx512vl, "avx512vl"), (.avx512bf16, "avx512_bf16"),
        (.avx512fp16, "avx512_fp16"), (.amxbf16, "amx_bf16"),
    ]

    /// The names of the features present.
    public var list: [String] { Self.names.filter { contains($0.0) }.map(\.1) }
}
