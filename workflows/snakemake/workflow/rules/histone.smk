# The histone study: marks (DeepChrome CSVs, or bigWig / BAM tracks around genes' TSSs) ->
# AttentiveChrome teacher -> scratch and distilled DeepChrome students -> attention (teacher),
# saliency and class optimization (students) -> scores -> report.
HIS = config["histone"]
HIS_DIR = f"{OUT}/histone/seed{{seed}}"
HIS_MODELS = ["teacher", "scratch", "distilled"]


if HIS.get("deepchrome_csv"):

    rule his_data:
        input:
            lambda wc: data_path(HIS["deepchrome_csv"][wc.split]),
        output:
            npz=f"{OUT}/histone/data/h.{{split}}.npz",
            json=f"{OUT}/histone/data/h.{{split}}.json",
            rows=f"{OUT}/histone/data/h.{{split}}.rows.tsv",
        log:
            f"{OUT}/logs/histone/data.{{split}}.log",
        params:
            bin=BIN,
        threads: 1
        resources:
            mem_mb=2000,
        container:
            config["container"]
        shell:
            "{params.bin}gkd-histone --from-deepchrome {input} -o {output.npz} 2> {log}"

else:

    rule his_data:
        input:
            genes=data_path(HIS["genes"]) if HIS.get("genes") else [],
            expression=data_path(HIS["expression"]) if HIS.get("expression") else [],
            expression_bigwig=data_path(HIS["expression_bigwig"]) if HIS.get("expression_bigwig") else [],
            marks=[data_path(p) for p in HIS["marks"].values()],
        output:
            expand(f"{OUT}/histone/data/h.{{split}}.{{ext}}", split=SPLITS, ext=DATASET_FILES),
        log:
            f"{OUT}/logs/histone/data.log",
        params:
            bin=BIN,
            marks=" ".join(f"--mark {name}={data_path(path)}" for name, path in HIS["marks"].items()),
            expression=lambda wc, input: (
                f"--expression-bigwig {input.expression_bigwig}" if input.expression_bigwig else f"--expression {input.expression}"
            ),
            extra=HIS.get("histone_args", ""),
            template=lambda wc: f"{OUT}/histone/data/h.{{split}}.npz",
        threads: config["threads"]
        resources:
            mem_mb=4000,
        container:
            config["container"]
        shell:
            "{params.bin}gkd-histone --genes {input.genes} {params.marks} {params.expression} {params.extra} "
            "--split train=0.7,valid=0.1,test=0.2 --threads {threads} -o '{params.template}' 2> {log}"


rule his_train:
    input:
        train=f"{OUT}/histone/data/h.train.npz",
        valid=f"{OUT}/histone/data/h.valid.npz",
        soft=lambda wc: f"{OUT}/histone/seed{wc.seed}/preds/teacher.train.tsv" if wc.model == "distilled" else [],
    output:
        directory(f"{HIS_DIR}/models/{{model}}"),
    wildcard_constraints:
        model="teacher|scratch|distilled",
    log:
        f"{OUT}/logs/histone/seed{{seed}}/train.{{model}}.log",
    params:
        bin=BIN,
        train_epochs=HIS['train']['epochs'],
        train_patience=HIS['train']['patience'],
        train_batch_size=HIS['train']['batch_size'],
        device=DEVICE,
        arch=lambda wc: his_arch(wc.model),
        distill=lambda wc, input: (
            f"--soft-targets {input.soft} --temperature {HIS['distill']['temperature']} --alpha {HIS['distill']['alpha']}"
            if wc.model == "distilled"
            else ""
        ),
    threads: config["threads"]
    resources:
        mem_mb=4000,
        gpu=GPU,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-train --arch {params.arch} --train {input.train} --valid {input.valid} "
        "--epochs {params.train_epochs} --patience {params.train_patience} --batch-size {params.train_batch_size} "
        "--monitor loss {params.distill} --seed {wildcards.seed} --device {params.device} --threads {threads} -q "
        "-o {output} 2> {log}"


rule his_predict:
    input:
        model=f"{HIS_DIR}/models/{{model}}",
        data=f"{OUT}/histone/data/h.{{split}}.npz",
    output:
        npz=f"{HIS_DIR}/preds/{{model}}.{{split}}.npz",
        tsv=f"{HIS_DIR}/preds/{{model}}.{{split}}.tsv",
    log:
        f"{OUT}/logs/histone/seed{{seed}}/predict.{{model}}.{{split}}.log",
    params:
        bin=BIN,
    threads: config["threads"]
    resources:
        mem_mb=2000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-predict --model {input.model} --data {input.data} -o {output.npz} --tsv {output.tsv} "
        "--threads {threads} -q 2> {log}"


rule his_attribute:
    input:
        model=f"{HIS_DIR}/models/{{model}}",
        data=f"{OUT}/histone/data/h.test.npz",
    output:
        npz=f"{HIS_DIR}/attr/{{model}}.{{method}}.npz",
        json=f"{HIS_DIR}/attr/{{model}}.{{method}}.json",
        rows=f"{HIS_DIR}/attr/{{model}}.{{method}}.rows.tsv",
    wildcard_constraints:
        method="attention|saliency|classopt",
    log:
        f"{OUT}/logs/histone/seed{{seed}}/attribute.{{model}}.{{method}}.log",
    params:
        bin=BIN,
        extra=lambda wc: f"--target all --optimisation-steps {HIS['classopt_steps']} --seed {wc.seed}" if wc.method == "classopt" else "",
    threads: config["threads"]
    resources:
        mem_mb=2000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-attribute --model {input.model} --data {input.data} --method {wildcards.method} {params.extra} "
        "--threads {threads} -q -o {output.npz} 2> {log}"


HIS_MAPS = ["teacher.attention", "teacher.saliency", "scratch.saliency", "distilled.saliency", "scratch.classopt", "distilled.classopt"]


rule his_score:
    input:
        data=f"{OUT}/histone/data/h.test.npz",
        preds=expand(f"{HIS_DIR}/preds/{{model}}.test.npz", model=HIS_MODELS, allow_missing=True),
        maps=expand(f"{HIS_DIR}/attr/{{name}}.npz", name=["teacher.saliency", "scratch.saliency", "distilled.saliency"], allow_missing=True),
    output:
        predictive=f"{HIS_DIR}/scores/predictive.json",
        consistency=f"{HIS_DIR}/scores/consistency.json",
        tables=multiext(f"{HIS_DIR}/scores/", "predictive.tsv", "consistency.tsv"),
    log:
        f"{OUT}/logs/histone/seed{{seed}}/score.log",
    params:
        bin=BIN,
        preds=lambda wc, input: " ".join(f"-i {m}={p}" for m, p in zip(HIS_MODELS, input.preds)),
        maps=lambda wc, input: " ".join(f"-i {m}={p}" for m, p in zip(HIS_MODELS, input.maps)),
    threads: 1
    resources:
        mem_mb=2000,
    container:
        config["container"]
    shell:
        "({params.bin}gkd-score predictive --data {input.data} {params.preds} -o {output.tables[0]} --json {output.predictive} && "
        "{params.bin}gkd-score consistency {params.maps} --reference {input.maps[0]} -o {output.tables[1]} "
        "--json {output.consistency}) 2> {log}"


rule his_report:
    input:
        scores=[f"{HIS_DIR}/scores/predictive.json", f"{HIS_DIR}/scores/consistency.json"],
        models=expand(f"{HIS_DIR}/models/{{model}}", model=HIS_MODELS, allow_missing=True),
        maps=expand(f"{HIS_DIR}/attr/{{name}}.npz", name=HIS_MAPS, allow_missing=True),
    output:
        report(f"{HIS_DIR}/report.html", caption="../report/study.rst", category="gkd reports"),
    log:
        f"{OUT}/logs/histone/seed{{seed}}/report.log",
    params:
        bin=BIN,
        models=lambda wc, input: " ".join(f"--model {m}={d}" for m, d in zip(HIS_MODELS, input.models)),
        maps=lambda wc, input: " ".join(f"--attributions {n}={p}" for n, p in zip(HIS_MAPS, input.maps)),
    threads: 1
    resources:
        mem_mb=2000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-report -o {output} --title 'gkd histone study (seed {wildcards.seed})' "
        "--scores {input.scores[0]} --scores {input.scores[1]} {params.models} {params.maps} 2> {log}"
