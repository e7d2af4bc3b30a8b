#![no_main]
//! Fuzz target `fasta`: see gkd_fuzz::fasta.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    gkd_fuzz::fasta(data);
});
