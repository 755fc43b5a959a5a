import BLASCoreSelection
import CBLAS

/// The OpenBLAS kernels ("core") this process uses, and how they were chosen.
///
/// OpenBLAS picks its core once, when it loads, from its own table of CPU models; a CPU newer than the library can
/// get kernels far below what it runs. The C target `BLASCoreSelection` checks that choice before `main` and
/// restarts the program with `OPENBLAS_CORETYPE` set when a better core exists and the user has not set the
/// variable (docs/architecture.md, "OpenBLAS core at start-up"). This type reports the outcome and exposes the
/// decision for tests.
public enum BLASCore {
    /// Levels of OpenBLAS x86-64 kernels by the instructions they need, weakest first.
    public enum Tier: Int, Comparable, Sendable, CustomStringConvertible {
        case sse = 0, avx, avx2, avx512, avx512bf16

        public static func < (a: Tier, b: Tier) -> Bool { a.rawValue < b.rawValue }

        /// The instructions the tier's kernels use ("AVX-512 with BF16").
        public var description: String {
            String(cString: gmptl_core_tier_instructions(gmptl_core_tier(rawValue: Int32(rawValue))))
        }

        init?(_ tier: gmptl_core_tier) {
            guard tier.rawValue >= 0 else { return nil }
            self.init(rawValue: Int(tier.rawValue))
        }
    }

    /// The tier of an OpenBLAS core name (any case); nil for a name the table does not know.
    public static func tier(of core: String) -> Tier? { Tier(gmptl_core_tier_of(core)) }

    /// The highest tier a CPU runs.
    public static func tier(of cpu: CPUIdentity) -> Tier {
        var c = cpu.cValue
        return Tier(gmptl_cpu_tier(&c)) ?? .sse
    }

    /// The core to ask OpenBLAS for at a CPU's best tier: Cooperlake, SkylakeX, Zen (AMD, Hygon) or Haswell, ...
    public static func bestCore(for cpu: CPUIdentity) -> String {
        var c = cpu.cValue
        return String(cString: gmptl_core_for_tier(&c, gmptl_cpu_tier(&c)))
    }

    /// Whether a CPU runs a core's kernels (false for a name the table does not know).
    public static func canRun(_ core: String, on cpu: CPUIdentity) -> Bool {
        guard let needed = tier(of: core) else { return false }
        return needed <= tier(of: cpu)
    }

    /// What the start-up selection does for a CPU and the core OpenBLAS reported.
    public enum Decision: Equatable, Sendable {
        /// The core in use is as good as the CPU allows (or the user chose it, or its name is unknown).
        case keep
        /// Restart with `OPENBLAS_CORETYPE` set to this core.
        case switchTo(String)
        /// The user's `OPENBLAS_CORETYPE` selects kernels the CPU cannot run.
        case refuse
    }

    /// The decision of the start-up selection (a pure function; the constructor calls the same C code).
    public static func decide(cpu: CPUIdentity, reported: String, userSet: Bool) -> Decision {
        var c = cpu.cValue
        let decision = gmptl_decide_core(&c, reported, userSet ? 1 : 0)
        switch decision.action {
        case GMPTL_CORE_SWITCH: return .switchTo(decision.core.map { String(cString: $0) } ?? "")
        case GMPTL_CORE_REFUSE: return .refuse
        default: return .keep
        }
    }

    /// The core OpenBLAS uses in this process.
    public static var inUse: String { String(cString: openblas_get_corename()) }

    /// OpenBLAS's build description (version, DYNAMIC_ARCH, ...).
    public static var configuration: String { String(cString: openblas_get_config()) }

    /// The core in use and how it came to be, in words: what `gmptl info` prints and `run.json` records.
    public static var selection: Selection { Selection(cpu: .current, core: inUse, startup: gmptl_core_startup_status().pointee) }

    /// The core in use, the CPU, and the reason.
    public struct Selection: Sendable {
        public var cpu: CPUIdentity
        public var core: String
        /// How the core was chosen: "openblas", "user", "selected", "restart-failed", "not-x86".
        public var origin: String
        /// One sentence for a person.
        public var reason: String

        init(cpu: CPUIdentity, core: String, startup: gmptl_core_startup) {
            self.cpu = cpu
            self.core = core
            let requested = Self.string(startup.requested), replaced = Self.string(startup.replaced)
            let best = BLASCore.tier(of: cpu)
            let coreTier = BLASCore.tier(of: core)
            switch startup.origin {
            case GMPTL_ORIGIN_USER:
                origin = "user"
                var reason = "set by the user's OPENBLAS_CORETYPE=\(requested)"
                if requested.lowercased() != core.lowercased() {
                    reason += "; OpenBLAS does not take that name and chose \(core) by itself"
                }
                if let coreTier, coreTier < best {
                    reason += "; this CPU runs \(best) (\(BLASCore.bestCore(for: cpu)) kernels): unset the variable to let gmptl choose"
                }
                self.reason = reason
            case GMPTL_ORIGIN_SELECTED:
                origin = "selected"
                var reason = "chosen at start-up: OpenBLAS picked \(replaced) (\(BLASCore.tier(of: replaced).map(\.description) ?? "unknown kernels")) on a CPU that runs \(best)"
                if let coreTier, let wanted = BLASCore.tier(of: requested), coreTier < wanted {
                    reason += "; asked for \(requested), but OpenBLAS uses \(core)"
                }
                self.reason = reason
            case GMPTL_ORIGIN_RESTART_FAILED:
                origin = "restart-failed"
                reason = "OpenBLAS picked \(replaced) on a CPU that runs \(best); restarting with \(requested) failed (error \(startup.error)): set OPENBLAS_CORETYPE=\(requested)"
            case GMPTL_ORIGIN_NOT_X86:
                origin = "not-x86"
                reason = "OpenBLAS's own choice (not an x86-64 build: no selection)"
            case GMPTL_ORIGIN_OPENBLAS_UNKNOWN:
                origin = "openblas"
                reason = "OpenBLAS's own choice (a core name gmptl does not rank, left as it is)"
            default:
                origin = "openblas"
                reason = "OpenBLAS's own choice, the best this CPU runs (\(best))"
            }
        }

        private static func string<T>(_ tuple: T) -> String {
            withUnsafeBytes(of: tuple) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
    }
}
