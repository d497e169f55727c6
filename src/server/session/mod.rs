//! Server-side sessions (tower-sessions): the browser holds only an opaque, random session id in a
//! `__Host-` cookie; who is signed in, their pending logins, the chosen environment and (through
//! the vault) their tokens stay on the server (OAuth browser-apps BCP §6.1, the BFF pattern).

mod backend;
mod cipher;
mod hashed;
mod merged;
mod recent;
mod vault;

use std::{collections::BTreeMap, path::Path, time::Duration};

use axum::Router;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tower_sessions::{
    cookie::SameSite, Expiry, MemoryStore, Session, SessionManagerLayer, SessionStore,
};
use tower_sessions_redis_store::RedisStore;

pub use backend::{Backend, FencedSave, StoreError};
pub use cipher::{KeyError, TokenCipher};
use hashed::HashedIds;
use merged::ChangesOnly;
use recent::RecentRecords;
pub use vault::{refresh_lease, TokenSet, TokenSetId, TokenVault, VaultError};

use crate::{
    api::EnvironmentRecord,
    domain::{EnvironmentSlug, ReturnTo},
    server::config::{Config, SessionStoreKind},
};

/// `__Host-` makes the browser refuse the cookie unless it is Secure, has `Path=/` and no
/// `Domain`, so a sibling subdomain can neither set nor overwrite it (ASVS 5 V3.3, cookie setup).
pub const SESSION_COOKIE: &str = "__Host-keystone_session";

const MEMBER_KEY: &str = "member";
const PENDING_LOGINS_KEY: &str = "pending_logins";
const ENVIRONMENT_KEY: &str = "environment";
/// Set beside the environment when the member chose it (a switch): the request's save applies a
/// chosen environment whatever another request stored meanwhile, one filled in from a listing only
/// over the one the request loaded (see [`merged::Derived`]). Never stored.
const ENVIRONMENT_CHOSEN_KEY: &str = "environment_chosen";
/// The member hid the overview's getting-started checklist (for this session: the browser holds
/// nothing but the session cookie, and the API has no place for a member's preferences).
const CHECKLIST_DISMISSED_KEY: &str = "getting_started_dismissed";

/// Logins started but not finished; one per tab. Bounded so a script cannot grow the record.
const MAX_PENDING_LOGINS: usize = 8;
/// How long a tab may spend at the provider before its login attempt is forgotten.
const PENDING_LOGIN_TTL: i64 = 10 * 60;

/// The signed-in member, as kept in the session record.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignedIn {
    pub user_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub picture: Option<String>,
    pub organization_id: String,
    pub tokens: TokenSetId,
    /// Unix seconds; the absolute lifetime counts from here.
    pub signed_in_at: i64,
    /// Unix seconds; the idle timeout counts from here.
    pub last_seen_at: i64,
}

/// One login in flight, keyed by its `state`.
#[derive(Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    pub nonce: String,
    pub pkce_verifier: String,
    pub organization: Option<String>,
    pub return_to: ReturnTo,
    pub started_at: i64,
}

impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogin")
            .field("organization", &self.organization)
            .field("return_to", &self.return_to)
            .finish_non_exhaustive()
    }
}

/// How long a session lasts (ASVS 5 V7.3: an inactivity timeout and an absolute lifetime), and
/// whose it may be.
#[derive(Clone, Debug)]
pub struct SessionPolicy {
    pub idle_timeout: Duration,
    pub absolute_lifetime: Duration,
    /// The one organization a pinned deployment serves (`KEYSTONE_AUTH_ORGANIZATION`); none when
    /// links are followed to any organization of the tenant.
    pub organization: Option<String>,
}

impl SessionPolicy {
    pub fn from_config(config: &Config) -> Self {
        Self {
            idle_timeout: config.session_idle_timeout(),
            absolute_lifetime: config.session_absolute_lifetime(),
            organization: config.auth_organization.clone(),
        }
    }

    /// `last_seen_at` is written at most this often: a session is not rewritten on every request,
    /// yet idle expiry stays precise enough.
    fn touch_interval(&self) -> i64 {
        (self.idle_timeout.as_secs() as i64 / 4).clamp(1, 60)
    }

    /// When a session signed in at `signed_in_at` and last seen at `last_seen_at` (unix seconds)
    /// ends if nobody comes back: at its idle timeout, or its absolute end if that is sooner.
    pub fn ends_unless_seen(&self, signed_in_at: i64, last_seen_at: i64) -> i64 {
        let seconds = |limit: Duration| i64::try_from(limit.as_secs()).unwrap_or(i64::MAX);
        last_seen_at
            .saturating_add(seconds(self.idle_timeout))
            .min(signed_in_at.saturating_add(seconds(self.absolute_lifetime)))
    }

    /// How often the sessions nobody came back to are ended (see
    /// [`TokenVault::sweep_unseen_sessions`]): a session outlives its end by at most this.
    pub fn unseen_sweep_interval(&self) -> Duration {
        let shortest = self.idle_timeout.min(self.absolute_lifetime).as_secs();
        Duration::from_secs((shortest / 4).clamp(1, 60))
    }
}

/// Why a member is no longer signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    Idle,
    Absolute,
    /// Signed into an organization the deployment no longer serves (pinned since).
    OtherOrganization,
}

pub fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Where a session stands when a request arrives.
#[derive(Debug)]
pub enum SessionState {
    /// Within both timeouts. `marked_seen`: its "last seen" mark was moved to now by this
    /// request (at most every [`SessionPolicy::touch_interval`]).
    SignedIn { member: SignedIn, marked_seen: bool },
    /// Nobody in the record: never signed in, or signed out.
    Anonymous,
    /// The member's session has just run out; the caller ends it.
    Expired(SessionEnd),
}

/// The state of this session, checking both timeouts. Marks a live session as seen.
pub async fn current_member(
    session: &Session,
    policy: &SessionPolicy,
) -> Result<SessionState, tower_sessions::session::Error> {
    let Some(mut member) = session.get::<SignedIn>(MEMBER_KEY).await? else {
        return Ok(SessionState::Anonymous);
    };
    // Pinning a deployment to one platform ends the sessions it admitted before, into another
    // organization of the tenant: the login refuses their links from then on, and a session must
    // not outlive the rule that would refuse it.
    if policy
        .organization
        .as_ref()
        .is_some_and(|pinned| *pinned != member.organization_id)
    {
        return Ok(SessionState::Expired(SessionEnd::OtherOrganization));
    }
    let now = now();
    if now - member.signed_in_at >= policy.absolute_lifetime.as_secs() as i64 {
        return Ok(SessionState::Expired(SessionEnd::Absolute));
    }
    if now - member.last_seen_at >= policy.idle_timeout.as_secs() as i64 {
        return Ok(SessionState::Expired(SessionEnd::Idle));
    }
    let marked_seen = now - member.last_seen_at >= policy.touch_interval();
    if marked_seen {
        member.last_seen_at = now;
        session.insert(MEMBER_KEY, &member).await?;
    }
    Ok(SessionState::SignedIn {
        member,
        marked_seen,
    })
}

/// The member in the record, without the timeout checks (for ending a session).
pub async fn stored_member(
    session: &Session,
) -> Result<Option<SignedIn>, tower_sessions::session::Error> {
    session.get(MEMBER_KEY).await
}

/// Completes a login: a new session id (session fixation defence, ASVS 5 V7.2: a new token at authentication), then the member.
pub async fn sign_in(
    session: &Session,
    member: &SignedIn,
) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    // A sign-in may be into another organization (accepting an invitation while signed in): the
    // environment kept from before (its id goes into API paths) must not carry over.
    session.remove_value(ENVIRONMENT_KEY).await?;
    // The session layer stores the record once the handler has answered; a failure there is
    // caught by `auth::commit_sign_in`.
    session.insert(MEMBER_KEY, member).await
}

async fn pending_logins(
    session: &Session,
) -> Result<BTreeMap<String, PendingLogin>, tower_sessions::session::Error> {
    Ok(session.get(PENDING_LOGINS_KEY).await?.unwrap_or_default())
}

/// Remembers a login in flight under its `state`; other tabs' logins are kept.
pub async fn remember_login(
    session: &Session,
    state: &str,
    login: PendingLogin,
) -> Result<(), tower_sessions::session::Error> {
    let mut pending = pending_logins(session).await?;
    let forgotten = logins_to_forget(
        pending
            .iter()
            .map(|(state, login)| (state, login.started_at)),
        MAX_PENDING_LOGINS - 1,
    );
    for state in forgotten {
        pending.remove(&state);
    }
    pending.insert(state.to_owned(), login);
    session.insert(PENDING_LOGINS_KEY, pending).await
}

/// Of the logins `(state, started_at)`, those to forget so that at most `kept` stay: every one
/// past its time, then the oldest.
fn logins_to_forget<'a>(
    logins: impl Iterator<Item = (&'a String, i64)>,
    kept: usize,
) -> Vec<String> {
    let now = now();
    let (mut live, mut forgotten): (Vec<_>, Vec<_>) =
        logins.partition(|(_, started_at)| now - started_at < PENDING_LOGIN_TTL);
    live.sort_by_key(|(_, started_at)| std::cmp::Reverse(*started_at));
    forgotten.extend(live.into_iter().skip(kept));
    forgotten
        .into_iter()
        .map(|(state, _)| state.clone())
        .collect()
}

/// The pending logins after a merge with other requests' (see [`ChangesOnly`]), bounded again.
fn bound_merged_logins(logins: &mut merged::Entries) {
    let forgotten = logins_to_forget(
        logins.iter().map(|(state, login)| {
            // Read as `remember_login` wrote it; an entry that is not a login counts as expired.
            let login = PendingLogin::deserialize(login);
            (state, login.map_or(0, |login| login.started_at))
        }),
        MAX_PENDING_LOGINS,
    );
    for state in forgotten {
        logins.remove(&state);
    }
}

/// Takes the login for `state` out of the session: a state is good for one callback only
/// (replay defence), and only in the session that started it (login CSRF defence, RFC 9700 §4.7).
pub async fn take_login(
    session: &Session,
    store: &Backend,
    state: &str,
) -> Result<Option<PendingLogin>, tower_sessions::session::Error> {
    let mut pending = pending_logins(session).await?;
    let login = pending.remove(state);
    if login.is_some() {
        session.insert(PENDING_LOGINS_KEY, pending).await?;
        // Saved now, not when the response goes: the session layer saves nothing after a 5xx,
        // and a callback that fails that way (the token endpoint down) would leave its state,
        // nonce and verifier in the store for a replay of the same callback to finish.
        session.save().await?;
        // A replay of this callback that loaded the record before this save may have taken the
        // login first: a state is good for one callback, so only the save that removed it from
        // the store has it.
        let id = session.id().unwrap_or_default();
        if merged::spent_elsewhere(&id, PENDING_LOGINS_KEY, state) {
            return Ok(None);
        }
        // Replicas on Redis do not share those turns: two callbacks on two replicas could each
        // have loaded the login before either saved. The first to claim the state has it. The
        // claim is named by a hash: the state itself travels in URLs.
        let claim = format!("login:{:x}", Sha256::digest(state.as_bytes()));
        let ttl = Duration::from_secs(PENDING_LOGIN_TTL as u64);
        let first = store.claim_once(&claim, ttl).await.map_err(|error| {
            tower_sessions::session::Error::Store(tower_sessions::session_store::Error::Backend(
                error.to_string(),
            ))
        })?;
        if !first {
            return Ok(None);
        }
    }
    Ok(login.filter(|login| now() - login.started_at < PENDING_LOGIN_TTL))
}

/// The environment the session works in, as it keeps it: chosen by the member, or filled in from a
/// listing (see [`choose_environment`], [`follow_environment`]). The whole record (id and name
/// beside the slug) lets the allowlist's calls go straight to `/environments/{id}/ip-allowlist`
/// instead of listing the environments first on every request. Records written before the id
/// was kept hold the slug alone; they still open, and the next lookup fills in the rest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ChosenEnvironment {
    Known(EnvironmentRecord),
    Slug(EnvironmentSlug),
}

impl ChosenEnvironment {
    pub fn slug(&self) -> &EnvironmentSlug {
        match self {
            Self::Known(record) => &record.slug,
            Self::Slug(slug) => slug,
        }
    }
}

pub async fn environment(
    session: &Session,
) -> Result<Option<ChosenEnvironment>, tower_sessions::session::Error> {
    session.get(ENVIRONMENT_KEY).await
}

pub async fn checklist_dismissed(
    session: &Session,
) -> Result<bool, tower_sessions::session::Error> {
    Ok(session
        .get::<bool>(CHECKLIST_DISMISSED_KEY)
        .await?
        .unwrap_or(false))
}

pub async fn dismiss_checklist(session: &Session) -> Result<(), tower_sessions::session::Error> {
    session.insert(CHECKLIST_DISMISSED_KEY, true).await
}

/// The member's own choice of environment: it stands over what other requests in flight derive.
pub async fn choose_environment(
    session: &Session,
    environment: &EnvironmentRecord,
) -> Result<(), tower_sessions::session::Error> {
    session.insert(ENVIRONMENT_CHOSEN_KEY, true).await?;
    follow_environment(session, environment).await
}

/// The environment as this request derived it from a listing (a first environment, the record for
/// a kept slug, a rename): stored only if no other request changed it meanwhile.
pub async fn follow_environment(
    session: &Session,
    environment: &EnvironmentRecord,
) -> Result<(), tower_sessions::session::Error> {
    session
        .insert(
            ENVIRONMENT_KEY,
            ChosenEnvironment::Known(environment.clone()),
        )
        .await
}

/// The store behind the sessions, and the cipher for the vault.
pub async fn open(config: &Config) -> Result<(Backend, TokenCipher), SetupError> {
    // The key first: a missing key is a configuration mistake worth reporting before any I/O.
    let cipher = match (&config.token_encryption_key, config.session_store) {
        (Some(key), _) => TokenCipher::from_base64(key)?,
        (None, SessionStoreKind::Memory) => TokenCipher::from_base64(&TokenCipher::generate_key())?,
        (None, SessionStoreKind::Embedded) => embedded_key(&config.data_dir)?,
        // Every replica must open what the others sealed: a generated key cannot be shared.
        (None, SessionStoreKind::Redis) => return Err(SetupError::KeyRequired),
    };
    let backend = Backend::connect(config).await?;
    Ok((backend, cipher))
}

/// The embedded store's data folder, claimed by one process for as long as it serves. Two
/// dashboards on one folder would each trust their own memory of the sessions
/// ([`RecentRecords`]) and their own refresh lock; the second is refused at start instead.
#[derive(Debug)]
pub struct DataDirLock {
    _held: std::fs::File,
}

/// Claims `config.data_dir` when the embedded store is used (the lock file is released by the
/// system when the process ends, however it ends, so a crash leaves no stale claim).
pub fn claim_data_dir(config: &Config) -> Result<Option<DataDirLock>, SetupError> {
    if config.session_store != SessionStoreKind::Embedded {
        return Ok(None);
    }
    let path = config.data_dir.join("dashboard.lock");
    let lock_error = |source| SetupError::DataDirLock {
        path: path.display().to_string(),
        source,
    };
    create_private_dir(&config.data_dir).map_err(lock_error)?;
    warn_if_shared(&config.data_dir);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(lock_error)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(DataDirLock { _held: file })),
        Err(std::fs::TryLockError::WouldBlock) => Err(SetupError::DataDirInUse {
            path: config.data_dir.display().to_string(),
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(lock_error(source)),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(
        "the data folder {path} is in use by another dashboard: the embedded store serves one \
         process (run replicas on --session-store redis)"
    )]
    DataDirInUse { path: String },
    #[error("data folder lock {path}: {source}")]
    DataDirLock {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(
        "--token-encryption-key (KEYSTONE_TOKEN_ENCRYPTION_KEY) is required with the Redis store"
    )]
    KeyRequired,
    #[error("token key file {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
}

/// The embedded store's key: generated once into the data folder, readable by the owner only.
fn embedded_key(data_dir: &Path) -> Result<TokenCipher, SetupError> {
    let path = data_dir.join("token-encryption.key");
    let key_file_error = |source| SetupError::KeyFile {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(key) => Ok(TokenCipher::from_base64(&key)?),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let key = TokenCipher::generate_key();
            create_private_dir(data_dir)
                .and_then(|()| write_private(&path, &key))
                .map_err(key_file_error)?;
            tracing::info!(path = %path.display(), "generated a token encryption key");
            Ok(TokenCipher::from_base64(&key)?)
        }
        Err(error) => Err(key_file_error(error)),
    }
}

/// The data folder holds the session records (members' names and addresses, logins in flight)
/// and the store's files, which SQLite creates with the process's umask (usually readable by
/// every local user): a folder only its owner may enter keeps them private whatever their modes.
/// A folder that already exists keeps its mode; it is the operator's.
fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

/// A folder created before the dashboard made it private (an older version, an image's build
/// step) keeps the mode it was given: say so where an operator looks, rather than change a folder
/// the operator may have chosen.
fn warn_if_shared(path: &Path) {
    #[cfg(unix)]
    if let Ok(metadata) = std::fs::metadata(path) {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{:o}", mode & 0o777),
                "the data folder is open to other local users, who can read its session records: \
                 chmod 700 it"
            );
        }
    }
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}

/// Wraps `router` in the session layer for the configured backend.
pub async fn layer(
    router: Router,
    backend: &Backend,
    policy: &SessionPolicy,
) -> Result<Router, StoreError> {
    let with_sessions = match backend {
        Backend::Memory(_) => router.layer(manager(HashedIds(MemoryStore::default()), policy)),
        Backend::Embedded(pools) => {
            let store = pools.session_records(Duration::from_secs(300)).await?;
            // Only here is this process the store's one writer (the data folder is claimed), so
            // only here may records be served from memory. Inside `HashedIds`: memory, like the
            // store, holds hashes of session ids, never a cookie's value.
            let recent = RecentRecords::new(store, recent::MOST_REMEMBERED);
            router.layer(manager(HashedIds(recent), policy))
        }
        Backend::Redis(pool) => {
            router.layer(manager(HashedIds(RedisStore::new(pool.clone())), policy))
        }
    };
    Ok(with_sessions
        .layer(axum::middleware::map_response(removal_cookie_attributes))
        // Outside the session layer: its load and its save both happen inside the request's scope.
        .layer(axum::middleware::from_fn(merged::hold_request_record)))
}

/// The session layer's removal cookie (a sign-out, a session that ended) is the cookie the
/// request sent, emptied: it has none of the session cookie's attributes. A browser refuses a
/// `__Host-` cookie without `Secure` and `Path=/`, a removal too, and would keep sending the dead
/// session's id until its idle time ran out. The attributes go back on here.
async fn removal_cookie_attributes(
    mut response: axum::response::Response,
) -> axum::response::Response {
    use axum::http::{header::SET_COOKIE, HeaderValue};

    let headers = response.headers_mut();
    if !headers
        .get_all(SET_COOKIE)
        .iter()
        .any(|value| bare_session_removal(value).is_some())
    {
        return response;
    }
    let set_cookies: Vec<HeaderValue> = headers.get_all(SET_COOKIE).iter().cloned().collect();
    headers.remove(SET_COOKIE);
    for value in set_cookies {
        let value = match bare_session_removal(&value) {
            Some(mut cookie) => {
                cookie.set_secure(true);
                cookie.set_http_only(true);
                cookie.set_same_site(SameSite::Lax);
                cookie.set_path("/");
                HeaderValue::from_str(&cookie.to_string()).unwrap_or(value)
            }
            None => value,
        };
        headers.append(SET_COOKIE, value);
    }
    response
}

/// A session cookie set without `Secure`: the session layer's removal.
fn bare_session_removal(
    value: &axum::http::HeaderValue,
) -> Option<tower_sessions::cookie::Cookie<'static>> {
    // Every response passes here: only the session cookie is parsed.
    let text = value
        .to_str()
        .ok()
        .filter(|text| text.starts_with(SESSION_COOKIE))?;
    tower_sessions::cookie::Cookie::parse(text.to_owned())
        .ok()
        .filter(|cookie| cookie.name() == SESSION_COOKIE && cookie.secure() != Some(true))
}

/// How a save merges the record (see [`ChangesOnly`]): the pending logins entry by entry; the
/// environment, when derived, only over the one the request loaded.
const MERGE_RULES: merged::Rules = merged::Rules {
    entry_merged: &[merged::EntryMerged {
        key: PENDING_LOGINS_KEY,
        bound: bound_merged_logins,
    }],
    derived: &[merged::Derived {
        key: ENVIRONMENT_KEY,
        chosen: ENVIRONMENT_CHOSEN_KEY,
    }],
};

fn manager<S: SessionStore + Clone>(
    store: S,
    policy: &SessionPolicy,
) -> SessionManagerLayer<ChangesOnly<S>> {
    // Outermost, so the merge sees the ids the requests hold (the hashing happens below it).
    SessionManagerLayer::new(ChangesOnly::new(store, MERGE_RULES))
        .with_name(SESSION_COOKIE)
        // Always Secure, even on http://127.0.0.1: browsers treat loopback as a secure context.
        .with_secure(true)
        .with_http_only(true)
        // Lax, not Strict: the provider's redirect back to /auth/callback is a cross-site top-level
        // navigation and must carry the cookie that holds the pending login.
        .with_same_site(SameSite::Lax)
        .with_path("/")
        // The store forgets an idle session by itself; the BFF also checks both limits itself.
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            policy.idle_timeout.as_secs() as i64,
        )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login_started(started_at: i64) -> PendingLogin {
        PendingLogin {
            nonce: "n".to_owned(),
            pkce_verifier: "v".to_owned(),
            organization: None,
            return_to: ReturnTo::or_home(None),
            started_at,
        }
    }

    /// Pending logins as the record holds them (serialised as `remember_login` stores them, so a
    /// renamed field cannot leave the bound reading none), started `ages` seconds ago, named by
    /// their age.
    fn logins(ages: &[i64]) -> merged::Entries {
        let now = now();
        ages.iter()
            .map(|age| {
                let login = login_started(now - age);
                (format!("s{age}"), serde_json::to_value(login).unwrap())
            })
            .collect()
    }

    /// A replayed callback racing the first (both loaded the record before either took the
    /// login): one of them has the login, the other finds it spent.
    #[tokio::test]
    async fn a_state_two_callbacks_bring_at_once_is_taken_by_one() {
        let store = std::sync::Arc::new(ChangesOnly::new(MemoryStore::default(), MERGE_RULES));
        let memory = Backend::Memory(Default::default());
        let started = Session::new(None, store.clone(), None);
        merged::testing::RequestScope::default()
            .run(async {
                remember_login(&started, "s", login_started(now())).await?;
                started.save().await
            })
            .await
            .unwrap();
        let id = started.id();
        let callbacks = [(); 2].map(|()| {
            (
                merged::testing::RequestScope::default(),
                Session::new(id, store.clone(), None),
            )
        });
        for (scope, session) in &callbacks {
            scope.run(pending_logins(session)).await.unwrap();
        }
        let mut taken = Vec::new();
        for (scope, session) in &callbacks {
            let login = scope.run(take_login(session, &memory, "s")).await.unwrap();
            taken.push(login.is_some());
        }
        assert_eq!(taken, [true, false]);
    }

    #[test]
    fn merged_logins_keep_the_newest_live_ones_up_to_the_bound() {
        let expired = PENDING_LOGIN_TTL + 1;
        let mut merged = logins(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, expired]);
        bound_merged_logins(&mut merged);
        let kept: Vec<&String> = merged.keys().collect();
        assert_eq!(kept.len(), MAX_PENDING_LOGINS);
        assert!(!merged.contains_key(&format!("s{expired}")), "{kept:?}");
        assert!(
            !merged.contains_key("s9") && !merged.contains_key("s10"),
            "{kept:?}"
        );
        assert!(
            merged.contains_key("s1") && merged.contains_key("s8"),
            "{kept:?}"
        );
    }
}
