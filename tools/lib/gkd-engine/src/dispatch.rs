//! Element-wise loops compiled twice: for the baseline x86-64 target (SSE2) and with AVX2,
//! chosen at run time. Only `avx2` is enabled, not `fma`: wider registers change no result
//! (each element gets the same IEEE operations in the same order), so both versions give the
//! same bytes and a model predicts the same on machines with and without AVX2.

/// Define `fn name(args) -> ret { body }` twice (portable and AVX2) behind one function that
/// picks the AVX2 build when the CPU has it.
macro_rules! avx2_dispatch {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn portable($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            unsafe fn avx2($($arg: $ty),*) $(-> $ret)? {
                portable($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 (checked just above).
                return unsafe { avx2($($arg),*) };
            }
            portable($($arg),*)
        }
    };
}

pub(crate) use avx2_dispatch;
