process GKD_MODISCO {
    tag "${meta.id}"
    label 'process_medium'
    container 'gkd/gkd:0.1.0'

    input:
    tuple val(meta), path(maps)
    path database

    output:
    tuple val(meta), path("${prefix}.patterns.json"), emit: patterns
    tuple val(meta), path("${prefix}.modisco.h5"), emit: h5
    tuple val(meta), path("${prefix}.report"), emit: report
    tuple val("${task.process}"), val('modisco-lite'), eval('python3 -c "import importlib.metadata as m; print(m.version(\'modisco-lite\'))"'), topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    def maps_npz = maps.find { f -> f.name.endsWith('.npz') }
    // gkd-attribute writes modisco-lite's inputs, modisco finds the patterns, gkd_tomtom.py (the
    // pipeline's bin/) names them with memelite's Tomtom and draws the HTML (`modisco report -l`).
    """
    gkd-attribute --maps ${maps_npz} --modisco ${prefix}.inputs &&
    NUMBA_NUM_THREADS=${task.cpus} modisco motifs -s ${prefix}.inputs/sequences.npz -a ${prefix}.inputs/attributions.npz -w ${meta.length} ${args} -o ${prefix}.modisco.h5 &&
    gkd_tomtom.py --modisco ${prefix}.modisco.h5 --database ${database} -o ${prefix}.patterns.json --report ${prefix}.report
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.patterns.json ${prefix}.modisco.h5
    mkdir ${prefix}.report
    """
}
