//! The token vault: each signed-in session's tokens, sealed at rest, refreshed single-flight.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Weak},
    time::{Duration, Instant},
};

use base64::{engine::general_purpose::STANDARD, Engine};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{
    backend::{Backend, FencedSave, STORE_COMMAND_TIMEOUT},
    cipher::TokenCipher,
    StoreError,
};
use crate::server::{
    auth::{IdentityProvider, IssuedTokens, ProviderError},
    metrics::{Metrics, RefreshOutcome},
};

/// How often a replica waiting for another's refresh looks again.
const LOCK_POLL: Duration = Duration::from_millis(25);
/// A failed save of renewed tokens is tried again after this, doubling up to [`SAVE_RETRY_MAX`].
const SAVE_RETRY_FIRST: Duration = Duration::from_millis(100);
const SAVE_RETRY_MAX: Duration = Duration::from_secs(5);
/// How long renewed tokens whose save keeps failing are kept in memory (and retried) at most.
/// Past that the store has been failing for long enough that the session is lost anyway.
const UNSAVED_KEPT_FOR: i64 = 15 * 60;

/// How long a set opened from the store is reused without reading the store again (see
/// [`OpenedSets`]), and how many sets are kept so at most.
const OPENED_KEPT_FOR: Duration = Duration::from_secs(10);
const MOST_OPENED: usize = 4_096;

/// A set stays in the store this long past its session's absolute end, so that the sweep of
/// unseen sessions (at most a minute apart) finds it and revokes its refresh token before the
/// store's own expiry removes it unrevoked.
const KEPT_PAST_THE_END: Duration = Duration::from_secs(5 * 60);
/// Sets claimed from the store per step of a sweep, all revoked at once: a step lasts about one
/// call to the provider, well inside a claim (see [`TokenVault::end_unseen_sessions`]).
const SWEPT_PER_STEP: usize = 8;

/// How long a refresh lock is held before another replica may take over (a crashed holder must
/// not block the session for good): longer than everything one refresh does (the provider call
/// with its time limit, a load, a save and the release, each up to a store command timeout), and
/// extended every third of it while the refresh runs.
pub fn refresh_lease(provider_timeout: Duration) -> Duration {
    provider_timeout + 3 * STORE_COMMAND_TIMEOUT + Duration::from_secs(2)
}

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
    /// The provider's session (the `sid` of the ID token checked at sign-in): the `logout_hint` of
    /// the provider's logout. Absent from sets sealed before it was kept, and from a provider whose
    /// ID tokens carry none.
    #[serde(default)]
    pub provider_session: Option<String>,
    /// The whole ID token, as sets sealed before `provider_session` kept it (for its `sid`); never
    /// written now, since the `sid` is all the logout needs and the token names the member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// Unix seconds.
    pub expires_at: i64,
    /// Unix seconds: the end of the session's absolute lifetime. The set is kept until then and no
    /// longer, however often it is refreshed. Absent in sets sealed before it was kept.
    #[serde(default)]
    pub session_ends_at: Option<i64>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl TokenSet {
    fn issued(tokens: IssuedTokens, previous: TokenSet) -> Self {
        Self {
            access_token: tokens.access_token,
            // Auth0 rotates, so a new refresh token comes back; a provider that does not rotate
            // leaves the previous one valid.
            refresh_token: tokens.refresh_token.or(previous.refresh_token),
            // A refresh continues the provider's session; the ID token it may bring is not
            // checked (OIDC Core §3.1.3.7 does not ask it), so its `sid` is not taken.
            provider_session: tokens.provider_session.or(previous.provider_session),
            id_token: previous.id_token,
            expires_at: now() + tokens.expires_in.as_secs() as i64,
            session_ends_at: previous.session_ends_at,
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

/// Cheap to clone: a refresh runs in a task of its own, which holds a clone.
#[derive(Clone)]
pub struct TokenVault {
    inner: Arc<Vault>,
}

struct Vault {
    backend: Backend,
    cipher: TokenCipher,
    provider: Arc<IdentityProvider>,
    /// Refresh when less than this is left (proactive: a page never starts with a dying token).
    refresh_margin: Duration,
    /// How long sealed tokens are kept: the session's absolute lifetime.
    retention: Duration,
    /// See [`refresh_lease`].
    lease: Duration,
    local_locks: KeyedLocks,
    /// Renewed sets whose save failed, kept (and preferred to the store) until stored: the
    /// refresh token they replace is spent, and presenting it again would end the session.
    unsaved: Mutex<HashMap<String, TokenSet>>,
    opened: OpenedSets,
    metrics: Arc<Metrics>,
}

/// Access tokens recently opened on this replica, so that a busy session's requests do not each
/// read the store and decrypt. Only the access token and its expiry are kept (never the refresh or
/// ID token), and only handed out while it needs no refresh: a refresh always reads the store, so
/// it never presents a refresh token another replica has already spent. Dropped here on refresh
/// and sign-out. A sign-out on another replica leaves this one at most [`OPENED_KEPT_FOR`] of an
/// access token the provider honours until it expires anyway; the session's record is gone from
/// the shared store, so the gate refuses the session, except in one narrow case: a request in
/// flight here whose record was written back after its own check found the tokens still there.
#[derive(Default)]
struct OpenedSets {
    sets: Mutex<HashMap<String, (Instant, OpenedToken)>>,
}

#[derive(Clone)]
struct OpenedToken {
    access_token: String,
    /// Unix seconds.
    expires_at: i64,
}

impl OpenedSets {
    fn get(&self, id: &TokenSetId) -> Option<OpenedToken> {
        let sets = self.sets.lock().expect("opened sets lock");
        sets.get(&id.0)
            .filter(|(opened_at, _)| opened_at.elapsed() < OPENED_KEPT_FOR)
            .map(|(_, token)| token.clone())
    }

    fn keep(&self, id: &TokenSetId, set: &TokenSet) {
        let mut sets = self.sets.lock().expect("opened sets lock");
        // Old entries go when new ones come: tokens do not linger in memory past their time.
        sets.retain(|_, (opened_at, _)| opened_at.elapsed() < OPENED_KEPT_FOR);
        // Still full of live sessions: the oldest goes (a bound on memory, not a correctness
        // matter: a token not kept is read from the store).
        if sets.len() >= MOST_OPENED {
            if let Some(oldest) = sets
                .iter()
                .min_by_key(|(_, (opened_at, _))| *opened_at)
                .map(|(key, _)| key.clone())
            {
                sets.remove(&oldest);
            }
        }
        let token = OpenedToken {
            access_token: set.access_token.clone(),
            expires_at: set.expires_at,
        };
        sets.insert(id.0.clone(), (Instant::now(), token));
    }

    fn forget(&self, id: &TokenSetId) {
        self.sets.lock().expect("opened sets lock").remove(&id.0);
    }
}

impl TokenVault {
    pub fn new(
        backend: Backend,
        cipher: TokenCipher,
        provider: Arc<IdentityProvider>,
        refresh_margin: Duration,
        retention: Duration,
        lease: Duration,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            inner: Arc::new(Vault {
                backend,
                cipher,
                provider,
                refresh_margin,
                retention,
                lease,
                local_locks: KeyedLocks::default(),
                unsaved: Mutex::default(),
                opened: OpenedSets::default(),
                metrics,
            }),
        }
    }

    /// Stores a new session's tokens; the session ends at `ends_unless_seen` (unix seconds) unless
    /// the member is seen again before (see [`TokenVault::seen`]).
    pub async fn create(
        &self,
        tokens: IssuedTokens,
        ends_unless_seen: i64,
    ) -> Result<TokenSetId, VaultError> {
        let id = TokenSetId::generate();
        let set = TokenSet {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            provider_session: tokens.provider_session,
            id_token: None,
            expires_at: now() + tokens.expires_in.as_secs() as i64,
            session_ends_at: Some(now() + self.inner.retention.as_secs() as i64),
        };
        let sealed = self.seal(&id, &set);
        self.inner
            .backend
            .save_tokens(&id.0, sealed, self.time_to_keep(&set), ends_unless_seen)
            .await?;
        Ok(id)
    }

    /// The member was seen: their session now ends at `ends_unless_seen` (unix seconds) unless
    /// seen again.
    pub async fn seen(&self, id: &TokenSetId, ends_unless_seen: i64) -> Result<(), VaultError> {
        Ok(self
            .inner
            .backend
            .keep_tokens_until(&id.0, ends_unless_seen)
            .await?)
    }

    /// Ends the sessions nobody came back to: a session past its idle timeout (or its absolute
    /// lifetime) is ended by its next request, but one never visited again would keep a live
    /// refresh token at the provider, and in the store, until its absolute lifetime. Every
    /// `every`, their refresh tokens are revoked and their sets removed. Sets stored before
    /// sessions were ended so are first given `unmarked_end` (unix seconds) as their end. Stops
    /// when the vault is dropped.
    pub fn sweep_unseen_sessions(&self, every: Duration, unmarked_end: i64) {
        let vault = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            if let Some(inner) = vault.upgrade() {
                match inner.backend.adopt_unmarked_tokens(unmarked_end).await {
                    Ok(0) => {}
                    Ok(adopted) => {
                        tracing::info!(
                            adopted,
                            "sessions from before the unseen sweep are swept from now on"
                        )
                    }
                    Err(error) => {
                        tracing::warn!(%error, "sessions from before the unseen sweep were not given an end; they end at their next visit or their absolute lifetime")
                    }
                }
            }
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(inner) = vault.upgrade() else { return };
                let vault = TokenVault { inner };
                if let Err(error) = vault.end_unseen_sessions(every).await {
                    tracing::warn!(%error, "ending unseen sessions failed; retried at the next sweep");
                }
            }
        });
    }

    /// One sweep (see [`TokenVault::sweep_unseen_sessions`]); returns how many sessions it ended.
    /// A claim holds a set for the longer of `retry_after` (the sweep's interval) and the refresh
    /// lease (longer than a call to the provider), so no other replica claims it while its
    /// revocation is in flight, and one whose revocation failed is claimed again after that.
    pub async fn end_unseen_sessions(&self, retry_after: Duration) -> Result<usize, VaultError> {
        let hold = retry_after.max(self.inner.lease);
        let hold = i64::try_from(hold.as_secs()).unwrap_or(i64::MAX);
        let mut ended = 0;
        loop {
            let now = now();
            let claimed = self
                .inner
                .backend
                .claim_unseen_tokens(now, SWEPT_PER_STEP, now.saturating_add(hold))
                .await?;
            let step = claimed.len();
            let ended_in_step = futures::future::join_all(
                claimed
                    .into_iter()
                    .map(|(id, sealed)| self.end_unseen(TokenSetId(id), sealed)),
            )
            .await
            .into_iter()
            .filter(|ended| *ended)
            .count();
            ended += ended_in_step;
            // A provider that failed one revocation (down, rate limiting, refusing the client) is
            // left alone until the next sweep rather than pressed with the rest of the backlog.
            if step < SWEPT_PER_STEP || ended_in_step < step {
                break;
            }
        }
        if ended > 0 {
            tracing::info!(ended, "ended sessions past their idle timeout or lifetime, unvisited; their refresh tokens revoked");
        }
        Ok(ended)
    }

    /// A usable access token for `id`, refreshing it first when it is about to expire.
    ///
    /// Single flight (RFC 9700 §4.14.2: a rotated refresh token used twice revokes the family):
    /// concurrent callers for one session queue on an in-process lock, replicas sharing Redis on
    /// a lease lock; whoever gets it second re-reads the set and finds it already fresh.
    pub async fn access_token(&self, id: &TokenSetId) -> Result<String, VaultError> {
        if let Some(opened) = self.inner.opened.get(id) {
            if !self.refresh_due(opened.expires_at) {
                return Ok(opened.access_token);
            }
            self.inner.opened.forget(id);
        }
        let set = self.load_and_keep(id).await?.ok_or(VaultError::SignedOut)?;
        if !self.needs_refresh(&set) {
            return Ok(set.access_token);
        }
        self.inner.opened.forget(id);
        // The refresh runs in a task of its own and the caller only awaits its answer. A caller
        // can be dropped at any await (a browser that navigates away drops its request): dropped
        // between the provider rotating the refresh token and the store receiving the new one, the
        // next refresh would present a spent token and the provider would revoke the family.
        let (answer, answered) = tokio::sync::oneshot::channel();
        tokio::spawn(self.clone().refresh(id.clone(), Answer(answer)));
        answered
            .await
            .unwrap_or(Err(VaultError::ProviderUnavailable))
    }

    /// Takes both locks, refreshes if still needed, stores the result, then lets go of the locks:
    /// every way out of here releases them; only a crashed process (or a lock whose grant's reply
    /// was lost) leaves one to expire with its lease.
    async fn refresh(self, id: TokenSetId, answer: Answer) {
        let _local = self.inner.local_locks.lock(&id.0).await;
        // Whoever queued behind this replica's refresh finds the result without touching Redis.
        match self.load(&id).await {
            Ok(Some(set)) if !self.needs_refresh(&set) => return answer.send(Ok(set.access_token)),
            Ok(None) => return answer.send(Err(VaultError::SignedOut)),
            _ => {}
        }
        let holder = crate::server::auth::random_secret();
        match self.wait_for_lock(&id, &holder).await {
            Ok(None) => {}
            Ok(Some(answered_by_other)) => return answer.send(answered_by_other),
            Err(error) => return answer.send(Err(error)),
        }
        tokio::select! {
            () = self.refresh_locked(&id, answer) => {}
            never = self.keep_lease(&id, &holder) => match never {},
        }
        self.release(&id, &holder).await;
    }

    /// Takes the cross-replica lock. `Some` when another replica's refresh made it unnecessary.
    async fn wait_for_lock(
        &self,
        id: &TokenSetId,
        holder: &str,
    ) -> Result<Option<Result<String, VaultError>>, VaultError> {
        // A holder that crashed is waited for no longer than its lease; past that the caller
        // makes do with the current token (or is told the provider is unavailable).
        let deadline = tokio::time::Instant::now() + self.inner.lease;
        loop {
            if self.try_lock(id, holder).await? {
                return Ok(None);
            }
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!("another replica held the refresh lock for its whole lease");
                return Ok(Some(match self.load(id).await? {
                    None => Err(VaultError::SignedOut),
                    Some(set) if set.expires_at > now() => Ok(set.access_token),
                    Some(_) => Err(VaultError::ProviderUnavailable),
                }));
            }
            // Another replica is refreshing: its result will show up in the store.
            tokio::time::sleep(LOCK_POLL).await;
            match self.load(id).await? {
                None => return Ok(Some(Err(VaultError::SignedOut))),
                Some(set) if !self.needs_refresh(&set) => return Ok(Some(Ok(set.access_token))),
                Some(_) => {}
            }
        }
    }

    /// Extends the lease every third of it for as long as the refresh runs (a slow provider must
    /// not let another replica refresh with the same token). Never returns: it is dropped when the
    /// refresh is done.
    async fn keep_lease(&self, id: &TokenSetId, holder: &str) -> std::convert::Infallible {
        loop {
            tokio::time::sleep(self.inner.lease / 3).await;
            match self
                .inner
                .backend
                .extend_lock(&id.0, holder, self.inner.lease)
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!("the refresh lease was lost; another replica may refresh too")
                }
                Err(error) => tracing::warn!(%error, "could not extend the refresh lease"),
            }
        }
    }

    /// Takes the cross-replica lock for `holder` if free.
    async fn try_lock(&self, id: &TokenSetId, holder: &str) -> Result<bool, VaultError> {
        match self
            .inner
            .backend
            .try_lock(&id.0, holder, self.inner.lease)
            .await
        {
            Ok(taken) => Ok(taken),
            Err(error) => {
                // The grant may have reached Redis and only its reply been lost: let go of it
                // (the release deletes the lock only if it is ours).
                let _ = self.inner.backend.unlock(&id.0, holder).await;
                Err(error.into())
            }
        }
    }

    async fn release(&self, id: &TokenSetId, holder: &str) {
        for attempt in 1..=3 {
            match self.inner.backend.unlock(&id.0, holder).await {
                Ok(()) => return,
                Err(error) if attempt == 3 => {
                    tracing::warn!(%error, "could not release the refresh lock; it expires with its lease");
                }
                Err(_) => tokio::time::sleep(SAVE_RETRY_FIRST).await,
            }
        }
    }

    async fn refresh_locked(&self, id: &TokenSetId, answer: Answer) {
        let (previous, set) = match self.load_stored(id).await {
            Ok(Some(stored)) => stored,
            Ok(None) => return answer.send(Err(VaultError::SignedOut)),
            Err(error) => return answer.send(Err(error)),
        };
        if !self.needs_refresh(&set) {
            return answer.send(Ok(set.access_token));
        }
        let still_valid = set.expires_at > now();
        let Some(refresh_token) = set.refresh_token.clone() else {
            return answer.send(if still_valid {
                Ok(set.access_token)
            } else {
                Err(VaultError::SignedOut)
            });
        };
        let result = self.inner.provider.refresh(&refresh_token).await;
        self.inner.metrics.token_refresh(match &result {
            Ok(_) => RefreshOutcome::refreshed,
            Err(ProviderError::Refused(_)) => RefreshOutcome::refused,
            Err(ProviderError::Unavailable(_)) => RefreshOutcome::failed,
        });
        match result {
            Ok(tokens) => {
                let renewed = TokenSet::issued(IssuedTokens::from(&tokens), set);
                tracing::info!("access token refreshed");
                self.store_renewed(id, &previous, renewed, answer).await;
            }
            Err(ProviderError::Refused(reason)) => {
                tracing::info!(%reason, "refresh refused: the session ends");
                self.forget_unsaved(id);
                answer.send(
                    self.inner
                        .backend
                        .delete_tokens(&id.0)
                        .await
                        .map_err(VaultError::from)
                        .and(Err(VaultError::SignedOut)),
                );
            }
            // A provider outage should not end sessions whose access token still works.
            Err(ProviderError::Unavailable(reason)) if still_valid => {
                tracing::warn!(%reason, "refresh failed; using the current access token until it expires");
                answer.send(Ok(set.access_token));
            }
            Err(ProviderError::Unavailable(reason)) => {
                tracing::warn!(%reason, "refresh failed and the access token has expired");
                answer.send(Err(VaultError::ProviderUnavailable));
            }
        }
    }

    /// Stores renewed tokens, before the lock is released so nobody reads the spent refresh token.
    /// Kept in memory first: if the store fails, this replica goes on with the new set and keeps
    /// trying (holding the lock, so other replicas wait for up to a lease rather than present the
    /// spent token at once), until stored, signed out, or [`UNSAVED_KEPT_FOR`] has passed.
    async fn store_renewed(
        &self,
        id: &TokenSetId,
        previous: &str,
        renewed: TokenSet,
        answer: Answer,
    ) {
        self.inner
            .unsaved
            .lock()
            .expect("unsaved lock")
            .insert(id.0.clone(), renewed.clone());
        let sealed = self.seal(id, &renewed);
        let mut answer = Some(answer);
        let mut backoff = SAVE_RETRY_FIRST;
        let give_up_at =
            (now() + UNSAVED_KEPT_FOR).min(renewed.session_ends_at.unwrap_or(i64::MAX));
        loop {
            let saved = self
                .inner
                .backend
                .update_tokens_fenced(&id.0, previous, sealed.clone(), self.time_to_keep(&renewed))
                .await;
            let result = match saved {
                Ok(FencedSave::Stored) => Ok(renewed.access_token.clone()),
                Ok(FencedSave::Gone) => {
                    // Signed out meanwhile: these tokens belong to nobody.
                    tracing::info!("renewed tokens not stored: the session ended meanwhile");
                    if let Some(refresh_token) = &renewed.refresh_token {
                        if let Err(error) = self.inner.provider.revoke(refresh_token).await {
                            tracing::warn!(%error, "could not revoke the unused refresh token");
                        }
                    }
                    Err(VaultError::SignedOut)
                }
                Ok(FencedSave::Superseded) => {
                    // Another replica stored newer tokens (it took over after our lease ran out):
                    // theirs stand.
                    // Nothing is revoked: a provider that does not rotate shares the refresh token.
                    tracing::warn!("renewed tokens not stored: newer ones were stored meanwhile");
                    Ok(renewed.access_token.clone())
                }
                Err(error) => {
                    tracing::warn!(%error, "could not store renewed tokens; keeping them in memory and retrying");
                    if let Some(answer) = answer.take() {
                        answer.send(Ok(renewed.access_token.clone()));
                    }
                    let signed_out_meanwhile = !self
                        .inner
                        .unsaved
                        .lock()
                        .expect("unsaved lock")
                        .contains_key(&id.0);
                    if signed_out_meanwhile || give_up_at <= now() {
                        self.forget_unsaved(id);
                        return;
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(SAVE_RETRY_MAX);
                    continue;
                }
            };
            self.forget_unsaved(id);
            if let Some(answer) = answer.take() {
                answer.send(result);
            }
            return;
        }
    }

    fn forget_unsaved(&self, id: &TokenSetId) {
        // Every path that changes or removes a set passes here: renewed and stored, refused, removed.
        self.inner.opened.forget(id);
        self.inner
            .unsaved
            .lock()
            .expect("unsaved lock")
            .remove(&id.0);
    }

    /// Removes the set (sign-out, session end) and returns it, so its refresh token can be
    /// revoked. Takes the same locks as a refresh: one in flight finishes (and stores) first, and
    /// one that starts later finds nothing, so a sign-out can never be undone by a late save.
    pub async fn remove(&self, id: &TokenSetId) -> Result<Option<TokenSet>, VaultError> {
        // Bounded: a refresh stuck retrying a failing store must not stop the sign-out. Going
        // ahead without the lock is safe: its late save is fenced (the set will be gone).
        let _local =
            tokio::time::timeout(self.inner.lease, self.inner.local_locks.lock(&id.0)).await;
        let holder = crate::server::auth::random_secret();
        // Bounded: a holder that crashed is waited for no longer than its lease.
        let deadline = tokio::time::Instant::now() + self.inner.lease;
        let mut locked = false;
        while tokio::time::Instant::now() < deadline {
            if self.try_lock(id, &holder).await? {
                locked = true;
                break;
            }
            tokio::time::sleep(LOCK_POLL).await;
        }
        let set = self.load(id).await;
        self.forget_unsaved(id);
        let deleted = self.inner.backend.delete_tokens(&id.0).await;
        if locked {
            self.release(id, &holder).await;
        }
        deleted?;
        set
    }

    /// Whether the set is still held, for the sign-in gate: a set opened here within
    /// [`OPENED_KEPT_FOR`] counts without a store read; else it is read and opened (and kept, so
    /// the request's access token costs nothing more).
    pub async fn held(&self, id: &TokenSetId) -> Result<bool, VaultError> {
        if self.inner.opened.get(id).is_some() {
            return Ok(true);
        }
        Ok(self.load_and_keep(id).await?.is_some())
    }

    /// [`TokenVault::load`], keeping the access token of a set that needs no refresh in
    /// [`OpenedSets`]. Kept from
    /// when it was read, never renewed by use: a busy session reads the store every
    /// [`OPENED_KEPT_FOR`] all the same.
    async fn load_and_keep(&self, id: &TokenSetId) -> Result<Option<TokenSet>, VaultError> {
        let set = self.load(id).await?;
        if let Some(set) = set.as_ref().filter(|set| !self.needs_refresh(set)) {
            self.inner.opened.keep(id, set);
        }
        Ok(set)
    }

    /// Whether the set is still in the store (or renewed and not yet stored), read now: a
    /// session whose tokens are gone has ended.
    pub async fn exists(&self, id: &TokenSetId) -> Result<bool, VaultError> {
        if self
            .inner
            .unsaved
            .lock()
            .expect("unsaved lock")
            .contains_key(&id.0)
        {
            return Ok(true);
        }
        Ok(self.inner.backend.load_tokens(&id.0).await?.is_some())
    }

    /// The set as stored (or renewed and not yet stored).
    async fn load(&self, id: &TokenSetId) -> Result<Option<TokenSet>, VaultError> {
        if let Some(set) = self.inner.unsaved.lock().expect("unsaved lock").get(&id.0) {
            return Ok(Some(set.clone()));
        }
        Ok(self.load_stored(id).await?.map(|(_, set)| set))
    }

    /// The set in the store, sealed (what a fenced save compares with) and opened.
    async fn load_stored(&self, id: &TokenSetId) -> Result<Option<(String, TokenSet)>, VaultError> {
        let Some(sealed) = self.inner.backend.load_tokens(&id.0).await? else {
            return Ok(None);
        };
        // Unreadable sets (another key, tampering) are treated as absent: the member signs in again.
        let opened = self.open(id, &sealed);
        if opened.is_none() {
            tracing::warn!(
                "a stored token set could not be opened; treating the session as signed out"
            );
        }
        Ok(opened.map(|set| (sealed, set)))
    }

    /// Revokes a claimed set's refresh token, then removes the set. The store holds it until the
    /// provider has taken the revocation: a provider that is down, or refuses the call (RFC 7009
    /// answers 200 for a token that is no longer good, so a refusal is of the dashboard's request,
    /// a rotated client secret say), gets it again at the next claim. Whether the session ended.
    async fn end_unseen(&self, id: TokenSetId, sealed: String) -> bool {
        // Unreadable (another key): there is nothing to revoke.
        let refresh_token = self.open(&id, &sealed).and_then(|set| set.refresh_token);
        if let Some(refresh_token) = refresh_token {
            match self.inner.provider.revoke(&refresh_token).await {
                Ok(()) => {}
                Err(ProviderError::Unavailable(reason)) => {
                    tracing::warn!(%reason, "could not revoke an unseen session's refresh token; retried at the next sweep");
                    return false;
                }
                Err(ProviderError::Refused(reason)) => {
                    tracing::error!(%reason, "the provider refused to revoke an unseen session's refresh token; retried at the next sweep");
                    return false;
                }
            }
        }
        self.forget_unsaved(&id);
        if let Err(error) = self.inner.backend.delete_tokens(&id.0).await {
            tracing::warn!(%error, "an unseen session's tokens, revoked, could not be removed");
        }
        true
    }

    fn open(&self, id: &TokenSetId, sealed: &str) -> Option<TokenSet> {
        STANDARD
            .decode(sealed)
            .ok()
            .and_then(|bytes| self.inner.cipher.open(&id.0, &bytes).ok())
            .and_then(|plain| serde_json::from_slice(&plain).ok())
    }

    fn seal(&self, id: &TokenSetId, set: &TokenSet) -> String {
        let plain = serde_json::to_vec(set).expect("token sets serialise");
        STANDARD.encode(self.inner.cipher.seal(&id.0, &plain))
    }

    /// Until the session's absolute end (and [`KEPT_PAST_THE_END`], for the sweep), never longer:
    /// a refresh does not extend retention. (Sets sealed before the end was recorded get the full
    /// retention at each save.)
    fn time_to_keep(&self, set: &TokenSet) -> Duration {
        match set.session_ends_at {
            Some(end) => Duration::from_secs((end - now()).max(1) as u64) + KEPT_PAST_THE_END,
            None => self.inner.retention,
        }
    }

    fn needs_refresh(&self, set: &TokenSet) -> bool {
        self.refresh_due(set.expires_at)
    }

    fn refresh_due(&self, expires_at: i64) -> bool {
        expires_at - now() <= self.inner.refresh_margin.as_secs() as i64
    }
}

/// Where a refresh task sends its result; a caller that went away simply does not receive it.
struct Answer(tokio::sync::oneshot::Sender<Result<String, VaultError>>);

impl Answer {
    fn send(self, result: Result<String, VaultError>) {
        let _ = self.0.send(result);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn set(access_token: &str) -> TokenSet {
        TokenSet {
            access_token: access_token.to_owned(),
            refresh_token: None,
            provider_session: None,
            id_token: None,
            expires_at: now() + 3_600,
            session_ends_at: None,
        }
    }

    fn id(raw: &str) -> TokenSetId {
        TokenSetId(raw.to_owned())
    }

    #[test]
    fn opened_sets_are_kept_until_forgotten() {
        let opened = OpenedSets::default();
        assert!(opened.get(&id("a")).is_none());
        opened.keep(&id("a"), &set("token-a"));
        assert_eq!(opened.get(&id("a")).unwrap().access_token, "token-a");
        opened.forget(&id("a"));
        assert!(opened.get(&id("a")).is_none());
    }

    #[test]
    fn opened_sets_are_bounded_and_the_newest_is_kept() {
        let opened = OpenedSets::default();
        for n in 0..MOST_OPENED + 10 {
            opened.keep(&id(&n.to_string()), &set("token"));
        }
        assert_eq!(opened.sets.lock().unwrap().len(), MOST_OPENED);
        assert!(opened.get(&id(&(MOST_OPENED + 9).to_string())).is_some());
    }
}
