"""Timing shared by the reference benchmark scripts: the method of `gmptl bench` (a warm-up run, then the median of
repeated runs, at least 3 and at least `seconds` of them)."""
import statistics
import time


def median_seconds(fn, seconds):
    fn()
    samples = []
    start = time.perf_counter()
    while len(samples) < 3 or time.perf_counter() - start < seconds:
        begin = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - begin)
    return statistics.median(samples)
