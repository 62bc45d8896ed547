//! The `HASH` redaction's digest: HMAC-SHA-256 under the deployment's key (plain SHA-256
//! without one), shortened to 64 bits of hex.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Number of hex characters kept of a hashed value's digest (64 bits).
const HASH_HEX_LEN: usize = 16;

/// The deployment's key for `HASH`, ready to hash with (HMAC-SHA-256's state after the key).
#[derive(Clone)]
pub(crate) struct HashKey(Hmac<Sha256>);

impl HashKey {
    /// The key `secret` (any length; share one across the services whose ids should correlate).
    pub(crate) fn new(secret: &[u8]) -> Self {
        HashKey(Hmac::new_from_slice(secret).expect("HMAC takes keys of any length"))
    }
}

/// A hash of a field value, as lowercase hex, held inline so hashing never allocates.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HashedValue([u8; HASH_HEX_LEN]);

impl HashedValue {
    /// The hex digest.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written into the buffer.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    fn from_digest(digest: &[u8]) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; HASH_HEX_LEN];
        for (pair, byte) in out.chunks_exact_mut(2).zip(digest) {
            pair[0] = HEX[usize::from(byte >> 4)];
            pair[1] = HEX[usize::from(byte & 0x0f)];
        }
        HashedValue(out)
    }
}

impl std::fmt::Debug for HashedValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `value` hashed under `key`, or unkeyed without one.
pub(crate) fn hash_with(key: Option<&HashKey>, value: &[u8]) -> HashedValue {
    match key {
        Some(HashKey(key)) => {
            let mut mac = key.clone();
            mac.update(value);
            HashedValue::from_digest(&mac.finalize().into_bytes())
        }
        None => HashedValue::from_digest(&Sha256::digest(value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyed(secret: &[u8], value: &[u8]) -> String {
        let HashKey(key) = HashKey::new(secret);
        let mut mac = key;
        mac.update(value);
        HashedValue::from_digest(&mac.finalize().into_bytes())
            .as_str()
            .to_owned()
    }

    #[test]
    fn keyed_hash_is_the_hmac_sha256_prefix() {
        // RFC 4231, test case 2: HMAC-SHA-256 of "what do ya want for nothing?" under "Jefe"
        // is 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843.
        assert_eq!(
            keyed(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e"
        );
        // RFC 4231, test case 1: key 0x0b × 20, "Hi There".
        assert_eq!(keyed(&[0x0b; 20], b"Hi There"), "b0344c61d8db3853");
        assert_ne!(keyed(b"k", b"cust-1"), keyed(b"k", b"cust-2"));
        assert_ne!(keyed(b"k1", b"cust-1"), keyed(b"k2", b"cust-1"));
    }

    #[test]
    fn unkeyed_hash_is_the_sha256_prefix() {
        // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        let unkeyed = |value: &[u8]| HashedValue::from_digest(&Sha256::digest(value));
        assert_eq!(unkeyed(b"abc").as_str(), "ba7816bf8f01cfea");
        assert_eq!(unkeyed(b"").as_str(), "e3b0c44298fc1c14");
    }
}
