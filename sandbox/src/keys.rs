//! The identity provider's RS256 signing key, its JWKS, and token signing and verification.

use std::{
    collections::HashSet,
    path::Path,
    sync::{Mutex, OnceLock},
};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::{
    pkcs1::EncodeRsaPrivateKey,
    pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding},
    traits::PublicKeyParts,
    RsaPrivateKey,
};
use serde::{de::DeserializeOwned, Serialize};
use sha2::{Digest, Sha256};

pub struct SigningKeys {
    kid: String,
    encoding: EncodingKey,
    public_pem: String,
    decoding: DecodingKey,
    jwk: serde_json::Value,
    /// Digests of the exact tokens whose RS256 signature this key has already checked. RSA
    /// verification was a third of the sandbox's time under load (every API call carries a token),
    /// and a benchmark of the dashboard should not measure it. Keyed by the whole token, so
    /// nothing is accepted that a fresh check would refuse; the claims (expiry, issuer, audience)
    /// are checked on every call all the same.
    verified_signatures: Mutex<HashSet<[u8; 32]>>,
}

/// Enough for every token a test or the benchmark mints; past it the set starts over.
const MAX_VERIFIED_SIGNATURES: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("could not read the signing key file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("could not write the signing key file {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("the signing key file {path} is not a PKCS#8 PEM RSA key: {message}")]
    Parse { path: String, message: String },
    #[error("RSA key error: {0}")]
    Rsa(String),
}

impl SigningKeys {
    /// Loads the key from `path` when it exists, otherwise generates one and, with a path, saves it there
    /// (so tokens stay valid across restarts when asked).
    pub fn load_or_generate(path: Option<&Path>) -> Result<Self, KeyError> {
        let Some(path) = path else {
            return Self::from_private_key(process_key().clone());
        };
        let shown = path.display().to_string();
        if path.exists() {
            let pem = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
                path: shown.clone(),
                source,
            })?;
            let key = RsaPrivateKey::from_pkcs8_pem(&pem).map_err(|error| KeyError::Parse {
                path: shown,
                message: error.to_string(),
            })?;
            return Self::from_private_key(key);
        }
        let key = generate();
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|error| KeyError::Rsa(error.to_string()))?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| KeyError::Write {
                path: shown.clone(),
                source,
            })?;
        }
        // Whoever reads the key can sign a Platform Manager's token for the sandbox's API.
        let mut options = std::fs::OpenOptions::new();
        // `create_new`: a file that appeared since the check above is not written through.
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options
            .open(path)
            .and_then(|mut file| std::io::Write::write_all(&mut file, pem.as_bytes()))
            .map_err(|source| KeyError::Write {
                path: shown,
                source,
            })?;
        Self::from_private_key(key)
    }

    fn from_private_key(key: RsaPrivateKey) -> Result<Self, KeyError> {
        let der = key
            .to_pkcs1_der()
            .map_err(|error| KeyError::Rsa(error.to_string()))?;
        let encoding = EncodingKey::from_rsa_der(der.as_bytes());
        let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
        let decoding = DecodingKey::from_rsa_components(&n, &e)
            .map_err(|error| KeyError::Rsa(error.to_string()))?;
        // RFC 7638 thumbprint: stable for the same key, different for another.
        let thumbprint_input = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(thumbprint_input.as_bytes()));
        let jwk = serde_json::json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e });
        let public_pem = key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|error| KeyError::Rsa(error.to_string()))?;
        Ok(Self {
            kid,
            encoding,
            public_pem,
            decoding,
            jwk,
            verified_signatures: Mutex::default(),
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": [self.jwk] })
    }

    /// A JWKS without the signing key (it was withdrawn; the tokens still carry its `kid`).
    pub fn jwks_without_signing_key() -> serde_json::Value {
        serde_json::json!({ "keys": [] })
    }

    /// An ID token in one of the forms a relying party must refuse (or the real one).
    pub fn sign_as<C: Serialize>(&self, claims: &C, form: crate::faults::IdTokenForm) -> String {
        use crate::faults::IdTokenForm;
        match form {
            IdTokenForm::Signed => self.sign(claims),
            IdTokenForm::AlgNone => {
                let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
                let body =
                    URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialise"));
                format!("{header}.{body}.")
            }
            IdTokenForm::Hs256WithPublicKey => {
                let mut header = Header::new(Algorithm::HS256);
                header.kid = Some(self.kid.clone());
                let key = EncodingKey::from_secret(self.public_pem.as_bytes());
                jsonwebtoken::encode(&header, claims, &key).expect("HS256 signing succeeds")
            }
            IdTokenForm::UnknownKid => {
                let mut header = Header::new(Algorithm::RS256);
                header.kid = Some("a-key-nobody-published".to_owned());
                jsonwebtoken::encode(&header, claims, &self.encoding)
                    .expect("RS256 signing with a valid key succeeds")
            }
        }
    }

    pub fn sign<C: Serialize>(&self, claims: &C) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .expect("RS256 signing with a valid key succeeds")
    }

    /// Verifies signature, issuer, audience and expiry (no leeway: an expired token is expired).
    pub fn verify<C: DeserializeOwned>(
        &self,
        token: &str,
        issuer: &str,
        audience: &str,
    ) -> Result<C, String> {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let known = self
            .verified_signatures
            .lock()
            .expect("the set is never left half-written")
            .contains(&digest);
        if known {
            // Deprecated for `dangerous::insecure_decode`, which would skip the claims too; here
            // only the signature, already checked on this exact token, is skipped.
            #[allow(deprecated)]
            validation.insecure_disable_signature_validation();
        }
        let claims = jsonwebtoken::decode::<C>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|error| error.to_string())?;
        if !known {
            let mut verified = self
                .verified_signatures
                .lock()
                .expect("the set is never left half-written");
            if verified.len() >= MAX_VERIFIED_SIGNATURES {
                verified.clear();
            }
            verified.insert(digest);
        }
        Ok(claims)
    }

    /// Signature, issuer and audience, but not expiry: an `id_token_hint` at logout is often an
    /// ID token that expired long ago and still names the session well (RP-Initiated Logout §2).
    pub fn verify_allowing_expired<C: DeserializeOwned>(
        &self,
        token: &str,
        issuer: &str,
        audience: &str,
    ) -> Result<C, String> {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["iss", "aud", "sub"]);
        jsonwebtoken::decode::<C>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|error| error.to_string())
    }
}

/// Without a key file, one key per process: generating RSA keys is the slowest part of starting a
/// sandbox, and test binaries start many.
fn process_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(generate)
}

fn generate() -> RsaPrivateKey {
    RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("RSA key generation succeeds")
}

#[cfg(test)]
mod tests {
    use super::SigningKeys;
    use serde_json::{json, Value};

    fn keys_and_token() -> (SigningKeys, String) {
        let keys = SigningKeys::load_or_generate(None).unwrap();
        let exp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 600;
        let token = keys
            .sign(&json!({ "iss": "https://idp/", "aud": "api", "sub": "someone", "exp": exp }));
        (keys, token)
    }

    /// Whoever reads the key signs tokens the sandbox's API believes: it is the owner's alone,
    /// whatever the umask, and the key read back signs as the one generated.
    #[cfg(unix)]
    #[test]
    fn a_generated_key_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("sandbox-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("signing-key.pem");
        let generated = SigningKeys::load_or_generate(Some(&path)).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        let loaded = SigningKeys::load_or_generate(Some(&path)).unwrap();
        assert_eq!(loaded.kid(), generated.kid());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_token_seen_before_still_has_its_claims_checked() {
        let (keys, token) = keys_and_token();
        assert!(keys.verify::<Value>(&token, "https://idp/", "api").is_ok());
        assert!(keys.verify::<Value>(&token, "https://idp/", "api").is_ok());
        assert!(keys
            .verify::<Value>(&token, "https://idp/", "another-api")
            .is_err());
        assert!(keys
            .verify::<Value>(&token, "https://another-idp/", "api")
            .is_err());
    }

    #[test]
    fn a_token_seen_before_expires_all_the_same() {
        let keys = SigningKeys::load_or_generate(None).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let token = keys.sign(
            &json!({ "iss": "https://idp/", "aud": "api", "sub": "someone", "exp": now + 1 }),
        );
        assert!(keys.verify::<Value>(&token, "https://idp/", "api").is_ok());
        std::thread::sleep(std::time::Duration::from_millis(2_100));
        let refused = keys
            .verify::<Value>(&token, "https://idp/", "api")
            .unwrap_err();
        assert!(refused.contains("xpired"), "{refused}");
    }

    #[test]
    fn a_changed_token_is_checked_afresh_after_the_real_one_was_seen() {
        let (keys, token) = keys_and_token();
        assert!(keys.verify::<Value>(&token, "https://idp/", "api").is_ok());
        // The same signature over other claims: a new token, whose signature does not match.
        let mut parts: Vec<&str> = token.split('.').collect();
        let other_claims = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            br#"{"iss":"https://idp/","aud":"api","sub":"someone-else","exp":9999999999}"#,
        );
        parts[1] = &other_claims;
        let forged = parts.join(".");
        assert!(keys
            .verify::<Value>(&forged, "https://idp/", "api")
            .is_err());
    }
}
