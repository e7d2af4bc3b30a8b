#!/usr/bin/env bash
# One core's memory write bandwidth, the ceiling for float32 one-hot output (BENCHMARKS.md):
# numpy fill of 800 MB (fresh and already-touched), and a C loop writing a float every 4 bytes
# into freshly mmapped memory with and without madvise(MADV_HUGEPAGE). Needs gcc and numpy.
set -euo pipefail
PY="${PYTHON:-python3}"
"$PY" - <<'PY'
import numpy as np, time
for _ in range(3):
    t = time.perf_counter(); a = np.zeros(200_000_000, np.float32); a.fill(1.0); first = time.perf_counter() - t
    t = time.perf_counter(); a.fill(2.0); again = time.perf_counter() - t
    print(f"numpy fill 800 MB: first touch {0.8 / first:.1f} GB/s, already touched {0.8 / again:.1f} GB/s")
PY
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
cat > "$W/t.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
  size_t n = 800000000; int huge = atoi(argv[1]);
  for (int r = 0; r < 3; r++) {
    char *p = mmap(0, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (huge) madvise(p, n, MADV_HUGEPAGE);
    double t = now();
    for (size_t i = 0; i < n; i += 4) *(float *)(p + i) = 1.0f;
    double d = now() - t;
    printf("C first-touch write 800 MB, hugepages=%d: %.1f GB/s\n", huge, 0.8 / d);
    munmap(p, n);
  }
  return 0;
}
C
gcc -O2 "$W/t.c" -o "$W/t"
"$W/t" 0; "$W/t" 1
