//! What an error's `grpc-status-details-bin` (a `google.rpc.Status`) tells an on-call engineer,
//! as attributes of the RPC span: the detail types present, the reason and domain of an
//! `ErrorInfo`, the fields a `BadRequest` names, the delay a `RetryInfo` asks for. Decoded with
//! tonic-types; details that do not decode are left out.

use opentelemetry::{Array, Key, KeyValue, StringValue, Value};
use prost::Message as _;
use tonic_types::{ErrorDetail, RpcStatusExt as _};

use crate::limits::truncate;

/// The short type names of the details (`google.rpc.ErrorInfo`), in order.
const DETAIL_TYPES: Key = Key::from_static_str("rpc.grpc.status_details.types");
/// `ErrorInfo.reason`: the error's cause, `OVER_LIMIT`.
const ERROR_INFO_REASON: Key = Key::from_static_str("rpc.grpc.error_info.reason");
/// `ErrorInfo.domain`: who defines the reason, usually the service.
const ERROR_INFO_DOMAIN: Key = Key::from_static_str("rpc.grpc.error_info.domain");
/// The `field` of each `BadRequest` field violation.
const BAD_REQUEST_FIELDS: Key = Key::from_static_str("rpc.grpc.bad_request.fields");
/// `RetryInfo.retry_delay`, in seconds.
const RETRY_DELAY: Key = Key::from_static_str("rpc.grpc.retry_info.delay");

/// Details listed at most, and violated fields named at most: a caller-made status cannot
/// make the span unbounded.
const MAX_LISTED: usize = 16;

/// The attributes of the details in `details` (the bytes of `grpc-status-details-bin`), with
/// strings cut to `limit` characters; none if they do not decode.
pub(crate) fn detail_attributes(details: &[u8], limit: usize) -> Vec<KeyValue> {
    let Ok(status) = tonic_types::Status::decode(details) else {
        return Vec::new();
    };
    let text = |value: &str| StringValue::from(truncate(value, limit).to_owned());
    let types: Vec<StringValue> = status
        .details
        .iter()
        .take(MAX_LISTED)
        .map(|any| text(any.type_url.rsplit('/').next().unwrap_or_default()))
        .collect();
    if types.is_empty() {
        return Vec::new();
    }
    let mut attributes = vec![KeyValue::new(
        DETAIL_TYPES,
        Value::Array(Array::String(types)),
    )];
    for detail in status.get_error_details_vec() {
        match detail {
            ErrorDetail::ErrorInfo(info) => {
                attributes.push(KeyValue::new(ERROR_INFO_REASON, text(&info.reason)));
                attributes.push(KeyValue::new(ERROR_INFO_DOMAIN, text(&info.domain)));
            }
            ErrorDetail::BadRequest(request) => {
                let fields = request
                    .field_violations
                    .iter()
                    .take(MAX_LISTED)
                    .map(|violation| text(&violation.field))
                    .collect();
                attributes.push(KeyValue::new(
                    BAD_REQUEST_FIELDS,
                    Value::Array(Array::String(fields)),
                ));
            }
            ErrorDetail::RetryInfo(retry) => {
                if let Some(delay) = retry.retry_delay {
                    attributes.push(KeyValue::new(RETRY_DELAY, delay.as_secs_f64()));
                }
            }
            _ => {}
        }
    }
    attributes
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tonic::{Code, Status};
    use tonic_types::{ErrorDetails, StatusExt as _};

    use super::*;

    fn attribute(attributes: &[KeyValue], key: &Key) -> Option<Value> {
        attributes
            .iter()
            .find(|kv| kv.key == *key)
            .map(|kv| kv.value.clone())
    }

    #[test]
    fn error_info_bad_request_and_retry_info() {
        let mut details = ErrorDetails::with_error_info("OVER_LIMIT", "payment.example", []);
        details
            .add_bad_request_violation("amount", "over the limit")
            .add_bad_request_violation("currency", "unknown")
            .set_retry_info(Some(Duration::from_millis(1500)));
        let status = Status::with_error_details(Code::FailedPrecondition, "declined", details);
        let attributes = detail_attributes(status.details(), 1024);
        let strings = |values: &[&str]| {
            Value::Array(Array::String(
                values
                    .iter()
                    .map(|v| StringValue::from(v.to_string()))
                    .collect(),
            ))
        };
        assert_eq!(
            attribute(&attributes, &DETAIL_TYPES),
            Some(strings(&[
                "google.rpc.RetryInfo",
                "google.rpc.ErrorInfo",
                "google.rpc.BadRequest"
            ]))
        );
        assert_eq!(
            attribute(&attributes, &ERROR_INFO_REASON),
            Some("OVER_LIMIT".into())
        );
        assert_eq!(
            attribute(&attributes, &ERROR_INFO_DOMAIN),
            Some("payment.example".into())
        );
        assert_eq!(
            attribute(&attributes, &BAD_REQUEST_FIELDS),
            Some(strings(&["amount", "currency"]))
        );
        assert_eq!(attribute(&attributes, &RETRY_DELAY), Some(Value::F64(1.5)));
    }

    #[test]
    fn undecodable_or_empty_details_give_nothing() {
        assert!(detail_attributes(b"\xff\xff not a status", 1024).is_empty());
        assert!(detail_attributes(b"", 1024).is_empty());
    }

    #[test]
    fn strings_are_cut_to_the_limit() {
        let details = ErrorDetails::with_error_info("R".repeat(5000), "d", []);
        let status = Status::with_error_details(Code::Internal, "", details);
        let attributes = detail_attributes(status.details(), 8);
        assert_eq!(
            attribute(&attributes, &ERROR_INFO_REASON),
            Some("RRRRRRRR".into())
        );
    }
}
