#![no_main]
//! Fuzz target `bigwig`: see gkd_fuzz::bigwig.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    gkd_fuzz::bigwig(data);
});
