// Which OpenBLAS core a CPU should run, and whether to replace the one OpenBLAS chose. Pure functions.
#include "BLASCoreSelection.h"

#include <stddef.h>
#include <strings.h>

/// OpenBLAS's x86-64 core names (driver/others/dynamic.c, 0.3.21 and later) by the instructions their kernels use.
static const struct { const char *name; gmptl_core_tier tier; } known_cores[] = {
    {"Katmai", GMPTL_TIER_SSE}, {"Coppermine", GMPTL_TIER_SSE}, {"Northwood", GMPTL_TIER_SSE},
    {"Prescott", GMPTL_TIER_SSE}, {"Banias", GMPTL_TIER_SSE}, {"Atom", GMPTL_TIER_SSE},
    {"Core2", GMPTL_TIER_SSE}, {"Penryn", GMPTL_TIER_SSE}, {"Dunnington", GMPTL_TIER_SSE},
    {"Nehalem", GMPTL_TIER_SSE}, {"Athlon", GMPTL_TIER_SSE}, {"Opteron", GMPTL_TIER_SSE},
    {"Opteron(SSE3)", GMPTL_TIER_SSE}, {"Barcelona", GMPTL_TIER_SSE}, {"Nano", GMPTL_TIER_SSE},
    {"Bobcat", GMPTL_TIER_SSE},
    {"Sandybridge", GMPTL_TIER_AVX}, {"Bulldozer", GMPTL_TIER_AVX}, {"Piledriver", GMPTL_TIER_AVX},
    {"Steamroller", GMPTL_TIER_AVX}, {"Excavator", GMPTL_TIER_AVX},
    {"Haswell", GMPTL_TIER_AVX2}, {"Zen", GMPTL_TIER_AVX2},
    {"SkylakeX", GMPTL_TIER_AVX512},
    {"Cooperlake", GMPTL_TIER_AVX512_BF16}, {"SapphireRapids", GMPTL_TIER_AVX512_BF16},
};

gmptl_core_tier gmptl_core_tier_of(const char *core) {
    if (core == NULL) return GMPTL_TIER_UNKNOWN;
    for (size_t index = 0; index < sizeof known_cores / sizeof known_cores[0]; index++) {
        if (strcasecmp(core, known_cores[index].name) == 0) return known_cores[index].tier;
    }
    return GMPTL_TIER_UNKNOWN;
}

static int has_all(const gmptl_cpu *cpu, unsigned features) { return (cpu->features & features) == features; }

gmptl_core_tier gmptl_cpu_tier(const gmptl_cpu *cpu) {
    const unsigned avx2 = GMPTL_CPU_AVX | GMPTL_CPU_AVX2 | GMPTL_CPU_FMA;
    const unsigned avx512 = avx2 | GMPTL_CPU_AVX512F | GMPTL_CPU_AVX512CD | GMPTL_CPU_AVX512BW | GMPTL_CPU_AVX512DQ |
                            GMPTL_CPU_AVX512VL;
    if (has_all(cpu, avx512 | GMPTL_CPU_AVX512_BF16)) return GMPTL_TIER_AVX512_BF16;
    if (has_all(cpu, avx512)) return GMPTL_TIER_AVX512;
    if (has_all(cpu, avx2)) return GMPTL_TIER_AVX2;
    if (has_all(cpu, GMPTL_CPU_AVX)) return GMPTL_TIER_AVX;
    return GMPTL_TIER_SSE;
}

const char *gmptl_core_tier_instructions(gmptl_core_tier tier) {
    switch (tier) {
    case GMPTL_TIER_AVX512_BF16: return "AVX-512 with BF16";
    case GMPTL_TIER_AVX512: return "AVX-512 (F, CD, BW, DQ, VL)";
    case GMPTL_TIER_AVX2: return "AVX2 and FMA";
    case GMPTL_TIER_AVX: return "AVX";
    case GMPTL_TIER_SSE:
    case GMPTL_TIER_UNKNOWN: return "SSE3";
    }
    return "SSE3";
}

const char *gmptl_core_for_tier(const gmptl_cpu *cpu, gmptl_core_tier tier) {
    switch (tier) {
    case GMPTL_TIER_AVX512_BF16: return "Cooperlake";
    case GMPTL_TIER_AVX512: return "SkylakeX";
    case GMPTL_TIER_AVX2: {
        // OpenBLAS gives AMD and Hygon processors its Zen core (Haswell's kernels with Zen's blocking sizes).
        int amd = strcasecmp(cpu->vendor, "AuthenticAMD") == 0 || strcasecmp(cpu->vendor, "HygonGenuine") == 0;
        return amd ? "Zen" : "Haswell";
    }
    case GMPTL_TIER_AVX: return "Sandybridge";
    case GMPTL_TIER_SSE:
    case GMPTL_TIER_UNKNOWN: return "Prescott";
    }
    return "Prescott";
}

gmptl_core_decision gmptl_decide_core(const gmptl_cpu *cpu, const char *reported, int user_set) {
    gmptl_core_decision keep = {GMPTL_CORE_KEEP, NULL};
    gmptl_core_tier in_use = gmptl_core_tier_of(reported), best = gmptl_cpu_tier(cpu);
    if (cpu->vendor[0] == 0) return keep;  // cpuid unavailable: nothing known to compare with
    if (user_set) {
        // Respected, unless its kernels need instructions this CPU lacks (they would stop the program with SIGILL).
        if (in_use != GMPTL_TIER_UNKNOWN && in_use > best) return (gmptl_core_decision){GMPTL_CORE_REFUSE, NULL};
        return keep;
    }
    if (in_use == GMPTL_TIER_UNKNOWN || in_use >= best) return keep;
    return (gmptl_core_decision){GMPTL_CORE_SWITCH, gmptl_core_for_tier(cpu, best)};
}
