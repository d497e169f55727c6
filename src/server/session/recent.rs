//! The embedded store's session records, remembered in this process: every request of a
//! signed-in member reads its record, and a read from SQLite is a round trip to the connection's
//! own thread (most of the BFF's time on a plain read, in a profile of the bench's load).
//!
//! Only safe where this process is the store's only writer: the embedded store's data folder is
//! claimed by one process ([`super::DataDirLock`]). Redis, shared by replicas, is never cached: a
//! sign-out on one replica must end the session on all of them at once.
//!
//! Write-through, never write-back: the store is written first and the cache follows, so a crash
//! loses nothing. A read from the store that raced with a write is not remembered (see
//! [`Recent::generation`]).

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex, MutexGuard},
};

use async_trait::async_trait;
use lru::LruCache;
use time::OffsetDateTime;
use tower_sessions::{
    session::{Id, Record},
    session_store::{Result, SessionStore},
};

/// Records remembered at most: the members active at once on one console, with room to spare.
/// Beyond it the least recently used record is read from the store again (a bound on memory,
/// about 8 KB a record, not a correctness matter).
pub const MOST_REMEMBERED: usize = 2_048;

/// Wraps the embedded store; see the module's documentation.
#[derive(Clone)]
pub struct RecentRecords<S> {
    inner: S,
    recent: Arc<Mutex<Recent>>,
}

impl<S> std::fmt::Debug for RecentRecords<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecentRecords").finish_non_exhaustive()
    }
}

struct Recent {
    records: LruCache<Id, Record>,
    /// Moves at the start and at the end of every write. A read from the store is remembered
    /// only if no write started or ended while it was in flight: else it may hold what the write
    /// replaced, and would be served after the write had landed.
    generation: u64,
}

impl Recent {
    fn live(&mut self, id: &Id) -> Option<Record> {
        let record = self.records.get(id)?;
        if record.expiry_date > OffsetDateTime::now_utc() {
            return Some(record.clone());
        }
        // Expired: the store forgets it by itself; so does this.
        self.records.pop(id);
        None
    }
}

impl<S> RecentRecords<S> {
    pub fn new(inner: S, capacity: NonZeroUsize) -> Self {
        Self {
            inner,
            recent: Arc::new(Mutex::new(Recent {
                records: LruCache::new(capacity),
                generation: 0,
            })),
        }
    }

    fn recent(&self) -> MutexGuard<'_, Recent> {
        // A panic while the lock was held leaves nothing half-done worth refusing service for.
        self.recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Before a write of `id`: forgets it, and voids reads in flight.
    fn write_starts(&self, id: &Id) -> u64 {
        let mut recent = self.recent();
        recent.records.pop(id);
        recent.generation += 1;
        recent.generation
    }

    /// After a write of `id` that started at `started`: remembers what was stored if no other
    /// write came in between (whose order against this one in the store is unknown), else forgets
    /// the record, so that the next read takes it from the store. `stored` is `None` when nothing
    /// is known to be stored (a delete, or a write that failed).
    fn write_ends(&self, id: &Id, started: u64, stored: Option<&Record>) {
        let mut recent = self.recent();
        match stored {
            Some(record) if recent.generation == started => {
                recent.records.put(*id, record.clone());
            }
            _ => {
                recent.records.pop(id);
            }
        }
        recent.generation += 1;
    }
}

#[async_trait]
impl<S: SessionStore> SessionStore for RecentRecords<S> {
    async fn create(&self, record: &mut Record) -> Result<()> {
        let started = self.write_starts(&record.id);
        let created = self.inner.create(record).await;
        // The inner store may have chosen another id (a collision): remember under the final one.
        self.write_ends(
            &record.id,
            started,
            created.as_ref().ok().map(|()| &*record),
        );
        created
    }

    async fn save(&self, record: &Record) -> Result<()> {
        let started = self.write_starts(&record.id);
        let saved = self.inner.save(record).await;
        self.write_ends(&record.id, started, saved.as_ref().ok().map(|()| record));
        saved
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let read_from = {
            let mut recent = self.recent();
            if let Some(record) = recent.live(id) {
                return Ok(Some(record));
            }
            recent.generation
        };
        let loaded = self.inner.load(id).await?;
        if let Some(record) = &loaded {
            let mut recent = self.recent();
            if recent.generation == read_from {
                recent.records.put(*id, record.clone());
            }
        }
        Ok(loaded)
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        let started = self.write_starts(id);
        let deleted = self.inner.delete(id).await;
        self.write_ends(id, started, None);
        deleted
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::sync::{Notify, Semaphore};
    use tower_sessions::MemoryStore;

    use super::*;

    /// A store that counts its reads and can hold a read after it has read (to race it with a
    /// write).
    #[derive(Clone, Debug, Default)]
    struct Watched {
        store: MemoryStore,
        reads: Arc<AtomicUsize>,
        /// When set, a read waits here after reading, before it returns.
        hold: Option<(Arc<Notify>, Arc<Semaphore>)>,
    }

    #[async_trait]
    impl SessionStore for Watched {
        async fn create(&self, record: &mut Record) -> Result<()> {
            self.store.create(record).await
        }
        async fn save(&self, record: &Record) -> Result<()> {
            self.store.save(record).await
        }
        async fn load(&self, id: &Id) -> Result<Option<Record>> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            let loaded = self.store.load(id).await;
            if let Some((read, release)) = &self.hold {
                read.notify_one();
                release.acquire().await.expect("open").forget();
            }
            loaded
        }
        async fn delete(&self, id: &Id) -> Result<()> {
            self.store.delete(id).await
        }
    }

    fn record(value: &str) -> Record {
        Record {
            id: Id::default(),
            data: [("member".to_owned(), serde_json::json!(value))].into(),
            expiry_date: OffsetDateTime::now_utc() + time::Duration::hours(1),
        }
    }

    fn cache(inner: &Watched, capacity: usize) -> RecentRecords<Watched> {
        RecentRecords::new(inner.clone(), NonZeroUsize::new(capacity).unwrap())
    }

    #[tokio::test]
    async fn a_record_written_here_is_read_without_the_store_until_it_is_deleted() {
        let inner = Watched::default();
        let store = cache(&inner, 8);
        let mut created = record("ada");
        store.create(&mut created).await.unwrap();
        assert_eq!(
            store.load(&created.id).await.unwrap(),
            Some(created.clone())
        );
        let mut saved = created.clone();
        saved
            .data
            .insert("environment".into(), serde_json::json!("staging"));
        store.save(&saved).await.unwrap();
        assert_eq!(store.load(&saved.id).await.unwrap(), Some(saved.clone()));
        assert_eq!(
            inner.reads.load(Ordering::SeqCst),
            0,
            "both reads remembered"
        );

        store.delete(&saved.id).await.unwrap();
        assert_eq!(
            store.load(&saved.id).await.unwrap(),
            None,
            "a delete forgets"
        );
        assert_eq!(inner.reads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_record_read_from_the_store_is_remembered_and_the_least_recent_goes_first() {
        let inner = Watched::default();
        let (mut first, mut second) = (record("ada"), record("grace"));
        inner.store.create(&mut first).await.unwrap();
        inner.store.create(&mut second).await.unwrap();
        let store = cache(&inner, 1);
        store.load(&first.id).await.unwrap();
        store.load(&first.id).await.unwrap();
        assert_eq!(
            inner.reads.load(Ordering::SeqCst),
            1,
            "read once, then remembered"
        );
        store.load(&second.id).await.unwrap();
        assert_eq!(store.load(&first.id).await.unwrap(), Some(first));
        assert_eq!(
            inner.reads.load(Ordering::SeqCst),
            3,
            "the bound pushed the first out"
        );
    }

    #[tokio::test]
    async fn an_expired_record_is_not_served_from_memory() {
        let inner = Watched::default();
        let store = cache(&inner, 8);
        let mut expiring = record("ada");
        expiring.expiry_date = OffsetDateTime::now_utc() + time::Duration::milliseconds(50);
        store.create(&mut expiring).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(80)).await;
        assert_eq!(store.load(&expiring.id).await.unwrap(), None);
    }

    /// The race the generation closes: a read takes the old record from the store, a write lands,
    /// then the read returns. Remembering what that read found would serve the old record (say,
    /// a member signed out, or the environment before a switch) until it was pushed out.
    #[tokio::test]
    async fn a_read_that_raced_with_a_write_is_not_remembered() {
        let (read, release) = (Arc::new(Notify::new()), Arc::new(Semaphore::new(0)));
        let inner = Watched {
            hold: Some((read.clone(), release.clone())),
            ..Watched::default()
        };
        let mut old = record("before");
        inner.store.create(&mut old).await.unwrap();
        let store = cache(&inner, 8);

        let racing = tokio::spawn({
            let (store, id) = (store.clone(), old.id);
            async move { store.load(&id).await.unwrap() }
        });
        read.notified().await;
        let mut new = old.clone();
        new.data.insert("member".into(), serde_json::json!("after"));
        store.save(&new).await.unwrap();
        release.add_permits(1);
        assert_eq!(
            racing.await.unwrap(),
            Some(old),
            "the racing read saw the old record"
        );

        // Reads after the write see it, whether from memory or from the store.
        release.add_permits(8);
        assert_eq!(store.load(&new.id).await.unwrap(), Some(new));
    }
}
