# How each study gets its data: synthetic sequences with embedded motifs (gkd-synth), histone
# marks around genes (gkd-histone, from DeepChrome CSVs or bigWig / BAM tracks), or the user's
# own sequences (gkd-onehot). Everything after the data is shared (study.smk).
SEQ = config["sequence"]
SEQ_DATA = f"{OUT}/sequence/seed{{seed}}"
HIS = config["histone"]
CUS = config["custom"]


rule seq_synth:
    output:
        expand(f"{SEQ_DATA}/data/d.{{split}}.{{ext}}", split=SPLITS, ext=DATASET_FILES, allow_missing=True),
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


if HIS.get("synthetic"):

    # gkd-synth histone: real profiles resampled, labels from a rule, truth = the rule's cells.
    rule his_data:
        input:
            [data_path(p) for p in HIS["synthetic"]["background"]],
        output:
            expand(f"{OUT}/histone/data/h.{{split}}.{{ext}}", split=SPLITS, ext=DATASET_FILES),
        log:
            f"{OUT}/logs/histone/data.log",
        params:
            bin=BIN,
            background=lambda wc, input: " ".join(f"--background {p}" for p in input),
            rule=HIS["synthetic"]["rule"],
            n=HIS["synthetic"]["n"],
            noise=HIS["synthetic"]["label_noise"],
            template=lambda wc: f"{OUT}/histone/data/h.{{split}}.npz",
        threads: 1
        resources:
            mem_mb=2000,
        container:
            config["container"]
        shell:
            "{params.bin}gkd-synth histone {params.background} --rule '{params.rule}' --n {params.n} "
            "--label-noise {params.noise} --seed 1 -o '{params.template}' 2> {log}"

elif HIS.get("deepchrome_csv"):

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
