//! Where sessions and tokens are kept. One setting picks the backend; the session records
//! (tower-sessions) and the sealed token sets live side by side in it.
//!
//! Token sets are kept apart from the session record on purpose: tower-sessions writes the whole
//! record at the end of a request (merged with concurrent changes by `merged::ChangesOnly`, yet
//! still whole for a value the request itself changed), and a refresh token must never be written
//! back over the rotated one by a request that loaded it before a refresh.

use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use fred::{
    interfaces::{ClientLike, KeysInterface, LuaInterface},
    types::{Expiration, SetOptions},
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use tower_sessions::{
    session::{Id, Record},
    session_store::{self, ExpiredDeletion, SessionStore},
};
use tower_sessions_sqlx_store::SqliteStore;

use crate::server::config::{Config, SessionStoreKind};

#[derive(Clone)]
pub enum Backend {
    Memory(Arc<Mutex<HashMap<String, HeldTokens>>>),
    Embedded(EmbeddedPools),
    Redis(fred::clients::Pool),
}

/// A token set as the memory backend keeps it.
#[derive(Clone)]
pub struct HeldTokens {
    sealed: String,
    kept_until: Instant,
    /// Unix seconds (see [`Backend::keep_tokens_until`]).
    ends_unless_seen: i64,
}

impl HeldTokens {
    fn live(&self) -> bool {
        self.kept_until > Instant::now()
    }
}

/// The embedded store's connections to its SQLite file. SQLite lets one connection write at a
/// time; with every connection free to write, a burst of sign-ins had them polling SQLite's lock,
/// and one of 10,000 simultaneous sign-ins could miss it for the whole busy timeout and fail (the
/// bench's memory step). So every write goes through one connection and waits its turn in that
/// pool, in order, and every read uses the others (WAL: reads never wait for the writer), session
/// records included ([`EmbeddedRecords`]).
#[derive(Clone)]
pub struct EmbeddedPools {
    readers: SqlitePool,
    writer: SqlitePool,
}

impl EmbeddedPools {
    /// The longest a query waits for its turn in a pool, and then for SQLite's lock, which only
    /// another process (a backup, the `sqlite3` shell) can hold: while it does, every queued
    /// write waits with it. Past either, the store's caller fails: a page or a function answers
    /// 503 "sessions are unavailable", and a record's save at the end of a request fails that
    /// request (tower-sessions answers 500), as a stalled Redis does.
    const PATIENCE: Duration = Duration::from_secs(5);

    async fn open(
        path: &Path,
        busy_timeout: Duration,
        acquire_timeout: Duration,
    ) -> Result<Self, StoreError> {
        // The default `synchronous` (FULL) is kept: every commit is on disk when it returns, so
        // token sets a sign-out deleted stay deleted through a power cut or a crash of the host.
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(busy_timeout);
        let pool = |connections, options: SqliteConnectOptions| {
            SqlitePoolOptions::new()
                .max_connections(connections)
                .acquire_timeout(acquire_timeout)
                // A connection to a local file does not go stale; the check before each use was
                // one more trip to the connection's thread per query (a query on a broken file
                // fails and says so anyway).
                .test_before_acquire(false)
                .connect_with(options)
        };
        let writer = pool(1, options.clone()).await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS token_sets (
                id TEXT PRIMARY KEY NOT NULL,
                sealed TEXT NOT NULL,
                expires_at INTEGER NOT NULL,
                ends_unless_seen INTEGER
            )",
        )
        .execute(&writer)
        .await?;
        // A store written before sessions were ended unseen lacks the column; its sets keep NULL
        // there and expire with `expires_at`, as they did.
        let unseen_column: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pragma_table_info('token_sets') WHERE name = 'ends_unless_seen'",
        )
        .fetch_one(&writer)
        .await?;
        if unseen_column == 0 {
            sqlx::query("ALTER TABLE token_sets ADD COLUMN ends_unless_seen INTEGER")
                .execute(&writer)
                .await?;
        }
        // Each save sweeps the expired sets, and the unseen sweep looks for sessions past their
        // end; the indexes keep both off the whole table.
        sqlx::query("CREATE INDEX IF NOT EXISTS token_sets_expiry ON token_sets (expires_at)")
            .execute(&writer)
            .await?;
        sqlx::query(
            "CREATE INDEX IF NOT EXISTS token_sets_unseen ON token_sets (ends_unless_seen)",
        )
        .execute(&writer)
        .await?;
        // A write through a reader fails loudly instead of bringing the contention back. A reader
        // never creates the file: one gone while the process runs is an error, not a new store.
        let readers = pool(
            7,
            options.create_if_missing(false).pragma("query_only", "ON"),
        )
        .await?;
        Ok(Self { readers, writer })
    }

    /// tower-sessions' records over these pools (its table created), their expired ones swept
    /// every `sweep_every` by the writer.
    pub async fn session_records(
        &self,
        sweep_every: Duration,
    ) -> Result<EmbeddedRecords, StoreError> {
        let writer = SqliteStore::new(self.writer.clone());
        writer.migrate().await?;
        // Not tower-sessions' `continuously_delete_expired`, which ends at its first error (a
        // queue past `PATIENCE`, say) and would leave the table to grow until a restart.
        tokio::spawn({
            let writer = writer.clone();
            async move {
                let mut every = tokio::time::interval(sweep_every);
                every.tick().await;
                loop {
                    every.tick().await;
                    if let Err(error) = writer.delete_expired().await {
                        tracing::warn!(%error, "sweeping expired session records failed");
                    }
                }
            }
        });
        Ok(EmbeddedRecords {
            readers: SqliteStore::new(self.readers.clone()),
            writer,
        })
    }
}

/// tower-sessions' SQLite store, split as [`EmbeddedPools`] is: a record not held in memory (after
/// a restart, or a made-up cookie's) loads through the readers and never queues behind the
/// writes, which it would also delay.
#[derive(Clone, Debug)]
pub struct EmbeddedRecords {
    readers: SqliteStore,
    writer: SqliteStore,
}

#[async_trait]
impl SessionStore for EmbeddedRecords {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.writer.create(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.writer.save(record).await
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.readers.load(id).await
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.writer.delete(id).await
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("session database: {0}")]
    Sqlite(#[from] sqlx::Error),
    #[error("redis: {0}")]
    Redis(#[from] fred::error::Error),
    #[error("data folder {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
}

/// The most one Redis command waits: a page answers "sessions unavailable" quickly instead of
/// hanging, and the refresh lease is derived from it.
pub const STORE_COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// Keys in Redis are namespaced so the dashboard can share an instance.
const REDIS_TOKENS: &str = "keystone-dashboard:tokens:";
const REDIS_LOCKS: &str = "keystone-dashboard:refresh-lock:";
const REDIS_CLAIMED: &str = "keystone-dashboard:claimed:";
/// Sorted set of token-set ids scored by expiry: counting sessions without scanning the keyspace.
const REDIS_INDEX: &str = "keystone-dashboard:token-index";
/// Sorted set of token-set ids scored by when their session ends unless seen again (see
/// [`Backend::keep_tokens_until`]).
const REDIS_UNSEEN: &str = "keystone-dashboard:token-unseen";

/// The token set and its index entries change together, or not at all; entries of sets that
/// expired by themselves leave the expiry index with each write (not only when `/metrics` is
/// read).
const SAVE_TOKENS: &str = "redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[2]) \
     redis.call('zadd', KEYS[2], ARGV[3], ARGV[4]) \
     redis.call('zremrangebyscore', KEYS[2], '-inf', ARGV[5]) \
     redis.call('zadd', KEYS[3], ARGV[6], ARGV[4]) return 1";
const DELETE_TOKENS: &str = "redis.call('del', KEYS[1]) redis.call('zrem', KEYS[2], ARGV[1]) \
     redis.call('zrem', KEYS[3], ARGV[1]) return 1";
/// Only a set still held is given a new end, and never an earlier one (requests on replicas
/// whose clocks differ): a sign-out on another replica is not undone. (Compared here rather than
/// with ZADD's GT, which Redis before 6.2 would take for a score and refuse.)
const KEEP_TOKENS: &str = "if redis.call('exists', KEYS[1]) == 0 then return 0 end \
     local current = redis.call('zscore', KEYS[2], ARGV[2]) \
     if current and tonumber(current) >= tonumber(ARGV[1]) then return 1 end \
     redis.call('zadd', KEYS[2], ARGV[1], ARGV[2]) return 1";
/// Claims up to ARGV[2] sets whose session ended unseen by ARGV[1]: returns them as id, sealed
/// pairs and moves their end to ARGV[4], when a claim whose revocation failed is retried. One
/// script, so each set goes to exactly one replica's sweep at a time. Entries of sets already gone
/// leave the indexes. The sets' keys are derived here (ARGV[3] and the id) rather than passed,
/// which a single instance allows; the expiry index and the sets already assume one.
const CLAIM_UNSEEN_TOKENS: &str = "local claimed = {} \
     for _, id in ipairs(redis.call('zrangebyscore', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])) do \
       local sealed = redis.call('get', ARGV[3] .. id) \
       if sealed then \
         redis.call('zadd', KEYS[1], ARGV[4], id) claimed[#claimed + 1] = id claimed[#claimed + 1] = sealed \
       else redis.call('zrem', KEYS[1], id) redis.call('zrem', KEYS[2], id) end \
     end return claimed";
/// Gives every set without an end (stored before sessions were ended unseen) one: ARGV[1], or its
/// expiry if sooner.
const ADOPT_UNMARKED_TOKENS: &str = "local adopted = 0 \
     local entries = redis.call('zrange', KEYS[1], 0, -1, 'WITHSCORES') \
     for i = 1, #entries, 2 do \
       local score = math.min(tonumber(entries[i + 1]), tonumber(ARGV[1])) \
       adopted = adopted + redis.call('zadd', KEYS[2], 'NX', score, entries[i]) \
     end return adopted";
const COUNT_TOKENS: &str =
    "redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[1]) return redis.call('zcard', KEYS[1])";

/// Replaces a token set only if it still holds what the writer read before refreshing: a
/// compare-and-set on the sealed value itself, which is the fence. A save after sign-out finds
/// nothing; a writer whose lease ran out and who was overtaken finds newer tokens and writes
/// nothing; one whose lease merely lapsed (Redis was unreachable) while nobody wrote still stores
/// its rotated tokens, which is what keeps the family alive. 1: stored (or already stored by an
/// earlier attempt whose reply was lost); 0: the set is gone; 2: the set changed.
const UPDATE_TOKENS_FENCED: &str = "local current = redis.call('get', KEYS[1]) \
     if not current then return 0 end \
     if current == ARGV[1] then return 1 end \
     if current ~= ARGV[6] then return 2 end \
     redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[2]) \
     redis.call('zadd', KEYS[2], ARGV[3], ARGV[4]) \
     redis.call('zremrangebyscore', KEYS[2], '-inf', ARGV[5]) return 1";

/// Extends the lease only while it is still the caller's. A lease that lapsed stays lost, even if
/// nobody took it: another replica may have refreshed and released meanwhile.
const EXTEND_LOCK: &str = "if redis.call('get', KEYS[1]) == ARGV[1] then \
     return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0";

/// What became of a fenced save.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FencedSave {
    Stored,
    /// The set is gone: the session was signed out (or expired) meanwhile.
    Gone,
    /// The set is no longer what the writer read: another replica stored newer tokens.
    Superseded,
}

/// Deletes the lock only if it is still ours: a holder that overran its lease must not release the
/// next holder's lock.
const RELEASE_LOCK: &str =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

impl Backend {
    pub async fn connect(config: &Config) -> Result<Self, StoreError> {
        match config.session_store {
            SessionStoreKind::Memory => Ok(Self::Memory(Arc::default())),
            SessionStoreKind::Embedded => {
                ensure_dir(&config.data_dir)?;
                let path = config.data_dir.join("sessions.sqlite3");
                Ok(Self::Embedded(
                    EmbeddedPools::open(&path, EmbeddedPools::PATIENCE, EmbeddedPools::PATIENCE)
                        .await?,
                ))
            }
            SessionStoreKind::Redis => {
                let url = config
                    .redis_url
                    .as_deref()
                    .expect("clap requires --redis-url with --session-store redis");
                let mut builder =
                    fred::types::Builder::from_config(fred::types::config::Config::from_url(url)?);
                // Reconnect forever (0 = no limit), 100 ms doubling to 2 s: after a Redis restart
                // the replicas come back by themselves. A command waits at most 2 s meanwhile, so a
                // page answers "sessions unavailable" quickly instead of hanging.
                builder
                    .set_policy(fred::types::config::ReconnectPolicy::new_exponential(
                        0, 100, 2_000, 2,
                    ))
                    .with_performance_config(|performance| {
                        performance.default_command_timeout = STORE_COMMAND_TIMEOUT;
                    });
                let pool = builder.build_pool(4)?;
                pool.init().await?;
                Ok(Self::Redis(pool))
            }
        }
    }

    pub async fn load_tokens(&self, id: &str) -> Result<Option<String>, StoreError> {
        match self {
            Self::Memory(map) => {
                let map = map.lock().expect("token map lock");
                Ok(map
                    .get(id)
                    .filter(|held| held.live())
                    .map(|held| held.sealed.clone()))
            }
            Self::Embedded(EmbeddedPools { readers: pool, .. }) => Ok(sqlx::query_scalar(
                "SELECT sealed FROM token_sets WHERE id = ? AND expires_at > unixepoch()",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?),
            Self::Redis(pool) => Ok(pool.get(format!("{REDIS_TOKENS}{id}")).await?),
        }
    }

    /// Stores a new set, kept for `ttl`, whose session ends at `ends_unless_seen` (unix seconds)
    /// unless seen again (see [`Backend::keep_tokens_until`]).
    pub async fn save_tokens(
        &self,
        id: &str,
        sealed: String,
        ttl: Duration,
        ends_unless_seen: i64,
    ) -> Result<(), StoreError> {
        match self {
            Self::Memory(map) => {
                let mut map = map.lock().expect("token map lock");
                map.retain(|_, held| held.live());
                let held = HeldTokens {
                    sealed,
                    kept_until: Instant::now() + ttl,
                    ends_unless_seen,
                };
                map.insert(id.to_owned(), held);
            }
            Self::Embedded(EmbeddedPools { writer: pool, .. }) => {
                // One turn at the writer for both statements.
                let mut connection = pool.acquire().await?;
                sqlx::query(
                    "INSERT INTO token_sets (id, sealed, expires_at, ends_unless_seen)
                     VALUES (?, ?, unixepoch() + ?, ?)
                     ON CONFLICT (id) DO UPDATE SET sealed = excluded.sealed,
                       expires_at = excluded.expires_at, ends_unless_seen = excluded.ends_unless_seen",
                )
                .bind(id)
                .bind(sealed)
                .bind(ttl.as_secs() as i64)
                .bind(ends_unless_seen)
                .execute(&mut *connection)
                .await?;
                // Expired sets of sessions that were never signed out go with the next write. The
                // set above is stored: a failed sweep must not fail its sign-in or refresh.
                if let Err(error) =
                    sqlx::query("DELETE FROM token_sets WHERE expires_at <= unixepoch()")
                        .execute(&mut *connection)
                        .await
                {
                    tracing::warn!(%error, "sweeping expired token sets failed");
                }
            }
            Self::Redis(pool) => {
                let (mut keys, mut args) = redis_token_write(id, sealed, ttl);
                keys.push(REDIS_UNSEEN.to_owned());
                args.push(ends_unless_seen.to_string());
                let _: i64 = pool.eval(SAVE_TOKENS, keys, args).await?;
            }
        }
        Ok(())
    }

    /// Moves the end of a held set's session (unix seconds) to `ends_unless_seen`, if later: the
    /// member was seen. A set that is gone stays gone.
    pub async fn keep_tokens_until(
        &self,
        id: &str,
        ends_unless_seen: i64,
    ) -> Result<(), StoreError> {
        match self {
            Self::Memory(map) => {
                if let Some(held) = map.lock().expect("token map lock").get_mut(id) {
                    held.ends_unless_seen = held.ends_unless_seen.max(ends_unless_seen);
                }
            }
            Self::Embedded(EmbeddedPools { writer: pool, .. }) => {
                sqlx::query(
                    "UPDATE token_sets SET ends_unless_seen = MAX(COALESCE(ends_unless_seen, 0), ?)
                     WHERE id = ?",
                )
                .bind(ends_unless_seen)
                .bind(id)
                .execute(pool)
                .await?;
            }
            Self::Redis(pool) => {
                let _: i64 = pool
                    .eval(
                        KEEP_TOKENS,
                        vec![format!("{REDIS_TOKENS}{id}"), REDIS_UNSEEN.to_owned()],
                        vec![ends_unless_seen.to_string(), id.to_owned()],
                    )
                    .await?;
            }
        }
        Ok(())
    }

    /// Claims and returns (id, sealed) up to `most` sets whose session ended unseen by `now`
    /// (unix seconds), moving their end to `retry_at`: each set is claimed by one caller across
    /// replicas, which removes it once its refresh token is revoked, and claimed again at
    /// `retry_at` if it is still there (the revocation failed).
    pub async fn claim_unseen_tokens(
        &self,
        now: i64,
        most: usize,
        retry_at: i64,
    ) -> Result<Vec<(String, String)>, StoreError> {
        match self {
            Self::Memory(map) => {
                let mut map = map.lock().expect("token map lock");
                map.retain(|_, held| held.live());
                Ok(map
                    .iter_mut()
                    .filter(|(_, held)| held.ends_unless_seen <= now)
                    .take(most)
                    .map(|(id, held)| {
                        held.ends_unless_seen = retry_at;
                        (id.clone(), held.sealed.clone())
                    })
                    .collect())
            }
            // Sets past their expiry are claimed too: still in the file, their tokens can still
            // be revoked.
            Self::Embedded(EmbeddedPools { writer: pool, .. }) => Ok(sqlx::query_as(
                "UPDATE token_sets SET ends_unless_seen = ? WHERE id IN
                   (SELECT id FROM token_sets WHERE ends_unless_seen <= ?
                    ORDER BY ends_unless_seen LIMIT ?)
                 RETURNING id, sealed",
            )
            .bind(retry_at)
            .bind(now)
            .bind(most as i64)
            .fetch_all(pool)
            .await?),
            Self::Redis(pool) => {
                let claimed: Vec<String> = pool
                    .eval(
                        CLAIM_UNSEEN_TOKENS,
                        vec![REDIS_UNSEEN.to_owned(), REDIS_INDEX.to_owned()],
                        vec![
                            now.to_string(),
                            most.to_string(),
                            REDIS_TOKENS.to_owned(),
                            retry_at.to_string(),
                        ],
                    )
                    .await?;
                let mut pairs = claimed.into_iter();
                let mut sets = Vec::new();
                while let (Some(id), Some(sealed)) = (pairs.next(), pairs.next()) {
                    sets.push((id, sealed));
                }
                Ok(sets)
            }
        }
    }

    /// Replaces the set `previous` (as read before the refresh) by `sealed`, compare-and-set: see
    /// [`FencedSave`].
    pub async fn update_tokens_fenced(
        &self,
        id: &str,
        previous: &str,
        sealed: String,
        ttl: Duration,
    ) -> Result<FencedSave, StoreError> {
        match self {
            Self::Memory(map) => {
                let mut map = map.lock().expect("token map lock");
                let now = Instant::now();
                Ok(match map.get_mut(id).filter(|held| held.kept_until > now) {
                    None => FencedSave::Gone,
                    Some(held) if held.sealed == sealed => FencedSave::Stored,
                    Some(held) if held.sealed != previous => FencedSave::Superseded,
                    Some(held) => {
                        held.sealed = sealed;
                        held.kept_until = now + ttl;
                        FencedSave::Stored
                    }
                })
            }
            Self::Embedded(EmbeddedPools { writer: pool, .. }) => {
                let updated = sqlx::query(
                    "UPDATE token_sets SET sealed = ?, expires_at = unixepoch() + ?
                     WHERE id = ? AND sealed = ? AND expires_at > unixepoch()",
                )
                .bind(&sealed)
                .bind(ttl.as_secs() as i64)
                .bind(id)
                .bind(previous)
                .execute(pool)
                .await?;
                if updated.rows_affected() == 1 {
                    return Ok(FencedSave::Stored);
                }
                let current: Option<String> = sqlx::query_scalar(
                    "SELECT sealed FROM token_sets WHERE id = ? AND expires_at > unixepoch()",
                )
                .bind(id)
                .fetch_optional(pool)
                .await?;
                Ok(match current {
                    None => FencedSave::Gone,
                    Some(current) if current == sealed => FencedSave::Stored,
                    Some(_) => FencedSave::Superseded,
                })
            }
            Self::Redis(pool) => {
                let (keys, mut args) = redis_token_write(id, sealed, ttl);
                args.push(previous.to_owned());
                let outcome: i64 = pool.eval(UPDATE_TOKENS_FENCED, keys, args).await?;
                Ok(match outcome {
                    1 => FencedSave::Stored,
                    0 => FencedSave::Gone,
                    _ => FencedSave::Superseded,
                })
            }
        }
    }

    pub async fn delete_tokens(&self, id: &str) -> Result<(), StoreError> {
        match self {
            Self::Memory(map) => {
                map.lock().expect("token map lock").remove(id);
            }
            Self::Embedded(EmbeddedPools { writer: pool, .. }) => {
                sqlx::query("DELETE FROM token_sets WHERE id = ?")
                    .bind(id)
                    .execute(pool)
                    .await?;
            }
            Self::Redis(pool) => {
                let _: i64 = pool
                    .eval(
                        DELETE_TOKENS,
                        vec![
                            format!("{REDIS_TOKENS}{id}"),
                            REDIS_INDEX.to_owned(),
                            REDIS_UNSEEN.to_owned(),
                        ],
                        vec![id.to_owned()],
                    )
                    .await?;
            }
        }
        Ok(())
    }

    /// Gives the sets stored before sessions were ended unseen (they have no end) one: `end`
    /// (unix seconds), or their expiry if sooner. Their members' next visits move it on as any
    /// other's. Returns how many were given one.
    pub async fn adopt_unmarked_tokens(&self, end: i64) -> Result<u64, StoreError> {
        match self {
            // Nothing outlives the process.
            Self::Memory(_) => Ok(0),
            Self::Embedded(EmbeddedPools { writer: pool, .. }) => Ok(sqlx::query(
                "UPDATE token_sets SET ends_unless_seen = MIN(expires_at, ?)
                 WHERE ends_unless_seen IS NULL",
            )
            .bind(end)
            .execute(pool)
            .await?
            .rows_affected()),
            Self::Redis(pool) => {
                let adopted: i64 = pool
                    .eval(
                        ADOPT_UNMARKED_TOKENS,
                        vec![REDIS_INDEX.to_owned(), REDIS_UNSEEN.to_owned()],
                        vec![end.to_string()],
                    )
                    .await?;
                Ok(adopted.max(0) as u64)
            }
        }
    }

    /// Signed-in sessions whose tokens are held (across replicas when the store is shared).
    pub async fn count_token_sets(&self) -> Result<u64, StoreError> {
        match self {
            Self::Memory(map) => {
                let map = map.lock().expect("token map lock");
                Ok(map.values().filter(|held| held.live()).count() as u64)
            }
            Self::Embedded(EmbeddedPools { readers: pool, .. }) => {
                let count: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM token_sets WHERE expires_at > unixepoch()",
                )
                .fetch_one(pool)
                .await?;
                Ok(count.max(0) as u64)
            }
            Self::Redis(pool) => {
                let count: i64 = pool
                    .eval(
                        COUNT_TOKENS,
                        vec![REDIS_INDEX.to_owned()],
                        vec![super::now().to_string()],
                    )
                    .await?;
                Ok(count.max(0) as u64)
            }
        }
    }

    /// Readiness: the store answers a trivial request.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Self::Memory(_) => Ok(()),
            Self::Embedded(EmbeddedPools { readers: pool, .. }) => {
                sqlx::query("SELECT 1").execute(pool).await?;
                Ok(())
            }
            Self::Redis(pool) => {
                let _: String = pool.ping(None).await?;
                Ok(())
            }
        }
    }

    /// Tries to take the cross-replica refresh lock for `id` for `lease`. Backends used by a single
    /// process have nothing to coordinate, so they always grant it (the in-process lock does the work).
    pub async fn try_lock(
        &self,
        id: &str,
        holder: &str,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        self.set_if_absent(&format!("{REDIS_LOCKS}{id}"), holder, lease)
            .await
    }

    /// Claims `key` for `ttl`: `true` for the first claim only, across every replica. Backends
    /// used by a single process grant every claim: there the session saves take turns and tell a
    /// second taker themselves (`merged::spent_elsewhere`).
    pub async fn claim_once(&self, key: &str, ttl: Duration) -> Result<bool, StoreError> {
        self.set_if_absent(&format!("{REDIS_CLAIMED}{key}"), "1", ttl)
            .await
    }

    /// Sets `key` to `value` for `ttl` unless it is set (`SET NX PX`, one atomic command): `true`
    /// when this call set it. Single-process backends have nothing to share and always answer
    /// `true` (see the callers for what takes their place).
    async fn set_if_absent(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        match self {
            Self::Memory(_) | Self::Embedded(_) => Ok(true),
            Self::Redis(pool) => {
                let reply: Option<String> = pool
                    .set(
                        key,
                        value,
                        Some(Expiration::PX(ttl.as_millis() as i64)),
                        Some(SetOptions::NX),
                        false,
                    )
                    .await?;
                Ok(reply.is_some())
            }
        }
    }

    /// Extends `holder`'s lease on the refresh lock; `false` when another replica holds it.
    pub async fn extend_lock(
        &self,
        id: &str,
        holder: &str,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        match self {
            Self::Memory(_) | Self::Embedded(_) => Ok(true),
            Self::Redis(pool) => {
                let extended: i64 = pool
                    .eval(
                        EXTEND_LOCK,
                        vec![format!("{REDIS_LOCKS}{id}")],
                        vec![holder.to_owned(), lease.as_millis().to_string()],
                    )
                    .await?;
                Ok(extended == 1)
            }
        }
    }

    pub async fn unlock(&self, id: &str, holder: &str) -> Result<(), StoreError> {
        if let Self::Redis(pool) = self {
            let _: i64 = pool
                .eval(
                    RELEASE_LOCK,
                    vec![format!("{REDIS_LOCKS}{id}")],
                    vec![holder.to_owned()],
                )
                .await?;
        }
        Ok(())
    }
}

/// The keys and arguments both token-writing scripts take: the set and the index; the sealed
/// value, its TTL, its expiry as the index score, the id, and now (index entries scored before
/// it are pruned).
fn redis_token_write(id: &str, sealed: String, ttl: Duration) -> (Vec<String>, Vec<String>) {
    let ttl = ttl.as_secs().max(1);
    let now = super::now();
    (
        vec![format!("{REDIS_TOKENS}{id}"), REDIS_INDEX.to_owned()],
        vec![
            sealed,
            ttl.to_string(),
            (now + ttl as i64).to_string(),
            id.to_owned(),
            now.to_string(),
        ],
    )
}

fn ensure_dir(path: &Path) -> Result<(), StoreError> {
    super::create_private_dir(path).map_err(|source| StoreError::DataDir {
        path: path.display().to_string(),
        source,
    })
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Memory(_) => "Backend::Memory",
            Self::Embedded(_) => "Backend::Embedded",
            Self::Redis(_) => "Backend::Redis",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With a busy timeout of a millisecond, any two of the dashboard's own connections writing
    /// at once would fail one of them ("database is locked"): every write of a burst, token sets
    /// and session records alike, still lands, and each is read back through the readers.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_writes_lands_with_a_busy_timeout_of_one_millisecond() {
        let dir = std::env::temp_dir().join(format!("keystone-writer-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // A slow disk may queue the burst's writes for long: only SQLite's lock is hurried.
        let pools = EmbeddedPools::open(
            &dir.join("sessions.sqlite3"),
            Duration::from_millis(1),
            Duration::from_secs(120),
        )
        .await
        .unwrap();
        let records = pools
            .session_records(Duration::from_secs(3600))
            .await
            .unwrap();
        let backend = Backend::Embedded(pools.clone());
        let ttl = Duration::from_secs(60);
        let mut writes = tokio::task::JoinSet::new();
        for n in 0..400 {
            let (backend, records) = (backend.clone(), records.clone());
            writes.spawn(async move {
                let id = format!("session-{n}");
                backend
                    .save_tokens(&id, "first".into(), ttl, i64::MAX)
                    .await?;
                let fenced = backend
                    .update_tokens_fenced(&id, "first", "second".into(), ttl)
                    .await?;
                assert_eq!(fenced, FencedSave::Stored);
                assert_eq!(backend.load_tokens(&id).await?.as_deref(), Some("second"));
                let mut record = Record {
                    id: Id::default(),
                    data: Default::default(),
                    expiry_date: time::OffsetDateTime::now_utc() + time::Duration::minutes(5),
                };
                records.create(&mut record).await?;
                record.data.insert("n".into(), n.into());
                records.save(&record).await?;
                let loaded = records.load(&record.id).await?;
                assert_eq!(loaded.map(|record| record.data), Some(record.data));
                if n % 2 == 0 {
                    backend.delete_tokens(&id).await?;
                    records.delete(&record.id).await?;
                }
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            });
        }
        let failed: Vec<String> = writes
            .join_all()
            .await
            .into_iter()
            .filter_map(|result| result.err().map(|error| error.to_string()))
            .collect();
        assert!(
            failed.is_empty(),
            "{} of 400 bursts failed: {:?}",
            failed.len(),
            failed.first()
        );
        assert_eq!(backend.count_token_sets().await.unwrap(), 200);
        let refused = sqlx::query("DELETE FROM token_sets")
            .execute(&pools.readers)
            .await
            .expect_err("a reader refuses to write");
        let code = refused.as_database_error().and_then(|error| error.code());
        assert_eq!(code.as_deref(), Some("8"), "SQLITE_READONLY: {refused}");
        // Reads never queue behind the writer: they answer while it is held.
        let _writing = pools.writer.acquire().await.unwrap();
        let reads = async {
            assert!(backend.load_tokens("session-1").await.unwrap().is_some());
            assert!(records.load(&Id::default()).await.unwrap().is_none());
        };
        tokio::time::timeout(Duration::from_secs(5), reads)
            .await
            .expect("reads answer while the writer is held");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A data folder written before sessions were ended unseen opens: its table gains the column,
    /// its sets stay readable (and are not swept: they have no end recorded), and new sets are
    /// swept at theirs.
    #[tokio::test]
    async fn a_store_from_before_the_unseen_sweep_opens_and_keeps_its_sets() {
        let dir = std::env::temp_dir().join(format!("keystone-upgrade-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("sessions.sqlite3");
        let old = SqlitePool::connect_with(
            SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true),
        )
        .await
        .unwrap();
        sqlx::query(
            "CREATE TABLE token_sets (id TEXT PRIMARY KEY NOT NULL, sealed TEXT NOT NULL,
               expires_at INTEGER NOT NULL)",
        )
        .execute(&old)
        .await
        .unwrap();
        sqlx::query("INSERT INTO token_sets VALUES ('old', 'sealed-old', unixepoch() + 60)")
            .execute(&old)
            .await
            .unwrap();
        old.close().await;

        let patience = Duration::from_secs(5);
        for _ in 0..2 {
            // Twice: the second opening finds the column already there.
            let backend = Backend::Embedded(
                EmbeddedPools::open(&path, patience, patience)
                    .await
                    .unwrap(),
            );
            assert_eq!(
                backend.load_tokens("old").await.unwrap().as_deref(),
                Some("sealed-old")
            );
        }
        let backend = Backend::Embedded(
            EmbeddedPools::open(&path, patience, patience)
                .await
                .unwrap(),
        );
        let now = crate::server::session::now();
        backend
            .save_tokens("new", "sealed-new".into(), Duration::from_secs(60), now - 1)
            .await
            .unwrap();
        let claim = || backend.claim_unseen_tokens(now, 10, now + 60);
        assert_eq!(
            claim().await.unwrap(),
            vec![("new".to_owned(), "sealed-new".to_owned())]
        );
        // The old set has no end until adopted, and then its expiry if that is sooner.
        assert_eq!(claim().await.unwrap(), vec![]);
        assert_eq!(backend.adopt_unmarked_tokens(now + 3_600).await.unwrap(), 1);
        assert_eq!(claim().await.unwrap(), vec![]);
        let mut claimed = backend
            .claim_unseen_tokens(now + 61, 10, now + 120)
            .await
            .unwrap();
        claimed.sort();
        assert_eq!(
            claimed,
            vec![
                ("new".to_owned(), "sealed-new".to_owned()),
                ("old".to_owned(), "sealed-old".to_owned())
            ],
            "the old set ends at its expiry, a minute on"
        );
        assert_eq!(backend.adopt_unmarked_tokens(now).await.unwrap(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// fred connects to a `rediss://` URL in plain text, with only a log line, unless a TLS feature
    /// is compiled in: production mode's `rediss://` check would then approve a clear-text link.
    #[test]
    fn a_rediss_url_means_tls() {
        let config = fred::types::config::Config::from_url("rediss://cache.example:6380").unwrap();
        assert!(config.tls.is_some());
    }
}
