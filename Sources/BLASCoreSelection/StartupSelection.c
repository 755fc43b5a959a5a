// The start-up selection: runs as a constructor in every process that links this target (gmptl and the test
// executables), after OpenBLAS has loaded and chosen its core, before main.
#include "BLASCoreSelection.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

extern char *openblas_get_corename(void);

static gmptl_core_startup startup_status;

const gmptl_core_startup *gmptl_core_startup_status(void) { return &startup_status; }

static void copy_name(char *target, size_t size, const char *source, size_t length) {
    if (length >= size) length = size - 1;
    memcpy(target, source, length);
    target[length] = 0;
}

/// A process restarted by the selection (or a child of one) finds its choice in GMPTL_OPENBLAS_CORE_CHOICE;
/// returns whether that choice is the OPENBLAS_CORETYPE in force.
static int read_own_choice(const char *coretype) {
    const char *choice = getenv(GMPTL_CORE_CHOICE_VARIABLE);
    if (choice == NULL) return 0;
    const char *separator = strchr(choice, ':');
    if (separator == NULL) return 0;
    size_t requested = (size_t)(separator - choice);
    if (requested != strlen(coretype) || strncasecmp(choice, coretype, requested) != 0) return 0;
    startup_status.origin = GMPTL_ORIGIN_SELECTED;
    copy_name(startup_status.requested, sizeof startup_status.requested, choice, requested);
    copy_name(startup_status.replaced, sizeof startup_status.replaced, separator + 1, strlen(separator + 1));
    return 1;
}

static void refuse_user_core(const gmptl_cpu *cpu, const char *coretype, const char *in_use) {
    gmptl_core_tier best = gmptl_cpu_tier(cpu);
    fprintf(stderr,
            "error: OPENBLAS_CORETYPE=%s makes OpenBLAS use its %s kernels, which need %s; this CPU (%s family %d "
            "model %d) has %s at most, and they would stop the program with an illegal instruction.\n"
            "hint: unset OPENBLAS_CORETYPE to let gmptl choose (%s on this CPU), or set a core this CPU runs.\n",
            coretype, in_use, gmptl_core_tier_instructions(gmptl_core_tier_of(in_use)), cpu->vendor, cpu->family, cpu->model,
            gmptl_core_tier_instructions(best), gmptl_core_for_tier(cpu, best));
    _exit(2);
}

__attribute__((constructor)) static void gmptl_select_blas_core(int argc, char **argv, char **envp) {
    (void)argc;
    (void)envp;
#if !defined(__x86_64__)
    startup_status.origin = GMPTL_ORIGIN_NOT_X86;
    return;
#else
    gmptl_cpu cpu;
    gmptl_cpu_read(&cpu);
    const char *in_use = openblas_get_corename();
    const char *coretype = getenv("OPENBLAS_CORETYPE");
    if (coretype != NULL && coretype[0] != 0) {
        if (read_own_choice(coretype)) return;
        startup_status.origin = GMPTL_ORIGIN_USER;
        copy_name(startup_status.requested, sizeof startup_status.requested, coretype, strlen(coretype));
        if (gmptl_decide_core(&cpu, in_use, 1).action == GMPTL_CORE_REFUSE) refuse_user_core(&cpu, coretype, in_use);
        return;
    }
    gmptl_core_decision decision = gmptl_decide_core(&cpu, in_use, 0);
    if (decision.action != GMPTL_CORE_SWITCH) {
        startup_status.origin =
            gmptl_core_tier_of(in_use) == GMPTL_TIER_UNKNOWN ? GMPTL_ORIGIN_OPENBLAS_UNKNOWN : GMPTL_ORIGIN_OPENBLAS;
        return;
    }
    // OpenBLAS reads OPENBLAS_CORETYPE only while it loads: run this program again, from its first instruction,
    // with the variable set. Nothing has run but constructors, so nothing is lost.
    char choice[80];
    snprintf(choice, sizeof choice, "%s:%s", decision.core, in_use);
    char executable[4096];
    ssize_t length = readlink("/proc/self/exe", executable, sizeof executable - 1);
    int error = ENOENT;
    if (length > 0 && argv != NULL && argv[0] != NULL) {
        executable[length] = 0;
        setenv("OPENBLAS_CORETYPE", decision.core, 1);
        setenv(GMPTL_CORE_CHOICE_VARIABLE, choice, 1);
        execv(executable, argv);
        error = errno;
        unsetenv("OPENBLAS_CORETYPE");
        unsetenv(GMPTL_CORE_CHOICE_VARIABLE);
    }
    startup_status.origin = GMPTL_ORIGIN_RESTART_FAILED;
    startup_status.error = error;
    copy_name(startup_status.requested, sizeof startup_status.requested, decision.core, strlen(decision.core));
    copy_name(startup_status.replaced, sizeof startup_status.replaced, in_use, strlen(in_use));
    fprintf(stderr,
            "warning: OpenBLAS chose its %s kernels on a CPU that runs %s (%s would be faster), and the restart "
            "to switch failed (%s); set OPENBLAS_CORETYPE=%s to use them.\n",
            in_use, gmptl_core_tier_instructions(gmptl_cpu_tier(&cpu)), decision.core, strerror(error), decision.core);
#endif
}
