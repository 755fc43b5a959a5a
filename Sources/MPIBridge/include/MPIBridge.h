#ifndef GMPTL_MPI_BRIDGE_H
#define GMPTL_MPI_BRIDGE_H

#include <stddef.h>

// A C face of the few MPI calls gmptl makes, over MPI_COMM_WORLD (a macro Swift cannot import). Every function
// returns MPI's error code (0 on success); errors are returned, never fatal (MPI_ERRORS_RETURN).

/// MPI_Init_thread with MPI_THREAD_FUNNELED (kernel threads never call MPI); writes the rank and size.
int gmptl_mpi_init(int *rank, int *size);
int gmptl_mpi_finalize(void);
/// In-place sum over all ranks.
int gmptl_mpi_allreduce_sum_float(float *values, size_t count);
int gmptl_mpi_allreduce_sum_double(double *values, size_t count);
/// Starts an in-place sum over all ranks (MPI_Iallreduce); `*handle` is set for gmptl_mpi_test and gmptl_mpi_wait,
/// which free it when the sum is complete. `values` must stay untouched until then.
int gmptl_mpi_start_sum_float(float *values, int count, void **handle);
/// Whether the started sum is complete (`*done` 1, and the handle freed), driving MPI's progress.
int gmptl_mpi_test(void **handle, int *done);
/// Waits for the started sum (and frees the handle).
int gmptl_mpi_wait(void **handle);
/// In-place maximum over all ranks.
int gmptl_mpi_allreduce_max_long(long *values, size_t count);
/// Bytes of rank `root` into every rank's `bytes`.
int gmptl_mpi_broadcast(void *bytes, size_t count, int root);
/// Every rank's `count` 4-byte words (floats or int32s; counts may differ by rank), rank order, into `gathered` on every
/// rank; `counts` and `offsets` (in words) give each rank's part.
int gmptl_mpi_allgatherv_words(const void *words, int count, void *gathered, const int *counts, const int *offsets);
/// Ends every process of the job with `code`.
void gmptl_mpi_abort(int code);
/// MPI's text for an error code, into `text` (at most `capacity` bytes, NUL-terminated).
void gmptl_mpi_error_text(int code, char *text, size_t capacity);

#endif
