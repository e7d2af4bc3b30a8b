#![no_main]
//! Fuzz target `labels_tsv`: see gkd_fuzz::labels_tsv.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    gkd_fuzz::labels_tsv(data);
});
