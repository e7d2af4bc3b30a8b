process GKD_KMER {
    tag "${meta.id}"
    label 'process_medium'
    container 'gkd/gkd:0.1.0'

    input:
    tuple val(meta), path(train, stageAs: 'train/*')

    output:
    tuple val(meta), path("${prefix}"), emit: model
    tuple val("${task.process}"), val('gkd-kmer'), eval('gkd-kmer --version | cut -d" " -f2'), topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    def train_npz = train.find { f -> f.name.endsWith('.npz') }
    // LS-GKM's defaults (l 11, k 7, d 3, C 1) where meta is silent.
    def kernel = "-l ${meta.l ?: 11} -k ${meta.k ?: 7} -d ${meta.d ?: 3} -c ${meta.c ?: 1}"
    """
    gkd-kmer train --data ${train_npz} ${kernel} --threads ${task.cpus} ${args} -o ${prefix}
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    mkdir -p ${prefix}
    touch ${prefix}/kmer.json ${prefix}/support.tsv
    """
}
