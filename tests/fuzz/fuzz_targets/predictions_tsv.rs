#![no_main]
//! Fuzz target `predictions_tsv`: see gkd_fuzz::predictions_tsv.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    gkd_fuzz::predictions_tsv(data);
});
