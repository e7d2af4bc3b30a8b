"""The analysis of workflows/examples/ggm_histone_study.sh: the networks against the synthetic
cell types' rules, and their hub scores against AttentiveChrome's attention. Prints markdown.

Truth (per cell type): among expressed genes the rule's marks depend on each other inside the
rule's bins and nowhere else across marks, so a cross-mark edge is true when both features
overlap the rule's bins of two different rule marks. Within a mark, neighbouring bins depend on each
other in every cell type (the real DeepChrome profiles), so those edges should be shared.
Hub score of a mark (or feature): the sum of |partial correlation| over its cross-mark edges.
"""
import csv
import json
import sys
from collections import defaultdict

import numpy as np
from scipy.stats import rankdata, spearmanr

OUT = sys.argv[1]
RULES = {
    "A": {"H3K4me3": (40, 60), "H3K27me3": (60, 100)},
    "B": {"H3K36me3": (50, 100), "H3K9me3": (40, 60)},
    "C": {"H3K4me1": (30, 50), "H3K4me3": (40, 60)},
}


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def parse(feature):
    mark, bins = feature.split(":")
    start, end = map(int, bins.split("-"))
    return mark, start, end


def in_rule(feature, rule):
    """Whether a pooled feature overlaps the rule's bins of its mark."""
    mark, start, end = parse(feature)
    return mark in rule and start < rule[mark][1] and end > rule[mark][0]


def auroc(scores, labels):
    scores, labels = np.asarray(scores, float), np.asarray(labels, bool)
    ranks = rankdata(scores)
    pos = labels.sum()
    return (ranks[labels].sum() - pos * (pos + 1) / 2) / (pos * (len(labels) - pos))


def network_table(method):
    side = json.load(open(f"{OUT}/ggm/cells.{method}.json"))
    edges = rows(f"{OUT}/ggm/cells.{method}.edges.tsv")
    features = side["features"]
    print(f"\n**{method}** (λ {side['lambda']['lambda']:.4g} by {side['lambda']['rule']}; {len(features)} features, "
          f"{len(side['dropped_features'])} dropped as constant)\n")
    print("| cell type | rows | edges | within-mark edges (shared) | cross-mark edges | of them true | true cross-mark pairs found | cross-mark edges specific |")
    print("|---|---|---|---|---|---|---|---|")
    result = {}
    for cond in side["conditions"]:
        c = cond["name"]
        rule = RULES[c]
        mine = [e for e in edges if e["condition"] == c]
        within = [e for e in mine if parse(e["feature_i"])[0] == parse(e["feature_j"])[0]]
        cross = [e for e in mine if parse(e["feature_i"])[0] != parse(e["feature_j"])[0]]
        true_cross = [e for e in cross if in_rule(e["feature_i"], rule) and in_rule(e["feature_j"], rule)]
        truth = sum(1 for a in range(len(features)) for b in range(a + 1, len(features))
                    if parse(features[a])[0] != parse(features[b])[0]
                    and in_rule(features[a], rule) and in_rule(features[b], rule))
        print(f"| {c} | {cond['rows']} | {len(mine)} | {len(within)} ({sum(e['kind'] == 'shared' for e in within)}) | "
              f"{len(cross)} | {len(true_cross)} | {len(true_cross)}/{truth} | "
              f"{sum(e['kind'] != 'shared' for e in cross)} |")
        result[c] = (features, cross)
    return result


def hubs_against_attention(cross_by_cell):
    print("\n| cell type | test AUROC | top-2 hub marks | rule marks | ρ(β, mark hubs) | ρ(α, feature hubs) | AUROC of feature hubs for the rule's features | AUROC of α for the rule's features |")
    print("|---|---|---|---|---|---|---|---|")
    for c, (features, cross) in cross_by_cell.items():
        rule = RULES[c]
        att = np.load(f"{OUT}/attention/cell{c}.npz")
        manifest = json.load(open(f"{OUT}/cell{c}.test.json"))
        marks = manifest["channels"]
        alpha, beta = att["attr"], att["beta"]  # (genes, marks, bins), (genes, marks)
        mark_hub = defaultdict(float)
        feature_hub = defaultdict(float)
        for e in cross:
            w = abs(float(e["partial_correlation"]))
            for f in (e["feature_i"], e["feature_j"]):
                mark_hub[parse(f)[0]] += w
                feature_hub[f] += w
        top = sorted(marks, key=lambda m: -mark_hub[m])[:2] if mark_hub else ["–"]
        def rho(a, b):
            # Undefined (printed as –) when the network has no cross-mark edge at all.
            return spearmanr(a, b).statistic if np.ptp(b) > 0 else float("nan")

        rho_beta = rho(beta.mean(0), [mark_hub[m] for m in marks])
        alpha_f = []
        for f in features:
            mark, start, end = parse(f)
            alpha_f.append(alpha[:, marks.index(mark), start:end].mean())
        hubs = [feature_hub[f] for f in features]
        rho_alpha = rho(alpha_f, hubs)
        labels = [in_rule(f, rule) for f in features]
        pred = np.load(f"{OUT}/models/cell{c}.test.npz")
        y = np.load(f"{OUT}/cell{c}.test.npz")["y"][:, 0]
        test_auroc = auroc(pred["logits"][:, 0], y > 0.5)
        fmt = lambda v: "–" if np.isnan(v) else f"{v:.2f}"
        print(f"| {c} | {test_auroc:.3f} | {', '.join(top)} | {', '.join(rule)} | {fmt(rho_beta)} | {fmt(rho_alpha)} | "
              f"{auroc(hubs, labels):.3f} | {auroc(alpha_f, labels):.3f} |")


def toy():
    side = json.load(open(f"{OUT}/ggm/toy.diffee.json"))
    edges = sorted(rows(f"{OUT}/ggm/toy.diffee.edges.tsv"), key=lambda e: -abs(float(e["weight"])))
    conds = ", ".join(f"{c['name']} ({c['rows']} genes)" for c in side["conditions"])
    print(f"\nDeepChrome toy data, DIFFEE {conds}: λ {side['lambda']['lambda']:.4g}, {len(edges)} differential edges "
          f"of {len(side['features'])} features ({len(side['dropped_features'])} constant features dropped); largest |Δ|:\n")
    print("| feature i | feature j | Δ |")
    print("|---|---|---|")
    for e in edges[:5]:
        print(f"| {e['feature_i']} | {e['feature_j']} | {float(e['weight']):.3f} |")
    jeek = json.load(open(f"{OUT}/ggm/toy.jeek.json"))
    print("\nJEEK on the same two classes: " + "; ".join(
        f"{n['name']}: {n['edges']} edges ({n['shared']} shared)" for n in jeek["networks"]))


print("### Networks against the rules")
cross = {}
for method in ("jeek", "fasjem", "ee"):
    got = network_table(method)
    if method == "jeek":
        cross = got
print("\n### Hub scores (JEEK, cross-mark edges) against AttentiveChrome's attention on expressed test genes")
hubs_against_attention(cross)
toy()
