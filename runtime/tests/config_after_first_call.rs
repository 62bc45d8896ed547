//! A traced call without an installed configuration runs with the defaults, which then stay:
//! a later install is an error, not a half-applied setup.

mod support;

use tonic_traced::{Config, InstallError, SemconvMode};

#[test]
fn installing_after_a_traced_call_fails() {
    support::refused_call();
    let late = Config::new().semconv(SemconvMode::STABLE).install();
    assert_eq!(late, Err(InstallError::TracedCallRan));
    assert!(
        late.unwrap_err()
            .to_string()
            .contains("before serving or calling"),
        "the error says what to do"
    );
}
