#![no_main]
//! Fuzz target `deepchrome_csv`: see gkd_fuzz::deepchrome_csv.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    gkd_fuzz::deepchrome_csv(data);
});
