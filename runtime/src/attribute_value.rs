//! One attribute value as a message or a hook hands it over, before it becomes an
//! OpenTelemetry value.

use opentelemetry::{StringValue, Value};

/// One attribute value, borrowed from the message it was read from.
///
/// Conversion into an owned OpenTelemetry value happens in the [`AttributeSink`](crate::AttributeSink), so a sink
/// that drops values pays nothing for them.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum AttributeValue<'a> {
    /// `bool` fields and `PRESENT` redaction.
    Bool(bool),
    /// Signed integers, `uint32`, lengths and counts.
    I64(i64),
    /// `uint64` and `fixed64`, which may not fit an `i64`.
    U64(u64),
    /// `float` and `double`.
    F64(f64),
    /// Strings, enum value names and hashes.
    Str(&'a str),
}

impl AttributeValue<'_> {
    /// Converts to an OpenTelemetry value. A `u64` beyond `i64::MAX` becomes its decimal
    /// string, since OpenTelemetry has no unsigned integer type.
    pub fn to_otel(self) -> Value {
        match self {
            AttributeValue::Bool(value) => Value::Bool(value),
            AttributeValue::I64(value) => Value::I64(value),
            AttributeValue::U64(value) => match i64::try_from(value) {
                Ok(value) => Value::I64(value),
                Err(_) => Value::String(StringValue::from(value.to_string())),
            },
            AttributeValue::F64(value) => Value::F64(value),
            AttributeValue::Str(value) => Value::String(StringValue::from(value.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u64_beyond_i64_becomes_a_decimal_string() {
        assert_eq!(AttributeValue::U64(7).to_otel(), Value::I64(7));
        assert_eq!(
            AttributeValue::U64(u64::MAX).to_otel(),
            Value::String("18446744073709551615".into())
        );
    }
}
