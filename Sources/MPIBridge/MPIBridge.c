#include "MPIBridge.h"

#include <mpi.h>
#include <stdlib.h>
#include <string.h>

int gmptl_mpi_init(int *rank, int *size) {
    int provided = 0;
    int status = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    if (status != MPI_SUCCESS) return status;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    status = MPI_Comm_rank(MPI_COMM_WORLD, rank);
    if (status != MPI_SUCCESS) return status;
    return MPI_Comm_size(MPI_COMM_WORLD, size);
}

int gmptl_mpi_finalize(void) { return MPI_Finalize(); }

// MPI counts are ints: large buffers go in pieces of at most 2^30 elements.
#define GMPTL_MPI_CHUNK ((size_t)1 << 30)

/// In-place sum of `count` values of `type` (`size` bytes each), in pieces MPI's int counts can hold.
static int allreduce_sum(void *values, size_t count, MPI_Datatype type, size_t size) {
    char *cursor = values;
    for (size_t done = 0; done < count; done += GMPTL_MPI_CHUNK) {
        size_t part = count - done < GMPTL_MPI_CHUNK ? count - done : GMPTL_MPI_CHUNK;
        int status = MPI_Allreduce(MPI_IN_PLACE, cursor + done * size, (int)part, type, MPI_SUM, MPI_COMM_WORLD);
        if (status != MPI_SUCCESS) return status;
    }
    return MPI_SUCCESS;
}

int gmptl_mpi_allreduce_sum_float(float *values, size_t count) { return allreduce_sum(values, count, MPI_FLOAT, sizeof(float)); }

int gmptl_mpi_allreduce_sum_double(double *values, size_t count) { return allreduce_sum(values, count, MPI_DOUBLE, sizeof(double)); }

int gmptl_mpi_start_sum_float(float *values, int count, void **handle) {
    MPI_Request *request = malloc(sizeof(MPI_Request));
    if (request == NULL) return MPI_ERR_NO_MEM;
    int status = MPI_Iallreduce(MPI_IN_PLACE, values, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, request);
    if (status != MPI_SUCCESS) {
        free(request);
        return status;
    }
    *handle = request;
    return MPI_SUCCESS;
}

int gmptl_mpi_test(void **handle, int *done) {
    *done = 0;
    if (*handle == NULL) {
        *done = 1;
        return MPI_SUCCESS;
    }
    int status = MPI_Test((MPI_Request *)*handle, done, MPI_STATUS_IGNORE);
    if (status == MPI_SUCCESS && *done) {
        free(*handle);
        *handle = NULL;
    }
    return status;
}

int gmptl_mpi_wait(void **handle) {
    if (*handle == NULL) return MPI_SUCCESS;
    int status = MPI_Wait((MPI_Request *)*handle, MPI_STATUS_IGNORE);
    free(*handle);
    *handle = NULL;
    return status;
}

int gmptl_mpi_allreduce_max_long(long *values, size_t count) {
    return MPI_Allreduce(MPI_IN_PLACE, values, (int)count, MPI_LONG, MPI_MAX, MPI_COMM_WORLD);
}

int gmptl_mpi_broadcast(void *bytes, size_t count, int root) {
    char *cursor = bytes;
    for (size_t done = 0; done < count; done += GMPTL_MPI_CHUNK) {
        size_t part = count - done < GMPTL_MPI_CHUNK ? count - done : GMPTL_MPI_CHUNK;
        int status = MPI_Bcast(cursor + done, (int)part, MPI_BYTE, root, MPI_COMM_WORLD);
        if (status != MPI_SUCCESS) return status;
    }
    return MPI_SUCCESS;
}

int gmptl_mpi_allgatherv_words(const void *words, int count, void *gathered, const int *counts, const int *offsets) {
    return MPI_Allgatherv(words, count, MPI_FLOAT, gathered, counts, offsets, MPI_FLOAT, MPI_COMM_WORLD);
}

void gmptl_mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

void gmptl_mpi_error_text(int code, char *text, size_t capacity) {
    char buffer[MPI_MAX_ERROR_STRING];
    int length = 0;
    if (MPI_Error_string(code, buffer, &length) != MPI_SUCCESS) length = 0;
    buffer[length < MPI_MAX_ERROR_STRING ? length : MPI_MAX_ERROR_STRING - 1] = 0;
    if (capacity > 0) {
        strncpy(text, buffer, capacity - 1);
        text[capacity - 1] = 0;
    }
}
