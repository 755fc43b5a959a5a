"""Timing shared by the reference benchmark scripts: the method of `gmptl bench` (a warm-up run, then the median of
repeated runs, at least 3 and at least `seconds` of them), a fixed count of runs for the slower training step, and
the CPU's name."""
import platform
import statistics
import time


def cpu_model():
    """The CPU's model name, as the tables print it."""
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def median_seconds(fn, seconds):
    fn()
    samples = []
    start = time.perf_counter()
    while len(samples) < 3 or time.perf_counter() - start < seconds:
        begin = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - begin)
    return statistics.median(samples)


def timed_runs(fn, warmup, iterations):
    """Seconds of each of `iterations` runs of fn, after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(iterations):
        begin = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - begin)
    return samples
