process GKD_SCANMERGE {
    tag "${meta.id}"
    label 'process_single'
    container 'gkd/gkd:0.1.0'

    input:
    tuple val(meta), path(parts)

    output:
    tuple val(meta), path("${prefix}.*"), emit: tracks
    tuple val("${task.process}"), val('gkd-scan'), eval('gkd-scan --version | cut -d" " -f2'), topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    // Each shard's prefix is its manifest's name without `.scan.json`.
    def part_list = parts.findAll { f -> f.name.endsWith('.scan.json') }.collect { f -> f.name - '.scan.json' }.sort().join(' ')
    """
    gkd-scan merge ${args} -o ${prefix} ${part_list}
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.scan.json
    """
}
