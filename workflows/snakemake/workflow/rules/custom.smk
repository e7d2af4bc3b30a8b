# Bring your own sequences: FASTA (labels in the headers) or BED windows of a reference FASTA
# (label columns) -> split -> teacher -> scratch and distilled students -> attribution maps ->
# predictive scores -> report (no ground truth, so no motif recovery).
CUS = config["custom"]
CUS_DIR = f"{OUT}/custom/seed{{seed}}"
CUS_MODELS = ["teacher", "scratch", "distilled"]


rule cus_onehot:
    input:
        fasta=data_path(CUS["fasta"]) if CUS.get("fasta") else [],
        bed=data_path(CUS["bed"]) if CUS.get("bed") else [],
    output:
        expand(f"{OUT}/custom/data/c.{{split}}.{{ext}}", split=SPLITS, ext=DATASET_FILES),
    log:
        f"{OUT}/logs/custom/onehot.log",
    params:
        bin=BIN,
        split=CUS['split'],
        source=lambda wc, input: (
            f"--fasta {input.fasta} --bed {input.bed} --length {CUS['length']} --label-columns {CUS['labels']}"
            if CUS.get("bed")
            else f"--fasta {input.fasta} --header-labels"
        ),
        template=lambda wc: f"{OUT}/custom/data/c.{{split}}.npz",
    threads: 1
    resources:
        mem_mb=4000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-onehot {params.source} --split {params.split} --seed 1 -o '{params.template}' 2> {log}"


rule cus_train:
    input:
        train=f"{OUT}/custom/data/c.train.npz",
        valid=f"{OUT}/custom/data/c.valid.npz",
        soft=lambda wc: f"{OUT}/custom/seed{wc.seed}/preds/teacher.train.tsv" if wc.model == "distilled" else [],
    output:
        directory(f"{CUS_DIR}/models/{{model}}"),
    wildcard_constraints:
        model="teacher|scratch|distilled",
    log:
        f"{OUT}/logs/custom/seed{{seed}}/train.{{model}}.log",
    params:
        bin=BIN,
        train_epochs=CUS['train']['epochs'],
        train_patience=CUS['train']['patience'],
        train_batch_size=CUS['train']['batch_size'],
        device=DEVICE,
        spec=lambda wc: " ".join(
            f"--{k} {v}" for k, v in zip(("arch", "first-activation"), (CUS["teacher"] if wc.model == "teacher" else CUS["student"]).values())
        ),
        distill=lambda wc, input: (
            f"--soft-targets {input.soft} --temperature {CUS['distill']['temperature']} --alpha {CUS['distill']['alpha']}"
            if wc.model == "distilled"
            else ""
        ),
    threads: config["threads"]
    resources:
        mem_mb=6000,
        gpu=GPU,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-train {params.spec} --train {input.train} --valid {input.valid} "
        "--epochs {params.train_epochs} --patience {params.train_patience} --batch-size {params.train_batch_size} "
        "{params.distill} --seed {wildcards.seed} --device {params.device} --threads {threads} -q -o {output} 2> {log}"


rule cus_predict:
    input:
        model=f"{CUS_DIR}/models/{{model}}",
        data=f"{OUT}/custom/data/c.{{split}}.npz",
    output:
        npz=f"{CUS_DIR}/preds/{{model}}.{{split}}.npz",
        tsv=f"{CUS_DIR}/preds/{{model}}.{{split}}.tsv",
    log:
        f"{OUT}/logs/custom/seed{{seed}}/predict.{{model}}.{{split}}.log",
    params:
        bin=BIN,
    threads: config["threads"]
    resources:
        mem_mb=4000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-predict --model {input.model} --data {input.data} -o {output.npz} --tsv {output.tsv} "
        "--threads {threads} -q 2> {log}"


rule cus_attribute:
    input:
        model=f"{CUS_DIR}/models/{{model}}",
        data=f"{OUT}/custom/data/c.test.npz",
    output:
        npz=f"{CUS_DIR}/attr/{{model}}.{{method}}.npz",
        json=f"{CUS_DIR}/attr/{{model}}.{{method}}.json",
        rows=f"{CUS_DIR}/attr/{{model}}.{{method}}.rows.tsv",
    log:
        f"{OUT}/logs/custom/seed{{seed}}/attribute.{{model}}.{{method}}.log",
    params:
        bin=BIN,
    threads: config["threads"]
    resources:
        mem_mb=4000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-attribute --model {input.model} --data {input.data} --method {wildcards.method} "
        "--threads {threads} -q -o {output.npz} 2> {log}"


rule cus_score:
    input:
        data=f"{OUT}/custom/data/c.test.npz",
        preds=expand(f"{CUS_DIR}/preds/{{model}}.test.npz", model=CUS_MODELS, allow_missing=True),
    output:
        json=f"{CUS_DIR}/scores/predictive.json",
        tsv=f"{CUS_DIR}/scores/predictive.tsv",
    log:
        f"{OUT}/logs/custom/seed{{seed}}/score.log",
    params:
        bin=BIN,
        preds=lambda wc, input: " ".join(f"-i {m}={p}" for m, p in zip(CUS_MODELS, input.preds)),
    threads: 1
    resources:
        mem_mb=2000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-score predictive --data {input.data} {params.preds} -o {output.tsv} --json {output.json} 2> {log}"


rule cus_report:
    input:
        scores=f"{CUS_DIR}/scores/predictive.json",
        models=expand(f"{CUS_DIR}/models/{{model}}", model=CUS_MODELS, allow_missing=True),
        maps=expand(f"{CUS_DIR}/attr/{{model}}.{{method}}.npz", model=CUS_MODELS, method=CUS["methods"], allow_missing=True),
    output:
        report(f"{CUS_DIR}/report.html", caption="../report/study.rst", category="gkd reports"),
    log:
        f"{OUT}/logs/custom/seed{{seed}}/report.log",
    params:
        bin=BIN,
        models=lambda wc, input: " ".join(f"--model {m}={d}" for m, d in zip(CUS_MODELS, input.models)),
        maps=lambda wc, input: " ".join(f"--attributions {os.path.basename(p)[:-4]}={p}" for p in input.maps),
    threads: 1
    resources:
        mem_mb=2000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-report -o {output} --title 'gkd study (seed {wildcards.seed})' --scores {input.scores} "
        "{params.models} {params.maps} 2> {log}"
