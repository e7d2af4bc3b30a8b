#![no_main]
//! Fuzz target `bed`: see gkd_fuzz::bed.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    gkd_fuzz::bed(data);
});
