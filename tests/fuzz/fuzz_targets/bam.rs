#![no_main]
//! Fuzz target `bam`: see gkd_fuzz::bam.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    gkd_fuzz::bam(data);
});
