process GKD_TRAIN {
    tag "${meta.id}"
    label 'process_gpu'
    container 'gkd/gkd:0.1.0'

    input:
    tuple val(meta), path(train, stageAs: 'train/*'), path(valid, stageAs: 'valid/*'), path(soft_targets)

    output:
    tuple val(meta), path("${prefix}"), emit: model
    tuple val("${task.process}"), val('gkd-train'), eval('gkd-train --version | cut -d" " -f2'), topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    def train_npz = train.find { f -> f.name.endsWith('.npz') }
    def valid_npz = valid.find { f -> f.name.endsWith('.npz') }
    def device = meta.device ? "--device ${meta.device}" : ''
    def distill = soft_targets ? "--soft-targets ${soft_targets} --temperature ${meta.temperature} --alpha ${meta.alpha}" : ''
    """
    gkd-train --arch ${meta.arch} --first-activation ${meta.activation} --train ${train_npz} --valid ${valid_npz} ${distill} --seed ${meta.seed} ${device} --threads ${task.cpus} ${args} -o ${prefix}
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    mkdir -p ${prefix}
    touch ${prefix}/model.safetensors ${prefix}/model.json ${prefix}/history.tsv
    """
}
