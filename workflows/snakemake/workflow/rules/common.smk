# Shared settings and helpers of the gkd rules.
import os

# Input paths in the configuration are relative to the repository root (or absolute).
ROOT = os.path.abspath(os.path.join(workflow.basedir, "..", "..", ".."))
OUT = config["outdir"]
BIN = os.path.join(config["bin"], "") if config["bin"] else ""
DEVICE = config["device"]
GPU = 1 if DEVICE == "cuda" else 0
SPLITS = ["train", "valid", "test"]
DATASET_FILES = ["npz", "json", "rows.tsv"]
ATTR_FILES = ["npz", "json", "rows.tsv"]


def data_path(path):
    """A configured input path, resolved against the repository root."""
    return path if os.path.isabs(path) else os.path.join(ROOT, path)


def study_targets():
    """The reports (and score tables) of every configured study."""
    targets = []
    if "sequence" in config["studies"]:
        targets += expand(f"{OUT}/sequence/seed{{seed}}/report.html", seed=config["sequence"]["seeds"])
    if "histone" in config["studies"]:
        targets += expand(f"{OUT}/histone/seed{{seed}}/report.html", seed=config["histone"]["seeds"])
    if "custom" in config["studies"]:
        targets += expand(f"{OUT}/custom/seed{{seed}}/report.html", seed=config["custom"]["seeds"])
    if "distillation" in config["studies"]:
        targets += [f"{OUT}/distillation/report.html", f"{OUT}/distillation/sweep.tsv"]
    return targets


def seq_model_spec(model):
    """Architecture and first-layer activation of a sequence-study model."""
    return config["sequence"]["teacher"] if model == "teacher" else config["sequence"]["student"]


def his_arch(model):
    """Histone study: AttentiveChrome teacher, DeepChrome students."""
    return "attentivechrome" if model == "teacher" else "deepchrome"


def dis_students():
    """Distilled students, labelled KIND_T{T}_a{alpha}: the configured list, else the full grid."""
    dis = config["distillation"]
    if dis.get("settings"):
        return list(config["distillation"]["settings"])
    return [f"{kind}_T{t}_a{a}" for kind in dis["kinds"] for t in dis["temperatures"] for a in dis["alphas"]]


def dis_setting(student):
    """(teacher kind, T, alpha) of a student label."""
    rest, alpha = student.rsplit("_a", 1)
    kind, t = rest.rsplit("_T", 1)
    return kind, t, alpha


def dis_attributed():
    """Models whose maps are scored: the single teacher, the scratch student and every student."""
    return ["teacher", "scratch"] + dis_students()
