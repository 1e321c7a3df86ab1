//! The C `pow` symbol, defined in the binary so that it does not load `libm.so.6`.
//!
//! The only libm function the whole program calls is `pow` (tokio's multi-thread scheduler
//! weighs its poll-time average with `powf`; minijinja's `**` operator). For that one symbol the
//! dynamic loader would map and relocate all of glibc's libm, running its 85 IFUNC resolvers at
//! every start: ≈460 KiB of resident pages in an idle gateway (issue 15, idle RSS target) and
//! part of exec → READY. Defined here from the `libm` crate (the port of musl's `pow` that
//! Rust's own compiler-builtins use, correctly rounded to < 1 ULP), the linker's `--as-needed`
//! (rustc's default) drops `libm.so.6` from the binary's dependencies. glibc/Linux only: other
//! platforms keep their system `pow`.

/// `double pow(double x, double y)` with C's ABI and semantics.
#[unsafe(no_mangle)]
pub extern "C" fn pow(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}

#[cfg(test)]
mod tests {
    use super::pow;

    #[test]
    fn pow_matches_the_c_definition_on_the_values_its_callers_use() {
        assert_eq!(pow(2.0, 10.0), 1024.0);
        assert_eq!(pow(2.0, -3.0), 0.125);
        assert_eq!(pow(0.9, 0.0), 1.0);
        assert!((pow(0.9, 2.5) - 0.768_433_471_420_916_8).abs() < 1e-15);
        assert!(pow(-1.0, 0.5).is_nan());
        assert_eq!(pow(0.0, -1.0), f64::INFINITY);
    }
}
