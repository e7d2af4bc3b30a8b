#![no_main]
//! Fuzz target `dataset`: see gkd_fuzz::dataset.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    gkd_fuzz::dataset(data);
});
