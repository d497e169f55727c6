//! Encryption of tokens at rest, so a dump of the session store reveals no usable token
//! (OWASP ASVS 5 V11 cryptography, V14 data protection: secrets at rest under an authenticated cipher).

use base64::{engine::general_purpose::STANDARD, Engine};
use chacha20poly1305::{
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
    XChaCha20Poly1305, XNonce,
};

/// XChaCha20-Poly1305 (RustCrypto): its 192-bit nonces can be drawn at random for every write
/// without counting, which is what a store written by several replicas needs.
#[derive(Clone)]
pub struct TokenCipher {
    cipher: XChaCha20Poly1305,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the token encryption key must be 32 bytes in standard base64 (e.g. `openssl rand -base64 32`)")]
    Malformed,
}

/// Opening failed: wrong key, tampered bytes, or bytes moved to another slot.
#[derive(Debug, thiserror::Error)]
#[error("sealed tokens could not be opened")]
pub struct OpenError;

const NONCE_LEN: usize = 24;

impl TokenCipher {
    pub fn from_base64(key: &str) -> Result<Self, KeyError> {
        let bytes = STANDARD
            .decode(key.trim())
            .map_err(|_| KeyError::Malformed)?;
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| KeyError::Malformed)?;
        Ok(Self { cipher })
    }

    /// A fresh random key, base64.
    pub fn generate_key() -> String {
        STANDARD.encode(XChaCha20Poly1305::generate_key(&mut OsRng))
    }

    /// Encrypts `plaintext`, binding it to `slot` (the record's key) as associated data, so a sealed
    /// value copied into another session's slot does not open.
    pub fn seal(&self, slot: &str, plaintext: &[u8]) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: slot.as_bytes(),
                },
            )
            .expect("encryption into a Vec cannot fail");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    pub fn open(&self, slot: &str, sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
        if sealed.len() < NONCE_LEN {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: slot.as_bytes(),
                },
            )
            .map_err(|_| OpenError)
    }
}

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCipher([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> TokenCipher {
        TokenCipher::from_base64(&TokenCipher::generate_key()).unwrap()
    }

    #[test]
    fn round_trips_and_hides_the_plaintext() {
        let cipher = cipher();
        let sealed = cipher.seal("slot-1", b"refresh-token-value");
        assert!(!sealed.windows(7).any(|window| window == b"refresh"));
        assert_eq!(
            cipher.open("slot-1", &sealed).unwrap(),
            b"refresh-token-value"
        );
    }

    #[test]
    fn another_slot_another_key_or_a_flipped_bit_do_not_open() {
        let cipher = cipher();
        let mut sealed = cipher.seal("slot-1", b"secret");
        assert!(cipher.open("slot-2", &sealed).is_err());
        assert!(self::cipher().open("slot-1", &sealed).is_err());
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(cipher.open("slot-1", &sealed).is_err());
        assert!(cipher.open("slot-1", b"short").is_err());
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert!(TokenCipher::from_base64("not base64!").is_err());
        assert!(TokenCipher::from_base64(&STANDARD.encode([0u8; 16])).is_err());
        assert!(TokenCipher::from_base64(&STANDARD.encode([7u8; 32])).is_ok());
    }
}
