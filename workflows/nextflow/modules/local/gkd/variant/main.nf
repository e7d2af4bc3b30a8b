process GKD_VARIANT {
    tag "${meta.id}"
    label 'process_medium'
    container 'gkd/gkd:0.1.0'

    input:
    tuple val(meta), path(models), path(vcf), path(fasta)

    output:
    tuple val(meta), path("${prefix}.effects.tsv"), emit: tsv
    tuple val(meta), path("${prefix}.effects.vcf"), emit: vcf
    tuple val(meta), path("${prefix}.effects.json"), emit: json
    tuple val("${task.process}"), val('gkd-variant'), eval('gkd-variant --version | cut -d" " -f2'), topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    // One --model NAME=DIR per model directory (named after its model), in the order given; the
    // FASTA's .fai (and .gzi) are staged beside it.
    def model_args = models.collect { d -> "--model ${d.name}=${d}" }.join(' ')
    def fasta_file = fasta.find { f -> !f.name.endsWith('.fai') && !f.name.endsWith('.gzi') }
    """
    gkd-variant ${model_args} --vcf ${vcf} --fasta ${fasta_file} --threads ${task.cpus} ${args} -o ${prefix}.effects
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.effects.tsv ${prefix}.effects.vcf ${prefix}.effects.json
    """
}
