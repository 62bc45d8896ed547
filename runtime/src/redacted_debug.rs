//! What the `Debug` that tonic-traced-build generates for messages with redacted fields prints:
//! a redacted field as it is recorded, never its value, and an enum field by its proto name.

use std::fmt;

use crate::redact::hash_if_configured;

/// A redacted field as a generated `Debug` shows it.
pub enum Redacted<'a> {
    /// `HASH`: the value's hash under the installed key, `HASH(?)` while no configuration is
    /// installed (the key it would be hashed with is not known yet).
    Hash(&'a [u8]),
    /// `LENGTH`: the value's length in bytes.
    Length(usize),
    /// `PRESENT`: whether the field is set.
    Present(bool),
}

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Redacted::Hash(value) => match hash_if_configured(value) {
                Some(hashed) => write!(f, "HASH({})", hashed.as_str()),
                None => f.write_str("HASH(?)"),
            },
            Redacted::Length(length) => write!(f, "LENGTH({length})"),
            Redacted::Present(present) => write!(f, "PRESENT({present})"),
        }
    }
}

/// An enum field (`i32`, `Option<i32>` or `Vec<i32>`) shown by the proto names of its values;
/// a number the enum does not know is shown as the number.
pub struct EnumField<'a, T: ?Sized> {
    value: &'a T,
    name: fn(i32) -> Option<&'static str>,
}

impl<'a, T: ?Sized> EnumField<'a, T> {
    /// `value`, named by `name` (generated from the enum's descriptor).
    pub fn new(value: &'a T, name: fn(i32) -> Option<&'static str>) -> Self {
        EnumField { value, name }
    }
}

impl fmt::Debug for EnumField<'_, i32> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.name)(*self.value) {
            Some(name) => f.write_str(name),
            None => fmt::Debug::fmt(self.value, f),
        }
    }
}

impl fmt::Debug for EnumField<'_, Option<i32>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value {
            Some(value) => f
                .debug_tuple("Some")
                .field(&EnumField::new(value, self.name))
                .finish(),
            None => f.write_str("None"),
        }
    }
}

impl fmt::Debug for EnumField<'_, Vec<i32>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.value
                    .iter()
                    .map(|value| EnumField::new(value, self.name)),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn currency(number: i32) -> Option<&'static str> {
        (number == 1).then_some("CURRENCY_USD")
    }

    #[test]
    fn redacted_fields_show_what_is_recorded() {
        assert_eq!(format!("{:?}", Redacted::Length(42)), "LENGTH(42)");
        assert_eq!(format!("{:?}", Redacted::Present(false)), "PRESENT(false)");
        // Other tests of this binary may have installed a configuration: either way, a hash or
        // the mark of a key not known yet, never the value (tests/tests/redacted_debug.rs
        // checks both states in order).
        let hashed = format!("{:?}", Redacted::Hash(b"alice@example.com"));
        let hex = hashed
            .strip_prefix("HASH(")
            .and_then(|rest| rest.strip_suffix(')'))
            .unwrap_or_default();
        assert!(
            hex == "?" || (hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit())),
            "{hashed}"
        );
    }

    #[test]
    fn enum_fields_show_proto_names_or_unknown_numbers() {
        assert_eq!(
            format!("{:?}", EnumField::new(&1, currency)),
            "CURRENCY_USD"
        );
        assert_eq!(format!("{:?}", EnumField::new(&7, currency)), "7");
        assert_eq!(
            format!("{:?}", EnumField::new(&Some(1), currency)),
            "Some(CURRENCY_USD)"
        );
        assert_eq!(
            format!("{:?}", EnumField::new(&None::<i32>, currency)),
            "None"
        );
        assert_eq!(
            format!("{:?}", EnumField::new(&vec![1, 9], currency)),
            "[CURRENCY_USD, 9]"
        );
    }
}
