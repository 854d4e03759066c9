#!/usr/bin/env python3
"""Exact inner-product top-k of single queries with FAISS IndexFlatIP, for `loupe bench serve`.

Reads the item matrix and the queries as raw little-endian float32 files (row-major, `--dimension`
columns), searches one query at a time (as a serving request does) and prints, per k:

    k <k> <p50 ms> <p99 ms> <mean ms> <max ms> <queries>

and one line `note <text>` (FAISS version and threads). The top-k item rows of every query are
written to `<out>.k<k>.i64` (int64, queries × k) so the caller can compare them with its own.
Percentiles: the value at rank ceil(p * n) of the sorted latencies, as LoupeBench computes them.
Needs PyPI `faiss-cpu` and `numpy`; the caller checks `import faiss` first.
"""
import argparse
import math
import time

import faiss
import numpy as np


def percentile(sorted_values, fraction):
    index = max(0, min(len(sorted_values) - 1, math.ceil(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", required=True)
    parser.add_argument("--queries", required=True)
    parser.add_argument("--dimension", type=int, required=True)
    parser.add_argument("--k", default="10")
    parser.add_argument("--out", required=True)
    parser.add_argument("--warmup", type=int, default=20)
    arguments = parser.parse_args()

    d = arguments.dimension
    items = np.fromfile(arguments.items, dtype="<f4").reshape(-1, d)
    queries = np.fromfile(arguments.queries, dtype="<f4").reshape(-1, d)
    index = faiss.IndexFlatIP(d)
    index.add(items)
    print(f"note faiss {faiss.__version__} IndexFlatIP, {faiss.omp_get_max_threads()} OpenMP threads, "
          f"numpy {np.__version__}, one query per search call")
    for k in (int(value) for value in arguments.k.split(",")):
        for row in range(min(arguments.warmup, len(queries))):
            index.search(queries[row:row + 1], k)
        latencies = []
        ids = np.empty((len(queries), k), dtype="<i8")
        for row in range(len(queries)):
            query = queries[row:row + 1]
            start = time.perf_counter_ns()
            _, found = index.search(query, k)
            latencies.append(time.perf_counter_ns() - start)
            ids[row] = found[0]
        ids.tofile(f"{arguments.out}.k{k}.i64")
        latencies.sort()
        ms = [value / 1e6 for value in latencies]
        print(f"k {k} {percentile(ms, 0.5):.4f} {percentile(ms, 0.99):.4f} {sum(ms) / len(ms):.4f} {ms[-1]:.4f} {len(ms)}")


if __name__ == "__main__":
    main()
