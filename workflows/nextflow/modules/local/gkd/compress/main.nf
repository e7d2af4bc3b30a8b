process GKD_COMPRESS {
    tag "${meta.id}"
    label 'process_medium'
    container 'gkd/gkd:0.1.0'

    input:
    tuple val(meta), path(model), path(data, stageAs: 'data/*')

    output:
    tuple val(meta), path("${prefix}"), emit: model
    tuple val("${task.process}"), val('gkd-compress'), eval('gkd-compress --version | cut -d" " -f2'), topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    // meta.method: prune | low-rank | mpo | quantize; meta.method_args: its flags (say --ratio 10).
    // The training split fine-tunes (quantize: calibrates); the validation split gives the metrics
    // in model.json. The uncompressed model is the teacher of the distillation fine-tuning.
    def train_npz = data.find { f -> f.name.endsWith('.train.npz') }
    def valid_npz = data.find { f -> f.name.endsWith('.valid.npz') }
    def data_args = meta.method == 'quantize' ? "--calibration ${train_npz} --valid ${valid_npz}" : "--train ${train_npz} --valid ${valid_npz} --teacher ${model}"
    """
    gkd-compress ${meta.method} ${meta.method_args} --model ${model} ${data_args} --threads ${task.cpus} ${args} -o ${prefix}
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    mkdir -p ${prefix} && touch ${prefix}/model.json
    """
}
