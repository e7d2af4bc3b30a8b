process GKD_ONEHOT {
    tag "${meta.id}"
    label 'process_low'
    container 'gkd/gkd:0.1.0'

    input:
    tuple val(meta), path(fasta), path(bed)

    output:
    tuple val(meta), path("${meta.id}.train.{npz,json,rows.tsv}"), emit: train
    tuple val(meta), path("${meta.id}.valid.{npz,json,rows.tsv}"), emit: valid
    tuple val(meta), path("${meta.id}.test.{npz,json,rows.tsv}"), emit: test
    tuple val("${task.process}"), val('gkd-onehot'), eval('gkd-onehot --version | cut -d" " -f2'), topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: '--split train=0.7,valid=0.1,test=0.2'
    def source = bed ? "--fasta ${fasta} --bed ${bed}" : "--fasta ${fasta} --header-labels"
    def template = "${meta.id}.{split}.npz"
    """
    gkd-onehot ${source} ${args} --threads ${task.cpus} -o '${template}'
    """

    stub:
    """
    for split in train valid test; do
        touch ${meta.id}.\$split.npz ${meta.id}.\$split.json ${meta.id}.\$split.rows.tsv
    done
    """
}
