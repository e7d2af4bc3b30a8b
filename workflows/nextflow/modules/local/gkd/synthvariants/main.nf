process GKD_SYNTHVARIANTS {
    tag "${meta.id}"
    label 'process_single'
    container 'gkd/gkd:0.1.0'

    input:
    tuple val(meta), path(test)

    output:
    tuple val(meta), path("${prefix}.vcf"), path("${prefix}.fa{,.fai}"), path("${prefix}.truth.tsv"), emit: variants
    tuple val("${task.process}"), val('gkd-synth'), eval('gkd-synth --version | cut -d" " -f2'), topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}.variants"
    // The split's NPZ; its manifest, rows and sites tables are staged beside it.
    def test_npz = test.find { f -> f.name.endsWith('.npz') }
    """
    gkd-synth variants --data ${test_npz} --seed ${meta.seed} ${args} -o ${prefix}
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}.variants"
    """
    touch ${prefix}.vcf ${prefix}.fa ${prefix}.fa.fai ${prefix}.truth.tsv
    """
}
