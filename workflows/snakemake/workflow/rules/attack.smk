# Optional adversarial robustness after training (config `attack`): the listed models of each
# sequence study and seed are attacked with gkd-attack on the first test rows positive for the
# attacked class (flip goal at each model's rate-matched threshold on the validation split); the
# successful rows of each attack go through gkd-attack detect (reverse complement, the masked
# least-attributed positions, and the other listed models); gkd-score robustness joins them into
# one report per seed, which joins the seed's dashboard and the summary over seeds. Which models
# and flags: attack_models() and attack_flags() in common.smk.
ATTACK_DIR = f"{SEED_DIR}/attack"


rule attack_run:
    input:
        model=lambda wc: prediction_models(wc.study, wc.seed, wc.model)[0],
        data=lambda wc: split_npz(wc.study, wc.seed, "test"),
        valid=lambda wc: split_npz(wc.study, wc.seed, "valid"),
    output:
        tsv=f"{ATTACK_DIR}/{{model}}.tsv",
        json=f"{ATTACK_DIR}/{{model}}.json",
        splits=[f"{ATTACK_DIR}/{{model}}.{a}.npz" for a in ATTACK["attacks"]],
    wildcard_constraints:
        study=one_of(ATTACK_STUDIES),
        model=one_of(ATTACK["models"]),
    log:
        f"{LOG_DIR}/attack.{{model}}.log",
    params:
        bin=BIN,
        flags=lambda wc, input: attack_flags(wc.study, wc.seed, input.valid),
        prefix=lambda wc, output: output.json[: -len(".json")],
    threads: config["threads"]
    resources:
        mem_mb=4000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-attack --model {input.model} --data {input.data} {params.flags} "
        "--threads {threads} -q -o {params.prefix} 2> {log}"


rule attack_detect:
    input:
        model=lambda wc: prediction_models(wc.study, wc.seed, wc.model)[0],
        others=lambda wc: [prediction_models(wc.study, wc.seed, m)[0] for m in attack_models(wc.study) if m != wc.model],
        clean=lambda wc: split_npz(wc.study, wc.seed, "test"),
        adversarial=f"{ATTACK_DIR}/{{model}}.{{attack}}.npz",
    output:
        tsv=f"{ATTACK_DIR}/{{model}}.detect.{{attack}}.tsv",
        json=f"{ATTACK_DIR}/{{model}}.detect.{{attack}}.json",
    wildcard_constraints:
        study=one_of(ATTACK_STUDIES),
        model=one_of(ATTACK["models"]),
        attack=one_of(ATTACK["attacks"]),
    log:
        f"{LOG_DIR}/attack.{{model}}.detect.{{attack}}.log",
    params:
        bin=BIN,
        squeezers=lambda wc, input: detect_flags(input.others),
        prefix=lambda wc, output: output.json[: -len(".json")],
    threads: config["threads"]
    resources:
        mem_mb=4000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-attack detect --model {input.model} --clean {input.clean} "
        "--adversarial {input.adversarial} {params.squeezers} --threads {threads} -q -o {params.prefix} 2> {log}"


rule attack_score:
    input:
        attacks=lambda wc: [f"{seed_dir(wc.study, wc.seed)}/attack/{m}.json" for m in attack_models(wc.study)],
        detections=lambda wc: [d for _, d in attack_detections(wc.study, wc.seed)],
    output:
        tsv=f"{SEED_DIR}/scores/robustness.tsv",
        json=f"{SEED_DIR}/scores/robustness.json",
    wildcard_constraints:
        study=one_of(ATTACK_STUDIES),
    log:
        f"{LOG_DIR}/score.robustness.log",
    params:
        bin=BIN,
        inputs=lambda wc, input: " ".join(f"-i {m}={p}" for m, p in zip(attack_models(wc.study), input.attacks)),
        detections=lambda wc: " ".join(f"--detection {m}={d}" for m, d in attack_detections(wc.study, wc.seed)),
    threads: 1
    resources:
        mem_mb=2000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-score robustness {params.inputs} {params.detections} -o {output.tsv} "
        "--json {output.json} -q 2> {log}"
