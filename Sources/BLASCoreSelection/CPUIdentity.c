// The running CPU through cpuid and xgetbv.
#include "BLASCoreSelection.h"

#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>

/// XCR0, the register states the operating system saves; xgetbv exists only when CPUID.1:ECX.OSXSAVE is set.
static unsigned long long extended_control_register(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

void gmptl_cpu_read(gmptl_cpu *cpu) {
    memset(cpu, 0, sizeof *cpu);
    unsigned int eax, ebx, ecx, edx;
    unsigned int maximum = __get_cpuid_max(0, 0);
    if (maximum < 1) return;
    __cpuid(0, eax, ebx, ecx, edx);
    memcpy(cpu->vendor, &ebx, 4);
    memcpy(cpu->vendor + 4, &edx, 4);
    memcpy(cpu->vendor + 8, &ecx, 4);
    cpu->vendor[12] = 0;

    __cpuid(1, eax, ebx, ecx, edx);
    int base_family = (eax >> 8) & 0xf, base_model = (eax >> 4) & 0xf;
    cpu->family = base_family == 0xf ? base_family + ((eax >> 20) & 0xff) : base_family;
    cpu->model = (base_family == 0x6 || base_family == 0xf) ? base_model + (((eax >> 16) & 0xf) << 4) : base_model;

    unsigned features = 0;
    if (ecx & (1u << 0)) features |= GMPTL_CPU_SSE3;
    int os_saves_ymm = 0, os_saves_zmm = 0;
    if (ecx & (1u << 27)) {  // OSXSAVE: xgetbv is allowed
        unsigned long long xcr0 = extended_control_register();
        os_saves_ymm = (xcr0 & 0x6) == 0x6;     // SSE and AVX state
        os_saves_zmm = (xcr0 & 0xe6) == 0xe6;   // and opmask, ZMM_Hi256, Hi16_ZMM
    }
    if (os_saves_ymm && (ecx & (1u << 28))) features |= GMPTL_CPU_AVX;
    if (os_saves_ymm && (ecx & (1u << 12))) features |= GMPTL_CPU_FMA;

    if (maximum >= 7) {
        __cpuid_count(7, 0, eax, ebx, ecx, edx);
        unsigned int subleaves = eax;
        if (os_saves_ymm && (ebx & (1u << 5))) features |= GMPTL_CPU_AVX2;
        if (os_saves_zmm) {
            if (ebx & (1u << 16)) features |= GMPTL_CPU_AVX512F;
            if (ebx & (1u << 17)) features |= GMPTL_CPU_AVX512DQ;
            if (ebx & (1u << 28)) features |= GMPTL_CPU_AVX512CD;
            if (ebx & (1u << 30)) features |= GMPTL_CPU_AVX512BW;
            if (ebx & (1u << 31)) features |= GMPTL_CPU_AVX512VL;
            if (edx & (1u << 23)) features |= GMPTL_CPU_AVX512_FP16;
        }
        if (edx & (1u << 22)) features |= GMPTL_CPU_AMX_BF16;
        if (subleaves >= 1) {
            __cpuid_count(7, 1, eax, ebx, ecx, edx);
            if (os_saves_zmm && (eax & (1u << 5))) features |= GMPTL_CPU_AVX512_BF16;
        }
    }
    cpu->features = features;
}

#else

void gmptl_cpu_read(gmptl_cpu *cpu) { memset(cpu, 0, sizeof *cpu); }

#endif
