//! Key and id material: random, prefixed so a leaked key is recognisable (and greppable by
//! secret scanners), hashed before storage.

use rand::Rng;
use rand::distr::Alphanumeric;
use sextant_store::KeyKind;
use sha2::{Digest, Sha256};

/// Random characters after a key's prefix: 32 alphanumerics ≈ 190 bits.
const KEY_RANDOM_CHARS: usize = 32;
/// Characters of a key kept in clear for display (`sx_sk_` plus six).
const DISPLAY_PREFIX_CHARS: usize = 12;

pub(crate) fn new_id(prefix: &str) -> String {
    let suffix: String = rand::rng()
        .sample_iter(Alphanumeric)
        .map(|c| char::from(c).to_ascii_lowercase())
        .take(16)
        .collect();
    format!("{prefix}_{suffix}")
}

/// A new key of `kind`: (secret, display prefix, hash).
pub(crate) fn new_key(kind: KeyKind) -> (String, String, String) {
    let tag = match kind {
        KeyKind::Write => "sx_wk_",
        KeyKind::Secret => "sx_sk_",
        KeyKind::Admin => "sx_ak_",
    };
    let random: String =
        rand::rng().sample_iter(Alphanumeric).map(char::from).take(KEY_RANDOM_CHARS).collect();
    let secret = format!("{tag}{random}");
    let prefix = secret.chars().take(DISPLAY_PREFIX_CHARS).collect();
    let hash = hash_key(&secret);
    (secret, prefix, hash)
}

pub(crate) fn hash_key(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_prefixed_random_and_hashed() {
        let (a, prefix, hash) = new_key(KeyKind::Secret);
        let (b, _, _) = new_key(KeyKind::Secret);
        assert!(a.starts_with("sx_sk_") && a.len() == 6 + KEY_RANDOM_CHARS);
        assert_ne!(a, b);
        assert_eq!(prefix, &a[..12]);
        assert_eq!(hash, hash_key(&a));
        assert_eq!(hash.len(), 64);
        assert!(new_key(KeyKind::Write).0.starts_with("sx_wk_"));
        assert!(new_id("prj").starts_with("prj_"));
    }
}
