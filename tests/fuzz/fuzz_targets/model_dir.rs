#![no_main]
//! Fuzz target `model_dir`: see gkd_fuzz::model_dir.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    gkd_fuzz::model_dir(data);
});
