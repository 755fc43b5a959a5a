// OpenBLAS kernels matched to the processor, chosen before any BLAS call.
//
// OpenBLAS (DYNAMIC_ARCH builds, such as Debian's) picks its kernels ("core") once, when the library is loaded,
// from its own table of CPU models, or from the variable OPENBLAS_CORETYPE. A model newer than the library may get
// a core far below what the processor can run (Debian's 0.3.21 gives an Emerald Rapids Xeon its SSE3 Prescott
// kernels, five times slower). A constructor in this target runs in every process that links it, after OpenBLAS
// has initialised: it compares the core OpenBLAS chose with the best one the CPU supports and, when OpenBLAS's is
// weaker and the user has not set OPENBLAS_CORETYPE, restarts the program with that variable set
// (docs/architecture.md, "OpenBLAS core at start-up").
#ifndef GMPTL_BLAS_CORE_SELECTION_H
#define GMPTL_BLAS_CORE_SELECTION_H

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction-set features that decide which OpenBLAS kernels a CPU can run. AVX and AVX-512 count only when the
/// operating system saves their registers (XCR0), as virtual machines may not.
typedef enum {
    GMPTL_CPU_SSE3 = 1 << 0,
    GMPTL_CPU_AVX = 1 << 1,
    GMPTL_CPU_FMA = 1 << 2,
    GMPTL_CPU_AVX2 = 1 << 3,
    GMPTL_CPU_AVX512F = 1 << 4,
    GMPTL_CPU_AVX512BW = 1 << 5,
    GMPTL_CPU_AVX512VL = 1 << 6,
    GMPTL_CPU_AVX512DQ = 1 << 7,
    GMPTL_CPU_AVX512CD = 1 << 8,
    GMPTL_CPU_AVX512_BF16 = 1 << 9,
    GMPTL_CPU_AVX512_FP16 = 1 << 10,
    GMPTL_CPU_AMX_BF16 = 1 << 11,
} gmptl_cpu_feature;

/// What cpuid says about the processor: vendor string, display family and model (extended fields folded in, as
/// /proc/cpuinfo shows them) and the features above.
typedef struct {
    char vendor[13];
    int family;
    int model;
    unsigned features;
} gmptl_cpu;

/// Reads the running CPU (on other architectures than x86-64: an empty vendor and no features).
void gmptl_cpu_read(gmptl_cpu *cpu);

/// Levels of OpenBLAS x86-64 kernels by the instructions they need, weakest first.
typedef enum {
    GMPTL_TIER_UNKNOWN = -1,     // a core name this table does not know
    GMPTL_TIER_SSE = 0,          // Prescott, Core2, Nehalem, Barcelona, ... (SSE2/SSE3)
    GMPTL_TIER_AVX = 1,          // Sandybridge, Bulldozer, Piledriver, Steamroller, Excavator
    GMPTL_TIER_AVX2 = 2,         // Haswell, Zen (AVX2 with FMA)
    GMPTL_TIER_AVX512 = 3,       // SkylakeX (AVX-512 F, CD, BW, DQ, VL)
    GMPTL_TIER_AVX512_BF16 = 4,  // Cooperlake, SapphireRapids (AVX-512 with BF16)
} gmptl_core_tier;

/// The instructions a tier's kernels need, in words ("AVX-512 with BF16").
const char *gmptl_core_tier_instructions(gmptl_core_tier tier);

/// The tier of an OpenBLAS core name as openblas_get_corename() or OPENBLAS_CORETYPE spell it (any case).
gmptl_core_tier gmptl_core_tier_of(const char *core);

/// The highest tier whose instructions the CPU (and the operating system) supports.
gmptl_core_tier gmptl_cpu_tier(const gmptl_cpu *cpu);

/// The OpenBLAS core to ask for at a tier on this CPU: Cooperlake, SkylakeX, Zen (AMD, Hygon) or Haswell,
/// Sandybridge, Prescott.
const char *gmptl_core_for_tier(const gmptl_cpu *cpu, gmptl_core_tier tier);

typedef enum {
    GMPTL_CORE_KEEP = 0,     // the core in use is as good as the CPU allows, or the user chose it
    GMPTL_CORE_SWITCH = 1,   // restart with OPENBLAS_CORETYPE = core
    GMPTL_CORE_REFUSE = 2,   // the user's OPENBLAS_CORETYPE selects kernels this CPU cannot run
} gmptl_core_action;

typedef struct {
    gmptl_core_action action;
    const char *core;  // for GMPTL_CORE_SWITCH: the core to ask for (a static string)
} gmptl_core_decision;

/// The decision for a CPU, the core OpenBLAS reported, and whether the user set OPENBLAS_CORETYPE. A pure function
/// of its arguments (unit-tested over a table of processors).
gmptl_core_decision gmptl_decide_core(const gmptl_cpu *cpu, const char *reported, int user_set);

/// How the core in use came to be, as the start-up selection saw it.
typedef enum {
    GMPTL_ORIGIN_OPENBLAS = 0,        // OpenBLAS's own choice, as good as the CPU allows
    GMPTL_ORIGIN_OPENBLAS_UNKNOWN,    // OpenBLAS's own choice, a core name not in the table: left alone
    GMPTL_ORIGIN_USER,                // the user's OPENBLAS_CORETYPE, respected
    GMPTL_ORIGIN_SELECTED,            // chosen at start-up: the program restarted with OPENBLAS_CORETYPE set
    GMPTL_ORIGIN_RESTART_FAILED,      // a better core exists, but the restart failed (errno in `error`)
    GMPTL_ORIGIN_NOT_X86,             // not an x86-64 build: nothing to choose
} gmptl_core_origin;

typedef struct {
    gmptl_core_origin origin;
    char requested[32];  // SELECTED, RESTART_FAILED: the core asked for; USER: the variable's value
    char replaced[32];   // SELECTED, RESTART_FAILED: the core OpenBLAS had chosen by itself
    int error;           // RESTART_FAILED: errno of execv
} gmptl_core_startup;

/// What the start-up selection did in this process.
const gmptl_core_startup *gmptl_core_startup_status(void);

/// The name of the environment variable that tells a restarted process which core was chosen for it and which
/// one it replaced ("Cooperlake:Prescott"); inherited by child processes, which then report the same origin.
#define GMPTL_CORE_CHOICE_VARIABLE "GMPTL_OPENBLAS_CORE_CHOICE"

#ifdef __cplusplus
}
#endif

#endif
