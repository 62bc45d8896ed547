//! Redaction helpers used by generated `SpanAttributes` code.

use sha2::{Digest, Sha256};

/// Number of hex characters kept from the SHA-256 of a hashed value (64 bits).
const HASH_HEX_LEN: usize = 16;

/// A stable hash of a field value, as lowercase hex, held inline so hashing never allocates.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HashedValue([u8; HASH_HEX_LEN]);

impl HashedValue {
    /// The hex digest.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written into the buffer.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Debug for HashedValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Hashes a value for the `HASH` redaction mode: the first 64 bits of its SHA-256, in hex.
///
/// Equal values give equal hashes in every process and build, so spans still correlate,
/// while the value itself cannot be read back from the trace.
pub fn hash(value: &[u8]) -> HashedValue {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(value);
    let mut out = [0u8; HASH_HEX_LEN];
    for (pair, byte) in out.chunks_exact_mut(2).zip(digest.iter()) {
        pair[0] = HEX[usize::from(byte >> 4)];
        pair[1] = HEX[usize::from(byte & 0x0f)];
    }
    HashedValue(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_the_sha256_prefix() {
        // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        assert_eq!(hash(b"abc").as_str(), "ba7816bf8f01cfea");
        assert_eq!(hash(b"").as_str(), "e3b0c44298fc1c14");
        assert_ne!(hash(b"cust-1").as_str(), hash(b"cust-2").as_str());
    }
}
