#![no_main]
//! Fuzz target `genes_gtf`: see gkd_fuzz::genes_gtf.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    gkd_fuzz::genes_gtf(data);
});
