//! The token vault: each signed-in session's tokens, sealed at rest, refreshed single-flight.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Weak},
    time::Duration,
};

use base64::{engine::general_purpose::STANDARD, Engine};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{backend::Backend, cipher::TokenCipher, StoreError};
use crate::server::{
    auth::{IdentityProvider, IssuedTokens, ProviderError},
    metrics::{Metrics, RefreshOutcome},
};

/// How long one replica may hold the refresh lock before another may take over (a crashed holder
/// must not block the session for good). Longer than the provider call's time limit.
const REFRESH_LEASE: Duration = Duration::from_secs(20);
/// How often a replica waiting for another's refresh looks again.
const LOCK_POLL: Duration = Duration::from_millis(25);

/// The opaque id under which a session's tokens are kept. Random, and only ever in the
/// server-side session record: never in a cookie or a page.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSetId(String);

impl TokenSetId {
    fn generate() -> Self {
        Self(crate::server::auth::random_secret())
    }
}

impl std::fmt::Debug for TokenSetId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSetId([redacted])")
    }
}

/// One session's tokens. Serialised only to be sealed.
#[derive(Clone, Serialize, Deserialize)]
pub struct TokenSet {
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// The latest ID token, sealed with the others and used only as the `id_token_hint` of the
    /// provider's logout. Absent in sets sealed before it was kept (they still open).
    #[serde(default)]
    pub id_token: Option<String>,
    /// Unix seconds.
    pub expires_at: i64,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl TokenSet {
    fn issued(tokens: IssuedTokens, previous: Option<TokenSet>) -> Self {
        let (previous_refresh, previous_id_token) = previous
            .map(|set| (set.refresh_token, set.id_token))
            .unwrap_or_default();
        Self {
            access_token: tokens.access_token,
            // Auth0 rotates, so a new refresh token comes back; a provider that does not rotate
            // leaves the previous one valid.
            refresh_token: tokens.refresh_token.or(previous_refresh),
            // A refresh may bring a newer ID token (not validated: it came straight from the token
            // endpoint, OIDC Core §3.1.3.7, and only ever goes back to that provider as a hint).
            id_token: tokens.id_token.or(previous_id_token),
            expires_at: now() + tokens.expires_in.as_secs() as i64,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// No tokens (never signed in, signed out, or the provider refused the refresh).
    #[error("the session has no usable tokens")]
    SignedOut,
    #[error("the identity provider is unavailable")]
    ProviderUnavailable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct TokenVault {
    backend: Backend,
    cipher: TokenCipher,
    provider: Arc<IdentityProvider>,
    /// Refresh when less than this is left (proactive: a page never starts with a dying token).
    refresh_margin: Duration,
    /// How long sealed tokens are kept: the session's absolute lifetime.
    retention: Duration,
    local_locks: KeyedLocks,
    metrics: Arc<Metrics>,
}

impl TokenVault {
    pub fn new(
        backend: Backend,
        cipher: TokenCipher,
        provider: Arc<IdentityProvider>,
        refresh_margin: Duration,
        retention: Duration,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            backend,
            cipher,
            provider,
            refresh_margin,
            retention,
            local_locks: KeyedLocks::default(),
            metrics,
        }
    }

    pub async fn create(&self, tokens: IssuedTokens) -> Result<TokenSetId, VaultError> {
        let id = TokenSetId::generate();
        self.save(&id, &TokenSet::issued(tokens, None)).await?;
        Ok(id)
    }

    /// A usable access token for `id`, refreshing it first when it is about to expire.
    ///
    /// Single flight (RFC 9700 §4.14.2: a rotated refresh token used twice revokes the family):
    /// concurrent callers for one session queue on an in-process lock, replicas sharing Redis on
    /// a lease lock; whoever gets it second re-reads the set and finds it already fresh.
    pub async fn access_token(&self, id: &TokenSetId) -> Result<String, VaultError> {
        let set = self.load(id).await?.ok_or(VaultError::SignedOut)?;
        if !self.needs_refresh(&set) {
            return Ok(set.access_token);
        }
        let _local = self.local_locks.lock(&id.0).await;
        let holder = crate::server::auth::random_secret();
        loop {
            if self.backend.try_lock(&id.0, &holder, REFRESH_LEASE).await? {
                break;
            }
            // Another replica is refreshing: its result will show up in the store.
            tokio::time::sleep(LOCK_POLL).await;
            let set = self.load(id).await?.ok_or(VaultError::SignedOut)?;
            if !self.needs_refresh(&set) {
                return Ok(set.access_token);
            }
        }
        // Boxed: the refresh (provider discovery, the token request) is rare, and inlined it made
        // the future of every page and server function that needs a token much larger.
        let result = Box::pin(self.refresh_locked(id)).await;
        if let Err(error) = self.backend.unlock(&id.0, &holder).await {
            tracing::warn!(%error, "could not release the refresh lock; it expires by itself");
        }
        result
    }

    async fn refresh_locked(&self, id: &TokenSetId) -> Result<String, VaultError> {
        let set = self.load(id).await?.ok_or(VaultError::SignedOut)?;
        if !self.needs_refresh(&set) {
            return Ok(set.access_token);
        }
        let still_valid = set.expires_at > now();
        let Some(refresh_token) = set.refresh_token.clone() else {
            return if still_valid {
                Ok(set.access_token)
            } else {
                Err(VaultError::SignedOut)
            };
        };
        let result = self.provider.refresh(&refresh_token).await;
        self.metrics.token_refresh(match &result {
            Ok(_) => RefreshOutcome::refreshed,
            Err(ProviderError::Refused(_)) => RefreshOutcome::refused,
            Err(ProviderError::Unavailable(_)) => RefreshOutcome::failed,
        });
        match result {
            Ok(tokens) => {
                let renewed = TokenSet::issued(IssuedTokens::from(&tokens), Some(set));
                // Written before the lock is released, so nobody can read the spent token.
                self.save(id, &renewed).await?;
                tracing::info!("access token refreshed");
                Ok(renewed.access_token)
            }
            Err(ProviderError::Refused(reason)) => {
                tracing::info!(%reason, "refresh refused: the session ends");
                self.backend.delete_tokens(&id.0).await?;
                Err(VaultError::SignedOut)
            }
            // A provider outage should not end sessions whose access token still works.
            Err(ProviderError::Unavailable(reason)) if still_valid => {
                tracing::warn!(%reason, "refresh failed; using the current access token until it expires");
                Ok(set.access_token)
            }
            Err(ProviderError::Unavailable(reason)) => {
                tracing::warn!(%reason, "refresh failed and the access token has expired");
                Err(VaultError::ProviderUnavailable)
            }
        }
    }

    /// Removes the set (logout, session end) and returns it, so its refresh token can be revoked.
    pub async fn remove(&self, id: &TokenSetId) -> Result<Option<TokenSet>, VaultError> {
        let set = self.load(id).await?;
        self.backend.delete_tokens(&id.0).await?;
        Ok(set)
    }

    /// The set as stored, for tests and logout.
    pub async fn load(&self, id: &TokenSetId) -> Result<Option<TokenSet>, VaultError> {
        let Some(sealed) = self.backend.load_tokens(&id.0).await? else {
            return Ok(None);
        };
        // Unreadable sets (another key, tampering) are treated as absent: the member signs in again.
        let opened = STANDARD
            .decode(sealed)
            .ok()
            .and_then(|bytes| self.cipher.open(&id.0, &bytes).ok())
            .and_then(|plain| serde_json::from_slice(&plain).ok());
        if opened.is_none() {
            tracing::warn!(
                "a stored token set could not be opened; treating the session as signed out"
            );
        }
        Ok(opened)
    }

    async fn save(&self, id: &TokenSetId, set: &TokenSet) -> Result<(), VaultError> {
        let plain = serde_json::to_vec(set).expect("token sets serialise");
        let sealed = STANDARD.encode(self.cipher.seal(&id.0, &plain));
        self.backend
            .save_tokens(&id.0, sealed, self.retention)
            .await?;
        Ok(())
    }

    fn needs_refresh(&self, set: &TokenSet) -> bool {
        set.expires_at - now() <= self.refresh_margin.as_secs() as i64
    }
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// One async mutex per key, dropped when nobody holds or waits for it.
#[derive(Default)]
struct KeyedLocks {
    locks: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

impl KeyedLocks {
    async fn lock(&self, key: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let mutex = {
            let mut locks = self.locks.lock().expect("keyed locks");
            locks.retain(|_, lock| lock.strong_count() > 0);
            match locks.get(key).and_then(Weak::upgrade) {
                Some(mutex) => mutex,
                None => {
                    let mutex = Arc::new(tokio::sync::Mutex::new(()));
                    locks.insert(key.to_owned(), Arc::downgrade(&mutex));
                    mutex
                }
            }
        };
        mutex.lock_owned().await
    }
}
