import Kernels
import Testing

/// The start-up selection's decision (Sources/BLASCoreSelection/CoreDecision.c): the CPU, the core OpenBLAS
/// reported and whether the user set OPENBLAS_CORETYPE -> keep, switch to a core, or refuse.
@Suite("OpenBLAS core decision")
struct BLASCoreDecisionTests {
    static let avx2: CPUFeatures = [.sse3, .avx, .fma, .avx2]
    static let avx512: CPUFeatures = avx2.union([.avx512f, .avx512cd, .avx512bw, .avx512dq, .avx512vl])
    static let avx512bf16: CPUFeatures = avx512.union(.avx512bf16)

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var vendor: String
        var family: Int
        var model: Int
        var features: CPUFeatures
        var reported: String
        var userSet = false
        var expected: BLASCore.Decision
        var testDescription: String { "\(name): OpenBLAS reports \(reported)\(userSet ? " (user's variable)" : "")" }
        var cpu: CPUIdentity { CPUIdentity(vendor: vendor, family: family, model: model, features: features) }
    }

    static let cases: [Case] = [
        // Debian's 0.3.21 falls through to Prescott for Intel family 6 models it does not list (extended model 11, 12).
        Case(name: "Emerald Rapids (Intel 6/207)", vendor: "GenuineIntel", family: 6, model: 207,
             features: avx512bf16.union([.avx512fp16, .amxbf16]), reported: "Prescott", expected: .switchTo("Cooperlake")),
        Case(name: "Emerald Rapids, once restarted", vendor: "GenuineIntel", family: 6, model: 207,
             features: avx512bf16.union([.avx512fp16, .amxbf16]), reported: "Cooperlake", expected: .keep),
        Case(name: "Sapphire Rapids (Intel 6/143)", vendor: "GenuineIntel", family: 6, model: 143,
             features: avx512bf16.union([.avx512fp16, .amxbf16]), reported: "Cooperlake", expected: .keep),
        Case(name: "Sapphire Rapids, newer OpenBLAS", vendor: "GenuineIntel", family: 6, model: 143,
             features: avx512bf16.union([.avx512fp16, .amxbf16]), reported: "SapphireRapids", expected: .keep),
        Case(name: "Zen 4 (AMD 25/17)", vendor: "AuthenticAMD", family: 25, model: 17,
             features: avx512bf16, reported: "Cooperlake", expected: .keep),
        Case(name: "Zen 4 under an OpenBLAS that calls it Zen", vendor: "AuthenticAMD", family: 25, model: 17,
             features: avx512bf16, reported: "Zen", expected: .switchTo("Cooperlake")),
        Case(name: "Zen 5 (AMD 26/2)", vendor: "AuthenticAMD", family: 26, model: 2,
             features: avx512bf16, reported: "Cooperlake", expected: .keep),
        Case(name: "Zen 5 with a fallback", vendor: "AuthenticAMD", family: 26, model: 2,
             features: avx512bf16, reported: "Prescott", expected: .switchTo("Cooperlake")),
        Case(name: "Zen 2 (AMD 23/49), AVX2 only", vendor: "AuthenticAMD", family: 23, model: 49,
             features: avx2, reported: "Zen", expected: .keep),
        Case(name: "Zen 2 with a fallback", vendor: "AuthenticAMD", family: 23, model: 49,
             features: avx2, reported: "Prescott", expected: .switchTo("Zen")),
        Case(name: "Raptor Lake (Intel 6/183), AVX2 only", vendor: "GenuineIntel", family: 6, model: 183,
             features: avx2, reported: "Prescott", expected: .switchTo("Haswell")),
        Case(name: "Skylake-SP (Intel 6/85), AVX-512 without BF16", vendor: "GenuineIntel", family: 6, model: 85,
             features: avx512, reported: "SkylakeX", expected: .keep),
        Case(name: "Skylake-SP under Haswell kernels", vendor: "GenuineIntel", family: 6, model: 85,
             features: avx512, reported: "Haswell", expected: .switchTo("SkylakeX")),
        Case(name: "a core name the table does not know", vendor: "GenuineIntel", family: 6, model: 207,
             features: avx512bf16, reported: "GraniteRapids", expected: .keep),
        Case(name: "the user's Prescott on an AVX-512 CPU", vendor: "GenuineIntel", family: 6, model: 207,
             features: avx512bf16, reported: "Prescott", userSet: true, expected: .keep),
        Case(name: "the user's SkylakeX on an AVX2-only CPU", vendor: "AuthenticAMD", family: 23, model: 49,
             features: avx2, reported: "SkylakeX", userSet: true, expected: .refuse),
        Case(name: "the user's Cooperlake on AVX-512 without BF16", vendor: "GenuineIntel", family: 6, model: 85,
             features: avx512, reported: "Cooperlake", userSet: true, expected: .refuse),
        Case(name: "no cpuid information", vendor: "", family: 0, model: 0, features: [], reported: "Prescott",
             expected: .keep),
    ]

    @Test("decision per processor", arguments: cases)
    func decision(_ entry: Case) {
        #expect(BLASCore.decide(cpu: entry.cpu, reported: entry.reported, userSet: entry.userSet) == entry.expected)
    }

    @Test("tiers of core names (any case) and of CPUs")
    func tiers() {
        #expect(BLASCore.tier(of: "prescott") == .sse)
        #expect(BLASCore.tier(of: "Sandybridge") == .avx)
        #expect(BLASCore.tier(of: "ZEN") == .avx2)
        #expect(BLASCore.tier(of: "SkylakeX") == .avx512)
        #expect(BLASCore.tier(of: "Cooperlake") == .avx512bf16)
        #expect(BLASCore.tier(of: "Bogus") == nil)
        let zen2 = CPUIdentity(vendor: "AuthenticAMD", family: 23, model: 49, features: Self.avx2)
        #expect(BLASCore.tier(of: zen2) == .avx2)
        #expect(BLASCore.bestCore(for: zen2) == "Zen")
        #expect(BLASCore.canRun("Haswell", on: zen2))
        #expect(!BLASCore.canRun("SkylakeX", on: zen2))
        // FMA missing: not the AVX2 level OpenBLAS's Haswell kernels need.
        let noFMA = CPUIdentity(vendor: "GenuineIntel", family: 6, model: 60, features: [.sse3, .avx, .avx2])
        #expect(BLASCore.bestCore(for: noFMA) == "Sandybridge")
    }

    @Test("this machine: the core in use is one the CPU runs, and no weaker than its best unless the user chose it")
    func thisMachine() {
        let selection = BLASCore.selection
        let cpu = CPUIdentity.current
        guard !cpu.vendor.isEmpty, let inUse = BLASCore.tier(of: selection.core) else { return }
        #expect(inUse <= BLASCore.tier(of: cpu), "\(selection.core) on \(cpu)")
        if selection.origin != "user" {
            #expect(inUse == BLASCore.tier(of: cpu), "\(selection.core): \(selection.reason)")
        }
    }
}
