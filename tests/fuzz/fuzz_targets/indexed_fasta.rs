#![no_main]
//! Fuzz target `indexed_fasta`: see gkd_fuzz::indexed_fasta.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    gkd_fuzz::indexed_fasta(data);
});
