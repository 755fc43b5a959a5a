#ifndef ALLOCATION_COUNTER_H
#define ALLOCATION_COUNTER_H

/// Starts counting heap allocations (malloc, calloc, realloc, aligned allocations) made by the calling thread.
void allocation_counter_start(void);

/// Stops counting on the calling thread and returns how many allocations it saw since the matching start.
long allocation_counter_stop(void);

#endif
