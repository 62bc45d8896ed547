//! Redaction helpers used by generated `SpanAttributes` and `Debug` code.

use crate::config;
use crate::hashing::hash_with;
pub use crate::hashing::HashedValue;

/// Hashes a value for the `HASH` redaction mode: the first 64 bits, in hex, of its
/// HMAC-SHA-256 under the configured key ([`Config::hash_key`](crate::Config::hash_key)).
///
/// Equal values give equal hashes in every process sharing the key, so spans still correlate,
/// and without the key a hash cannot be turned back into the value by guessing. A process with
/// no key (or no configuration installed yet) falls back to an unkeyed SHA-256 — which anyone
/// can reverse for small value spaces (ids, phone or card numbers) by hashing guesses; setup
/// warns about that once. Calling this installs nothing.
pub fn hash(value: &[u8]) -> HashedValue {
    match config::installed() {
        Some(config) => config.fields.hash(value),
        None => hash_with(None, value),
    }
}

/// The `HASH` of `value` under the installed configuration's key, or `None` while no
/// configuration is installed (what it would hash with is not known yet).
pub(crate) fn hash_if_configured(value: &[u8]) -> Option<HashedValue> {
    config::installed().map(|config| config.fields.hash(value))
}
