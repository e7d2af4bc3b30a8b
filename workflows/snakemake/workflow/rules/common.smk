# Shared settings and helpers of the gkd rules: where each study keeps its files, which models it
# trains and how, and which maps and scores it makes. The rules in study.smk read only these.
import os
import re

# Input paths in the configuration are relative to the repository root (or absolute).
ROOT = os.path.abspath(os.path.join(workflow.basedir, "..", "..", ".."))
OUT = config["outdir"]
BIN = os.path.join(config["bin"], "") if config["bin"] else ""
DEVICE = config["device"]
GPU = 1 if DEVICE == "cuda" else 0
SPLITS = ["train", "valid", "test"]
DATASET_FILES = ["npz", "json", "rows.tsv"]
STUDIES = config["studies"]
# Where each study's dataset splits live: per seed (regenerated for every seed) or shared by all
# seeds, and the file prefix.
DATA_LAYOUT = {
    "sequence": ("seed", "d"),
    "distillation": ("seed", "d"),
    "compression": ("seed", "d"),
    "histone": ("shared", "h"),
    "custom": ("shared", "c"),
}
# Studies summarised over seeds in one report (gkd-score sweep), on synthetic data of their own or
# reused from another study: task 1 (multi-label), or task 3 for the compression study
# (config `compression.task`).
TASK1_STUDIES = ("distillation", "compression")
# Studies whose test split carries the true motif positions (gkd-synth), so maps get recovery scores.
WITH_TRUTH = [
    s for s in STUDIES if s in ("sequence",) + TASK1_STUDIES or (s == "histone" and config["histone"].get("synthetic"))
]
# Methods whose maps are scored against the truth (class optimization and temporal maps are not
# maps of the explained rows' positions).
RECOVERY_METHODS = ("saliency", "gradxinput", "ig", "ism", "ism-fast", "deeplift", "deepshap", "gkmexplain", "attention")


def multi_label(study):
    """Whether a study runs on task-1 data, whose maps are scored against the sites of the class
    they explain (the compression study may run on task 3 instead, like the sequence study)."""
    return study == "distillation" or (study == "compression" and config["compression"].get("task", "task1") == "task1")


def one_of(names):
    """A wildcard constraint matching exactly these names (nothing when there are none)."""
    return "|".join(re.escape(n) for n in names) if names else "(?!)"


def data_path(path):
    """A configured input path, resolved against the repository root."""
    return path if os.path.isabs(path) else os.path.join(ROOT, path)


def split_npz(study, seed, split):
    """The NPZ of a dataset split of a study."""
    where, prefix = DATA_LAYOUT[study]
    base = f"{OUT}/{study}/seed{seed}/data" if where == "seed" else f"{OUT}/{study}/data"
    return f"{base}/{prefix}.{split}.npz"


def synth_size(study):
    """gkd-synth's size flags: task 1 draws --n rows, task 3 half positives and half negatives
    (with decoy motifs)."""
    cfg = config[study]
    if multi_label(study):
        return f"task1 --n {cfg['n']}"
    return f"task3 --n-positive {cfg['n'] // 2} --n-negative {cfg['n'] // 2} --decoys {data_path(cfg['decoys'])}"


def seed_dir(study, seed):
    return f"{OUT}/{study}/seed{seed}"


def distill_defaults():
    """T and alpha of a distilled model that does not set its own (config `defaults.distill`)."""
    return config["defaults"]["distill"]


# ---- models -------------------------------------------------------------------------------------


def dis_students():
    """Distillation study: students labelled KIND_T{T}_a{alpha}, the configured list or the full grid."""
    dis = config["distillation"]
    if dis.get("settings"):
        return list(dis["settings"])
    return [f"{kind}_T{t}_a{a}" for kind in dis["kinds"] for t in dis["temperatures"] for a in dis["alphas"]]


def dis_setting(student):
    """(teacher kind, T, alpha) of a distillation-study student label."""
    rest, alpha = student.rsplit("_a", 1)
    kind, t = rest.rsplit("_T", 1)
    return kind, t, alpha


def dis_teachers():
    """Distillation study: the ensemble members teacher1..E (teacher1 is also the single teacher)."""
    return [f"teacher{k}" for k in range(1, config["distillation"]["ensemble"] + 1)]


def cmp_students():
    """Compression study: distilled students kd-ARCH."""
    return [f"kd-{s['arch']}" for s in config["compression"]["students"]]


def cmp_compressed():
    """Compression study: the teacher compressed, cmp-METHOD-xRATIO (and cmp-int8)."""
    cmp = config["compression"]
    names = [f"cmp-{method}-x{ratio:g}" for method, ratios in cmp["methods"].items() for ratio in ratios]
    return names + (["cmp-int8"] if cmp["int8"] else [])


def cmp_exits():
    """Compression study: predictions of the early-exit teacher at each threshold, exit-tT."""
    exit = config["compression"]["early_exit"]
    return [f"exit-t{t:g}" for t in exit["thresholds"]] if exit else []


def cmp_reused():
    """Compression study: models copied from a finished distillation study (name -> its name)."""
    reuse = config["compression"]["reuse"]
    return dict(reuse["models"]) if reuse else {}


def trained_models(study):
    """Every model directory a study trains, in training order."""
    if study == "distillation":
        return dis_teachers() + ["scratch"] + dis_students()
    if study == "compression":
        cmp = config["compression"]
        names = ["teacher"] + cmp_students() + [f"opt-{o['name']}" for o in cmp["optimizers"]]
        names += ["teacher-exit"] if cmp["early_exit"] else []
        return [n for n in names if n not in cmp_reused()]
    return [m["name"] for m in config[study]["models"]]


def gkm_models(study):
    """The gapped k-mer SVMs of a study's models list (`arch: gkm-svm`, trained by gkd-kmer)."""
    if study in ("distillation", "compression") or study not in config:
        return []
    return [m["name"] for m in config[study].get("models", []) if m["arch"] == "gkm-svm"]


def gkm_flags(study, model):
    """gkd-kmer train's flags of a gkm-SVM entry (LS-GKM's defaults where the entry is silent)."""
    spec = next(m for m in config[study]["models"] if m["name"] == model)
    flags = f"-l {spec.get('l', 11)} -k {spec.get('k', 7)} -d {spec.get('d', 3)} -c {spec.get('c', 1.0)}"
    return flags + (f" --class {spec['class']}" if spec.get("class") else "")


ALL_GKM = sorted({m for s in STUDIES for m in gkm_models(s)})


def compared_models(study):
    """The models a study predicts with, explains and scores, in report order. In the
    distillation study `teacher` is teacher1 and its students are scored per teacher kind."""
    if study == "distillation":
        return ["teacher", "scratch"] + dis_students()
    if study == "compression":
        cmp = config["compression"]
        # The early-exit teacher's own (final) output beside its predictions at each threshold.
        exits = (["teacher-exit"] if cmp["early_exit"] else []) + cmp_exits()
        return ["teacher"] + cmp_students() + cmp_compressed() + [f"opt-{o['name']}" for o in cmp["optimizers"]] + exits
    return trained_models(study)


def model_plan(study, model, seed):
    """How `model` of `study` is trained: architecture, first-layer activation, training seed and
    (distilled models) the predictions name of its teacher with T and alpha."""
    seed = int(seed)
    if study == "compression":
        cmp = config["compression"]
        if model == "teacher":
            return dict(cmp["teacher"], seed=seed, teacher=None)
        if model == "teacher-exit":
            exit = cmp["early_exit"]
            return dict(cmp["teacher"], seed=seed, teacher=None, early_exit=exit["after"], exit_weight=exit["weight"])
        if model.startswith("opt-"):
            opt = next(o for o in cmp["optimizers"] if f"opt-{o['name']}" == model)
            return dict(arch="koo-cnn-shallow", activation="relu", seed=seed, teacher=None, optimizer=opt["optimizer"], lr=opt["lr"])
        if model.startswith("kd-"):
            student = next(s for s in cmp["students"] if f"kd-{s['arch']}" == model)
            d = distill_defaults()
            return dict(student, seed=seed, teacher="teacher", temperature=d["temperature"], alpha=d["alpha"])
        # Compressed models are made by gkd-compress, not trained (rules/compression.smk).
        return dict(cmp["teacher"], seed=seed, teacher=None)
    if study == "distillation":
        dis = config["distillation"]
        if model.startswith("teacher") and model[len("teacher"):].isdigit():
            k = int(model[len("teacher"):])
            # Ensemble members differ only in their training seed: seed, seed + 1000, ...
            return dict(dis["teacher"], seed=seed + 1000 * (k - 1), teacher=None)
        if model == "scratch":
            return dict(dis["student"], seed=seed, teacher=None)
        kind, t, alpha = dis_setting(model)
        return dict(dis["student"], seed=seed, teacher=kind, temperature=t, alpha=alpha)
    plan = dict(next(m for m in config[study]["models"] if m["name"] == model))
    plan.setdefault("teacher", None)
    if plan["teacher"]:
        plan.setdefault("temperature", distill_defaults()["temperature"])
        plan.setdefault("alpha", distill_defaults()["alpha"])
    plan["seed"] = seed
    return plan


def prediction_models(study, seed, name):
    """The model directories behind a predictions name: the model itself, or in the distillation
    study the teacher kinds `teacher` (teacher1) and `ensemble` (teacher1..E, logits averaged)."""
    if study == "distillation" and name in ("teacher", "ensemble"):
        members = dis_teachers() if name == "ensemble" else dis_teachers()[:1]
        return [f"{seed_dir(study, seed)}/models/{m}" for m in members]
    return [f"{seed_dir(study, seed)}/models/{name}"]


def train_flags(study, model, seed, soft):
    """gkd-train flags of a model: architecture, budget and (distilled) its soft targets."""
    plan, budget = model_plan(study, model, seed), config[study]["train"]
    flags = [f"--arch {plan['arch']}"]
    if plan.get("activation"):
        flags.append(f"--first-activation {plan['activation']}")
    flags.append(f"--epochs {budget['epochs']} --patience {budget['patience']}")
    if "plateau_patience" in budget:
        flags.append(f"--plateau-patience {budget['plateau_patience']}")
    flags.append(f"--batch-size {budget['batch_size']}")
    if budget.get("monitor"):
        flags.append(f"--monitor {budget['monitor']}")
    if budget.get("recipe"):
        flags.append(f"--recipe {budget['recipe']}")
    if plan.get("optimizer"):
        flags.append(f"--optimizer {plan['optimizer']} --lr {plan['lr']}")
    if plan.get("early_exit") is not None:
        flags.append(f"--early-exit {plan['early_exit']} --exit-weight {plan['exit_weight']}")
    if plan["teacher"]:
        flags.append(f"--soft-targets {soft} --temperature {plan['temperature']} --alpha {plan['alpha']}")
    flags.append(f"--seed {plan['seed']}")
    return " ".join(flags)


def soft_targets(study, model, seed):
    """The teacher predictions a distilled model learns from (none for other models)."""
    teacher = model_plan(study, model, seed)["teacher"]
    return f"{seed_dir(study, seed)}/preds/{teacher}.train.tsv" if teacher else []


# ---- attribution maps ---------------------------------------------------------------------------


def model_methods(study, model):
    """The attribution methods run on a model: its own list, else the study's (GkmExplain for a
    gkm-SVM, the one method that explains one)."""
    if study == "distillation":
        return config["distillation"]["attribution"]["methods"]
    if study == "compression":
        # The early-exit teacher and its predictions are scored for accuracy and speed, not explained.
        return [] if model.startswith(("exit-t", "teacher-exit")) else config["compression"]["attribution"]["methods"]
    spec = next(m for m in config[study]["models"] if m["name"] == model)
    if spec["arch"] == "gkm-svm":
        return spec.get("methods") or ["gkmexplain"]
    return spec.get("methods") or config[study]["attribution"]["methods"]


def maps(study):
    """(model, method) of every map of a study, model by model."""
    return [(m, method) for m in compared_models(study) for method in model_methods(study, m)]


def report_maps(study):
    """(model, method) of every map in a study's report: model by model, or method by method
    (config `report_by`) so that one method's maps of the teacher and its students sit together."""
    if config[study].get("report_by", "model") == "model":
        return maps(study)
    methods = list(dict.fromkeys(method for _, method in maps(study)))
    return [(m, method) for method in methods for m, mm in maps(study) if mm == method]


def recovery_maps(study):
    """(model, method) pairs of a study scored against the ground truth."""
    return [(m, method) for m, method in maps(study) if method in RECOVERY_METHODS]


def motif_maps(study):
    """(model, method) pairs of a study whose maps go through TF-MoDISco (config `motifs.methods`)."""
    wanted = config["motifs"]["methods"]
    return [(m, method) for m, method in maps(study) if method in wanted] if study in ("sequence",) + TASK1_STUDIES else []


def map_npz(study, seed, model, method):
    return f"{seed_dir(study, seed)}/attr/{model}.{method}.npz"


def sharded(study):
    """Studies whose maps are computed in shards and merged."""
    return config[study].get("attribution", {}).get("shards") is not None


def attribute_flags(study, method, seed):
    """gkd-attribute flags choosing a study's rows and a method's settings."""
    att = config[study].get("attribution", {})
    if study in TASK1_STUDIES and multi_label(study):
        # Every test row with a motif, explained for each class it is labelled with.
        return f"--positives any --target labelled --first {att['first']}"
    if study in ("sequence", "compression"):
        flags = f"--positives {att.get('positives', 'positive')} --first {att['first']}"
        return flags + (f" {att['ig']} --seed {seed}" if method == "ig" else "")
    if study == "histone" and method == "classopt":
        return f"--target all --optimisation-steps {config['histone']['classopt_steps']} --seed {seed}"
    return ""


# ---- scores and reports -------------------------------------------------------------------------


def score_reports(study, seed):
    """The score JSONs of one seed of a study, in report order."""
    scores = f"{seed_dir(study, seed)}/scores"
    if study == "compression":
        return [f"{scores}/predictive.json", f"{scores}/recovery.json", f"{scores}/cost.json"] + (
            [f"{scores}/motifs.json"] if motif_maps(study) else []
        )
    if study == "distillation":
        kinds = config["distillation"]["kinds"]
        return (
            [f"{scores}/predictive.{k}.json" for k in kinds]
            + [f"{scores}/recovery.json"]
            + ([f"{scores}/motifs.json"] if motif_maps(study) else [])
            + variant_reports(study, seed)
        )
    reports = [f"{scores}/predictive.json"]
    if study in WITH_TRUTH:
        reports.append(f"{scores}/recovery.json")
    if motif_maps(study):
        reports.append(f"{scores}/motifs.json")
    if config[study].get("consistency"):
        reports.append(f"{scores}/consistency.json")
    return reports + variant_reports(study, seed) + attack_reports(study, seed)


def summary_reports(study):
    """The per-seed score reports a study's summary over seeds reads, as (seed, path)."""
    return [(seed, r) for seed in config[study]["seeds"] for r in score_reports(study, seed)]


def summary_arguments(study):
    """gkd-score sweep's --report arguments. Seeds with their own dataset are told apart by it;
    seeds sharing one dataset (they differ in training only) are labelled seedN."""
    shared = DATA_LAYOUT[study][0] == "shared"
    # Variant reports name no dataset split: always labelled by their seed (a metric's values are
    # paired within that metric, so the labels need not match the other reports').
    labelled = lambda path: shared or os.path.basename(path).startswith("variants.")
    return " ".join(
        f"--report seed{seed}={path}" if labelled(path) else f"--report {path}" for seed, path in summary_reports(study)
    )


# ---- the compression study ----------------------------------------------------------------------


def cmp_compress_flags(wc):
    """gkd-compress arguments of a compressed model name: method, ratio, fine-tuning."""
    data = f"{OUT}/compression/seed{wc.seed}/data"
    if wc.name == "int8":
        return f"quantize --calibration {data}/d.train.npz --valid {data}/d.valid.npz"
    method, ratio = wc.name.rsplit("-x", 1)
    tune = config["compression"]["fine_tune"]
    flags = {
        "magnitude": f"prune --method magnitude --ratio {ratio}",
        "admm": (
            f"prune --method admm --ratio {ratio} --stages {config['compression']['admm']['stages']} "
            f"--admm-epochs {config['compression']['admm']['epochs']} --rho {config['compression']['admm']['rho']}"
        ),
        "low-rank": f"low-rank --ratio {ratio}",
        "low-rank-convs": f"low-rank --convs --ratio {ratio}",
        "mpo": f"mpo --ratio {ratio}",
    }[method]
    flags += f" --valid {data}/d.valid.npz"
    if tune["epochs"] > 0 or method == "admm":
        flags += f" --train {data}/d.train.npz --epochs {tune['epochs']} --lr {tune['lr']} --seed {wc.seed}"
        if tune["distill"]:
            d = distill_defaults()
            flags += f" --teacher {OUT}/compression/seed{wc.seed}/models/teacher --temperature {d['temperature']} --alpha {d['alpha']}"
    else:
        flags += " --epochs 0"
    return flags


def cmp_cost_models(seed):
    """(label, model directory, timing JSON) of every compared model of a seed; the early-exit
    predictions are sized as the early-exit teacher."""
    base = f"{OUT}/compression/seed{seed}"
    return [
        (m, f"{base}/models/{'teacher-exit' if m.startswith('exit-t') else m}", f"{base}/preds/{m}.timing.json")
        for m in compared_models("compression")
    ]


# ---- genome scans -------------------------------------------------------------------------------

SCAN = config["scan"]
SCAN_STUDIES = [s for s in STUDIES if s in ("sequence", "custom", "distillation")]


def scan_targets():
    """The merged scan folder of every listed model that a sequence study trains, per seed."""
    return [
        f"{seed_dir(study, seed)}/scan/{model}"
        for study in SCAN_STUDIES
        for seed in config[study]["seeds"]
        for model in SCAN["models"]
        if model in trained_models(study)
    ]


def scan_flags():
    """gkd-scan flags from the configuration: regions, stride, value and attribution tracks."""
    flags = [f"--fasta {data_path(SCAN['fasta'])}", f"--stride {SCAN['stride']}", f"--value {SCAN['value']}"]
    if SCAN.get("bed"):
        flags.append(f"--bed {data_path(SCAN['bed'])}")
    flags += [f"--attribution {a}" for a in SCAN["attributions"]]
    return " ".join(flags)


# ---- variant effects ----------------------------------------------------------------------------

VARIANTS = config["variants"]
if VARIANTS.get("vcf") and not VARIANTS.get("fasta"):
    raise ValueError("config variants: a vcf needs its fasta (the reference genome the VCF was called on)")
VARIANT_STUDIES = [s for s in STUDIES if s in ("sequence", "custom", "distillation")]


def variant_models(study):
    """The listed models a sequence study has, in the listed order (the first is the reference of
    the rankings); in the distillation study also its teacher kinds `teacher` and `ensemble`."""
    have = trained_models(study) + (["teacher", "ensemble"] if study == "distillation" else [])
    return [m for m in VARIANTS["models"] if m in have]


def variant_sets(study):
    """The variant sets a study scores: `synthetic` (gkd-synth variants on its test split, with
    truth) where the split has ground truth, and `vcf` (the configured real VCF)."""
    if study not in VARIANT_STUDIES or not variant_models(study):
        return []
    sets = ["synthetic"] if VARIANTS["synthetic"] and study in WITH_TRUTH else []
    return sets + (["vcf"] if VARIANTS.get("vcf") else [])


def variant_reports(study, seed):
    """The gkd-score variants reports of a seed (they join its dashboard and the summary)."""
    return [f"{seed_dir(study, seed)}/scores/variants.{s}.json" for s in variant_sets(study)]


def variant_model_flags(study, seed):
    """gkd-variant's --model / --ensemble flags for the listed models of a seed."""
    flags = []
    for m in variant_models(study):
        dirs = prediction_models(study, seed, m)
        flags.append(f"--ensemble {m}={','.join(dirs)}" if len(dirs) > 1 else f"--model {m}={dirs[0]}")
    return " ".join(flags)


# ---- adversarial robustness --------------------------------------------------------------------

ATTACK = config["attack"]
ATTACK_STUDIES = [s for s in STUDIES if s in ("sequence", "custom", "distillation")]


def attack_models(study):
    """The listed models a sequence study trains (one directory each), in the listed order."""
    if study not in ATTACK_STUDIES:
        return []
    return [m for m in ATTACK["models"] if m in trained_models(study)]


def attack_class(study):
    """The attacked class: configured, else the study's attribution positives class (None: the
    models' only class)."""
    positives = config[study].get("attribution", {}).get("positives")
    return ATTACK.get("class") or (positives if positives not in (None, "any") else None)


def attack_flags(study, seed, valid):
    """gkd-attack flags from the configuration: class and rows, attacks, budget, threshold and,
    on task-1 data, the sites of the attacked class."""
    cls = attack_class(study)
    flags = [f"--class {cls} --positives {cls}"] if cls else ["--positives 0"]
    flags += [f"--first {ATTACK['first']}", f"--budget {ATTACK['budget']}", f"--attack {','.join(ATTACK['attacks'])}"]
    threshold = ATTACK["threshold"]
    flags.append(f"--threshold-from {valid}" if threshold == "rate-matched" else f"--threshold {threshold}")
    if study in TASK1_STUDIES:
        flags.append(f"--sites {split_npz(study, seed, 'test')[: -len('.npz')]}.sites.tsv")
    return " ".join(flags)


def detect_flags(others):
    """gkd-attack detect's squeezers: reverse complement, masking, and the other listed models."""
    d = ATTACK["detect"]
    flags = (["--rc"] if d["rc"] else []) + ([f"--mask {d['mask']}"] if d.get("mask") else [])
    flags += [f"--ensemble-model {o}" for o in others] if d["ensemble"] else []
    return " ".join(flags)


def attack_detections(study, seed):
    """(model, detection sidecar) of every attacked model and attack, when detection is on."""
    d = ATTACK["detect"]
    if not (d["rc"] or d.get("mask") or d["ensemble"]):
        return []
    return [
        (m, f"{seed_dir(study, seed)}/attack/{m}.detect.{a}.json") for m in attack_models(study) for a in ATTACK["attacks"]
    ]


def attack_reports(study, seed):
    """The gkd-score robustness report of a seed (it joins its dashboard and the summary)."""
    return [f"{seed_dir(study, seed)}/scores/robustness.json"] if attack_models(study) else []


def study_targets():
    """The reports and summaries of every configured study."""
    targets = []
    for study in STUDIES:
        if study not in TASK1_STUDIES:
            targets += [f"{seed_dir(study, seed)}/report.html" for seed in config[study]["seeds"]]
        targets += [f"{OUT}/{study}/sweep.tsv"]
    targets += [f"{OUT}/{study}/report.html" for study in TASK1_STUDIES if study in STUDIES]
    return targets


# Gaussian graphical models of the histone study's data (rules/ggm.smk, config `histone.ggm`).
GGM = config["histone"].get("ggm") if "histone" in STUDIES else None
GGM_DIR = f"{OUT}/histone/ggm"


def ggm_targets():
    """The networks' report, when the step is configured."""
    return [f"{GGM_DIR}/report.html"] if GGM else []
