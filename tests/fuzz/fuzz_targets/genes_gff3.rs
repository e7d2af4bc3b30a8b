#![no_main]
//! Fuzz target `genes_gff3`: see gkd_fuzz::genes_gff3.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    gkd_fuzz::genes_gff3(data);
});
