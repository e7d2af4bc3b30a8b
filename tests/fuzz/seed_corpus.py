import gzip, os, shutil, subprocess, sys, tempfile, pysam
R='/work/main'; T=f'{R}/test-data'; C=f'{R}/tests/fuzz/corpus'; B=os.path.expanduser('~/.cache/gkd-target/release')
SEP=b"\n--gkd-fuzz-part--\n"
def put(target, name, data):
    os.makedirs(f'{C}/{target}', exist_ok=True)
    open(f'{C}/{target}/{name}','wb').write(data)
rd=lambda p: open(p,'rb').read()
# fasta
for f in ['pysam_ex1.fa','deeptools_phiX174.fasta']: put('fasta', f, rd(f'{T}/fasta/{f}'))
put('fasta','pysam_ex1.fa.gz', gzip.compress(rd(f'{T}/fasta/pysam_ex1.fa'), mtime=0))
tmp=tempfile.mkdtemp(); shutil.copy(f'{T}/fasta/pysam_ex1.fa', f'{tmp}/x.fa'); pysam.tabix_compress(f'{tmp}/x.fa', f'{tmp}/x.fa.bgz', force=True)
put('fasta','pysam_ex1.fa.bgz', rd(f'{tmp}/x.fa.bgz'))
put('fasta','logomaker_crp_sites.fa', rd(f'{T}/seqdata/logomaker_crp_sites.fa')[:4000])
# indexed_fasta (gkd-scan): FASTA alone (index built in memory) and FASTA + its samtools .fai
for f in ['pysam_ex1.fa','deeptools_phiX174.fasta']:
    shutil.copy(f'{T}/fasta/{f}', f'{tmp}/{f}'); pysam.faidx(f'{tmp}/{f}')
    put('indexed_fasta', f, rd(f'{T}/fasta/{f}'))
    put('indexed_fasta', f + '+fai', rd(f'{T}/fasta/{f}') + SEP + rd(f'{tmp}/{f}.fai'))
put('indexed_fasta', 'dm3_chr2L_1-10050.fa+fai', rd(f'{T}/fasta/dm3_chr2L_1-10050.fa') + SEP + rd(f'{T}/fasta/dm3_chr2L_1-10050.fa.fai'))
# bed
put('bed','dm3_features.bed', rd(f'{T}/annotation/dm3_chr2L_1-10050_features.bed'))
put('bed','pyfaidx_gene.bed12', rd(f'{T}/fasta/pyfaidx_gene.bed12'))
# genes
gff=gzip.decompress(rd(f'{T}/annotation/pybedtools_dm3-chr2L-5M.gff.gz')).split(b'\n')
head=b'\n'.join(gff[:80])+b'\n'
put('genes_gff3','dm3_head.gff', head); put('genes_gff3','dm3_head.gff.gz', gzip.compress(head, mtime=0))
gtf=b'chr2L\tsrc\tgene\t7529\t9484\t.\t+\t.\tgene_id "g1"; gene_name "A";\nchr2L\tsrc\tgene\t9839\t21376\t.\t-\t.\tgene_id "g2";\n'
put('genes_gtf','two_genes.gtf', gtf)
put('genes_gtf','dm3_features.bed', rd(f'{T}/annotation/dm3_chr2L_1-10050_features.bed'))
# motifs
put('motifs','koo_eddy.jaspar', rd(f'{T}/motifs/koo_eddy_12tf_jaspar2016.jaspar'))
put('motifs','koo_eddy.meme', rd(f'{T}/motifs/koo_eddy_12tf_jaspar2016.meme'))
# deepchrome
put('deepchrome_csv','toy_test.csv', rd(f'{T}/deepchrome_toy/test.csv')[:6000])
# sequence table
pum=gzip.decompress(rd(f'{T}/seqdata/concise_PUM2_valid.csv.gz')).split(b'\n')
tab=b'\n'.join(pum[:25])+b'\n'
put('sequence_table','pum2_head.csv', tab); put('sequence_table','pum2_head.csv.gz', gzip.compress(tab, mtime=0))
# labels
put('labels_tsv','labels.tsv', b'id\tbound\tother\ns1\t1\t0\ns2\t0\t1\ns3\t1\t1\n')
# bigwig
for f in ['pybigtools_mini.bw','pybigwig_test.bw','deeptools_test.bw']: put('bigwig', f, rd(f'{T}/bigwig/{f}'))
# bam: 150 reads of the real paired-end BAM
inp=pysam.AlignmentFile(f'{T}/bam/deeptools_paired_chr2L.bam','rb')
out=pysam.AlignmentFile(f'{tmp}/s.bam','wb',template=inp)
for i,r in enumerate(inp):
    if i>=150: break
    out.write(r)
out.close(); put('bam','deeptools_paired_150.bam', rd(f'{tmp}/s.bam'))
# tool outputs: dataset, model, attributions, predictions
w=tempfile.mkdtemp()
run=lambda *a: subprocess.run([f'{B}/{a[0]}',*a[1:]],cwd=w,check=True,capture_output=True)
run('gkd-synth','task3','--motifs',f'{T}/motifs/koo_eddy_12tf_jaspar2016.jaspar','--decoys',f'{T}/motifs/koo_eddy_12tf_jaspar2016.meme','--n-positive','40','--n-negative','40','--n-decoys','5','--length','120','--seed','1','-o','d.{split}.npz')
put('dataset','synth_test', SEP.join([rd(f'{w}/d.test.npz'), rd(f'{w}/d.test.json'), rd(f'{w}/d.test.rows.tsv')]))
run('gkd-onehot','--fasta',f'{T}/fasta/dm3_chr2L_1-10050.fa','--bed',f'{T}/annotation/dm3_chr2L_1-10050_features.bed','--length','50','--label-columns','5','-o','o.npz')
put('dataset','onehot_bed', SEP.join([rd(f'{w}/o.npz'), rd(f'{w}/o.json'), rd(f'{w}/o.rows.tsv')]))
run('gkd-histone','--from-deepchrome',f'{T}/deepchrome_toy/test.csv','-o','h.npz')
put('dataset','histone_toy', SEP.join([rd(f'{w}/h.npz'), rd(f'{w}/h.json'), rd(f'{w}/h.rows.tsv')]))
run('gkd-train','--arch','koo-cnn-local','--train','d.train.npz','--valid','d.valid.npz','--epochs','1','--monitor','loss','-o','m')
put('model_dir','koo_cnn_local', SEP.join([rd(f'{w}/m/model.json'), rd(f'{w}/m/model.safetensors')]))
run('gkd-predict','--model','m','--data','d.test.npz','-o','p.npz')
put('predictions_tsv','koo_cnn_local_test.tsv', rd(f'{w}/p.tsv'))
run('gkd-attribute','--model','m','--data','d.test.npz','--method','saliency','--first','4','-o','a.npz')
put('attributions','saliency', SEP.join([rd(f'{w}/a.npz'), rd(f'{w}/a.json'), rd(f'{w}/a.rows.tsv')]))
run('gkd-attribute','--model','m','--data','d.test.npz','--method','ig','--first','2','--steps','4','-o','i.npz')
put('attributions','ig', SEP.join([rd(f'{w}/i.npz'), rd(f'{w}/i.json'), rd(f'{w}/i.rows.tsv')]))
