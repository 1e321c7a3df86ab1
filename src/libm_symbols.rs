//! The C `pow` and `log` symbols, defined in the binary so that it does not load `libm.so.6`.
//!
//! The only libm functions the whole program calls are `pow` (tokio's multi-thread scheduler
//! weighs its poll-time average with `powf`; minijinja's `**` operator) and `log` (the bundled
//! SQLite of the session store). For those two symbols the dynamic loader would map and
//! relocate all of glibc's libm, running its 85 IFUNC resolvers at
//! every start: ≈460 KiB of resident pages in an idle gateway (issue 15, idle RSS target) and
//! part of exec → READY. Defined here from the `libm` crate (the port of musl's `pow` that
//! Rust's own compiler-builtins use, correctly rounded to < 1 ULP), the linker's `--as-needed`
//! (rustc's default) drops `libm.so.6` from the binary's dependencies. glibc/Linux only: other
//! platforms keep their system `pow` and `log`. `packaging/deb/check.sh` fails the build of a
//! package that needs libm again, naming the symbol.

/// `double pow(double x, double y)` with C's ABI and semantics.
#[unsafe(no_mangle)]
pub extern "C" fn pow(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}

/// `double log(double x)` with C's ABI and semantics.
#[unsafe(no_mangle)]
pub extern "C" fn log(x: f64) -> f64 {
    libm::log(x)
}

#[cfg(test)]
mod tests {
    use super::{log, pow};

    #[test]
    fn log_matches_the_c_definition() {
        assert_eq!(log(1.0), 0.0);
        assert!((log(std::f64::consts::E) - 1.0).abs() < 1e-15);
        assert_eq!(log(0.0), f64::NEG_INFINITY);
        assert!(log(-1.0).is_nan());
    }

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
