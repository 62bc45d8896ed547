//! The caller's deadline, from the `grpc-timeout` request header.

use std::time::{Duration, Instant};

use http::{HeaderMap, HeaderName, HeaderValue};

/// The header in which a gRPC caller sends its timeout.
pub(crate) const GRPC_TIMEOUT: HeaderName = HeaderName::from_static("grpc-timeout");

/// How early a call may end and still count as having hit its deadline. The deadline is
/// measured from when the handler starts, a little after the caller started its clock, and
/// the caller's cancellation crosses the network; both make it arrive slightly "early".
const DEADLINE_SLACK: Duration = Duration::from_millis(20);

/// The instant from which a call that ends unfinished counts as `DEADLINE_EXCEEDED` rather
/// than `CANCELLED`, if the caller set a valid `grpc-timeout` (`<up to 8 digits><unit>`).
pub(crate) fn deadline(headers: &HeaderMap) -> Option<Instant> {
    headers.get(GRPC_TIMEOUT).and_then(timeout_deadline)
}

/// The deadline a `grpc-timeout` value sets, if it is valid.
pub(crate) fn timeout_deadline(grpc_timeout: &HeaderValue) -> Option<Instant> {
    let value = grpc_timeout.to_str().ok()?;
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    let timeout = match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    };
    Instant::now().checked_add(timeout.saturating_sub(DEADLINE_SLACK))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_timeout(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("grpc-timeout", value.parse().unwrap());
        headers
    }

    #[test]
    fn parses_units_and_rejects_garbage() {
        let now = Instant::now();
        let in_a_second = deadline(&with_timeout("1000m")).unwrap();
        assert!(in_a_second >= now + Duration::from_millis(980) - Duration::from_millis(1));
        assert!(in_a_second <= Instant::now() + Duration::from_millis(980));
        assert!(deadline(&with_timeout("2H")).unwrap() > now + Duration::from_secs(7000));
        for bad in ["", "m", "10", "123456789S", "1x", "-1S", "1.5S"] {
            assert_eq!(deadline(&with_timeout(bad)), None, "{bad}");
        }
        assert_eq!(deadline(&HeaderMap::new()), None);
    }
}
