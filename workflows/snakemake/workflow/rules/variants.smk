# Optional variant effects after training (config `variants`): the listed models of each sequence
# study and seed score variants with gkd-variant, and gkd-score variants compares their rankings
# with the first listed model's. Two sets: `synthetic` (gkd-synth variants on the seed's test split:
# motif-breaking and background SNVs, scored against that truth too) and `vcf` (a configured real
# VCF and FASTA). Which models and sets: variant_models() and variant_sets() in common.smk; the
# reports join the seed's dashboard and the summary over seeds.
VARIANT_DIR = f"{SEED_DIR}/variants"


rule variants_synthetic:
    input:
        data=lambda wc: split_npz(wc.study, wc.seed, "test"),
    output:
        fa=f"{VARIANT_DIR}/synthetic.fa",
        fai=f"{VARIANT_DIR}/synthetic.fa.fai",
        vcf=f"{VARIANT_DIR}/synthetic.vcf",
        truth=f"{VARIANT_DIR}/synthetic.truth.tsv",
    wildcard_constraints:
        study=one_of([s for s in VARIANT_STUDIES if "synthetic" in variant_sets(s)]),
    log:
        f"{LOG_DIR}/variants.synthetic.log",
    params:
        bin=BIN,
        rows=f"--rows {VARIANTS['rows']}" if VARIANTS.get("rows") else "",
        prefix=lambda wc, output: output.vcf[: -len(".vcf")],
    threads: 1
    resources:
        mem_mb=2000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-synth variants --data {input.data} {params.rows} --seed {wildcards.seed} "
        "-o {params.prefix} -q 2> {log}"


rule variants_effects:
    input:
        models=lambda wc: [d for m in variant_models(wc.study) for d in prediction_models(wc.study, wc.seed, m)],
        vcf=lambda wc: (
            f"{seed_dir(wc.study, wc.seed)}/variants/synthetic.vcf" if wc.set == "synthetic" else data_path(VARIANTS["vcf"])
        ),
        fasta=lambda wc: (
            f"{seed_dir(wc.study, wc.seed)}/variants/synthetic.fa" if wc.set == "synthetic" else data_path(VARIANTS["fasta"])
        ),
    output:
        tsv=f"{VARIANT_DIR}/{{set}}.effects.tsv",
        vcf=f"{VARIANT_DIR}/{{set}}.effects.vcf",
        json=f"{VARIANT_DIR}/{{set}}.effects.json",
    wildcard_constraints:
        study=one_of(VARIANT_STUDIES),
        set="synthetic|vcf",
    log:
        f"{LOG_DIR}/variants.{{set}}.effects.log",
    params:
        bin=BIN,
        models=lambda wc: variant_model_flags(wc.study, wc.seed),
        prefix=lambda wc, output: output.tsv[: -len(".tsv")],
        strands="--both-strands" if VARIANTS["both_strands"] else "",
    threads: config["threads"]
    resources:
        mem_mb=4000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-variant {params.models} --vcf {input.vcf} --fasta {input.fasta} {params.strands} "
        "--threads {threads} -q -o {params.prefix} 2> {log}"


rule variants_score:
    input:
        effects=f"{VARIANT_DIR}/{{set}}.effects.tsv",
        truth=lambda wc: f"{seed_dir(wc.study, wc.seed)}/variants/synthetic.truth.tsv" if wc.set == "synthetic" else [],
    output:
        tsv=f"{SEED_DIR}/scores/variants.{{set}}.tsv",
        json=f"{SEED_DIR}/scores/variants.{{set}}.json",
    wildcard_constraints:
        study=one_of(VARIANT_STUDIES),
        set="synthetic|vcf",
    log:
        f"{LOG_DIR}/score.variants.{{set}}.log",
    params:
        bin=BIN,
        reference=lambda wc: variant_models(wc.study)[0],
        truth=lambda wc, input: f"--truth {input.truth}" if input.truth else "",
        top_k=VARIANTS["top_k"],
    threads: 1
    resources:
        mem_mb=2000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-score variants -i {input.effects} --reference {params.reference} {params.truth} "
        "--top-k {params.top_k} --set {wildcards.set} -o {output.tsv} --json {output.json} 2> {log}"
