process GKD_ATTACK {
    tag "${meta.id}"
    label 'process_medium'
    container 'gkd/gkd:0.1.0'

    input:
    tuple val(meta), path(model), path(data, stageAs: 'data/*'), path(squeezers, stageAs: 'squeezers/*')

    output:
    tuple val(meta), path("${prefix}.attack.json"), emit: json
    tuple val(meta), path("${prefix}.attack.tsv"), emit: tsv
    tuple val(meta), path("${prefix}.attack.*.{npz,json,rows.tsv}"), emit: splits
    tuple val(meta), path("${prefix}.detect.*.{json,tsv}"), emit: detections, optional: true
    tuple val("${task.process}"), val('gkd-attack'), eval('gkd-attack --version | cut -d" " -f2'), topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    // The attacked rows come from the test split; the flip goal's threshold is rate-matched on the
    // validation split. Each attack's successful rows are then scored by feature squeezing: reverse
    // complement, the least-attributed half of the positions blurred, and any squeezer models.
    def test_npz = data.find { f -> f.name.endsWith('.test.npz') }
    def valid_npz = data.find { f -> f.name.endsWith('.valid.npz') }
    def squeeze_args = squeezers.collect { d -> "--ensemble-model ${d}" }.join(' ')
    """
    gkd-attack --model ${model} --data ${test_npz} --threshold-from ${valid_npz} --threads ${task.cpus} ${args} -o ${prefix}.attack;
    for a in greedy-ism hotflip pgd random; do if [ -f ${prefix}.attack.\$a.npz ]; then gkd-attack detect --model ${model} --clean ${test_npz} --adversarial ${prefix}.attack.\$a.npz --rc --mask 0.5 ${squeeze_args} --threads ${task.cpus} -o ${prefix}.detect.\$a; fi; done
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.attack.json ${prefix}.attack.tsv ${prefix}.attack.greedy-ism.npz ${prefix}.detect.greedy-ism.json
    """
}
