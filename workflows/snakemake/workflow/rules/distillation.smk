# The distillation question on Koo & Eddy task 1: one data set per seed, shared by all of that
# seed's models; a single teacher (teacher1) and an ensemble teacher (teacher1..E, logits averaged);
# a student from scratch and one distilled student per (teacher kind, T, alpha); test AUPR, agreement
# with the teacher, and motif recovery (each map scored against the sites of the class it explains)
# -> per-seed score reports -> gkd-score sweep (mean +/- sd over seeds, paired differences from the
# scratch student with a sign test) -> report with AUPR / recovery against T, one line per alpha.
DIS = config["distillation"]
DIS_DIR = f"{OUT}/distillation/seed{{seed}}"
DIS_TEACHERS = [f"teacher{k}" for k in range(1, DIS["ensemble"] + 1)]
DIS_METHODS = DIS["attribution"]["methods"]


rule dis_synth:
    output:
        expand(f"{DIS_DIR}/data/d.{{split}}.{{ext}}", split=SPLITS, ext=DATASET_FILES + ["sites.tsv"], allow_missing=True),
    log:
        f"{OUT}/logs/distillation/seed{{seed}}/synth.log",
    params:
        bin=BIN,
        template=lambda wc: f"{OUT}/distillation/seed{wc.seed}/data/d.{{split}}.npz",
        motifs=data_path(DIS["motifs"]),
        n=DIS["n"],
        length=DIS["length"],
    threads: 1
    resources:
        mem_mb=2000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-synth task1 --motifs {params.motifs} --n {params.n} --length {params.length} "
        "--seed {wildcards.seed} -o '{params.template}' 2> {log}"


rule dis_train_teacher:
    input:
        train=f"{DIS_DIR}/data/d.train.npz",
        valid=f"{DIS_DIR}/data/d.valid.npz",
    output:
        directory(f"{DIS_DIR}/models/teacher{{k}}"),
    wildcard_constraints:
        k=r"\d+",
    log:
        f"{OUT}/logs/distillation/seed{{seed}}/train.teacher{{k}}.log",
    params:
        bin=BIN,
        spec=f"--arch {DIS['teacher']['arch']} --first-activation {DIS['teacher']['activation']}",
        budget=f"--epochs {DIS['train']['epochs']} --patience {DIS['train']['patience']} "
        f"--plateau-patience {DIS['train']['plateau_patience']} --batch-size {DIS['train']['batch_size']}",
        # Ensemble members differ only in their training seed: seed, seed + 1000, seed + 2000, ...
        training_seed=lambda wc: int(wc.seed) + 1000 * (int(wc.k) - 1),
        device=DEVICE,
    threads: config["threads"]
    resources:
        mem_mb=6000,
        gpu=GPU,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-train {params.spec} --train {input.train} --valid {input.valid} {params.budget} "
        "--seed {params.training_seed} --device {params.device} --threads {threads} -q -o {output} 2> {log}"


rule dis_teacher_predict:
    input:
        models=lambda wc: [f"{OUT}/distillation/seed{wc.seed}/models/{t}" for t in (DIS_TEACHERS if wc.kind == "ensemble" else DIS_TEACHERS[:1])],
        data=f"{DIS_DIR}/data/d.{{split}}.npz",
    output:
        npz=f"{DIS_DIR}/preds/{{kind}}.{{split}}.npz",
        tsv=f"{DIS_DIR}/preds/{{kind}}.{{split}}.tsv",
    wildcard_constraints:
        kind="teacher|ensemble",
    log:
        f"{OUT}/logs/distillation/seed{{seed}}/predict.{{kind}}.{{split}}.log",
    params:
        bin=BIN,
        models=lambda wc, input: " ".join(f"--model {m}" for m in input.models),
    threads: config["threads"]
    resources:
        mem_mb=4000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-predict {params.models} --data {input.data} -o {output.npz} --tsv {output.tsv} "
        "--threads {threads} -q 2> {log}"


rule dis_train_student:
    input:
        train=f"{DIS_DIR}/data/d.train.npz",
        valid=f"{DIS_DIR}/data/d.valid.npz",
        soft=lambda wc: [] if wc.student == "scratch" else f"{OUT}/distillation/seed{wc.seed}/preds/{dis_setting(wc.student)[0]}.train.tsv",
    output:
        directory(f"{DIS_DIR}/models/{{student}}"),
    wildcard_constraints:
        student=r"scratch|[A-Za-z]+_T[0-9.]+_a[0-9.]+",
    log:
        f"{OUT}/logs/distillation/seed{{seed}}/train.{{student}}.log",
    params:
        bin=BIN,
        spec=f"--arch {DIS['student']['arch']} --first-activation {DIS['student']['activation']}",
        budget=f"--epochs {DIS['train']['epochs']} --patience {DIS['train']['patience']} "
        f"--plateau-patience {DIS['train']['plateau_patience']} --batch-size {DIS['train']['batch_size']}",
        distill=lambda wc, input: (
            ""
            if wc.student == "scratch"
            else f"--soft-targets {input.soft} --temperature {dis_setting(wc.student)[1]} --alpha {dis_setting(wc.student)[2]}"
        ),
        device=DEVICE,
    threads: config["threads"]
    resources:
        mem_mb=6000,
        gpu=GPU,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-train {params.spec} --train {input.train} --valid {input.valid} {params.budget} "
        "{params.distill} --seed {wildcards.seed} --device {params.device} --threads {threads} -q -o {output} 2> {log}"


rule dis_predict_test:
    input:
        model=f"{DIS_DIR}/models/{{student}}",
        data=f"{DIS_DIR}/data/d.test.npz",
    output:
        npz=f"{DIS_DIR}/preds/{{student}}.test.npz",
        tsv=f"{DIS_DIR}/preds/{{student}}.test.tsv",
    wildcard_constraints:
        student=r"scratch|[A-Za-z]+_T[0-9.]+_a[0-9.]+",
    log:
        f"{OUT}/logs/distillation/seed{{seed}}/predict.{{student}}.test.log",
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


rule dis_attribute:
    input:
        model=lambda wc: f"{OUT}/distillation/seed{wc.seed}/models/{'teacher1' if wc.model == 'teacher' else wc.model}",
        data=f"{DIS_DIR}/data/d.test.npz",
    output:
        npz=f"{DIS_DIR}/attr/{{model}}.{{method}}.npz",
        json=f"{DIS_DIR}/attr/{{model}}.{{method}}.json",
        rows=f"{DIS_DIR}/attr/{{model}}.{{method}}.rows.tsv",
    wildcard_constraints:
        method="saliency|gradxinput|ig|ism|ism-fast",
    log:
        f"{OUT}/logs/distillation/seed{{seed}}/attribute.{{model}}.{{method}}.log",
    params:
        bin=BIN,
        first=DIS["attribution"]["first"],
    threads: config["threads"]
    resources:
        mem_mb=4000,
    container:
        config["container"]
    shell:
        # Every test row with a motif, explained for each class it is labelled with.
        "{params.bin}gkd-attribute --model {input.model} --data {input.data} --method {wildcards.method} "
        "--positives any --target labelled --first {params.first} --threads {threads} -q -o {output.npz} 2> {log}"


rule dis_score_predictive:
    input:
        data=f"{DIS_DIR}/data/d.test.npz",
        preds=lambda wc: [
            f"{OUT}/distillation/seed{wc.seed}/preds/{m}.test.npz"
            for m in [wc.kind, "scratch"] + [s for s in dis_students() if dis_setting(s)[0] == wc.kind]
        ],
    output:
        tsv=f"{DIS_DIR}/scores/predictive.{{kind}}.tsv",
        json=f"{DIS_DIR}/scores/predictive.{{kind}}.json",
    wildcard_constraints:
        kind="teacher|ensemble",
    log:
        f"{OUT}/logs/distillation/seed{{seed}}/score.predictive.{{kind}}.log",
    params:
        bin=BIN,
        preds=lambda wc, input: " ".join(f"-i {os.path.basename(p)[: -len('.test.npz')]}={p}" for p in input.preds),
    threads: 1
    resources:
        mem_mb=2000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-score predictive --data {input.data} {params.preds} --agreement-with {wildcards.kind} "
        "-o {output.tsv} --json {output.json} 2> {log}"


rule dis_score_recovery:
    input:
        data=f"{DIS_DIR}/data/d.test.npz",
        sites=f"{DIS_DIR}/data/d.test.sites.tsv",
        attr=lambda wc: [
            f"{OUT}/distillation/seed{wc.seed}/attr/{m}.{method}.npz" for m in dis_attributed() for method in DIS_METHODS
        ],
    output:
        tsv=f"{DIS_DIR}/scores/recovery.tsv",
        json=f"{DIS_DIR}/scores/recovery.json",
    log:
        f"{OUT}/logs/distillation/seed{{seed}}/score.recovery.log",
    params:
        bin=BIN,
        first=DIS["attribution"]["first"],
        attr=lambda wc, input: " ".join(f"-i {os.path.basename(p)[:-4]}={p}" for p in input.attr),
    threads: 1
    resources:
        mem_mb=4000,
    container:
        config["container"]
    shell:
        # --first counts maps; every selected row's maps are scored.
        "{params.bin}gkd-score recovery --data {input.data} --sites {input.sites} {params.attr} "
        "--first 1000000 -o {output.tsv} --json {output.json} 2> {log}"


rule dis_sweep:
    input:
        reports=expand(
            f"{OUT}/distillation/seed{{seed}}/scores/{{report}}.json",
            seed=DIS["seeds"],
            report=[f"predictive.{k}" for k in DIS["kinds"]] + ["recovery"],
        ),
    output:
        tsv=f"{OUT}/distillation/sweep.tsv",
        json=f"{OUT}/distillation/sweep.json",
    log:
        f"{OUT}/logs/distillation/sweep.log",
    params:
        bin=BIN,
        reports=lambda wc, input: " ".join(f"--report {p}" for p in input.reports),
    threads: 1
    resources:
        mem_mb=1000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-score sweep {params.reports} --reference scratch -o {output.tsv} --json {output.json} 2> {log}"


rule dis_report:
    input:
        sweep=f"{OUT}/distillation/sweep.json",
    output:
        report(f"{OUT}/distillation/report.html", caption="../report/study.rst", category="gkd reports"),
    log:
        f"{OUT}/logs/distillation/report.log",
    params:
        bin=BIN,
    threads: 1
    resources:
        mem_mb=1000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-report -o {output} --title 'gkd distillation sweep (task 1)' --scores {input.sweep} 2> {log}"
