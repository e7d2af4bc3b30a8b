process GKD_SYNTH {
    tag "${meta.id}"
    label 'process_low'
    container 'gkd/gkd:0.1.0'

    input:
    val meta
    path motifs
    path decoys

    output:
    tuple val(meta), path("${meta.id}.train.{npz,json,rows.tsv}"), emit: train
    tuple val(meta), path("${meta.id}.valid.{npz,json,rows.tsv}"), emit: valid
    tuple val(meta), path("${meta.id}.test.{npz,json,rows.tsv,sites.tsv}"), emit: test
    tuple val("${task.process}"), val('gkd-synth'), eval('gkd-synth --version | cut -d" " -f2'), topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def decoy_args = decoys ? "--decoys ${decoys}" : ''
    def template = "${meta.id}.{split}.npz"
    """
    gkd-synth ${meta.task} --motifs ${motifs} ${decoy_args} --seed ${meta.seed} ${args} -o '${template}'
    """

    stub:
    """
    for split in train valid test; do
        touch ${meta.id}.\$split.npz ${meta.id}.\$split.json ${meta.id}.\$split.rows.tsv
    done
    touch ${meta.id}.test.sites.tsv
    """
}
