#!/usr/bin/env python3
"""Name the patterns TF-MoDISco found with Tomtom, without the MEME suite (memelite's tomtom).

Reads a modisco-lite results file (modisco motifs -o RESULTS.h5) and a MEME motif database
(e.g. JASPAR), and writes one JSON file that gkd-score motifs and gkd-report read:

    {"database": DB, "patterns": [{"metacluster", "pattern", "seqlets", "ppm", "cwm",
                                    "matches": [{"id", "name", "p", "q", "ppm"}, ...]}, ...]}

Each pattern is trimmed as modisco-lite's report trims it (positions whose Σ|CWM| is at least
--trim of the largest), its trimmed PPM is compared with every database motif on both strands
(memelite.tomtom, complete scores), and Tomtom's q-values are computed per pattern over all the
database's motifs (Benjamini-Hochberg, as MEME's tomtom does). The --matches best matches are kept
whatever their q-value; gkd-score motifs applies the threshold.

    python3 gkd_tomtom.py --modisco RESULTS.h5 --database JASPAR.meme -o patterns.json

With --report DIR it also writes modisco-lite's HTML report there (`modisco report -l`, Tomtom
from memelite), or, when TF-MoDISco found no pattern (modisco-lite 3.0.0's report then stops with
an IndexError), a one-line page saying so.
"""
import argparse
import json
import os
import subprocess
import sys

import h5py
import numpy as np
from memelite import tomtom
from memelite.io import read_meme


def trim(ppm, cwm, threshold):
    """The PPM and CWM over the positions from the first to the last with Σ|CWM| ≥ threshold·max."""
    score = np.abs(cwm).sum(axis=1)
    keep = np.where(score >= threshold * score.max())[0]
    return ppm[keep.min():keep.max() + 1], cwm[keep.min():keep.max() + 1]


def q_values(p):
    """Benjamini-Hochberg q-values of one query's p-values against every target."""
    order = np.argsort(p)
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    out = np.empty_like(q)
    out[order] = q
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modisco", required=True, help="modisco-lite results (HDF5)")
    parser.add_argument("--database", required=True, help="MEME motif database (e.g. JASPAR)")
    parser.add_argument("-o", "--output", help="patterns JSON")
    parser.add_argument("--report", help="also write modisco-lite's HTML report into this folder")
    parser.add_argument("--modisco-command", default="modisco", help="the modisco-lite command (for --report)")
    parser.add_argument("--trim", type=float, default=0.3, help="trimming threshold (modisco-lite's default)")
    parser.add_argument("--matches", type=int, default=5, help="best matches kept per pattern")
    args = parser.parse_args(argv)

    database = read_meme(args.database)
    names = list(database)
    targets = [np.asarray(m, dtype=np.float64) for m in database.values()]
    patterns, queries = [], []
    with h5py.File(args.modisco, "r") as results:
        for metacluster in ("pos_patterns", "neg_patterns"):
            if metacluster not in results:
                continue
            group = results[metacluster]
            for name in sorted(group, key=lambda n: int(n.split("_")[-1])):
                pattern = group[name]
                ppm, cwm = trim(pattern["sequence"][:], pattern["contrib_scores"][:], args.trim)
                seqlets = int(np.asarray(pattern["seqlets"]["n_seqlets"][()]).ravel()[0])
                patterns.append({"metacluster": metacluster, "pattern": name, "seqlets": seqlets,
                                 "ppm": ppm.tolist(), "cwm": cwm.tolist()})
                queries.append(ppm.T.astype(np.float64))
    if queries and (args.output or not args.report):
        p = tomtom(queries, targets)[0]
        for pattern, row in zip(patterns, np.asarray(p, dtype=np.float64)):
            q = q_values(row)
            best = np.argsort(row, kind="stable")[: args.matches]
            pattern["matches"] = [
                {"id": names[j].split()[0], "name": " ".join(names[j].split()[1:]), "p": float(row[j]),
                 "q": float(q[j]), "ppm": targets[j].T.tolist()}
                for j in best
            ]
    if args.output:
        json.dump({"database": args.database, "modisco": args.modisco, "trim": args.trim, "patterns": patterns},
                  open(args.output, "w"), indent=1)
        print(f"{len(patterns)} pattern(s) -> {args.output}", file=sys.stderr)
    if args.report:
        if patterns:
            subprocess.run([args.modisco_command, "report", "-i", args.modisco, "-o", args.report,
                            "-m", args.database, "-l"], check=True)
        else:
            os.makedirs(args.report, exist_ok=True)
            with open(os.path.join(args.report, "report.html"), "w") as page:
                page.write("<p>TF-MoDISco found no pattern.</p>\n")


if __name__ == "__main__":
    main()
