#![no_main]
//! Fuzz target `attributions`: see gkd_fuzz::attributions.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    gkd_fuzz::attributions(data);
});
