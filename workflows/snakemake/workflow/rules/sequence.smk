# The seed study on a synthetic benchmark with ground truth: gkd-synth -> teacher -> soft targets
# -> scratch and distilled students -> test predictions -> attribution maps (sharded) -> scores
# -> report.
SEQ = config["sequence"]
SEQ_DIR = f"{OUT}/sequence/seed{{seed}}"
SEQ_MODELS = ["teacher", "scratch", "distilled"]
SEQ_SHARDS = SEQ["attribution"]["shards"]


rule seq_synth:
    output:
        expand(f"{SEQ_DIR}/data/d.{{split}}.{{ext}}", split=SPLITS, ext=DATASET_FILES, allow_missing=True),
    log:
        f"{OUT}/logs/sequence/seed{{seed}}/synth.log",
    params:
        bin=BIN,
        task=SEQ['task'],
        length=SEQ['length'],
        template=lambda wc: f"{OUT}/sequence/seed{wc.seed}/data/d.{{split}}.npz",
        size=(
            f"--n {SEQ['n']}"
            if SEQ["task"] == "task1"
            else f"--n-positive {SEQ['n'] // 2} --n-negative {SEQ['n'] // 2} --decoys {data_path(SEQ['decoys'])}"
        ),
        motifs=data_path(SEQ["motifs"]),
    threads: 1
    resources:
        mem_mb=2000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-synth {params.task} --motifs {params.motifs} {params.size} --length {params.length} "
        "--seed {wildcards.seed} -o '{params.template}' 2> {log}"


rule seq_train:
    input:
        train=f"{SEQ_DIR}/data/d.train.npz",
        valid=f"{SEQ_DIR}/data/d.valid.npz",
        soft=lambda wc: f"{OUT}/sequence/seed{wc.seed}/preds/teacher.train.tsv" if wc.model == "distilled" else [],
    output:
        directory(f"{SEQ_DIR}/models/{{model}}"),
    wildcard_constraints:
        model="teacher|scratch|distilled",
    log:
        f"{OUT}/logs/sequence/seed{{seed}}/train.{{model}}.log",
    params:
        bin=BIN,
        train_epochs=SEQ['train']['epochs'],
        train_patience=SEQ['train']['patience'],
        train_batch_size=SEQ['train']['batch_size'],
        device=DEVICE,
        spec=lambda wc: f"--arch {seq_model_spec(wc.model)['arch']} --first-activation {seq_model_spec(wc.model)['activation']}",
        distill=lambda wc, input: (
            f"--soft-targets {input.soft} --temperature {SEQ['distill']['temperature']} --alpha {SEQ['distill']['alpha']}"
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


rule seq_predict:
    input:
        model=f"{SEQ_DIR}/models/{{model}}",
        data=f"{SEQ_DIR}/data/d.{{split}}.npz",
    output:
        npz=f"{SEQ_DIR}/preds/{{model}}.{{split}}.npz",
        tsv=f"{SEQ_DIR}/preds/{{model}}.{{split}}.tsv",
    log:
        f"{OUT}/logs/sequence/seed{{seed}}/predict.{{model}}.{{split}}.log",
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


rule seq_attribute_shard:
    input:
        model=f"{SEQ_DIR}/models/{{model}}",
        data=f"{SEQ_DIR}/data/d.test.npz",
    output:
        npz=f"{SEQ_DIR}/attr/shards/{{model}}.{{method}}.{{shard}}.npz",
        json=f"{SEQ_DIR}/attr/shards/{{model}}.{{method}}.{{shard}}.json",
        rows=f"{SEQ_DIR}/attr/shards/{{model}}.{{method}}.{{shard}}.rows.tsv",
    wildcard_constraints:
        shard=r"\d+",
    log:
        f"{OUT}/logs/sequence/seed{{seed}}/attribute.{{model}}.{{method}}.{{shard}}.log",
    params:
        bin=BIN,
        attribution_positives=SEQ['attribution']['positives'],
        attribution_first=SEQ['attribution']['first'],
        shards=SEQ_SHARDS,
        extra=lambda wc: SEQ["attribution"]["ig"] + f" --seed {wc.seed}" if wc.method == "ig" else "",
    threads: config["threads"]
    resources:
        mem_mb=4000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-attribute --model {input.model} --data {input.data} --method {wildcards.method} "
        "--positives {params.attribution_positives} --first {params.attribution_first} {params.extra} "
        "--shard {wildcards.shard}/{params.shards} --threads {threads} -q -o {output.npz} 2> {log}"


rule seq_attribute_merge:
    input:
        expand(f"{SEQ_DIR}/attr/shards/{{model}}.{{method}}.{{shard}}.npz", shard=range(1, SEQ_SHARDS + 1), allow_missing=True),
    output:
        npz=f"{SEQ_DIR}/attr/{{model}}.{{method}}.npz",
        json=f"{SEQ_DIR}/attr/{{model}}.{{method}}.json",
        rows=f"{SEQ_DIR}/attr/{{model}}.{{method}}.rows.tsv",
    log:
        f"{OUT}/logs/sequence/seed{{seed}}/merge.{{model}}.{{method}}.log",
    params:
        bin=BIN,
    threads: 1
    resources:
        mem_mb=2000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-attribute --merge {input} -o {output.npz} 2> {log}"


rule seq_score:
    input:
        data=f"{SEQ_DIR}/data/d.test.npz",
        preds=expand(f"{SEQ_DIR}/preds/{{model}}.test.npz", model=SEQ_MODELS, allow_missing=True),
        attr=expand(
            f"{SEQ_DIR}/attr/{{model}}.{{method}}.npz",
            model=SEQ_MODELS,
            method=SEQ["attribution"]["methods"],
            allow_missing=True,
        ),
    output:
        predictive=f"{SEQ_DIR}/scores/predictive.json",
        recovery=f"{SEQ_DIR}/scores/recovery.json",
        tables=multiext(f"{SEQ_DIR}/scores/", "predictive.tsv", "recovery.tsv"),
    log:
        f"{OUT}/logs/sequence/seed{{seed}}/score.log",
    params:
        bin=BIN,
        attribution_first=SEQ['attribution']['first'],
        preds=lambda wc, input: " ".join(f"-i {m}={p}" for m, p in zip(SEQ_MODELS, input.preds)),
        attr=lambda wc, input: " ".join(f"-i {os.path.basename(p)[:-4]}={p}" for p in input.attr),
    threads: 1
    resources:
        mem_mb=4000,
    container:
        config["container"]
    shell:
        "({params.bin}gkd-score predictive --data {input.data} {params.preds} -o {output.tables[0]} --json {output.predictive} && "
        "{params.bin}gkd-score recovery --data {input.data} {params.attr} --first {params.attribution_first} "
        "-o {output.tables[1]} --json {output.recovery}) 2> {log}"


rule seq_report:
    input:
        scores=[f"{SEQ_DIR}/scores/predictive.json", f"{SEQ_DIR}/scores/recovery.json"],
        models=expand(f"{SEQ_DIR}/models/{{model}}", model=SEQ_MODELS, allow_missing=True),
        attr=expand(
            f"{SEQ_DIR}/attr/{{model}}.{{method}}.npz",
            model=SEQ_MODELS,
            method=SEQ["attribution"]["methods"],
            allow_missing=True,
        ),
        truth=f"{SEQ_DIR}/data/d.test.npz",
    output:
        report(f"{SEQ_DIR}/report.html", caption="../report/study.rst", category="gkd reports"),
    log:
        f"{OUT}/logs/sequence/seed{{seed}}/report.log",
    params:
        bin=BIN,
        report_show=SEQ['report_show'],
        models=lambda wc, input: " ".join(f"--model {m}={d}" for m, d in zip(SEQ_MODELS, input.models)),
        attr=lambda wc, input: " ".join(f"--attributions {os.path.basename(p)[:-4]}={p}" for p in input.attr),
    threads: 1
    resources:
        mem_mb=2000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-report -o {output} --title 'gkd seed study (seed {wildcards.seed})' "
        "--scores {input.scores[0]} --scores {input.scores[1]} {params.models} {params.attr} "
        "--truth {input.truth} --show {params.report_show} 2> {log}"
