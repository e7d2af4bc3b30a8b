"""Every Nextflow module's command line is accepted by the real gkd binary: the
`script:` command of each workflows/nextflow/modules/local/gkd/*/main.nf is taken from the file,
its ${...} expressions replaced by the values Nextflow would give them on tiny real data, and run.
A module that gains an expression this test does not know fails the test."""
import gzip
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODULES = ROOT / "workflows" / "nextflow" / "modules" / "local" / "gkd"


def command(module):
    """The shell command of a module's script block (the first triple-quoted string after script:)."""
    text = (MODULES / module / "main.nf").read_text()
    script = text[text.index("script:"):]
    body = script.split('"""')[1]
    return " ".join(line.strip() for line in body.strip().splitlines())


def render(module, values):
    cmd = command(module)
    missing = sorted(set(re.findall(r"\$\{([^}]*)\}", cmd)) - set(values))
    assert not missing, f"{module}: the test does not know {missing}; add their values"
    # Nextflow's \$ is a literal $ for the shell.
    return re.sub(r"\$\{([^}]*)\}", lambda m: str(values[m.group(1)]), cmd).replace("\\$", "$")


@pytest.fixture(scope="module")
def bin_dir():
    return pathlib.Path(os.environ.get("GKD_BIN_DIR", ROOT / "target" / "release"))


def run(module, values, cwd, bin_dir):
    cmd = render(module, values)
    # The tools, the pipeline's bin/ (gkd_tomtom.py) and this venv (modisco, python3 with memelite).
    scripts = ROOT / "workflows" / "nextflow" / "bin"
    env = dict(os.environ, PATH=f"{bin_dir}:{scripts}:{pathlib.Path(sys.executable).parent}:{os.environ['PATH']}")
    proc = subprocess.run(["bash", "-c", "set -euo pipefail; " + cmd], cwd=cwd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"{module}: {cmd}\n{proc.stderr}"
    return cmd


def test_every_module_command_runs_on_tiny_data(tmp_path, bin_dir, data):
    common = {"task.cpus": 2, "args": ""}
    run("synth", {**common, "meta.task": "task3", "motifs": data("motifs/koo_eddy_12tf_jaspar2016.jaspar"),
                  "decoy_args": f"--decoys {data('motifs/core_vertebrates_nonredundant_jaspar2016.meme')}",
                  "meta.seed": 1, "args": "--n-positive 150 --n-negative 150", "template": "s.{split}.npz"},
        tmp_path, bin_dir)
    assert all((tmp_path / f"s.{split}.{ext}").exists() for split in ("train", "valid", "test")
               for ext in ("npz", "json", "rows.tsv"))
    model = {**common, "meta.arch": "koo-cnn-local", "meta.activation": "relu", "train_npz": "s.train.npz",
             "valid_npz": "s.valid.npz", "meta.seed": 1, "device": "--device cpu", "args": "--epochs 1"}
    run("train", {**model, "distill": "", "prefix": "teacher"}, tmp_path, bin_dir)
    run("predict", {**common, "model": "teacher", "data_npz": "s.train.npz", "prefix": "teacher.train"}, tmp_path, bin_dir)
    run("train", {**model, "prefix": "distilled",
                  "distill": "--soft-targets teacher.train.tsv --temperature 15 --alpha 0.5"}, tmp_path, bin_dir)
    for name in ("teacher", "distilled"):
        run("predict", {**common, "model": name, "data_npz": "s.test.npz", "prefix": f"{name}.test"}, tmp_path, bin_dir)
    # Compression of the teacher: pruning fine-tuned with distillation from it, and int8.
    data_files = {"train_npz": "s.train.npz", "valid_npz": "s.valid.npz", "model": "teacher"}
    run("compress", {**common, **data_files, "meta.method": "prune", "meta.method_args": "--ratio 4 --epochs 1",
                     "data_args": "--train s.train.npz --valid s.valid.npz --teacher teacher", "prefix": "pruned"},
        tmp_path, bin_dir)
    assert json.loads((tmp_path / "pruned" / "model.json").read_text())["compression"]["ratio"] >= 3.96
    run("compress", {**common, **data_files, "meta.method": "quantize", "meta.method_args": "",
                     "data_args": "--calibration s.train.npz --valid s.valid.npz", "prefix": "int8"}, tmp_path, bin_dir)
    assert (tmp_path / "int8" / "model.int8.safetensors").exists()
    for shard in ("1/2", "2/2"):
        run("attribute", {**common, "model": "teacher", "data_npz": "s.test.npz", "meta.method": "saliency",
                          "shard": shard, "args": "--positives positive --first 10",
                          "prefix": f"teacher.saliency.{shard.replace('/', 'of')}"}, tmp_path, bin_dir)
    run("attributemerge", {**common, "shard_list": "teacher.saliency.1of2.npz teacher.saliency.2of2.npz",
                           "prefix": "teacher.saliency"}, tmp_path, bin_dir)
    # A gapped k-mer SVM: trained, predicted and explained (GkmExplain) by the same modules.
    run("kmer", {**common, "train_npz": "s.train.npz", "kernel": "-l 6 -k 4 -d 2 -c 1", "prefix": "gkmsvm"},
        tmp_path, bin_dir)
    assert json.loads((tmp_path / "gkmsvm" / "kmer.json").read_text())["l"] == 6
    run("predict", {**common, "model": "gkmsvm", "data_npz": "s.test.npz", "prefix": "gkmsvm.test"}, tmp_path, bin_dir)
    run("attribute", {**common, "model": "gkmsvm", "data_npz": "s.test.npz", "meta.method": "gkmexplain",
                      "shard": "1/1", "args": "--positives positive --first 5", "prefix": "gkmsvm.gkmexplain"},
        tmp_path, bin_dir)
    assert json.loads((tmp_path / "gkmsvm.gkmexplain.json").read_text())["count"] == 5
    run("score", {**common, "mode": "predictive", "data_arg": "--data s.test.npz",
                  "labelled": "-i teacher.test=teacher.test.npz -i distilled.test=distilled.test.npz",
                  "prefix": "predictive"}, tmp_path, bin_dir)
    run("score", {**common, "mode": "recovery", "data_arg": "--data s.test.npz",
                  "labelled": "-i teacher.saliency=teacher.saliency.npz", "prefix": "recovery"}, tmp_path, bin_dir)
    assert json.loads((tmp_path / "recovery.json").read_text())["rows"][0]["sequences"] == 10
    run("report", {**common, "meta.id": "seed1", "score_args": "--scores predictive.json --scores recovery.json",
                   "model_args": "--model teacher=teacher --model distilled=distilled",
                   "map_args": "--attributions teacher.saliency=teacher.saliency.npz", "truth_arg": "--truth s.test.npz",
                   "prefix": "seed1.report"}, tmp_path, bin_dir)
    assert "<svg" in (tmp_path / "seed1.report.html").read_text()
    # Motif discovery on the teacher's DeepSHAP maps (a one-epoch model: TF-MoDISco may find no
    # pattern, and the module must still write every output).
    run("attribute", {**common, "model": "teacher", "data_npz": "s.test.npz", "meta.method": "deepshap",
                      "shard": "1/1", "args": "--positives positive --first 20 --baselines 3",
                      "prefix": "teacher.deepshap"}, tmp_path, bin_dir)
    db = data("motifs/core_vertebrates_nonredundant_jaspar2016.meme")
    run("modisco", {**common, "maps_npz": "teacher.deepshap.npz", "prefix": "teacher.deepshap", "meta.length": 200,
                    "args": "-n 2000", "task.cpus": 1, "database": db}, tmp_path, bin_dir)
    assert json.loads((tmp_path / "teacher.deepshap.patterns.json").read_text())["database"] == str(db)
    run("score", {**common, "mode": "motifs", "data_arg": "--data s.test.npz",
                  "labelled": "-i teacher.deepshap=teacher.deepshap.patterns.json", "prefix": "motifs"}, tmp_path, bin_dir)
    assert len(json.loads((tmp_path / "motifs.json").read_text())["rows"]) >= 7
    # Variant effects: synthetic variants in the test split, then the bundled real indels.
    run("synthvariants", {**common, "test_npz": "s.test.npz", "meta.seed": 1, "args": "--rows 30", "prefix": "v"},
        tmp_path, bin_dir)
    models = "--model teacher=teacher --model distilled=distilled"
    run("variant", {**common, "model_args": models, "vcf": "v.vcf", "fasta_file": "v.fa", "prefix": "seed1.synthetic"},
        tmp_path, bin_dir)
    run("score", {**common, "mode": "variants", "data_arg": "--truth v.truth.tsv --reference teacher",
                  "labelled": "-i seed1.synthetic.effects.tsv", "prefix": "variants"}, tmp_path, bin_dir)
    rows = json.loads((tmp_path / "variants.json").read_text())["rows"]
    assert [r["model"] for r in rows if r["class"] == "macro"] == ["teacher", "distilled"]
    assert rows[-1]["spearman"] is not None and rows[-1]["motif_auroc"] is not None
    run("variant", {**common, "model_args": models, "vcf": data("variants/vt_1kg_chr20_indels.part.vcf"),
                    "fasta_file": data("fasta/vt_b37_chr20_1-1760000.fa.gz"), "prefix": "seed1.vcf"}, tmp_path, bin_dir)
    assert len((tmp_path / "seed1.vcf.effects.tsv").read_text().splitlines()) == 1 + 5 * 2
    # Adversarial robustness: the teacher attacked, its rows detected (the distilled model squeezes),
    # then gkd-score robustness of the sidecars as GKD_SCORE labels them.
    run("attack", {**common, "model": "teacher", "test_npz": "s.test.npz", "valid_npz": "s.valid.npz",
                   "squeeze_args": "--ensemble-model distilled", "args": "--positives positive --first 10 --budget 3",
                   "prefix": "seed1.teacher"}, tmp_path, bin_dir)
    summary = json.loads((tmp_path / "seed1.teacher.attack.json").read_text())
    assert [a["attack"] for a in summary["attacks"]] == ["greedy-ism", "hotflip", "pgd", "random"]
    assert summary["settings"]["threshold_from"] == "s.valid.npz"
    detected = sorted(p.name for p in tmp_path.glob("seed1.teacher.detect.*.json"))
    run("score", {**common, "mode": "robustness", "data_arg": "",
                  "labelled": "-i seed1.teacher=seed1.teacher.attack.json "
                              + " ".join(f"--detection seed1.teacher={d}" for d in detected),
                  "prefix": "robustness"}, tmp_path, bin_dir)
    rows = json.loads((tmp_path / "robustness.json").read_text())["rows"]
    assert [r["attack"] for r in rows] == ["greedy-ism", "hotflip", "pgd", "random"]
    assert sum(r["detector_auroc"] is not None for r in rows) == sum(
        json.loads((tmp_path / d).read_text())["squeezers"][-1]["auroc"] is not None for d in detected)
    fasta = data("fasta/dm3_chr2L_1-10050.fa")
    for shard in ("1/2", "2/2"):
        run("scan", {**common, "model": "teacher", "fasta": fasta, "shard": shard,
                     "args": "--stride 100 --attribution saliency",
                     "prefix": f"seed1.teacher.{shard.replace('/', 'of')}"}, tmp_path, bin_dir)
    run("scanmerge", {**common, "part_list": "seed1.teacher.1of2 seed1.teacher.2of2", "prefix": "seed1.teacher"},
        tmp_path, bin_dir)
    scan = json.loads((tmp_path / "seed1.teacher.scan.json").read_text())
    assert scan["windows"] == (10050 - 200) // 100 + 1 and [t["content"] for t in scan["tracks"]] == ["probability", "saliency"]
    run("onehot", {**common, "source": f"--fasta {data('seqdata/logomaker_crp_sites.fa')} --header-labels",
                   "args": "--split train=0.7,valid=0.1,test=0.2", "template": "o.{split}.npz"}, tmp_path, bin_dir)
    assert (tmp_path / "o.test.npz").exists()
    run("histone", {**common, "source": f"--from-deepchrome {data('deepchrome_toy/train.csv')}",
                    "output": "h.train.npz"}, tmp_path, bin_dir)
    assert (tmp_path / "h.train.rows.tsv").exists()
    # Gaussian graphical models of the split's two label classes, then their dashboard.
    run("ggm", {**common, "npz": "h.train.npz", "meta.id": "h.train", "prefix": "h.train.networks",
                "args": "--by-label expressed --method jeek --pool-bins 20 --log1p --subsamples 5"}, tmp_path, bin_dir)
    networks = json.loads((tmp_path / "h.train.networks.json").read_text())
    # The bundled toy split: 10 genes, 5 of them expressed.
    assert [c["rows"] for c in networks["conditions"]] == [5, 5]
    assert "Networks:" in (tmp_path / "h.train.networks.html").read_text()
    # From tracks: real dm3 genes, ChIP BAM and RNA-seq bigWig (expression from the bigWig).
    rna = data("bigwig/metaseq_x_dm3_chr2L_rnaseq.bigwig")
    run("histone", {**common, "source": f"--genes {data('annotation/pybedtools_dm3-chr2L-5M.gff.gz')} "
                    f"--mark chip={data('bam/deeptools_paired_chr2L.bam')} --mark rna={rna} "
                    f"--expression-bigwig {rna} --split train=0.7,valid=0.1,test=0.2",
                    "args": "--allow-missing-chroms", "output": "t.{split}.npz"}, tmp_path, bin_dir)
    # Every GFF gene lands in exactly one split.
    with gzip.open(data("annotation/pybedtools_dm3-chr2L-5M.gff.gz"), "rt") as fh:
        genes = sum(1 for line in fh if line.split("\t")[2:3] == ["gene"])
    rows = [len((tmp_path / f"t.{split}.rows.tsv").read_text().splitlines()) - 1 for split in ("train", "valid", "test")]
    assert sum(rows) == genes and min(rows) > 0, (rows, genes)


def test_every_module_is_exercised_and_has_meta_and_stub():
    tested = {"synth", "train", "predict", "attribute", "attributemerge", "score", "report", "onehot", "histone",
              "scan", "scanmerge", "modisco", "compress", "synthvariants", "variant", "kmer", "attack", "ggm"}
    modules = {p.name for p in MODULES.iterdir() if p.is_dir()}
    assert modules == tested, f"modules without a command test: {modules - tested}"
    for m in modules:
        text = (MODULES / m / "main.nf").read_text()
        assert "stub:" in text and "topic: versions" in text and "task.ext.args" in text, m
        assert "when:\n    task.ext.when == null || task.ext.when\n" in text, f"{m}: no nf-core when: block"
        assert (MODULES / m / "meta.yml").exists(), m
    # The versions every module emits are collected and published.
    pipeline = (MODULES.parents[2] / "main.nf").read_text()
    assert "channel.topic('versions')" in pipeline and "software_versions.yml" in pipeline
    assert re.search(r"versions \{\s*path 'pipeline_info'", pipeline)


def process_io(module):
    """(input names, output emit names) declared by a module's process."""
    text = (MODULES / module / "main.nf").read_text()
    block = lambda start, end: text[text.index(start) + len(start): text.index(end)]
    inputs = re.findall(r"(?:val|path)\((\w+)", block("input:", "output:"))
    inputs += re.findall(r"^\s*(?:val|path) (\w+)\s*$", block("input:", "output:"), re.M)
    emits = re.findall(r"emit: (\w+)", block("output:", "script:"))
    return inputs, emits + ["versions"]


def test_every_module_meta_yml_documents_each_input_and_output():
    import yaml

    for m in sorted(p.name for p in MODULES.iterdir() if p.is_dir()):
        meta = yaml.safe_load((MODULES / m / "meta.yml").read_text())
        inputs, emits = process_io(m)
        flat = lambda items: [e for item in items for e in (item if isinstance(item, list) else [item])]
        documented = [name for entry in flat(meta["input"]) for name in entry]
        assert sorted(documented) == sorted(inputs), (m, documented, inputs)
        assert sorted(meta["output"]) == sorted(emits), (m, list(meta["output"]), emits)
        for entry in flat(meta["input"]) + [e for out in meta["output"].values() for e in flat(out)]:
            ((name, spec),) = entry.items()
            assert spec.get("type") and spec.get("description"), (m, name)
            if spec["type"] in ("file", "directory"):
                assert spec.get("pattern"), (m, name)
        tool = next(iter(meta["tools"][0]))
        assert meta["tools"][0][tool]["licence"] == ["MIT", "Apache-2.0"], m


def nextflow_params():
    """The `params.NAME = VALUE` defaults of the Nextflow pipeline's main.nf, as Python values."""
    values = {}
    for name, raw in re.findall(r"^params\.(\w+) = (.+)$", (ROOT / "workflows/nextflow/main.nf").read_text(), re.M):
        raw = raw.strip()
        values[name] = raw.strip("'\"") if raw[0] in "'\"" else (None if raw == "null" else json.loads(raw))
    return values


def test_nextflow_params_mirror_the_snakemake_defaults():
    import yaml

    snake = yaml.safe_load((ROOT / "workflows/snakemake/config/config.yaml").read_text())
    nf = nextflow_params()
    seq, his = snake["sequence"], snake["histone"]
    models = {m["name"]: m for m in seq["models"]}
    custom = snake["custom"]
    custom_models = {m["name"]: m for m in custom["models"]}
    assert custom_models["teacher"]["activation"] == custom_models["scratch"]["activation"] == models["teacher"]["activation"]
    expected = {
        "temperature": snake["defaults"]["distill"]["temperature"],
        "alpha": snake["defaults"]["distill"]["alpha"],
        "task": seq["task"],
        "seeds": ",".join(str(s) for s in seq["seeds"]),
        "teacher_arch": models["teacher"]["arch"],
        "student_arch": models["scratch"]["arch"],
        "activation": models["teacher"]["activation"],
        "epochs": seq["train"]["epochs"],
        "patience": seq["train"]["patience"],
        "batch_size": seq["train"]["batch_size"],
        "recipe": seq["train"].get("recipe", "source"),
        "histone_epochs": his["train"]["epochs"],
        "histone_patience": his["train"]["patience"],
        "histone_batch_size": his["train"]["batch_size"],
        "methods": ",".join(seq["attribution"]["methods"]),
        "shards": seq["attribution"]["shards"],
        "positives": seq["attribution"]["positives"],
        "first": seq["attribution"]["first"],
        "ig_args": seq["attribution"]["ig"],
        # The custom study (--study custom): its own models, methods and budget.
        "custom_teacher_arch": custom_models["teacher"]["arch"],
        "custom_student_arch": custom_models["scratch"]["arch"],
        "custom_methods": ",".join(custom["attribution"]["methods"]),
        "custom_epochs": custom["train"]["epochs"],
        "custom_patience": custom["train"]["patience"],
        "fasta": custom["fasta"],
        "bed": custom["bed"],
        # The optional genome scan and motif discovery.
        "scan_stride": snake["scan"]["stride"],
        "scan_shards": snake["scan"]["shards"],
        "motif_methods": ",".join(snake["motifs"]["methods"]),
    }
    assert {k: nf.get(k) for k in expected} == expected
    # The same bundled files (Nextflow's paths are relative to the pipeline, Snakemake's to the repository).
    for nf_name, snake_path in [("motifs", seq["motifs"]), ("decoys", seq["decoys"]),
                                ("motif_database", snake["motifs"]["database"])]:
        assert pathlib.Path(nf[nf_name]).name == pathlib.Path(snake_path).name, nf_name
    assert models["distilled"]["teacher"] == "teacher" and models["distilled"]["arch"] == models["scratch"]["arch"]
    # The pipeline's parameter schema states the same defaults.
    schema = json.loads((ROOT / "workflows/nextflow/nextflow_schema.json").read_text())
    defaults = {k: v["default"] for group in schema["$defs"].values() for k, v in group["properties"].items() if "default" in v}
    assert {k: defaults[k] for k in expected if k in defaults} == {k: expected[k] for k in expected if k in defaults}
    given = {k for k, v in expected.items() if v is not None}  # null parameters have no default
    assert given <= set(defaults), sorted(given - set(defaults))
