//! How a call records the values it takes from messages and metadata: strings cut to the
//! attribute value length limit, `HASH` fields hashed under the deployment's key.

use crate::hashing::{hash_with, HashKey, HashedValue};
use crate::limits::truncate;

/// The value rules of one configuration, handed to everything that records a value.
#[derive(Clone)]
pub(crate) struct FieldValues {
    /// Characters kept of a string value.
    pub(crate) length_limit: usize,
    /// `None`: hashed unkeyed, which setup warns about.
    pub(crate) hash_key: Option<HashKey>,
}

impl FieldValues {
    /// `value` cut to the length limit, at a character boundary.
    pub(crate) fn limited<'a>(&self, value: &'a str) -> &'a str {
        truncate(value, self.length_limit)
    }

    /// The `HASH` of `value` under the key.
    pub(crate) fn hash(&self, value: &[u8]) -> HashedValue {
        hash_with(self.hash_key.as_ref(), value)
    }
}
