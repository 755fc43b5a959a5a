#!/usr/bin/env python3
"""k-means in scikit-learn and faiss on the data of `gmptl bench kmeans`, for docs/performance.md.

Run by hand in the reference environment (not part of the build or the tests), in the same sitting as
`gmptl bench kmeans`, so that the ratio is honest:

    /work/refenv/bin/pip install faiss-cpu scikit-learn
    gmptl bench kmeans --save-data /tmp/kmeans.safetensors ...
    /work/refenv/bin/python scripts/bench_kmeans_reference.py --data /tmp/kmeans.safetensors \
        [--k 64,512,4096] [--iterations 20] [--seed 0] [--threads 2] [--skip-sklearn-above 1024] \
        [--methods faiss,sklearn]

The data is the float32 tensor `x` [n, d] of the safetensors file that gmptl wrote, or, with --synthesize instead
of --data, a Gaussian mixture made here (--clusters centres ~ N(0, 1) in d dims, each point a random centre plus
N(0, 0.5^2) noise, numpy generator seeded with --seed).

For each K, one row per method:
- sklearn: KMeans(init="k-means++", n_init=1, max_iter=iterations, tol=0, algorithm="lloyd"), the quality
  reference: the same number of Lloyd iterations as gmptl (it stops earlier only if no label changes).
- faiss: faiss.Kmeans(niter=iterations, max_points_per_centroid=10**9), so that faiss clusters every point (by
  default it trains on a random subset of 256 points per centroid); initialised with K random points.
- faiss (default sampling): the same with faiss's default max_points_per_centroid=256, the setting behind the
  "faiss: K=256 about 4 s, K=1024 about 18 s" figures. When n <= 256·K faiss uses every point anyway, so the run
  would be the one above: its row repeats that run's figures, marked with '='.
  (faiss warns on stderr when n < 39·K, its min_points_per_centroid; the warning changes nothing.)

Seconds: the wall time of one fit (the data already loaded in memory; a small untimed fit first warms up each
library's thread pools). Inertia per sample is computed here, the same way for every method, from the final
centroids only: every point is assigned to its nearest centroid and the squared distances to it are summed (in
float64) and divided by n, so the figures compare across methods (and with gmptl's, computed the same way).
Threads: --threads is applied through OMP_NUM_THREADS and the BLAS variables set before numpy, faiss and
scikit-learn are imported, through threadpoolctl (BLAS and OpenMP) when it is installed, and faiss.omp_set_num_threads.
"""
import argparse
import os

from reference_timing import cpu_model, timed_runs

np = faiss = KMeans = None  # imported by load_libraries(), once the thread count is in the environment
THREAD_VARIABLES = ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"]
FAISS_DEFAULT_POINTS_PER_CENTROID = 256


def load_libraries(threads):
    """Imports numpy, faiss and scikit-learn with their thread pools limited to `threads`. Returns a description of
    the limits in force, and the threadpoolctl limiter (kept alive for the whole run) or None."""
    global np, faiss, KMeans
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    import numpy as np
    import faiss
    from sklearn.cluster import KMeans
    faiss.omp_set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        return f"{threads} threads (environment variables; no threadpoolctl)", None
    limiter = threadpool_limits(limits=threads)
    pools = ", ".join(f"{pool['internal_api']} {pool['num_threads']}" for pool in threadpool_info())
    return f"{threads} threads (threadpoolctl: {pools})", limiter


def load_data(path):
    """The float32 tensor `x` [n, d] of a `gmptl bench kmeans --save-data` file, and the file's metadata."""
    from safetensors import safe_open
    with safe_open(path, framework="np") as file:
        if "x" not in file.keys():
            raise SystemExit(f"{path}: no tensor 'x' (it has {', '.join(file.keys()) or 'none'})")
        x, metadata = file.get_tensor("x"), file.metadata() or {}
    if x.ndim != 2 or x.dtype != np.float32:
        raise SystemExit(f"{path}: 'x' should be float32 [n, d], got {x.dtype} {list(x.shape)}")
    return np.ascontiguousarray(x), metadata


def synthesize(n, d, clusters, seed):
    """A Gaussian mixture: `clusters` centres ~ N(0, 1), each point a uniformly drawn centre + N(0, 0.5^2) noise."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, d), dtype=np.float32)
    x = rng.standard_normal((n, d), dtype=np.float32)
    x *= 0.5
    x += centres[rng.integers(clusters, size=n)]
    return x


def inertia_per_sample(x, centroids, chunk=4096):
    """Mean squared distance of each point to its nearest centroid: the nearest by ||c||^2 - 2 x.c in float32
    matrix products, the distance to it recomputed exactly in float64."""
    centroids = np.ascontiguousarray(centroids, dtype=np.float32)
    norms = np.einsum("kd,kd->k", centroids, centroids)
    total = 0.0
    for start in range(0, len(x), chunk):
        block = x[start:start + chunk]
        scores = block @ centroids.T
        scores *= -2
        scores += norms
        nearest = scores.argmin(axis=1)
        residual = block.astype(np.float64) - centroids[nearest]
        total += float(np.einsum("nd,nd->", residual, residual))
    return total / len(x)


def fit_sklearn(x, k, iterations, seed):
    model = KMeans(n_clusters=k, init="k-means++", n_init=1, max_iter=iterations, tol=0, algorithm="lloyd",
                   random_state=seed).fit(x)
    return model.cluster_centers_, int(model.n_iter_)


def fit_faiss(x, k, iterations, seed, points_per_centroid):
    model = faiss.Kmeans(x.shape[1], k, niter=iterations, seed=seed, verbose=False,
                         max_points_per_centroid=points_per_centroid)
    model.train(x)
    return model.centroids, len(model.iteration_stats)


def warm_up(x, methods):
    """A small untimed fit per library, so that the timed fits do not pay for starting thread pools."""
    sample = x[:min(len(x), 2000)]
    if "sklearn" in methods:
        fit_sklearn(sample, 8, 2, 0)
    if "faiss" in methods:
        fit_faiss(sample, 8, 2, 0, 10**9)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", help="safetensors file written by `gmptl bench kmeans --save-data`")
    source.add_argument("--synthesize", action="store_true", help="make a Gaussian mixture here instead")
    parser.add_argument("--n", type=int, default=100_000, help="points (with --synthesize)")
    parser.add_argument("--d", type=int, default=768, help="dimensions (with --synthesize)")
    parser.add_argument("--clusters", type=int, default=2048, help="mixture components (with --synthesize)")
    parser.add_argument("--k", default="64,512,4096")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-sklearn-above", type=int, default=1024, metavar="K",
                        help="skip scikit-learn for larger K (its k-means++ is very slow at K=4096)")
    parser.add_argument("--methods", default="faiss,sklearn")
    args = parser.parse_args()
    ks = [int(k) for k in args.k.split(",")]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if unknown := [m for m in methods if m not in ("faiss", "sklearn")]:
        parser.error(f"unknown method {', '.join(unknown)} (known: faiss, sklearn)")
    if min(ks) < 2 or args.iterations < 1:
        parser.error("K must be at least 2 and --iterations at least 1")

    threads, limiter = load_libraries(args.threads)
    import sklearn
    if args.data:
        x, metadata = load_data(args.data)
        origin = f"{args.data}" + "".join(f"\n  {key}: {value}" for key, value in sorted(metadata.items()))
    else:
        x = synthesize(args.n, args.d, args.clusters, args.seed)
        origin = f"synthesized: {args.clusters} centres ~ N(0, 1) + N(0, 0.5^2) noise, seed {args.seed}"
    n, d = x.shape
    if max(ks) > n:
        parser.error(f"K = {max(ks)} is more than the {n} points")

    print(f"{cpu_model()}, {threads}")
    print(f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, faiss {faiss.__version__}")
    print(f"data: {n} x {d} float32, {origin}")
    print(f"{args.iterations} iterations, seed {args.seed}")
    warm_up(x, methods)
    print(f"{'method':<26}{'K':>6}{'iters':>7}{'points':>9}{'seconds':>10}{'inertia/n':>12}  init", flush=True)

    def row(name, k, iters, points, seconds, inertia, init):
        print(f"{name:<26}{k:>6}{iters:>7}{points:>9}{seconds:>10}{inertia:>12}  {init}", flush=True)

    def measure(name, k, init, points, fit):
        fitted = []
        seconds, = timed_runs(lambda: fitted.append(fit()), 0, 1)
        centroids, iters = fitted[0]
        figures = (iters, points, f"{seconds:.2f}", f"{inertia_per_sample(x, centroids):.4f}")
        row(name, k, *figures, init)
        return figures

    for k in ks:
        for method in methods:
            if method == "sklearn" and k > args.skip_sklearn_above:
                row("sklearn", k, "-", "-", "skipped", "-", f"K > --skip-sklearn-above {args.skip_sklearn_above}")
            elif method == "sklearn":
                measure("sklearn", k, "k-means++", n, lambda: fit_sklearn(x, k, args.iterations, args.seed))
            else:
                full = measure("faiss", k, "random points", n,
                               lambda: fit_faiss(x, k, args.iterations, args.seed, 10**9))
                sampled = min(n, k * FAISS_DEFAULT_POINTS_PER_CENTROID)
                if sampled == n:
                    row("faiss (default sampling)", k, *full[:2], "=" + full[2], full[3], "random points")
                else:
                    measure("faiss (default sampling)", k, "random points", sampled,
                            lambda: fit_faiss(x, k, args.iterations, args.seed, FAISS_DEFAULT_POINTS_PER_CENTROID))
    print("points: the points each fit clusters; '=': the same computation as the faiss row above (n <= 256·K), "
          "not run again")
    del limiter


if __name__ == "__main__":
    main()
