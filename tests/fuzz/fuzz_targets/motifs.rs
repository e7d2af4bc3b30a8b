#![no_main]
//! Fuzz target `motifs`: see gkd_fuzz::motifs.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    gkd_fuzz::motifs(data);
});
