#![no_main]
//! Fuzz target `sequence_table`: see gkd_fuzz::sequence_table.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    gkd_fuzz::sequence_table(data);
});
