//! The embedded store's session records, remembered in this process: every request of a
//! signed-in member reads its record, and a read from SQLite is a round trip to the connection's
//! own thread (with its wake-ups, a large share of the BFF's time on a plain read in a profile of
//! the bench's load).
//!
//! Only safe where this process is the store's only writer: the embedded store's data folder is
//! claimed by one process ([`super::DataDirLock`]). Redis, shared by replicas, is never cached: a
//! sign-out on one replica must end the session on all of them at once.
//!
//! Write-through, never write-back: the store is written first and the cache follows. A read from
//! the store that raced with a write is not remembered (see [`Recent::generation`]), and a write
//! runs to its end in a task of its own: a request dropped mid-write (the browser went away) must
//! not leave its statement landing in SQLite after the cache stopped listening.

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
pub const MOST_REMEMBERED: NonZeroUsize = NonZeroUsize::new(2_048).expect("not zero");

/// Wraps the embedded store; see the module's documentation.
#[derive(Clone)]
pub struct RecentRecords<S> {
    inner: S,
    recent: Arc<Mutex<Recent>>,
}

// By hand: the records hold what a session holds, and none of it belongs in a log line.
impl<S> std::fmt::Debug for RecentRecords<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecentRecords").finish_non_exhaustive()
    }
}

struct Recent {
    records: LruCache<Id, Record>,
    /// Moves at the end of every write. A read from the store is remembered only if no write
    /// ended while it was in flight: else it may hold what the write replaced, and would be served
    /// after the write had landed. (A read remembered while a write is still in flight is
    /// replaced or forgotten when that write ends.)
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

    /// Before a write of `id`: forgets it; the generation it returns tells, at the write's end,
    /// whether another write ended meanwhile.
    fn write_starts(&self, id: &Id) -> u64 {
        let mut recent = self.recent();
        recent.records.pop(id);
        recent.generation
    }

    /// After a write of `id` that started at `started`: remembers what was stored if no other
    /// write came in between (whose order against this one in the store is unknown), else forgets
    /// the record, so that the next read takes it from the store. `stored` is `None` when nothing
    /// is to be remembered (a delete, a write that failed, a new record).
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

impl<S: SessionStore + Clone> RecentRecords<S> {
    /// Writes `record` (see [`to_the_end`]), then [`Self::write_ends`] in the same task.
    /// `remember`: whether what was written is worth keeping (see `create` below).
    async fn write<F>(
        &self,
        record: Record,
        remember: bool,
        write: impl FnOnce(S, Record) -> F + Send + 'static,
    ) -> Result<Record>
    where
        F: std::future::Future<Output = Result<Record>> + Send + 'static,
    {
        let started = self.write_starts(&record.id);
        let (this, proposed) = (self.clone(), record.id);
        to_the_end(async move {
            let written = write(this.inner.clone(), record).await;
            match &written {
                Ok(record) => {
                    // The inner store may have chosen another id (a collision): the proposed one
                    // is forgotten as well. (Only `create` meets one, and it remembers nothing.)
                    if record.id != proposed {
                        this.write_ends(&proposed, started, None);
                    }
                    this.write_ends(&record.id, started, remember.then_some(record));
                }
                Err(_) => this.write_ends(&proposed, started, None),
            }
            written
        })
        .await
    }
}

/// Runs a write to its end in a task of its own, whether or not the caller still waits: dropping
/// the caller's future cannot stop a statement already handed to SQLite's thread, so the cache
/// must learn of it when it lands, not never.
async fn to_the_end<T: Send + 'static>(
    write: impl std::future::Future<Output = Result<T>> + Send + 'static,
) -> Result<T> {
    tokio::spawn(write)
        .await
        .map_err(|failed| tower_sessions::session_store::Error::Backend(failed.to_string()))?
}

#[async_trait]
impl<S: SessionStore + Clone> SessionStore for RecentRecords<S> {
    /// A new record is not remembered: most are a visitor's way to the sign-in page (a flood of
    /// them would push members' records out); the member's first read after it remembers it.
    async fn create(&self, record: &mut Record) -> Result<()> {
        let created = self
            .write(record.clone(), false, |inner, mut record| async move {
                inner.create(&mut record).await.map(|()| record)
            })
            .await?;
        record.id = created.id;
        Ok(())
    }

    async fn save(&self, record: &Record) -> Result<()> {
        self.write(record.clone(), true, |inner, record| async move {
            inner.save(&record).await.map(|()| record)
        })
        .await
        .map(drop)
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
        let (this, id) = (self.clone(), *id);
        let started = self.write_starts(&id);
        // A sign-out dropped mid-delete is forgotten all the same.
        to_the_end(async move {
            let deleted = this.inner.delete(&id).await;
            this.write_ends(&id, started, None);
            deleted
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use tokio::sync::{Notify, Semaphore};
    use tower_sessions::MemoryStore;

    use super::*;

    /// A store that counts its reads, and whose reads and writes can be held at chosen points to
    /// race them. Its writes run in a task of their own, as sqlx's statements run on the
    /// connection's thread: dropping the caller does not stop them.
    #[derive(Clone, Debug, Default)]
    struct Watched {
        store: MemoryStore,
        reads: Arc<AtomicUsize>,
        /// A read waits here after reading, before it returns.
        hold_reads: Option<(Arc<Notify>, Arc<Semaphore>)>,
        /// A save of the record whose member is this waits here before it writes.
        hold_before_saving: Option<(&'static str, Arc<Semaphore>)>,
        /// A save of the record whose member is this waits here after it wrote.
        hold_after_saving: Option<(&'static str, Arc<Semaphore>)>,
        failing_saves: Arc<AtomicBool>,
    }

    fn member_of(record: &Record) -> &str {
        record.data["member"].as_str().unwrap_or_default()
    }

    async fn pass(gate: &Option<(&'static str, Arc<Semaphore>)>, record: &Record) {
        if let Some((member, gate)) = gate {
            if *member == member_of(record) {
                gate.acquire().await.expect("open").forget();
            }
        }
    }

    #[async_trait]
    impl SessionStore for Watched {
        async fn create(&self, record: &mut Record) -> Result<()> {
            self.store.create(record).await
        }
        async fn save(&self, record: &Record) -> Result<()> {
            if self.failing_saves.load(Ordering::SeqCst) {
                return Err(tower_sessions::session_store::Error::Backend("down".into()));
            }
            let (this, record) = (self.clone(), record.clone());
            tokio::spawn(async move {
                pass(&this.hold_before_saving, &record).await;
                this.store.save(&record).await?;
                pass(&this.hold_after_saving, &record).await;
                Ok(())
            })
            .await
            .expect("save task")
        }
        async fn load(&self, id: &Id) -> Result<Option<Record>> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            let loaded = self.store.load(id).await;
            if let Some((read, release)) = &self.hold_reads {
                read.notify_one();
                release.acquire().await.expect("open").forget();
            }
            loaded
        }
        async fn delete(&self, id: &Id) -> Result<()> {
            self.store.delete(id).await
        }
    }

    fn record(member: &str) -> Record {
        Record {
            id: Id::default(),
            data: [("member".to_owned(), serde_json::json!(member))].into(),
            expiry_date: OffsetDateTime::now_utc() + time::Duration::hours(1),
        }
    }

    fn with_member(record: &Record, member: &str) -> Record {
        let mut changed = record.clone();
        changed
            .data
            .insert("member".into(), serde_json::json!(member));
        changed
    }

    fn cache(inner: &Watched, capacity: usize) -> RecentRecords<Watched> {
        RecentRecords::new(inner.clone(), NonZeroUsize::new(capacity).unwrap())
    }

    fn reads(inner: &Watched) -> usize {
        inner.reads.load(Ordering::SeqCst)
    }

    /// Until the inner store holds what `record` says (a write in a task of its own has landed).
    async fn landed(inner: &Watched, record: &Record) {
        for _ in 0..200 {
            if inner.store.load(&record.id).await.unwrap().as_ref() == Some(record) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        panic!("the write never landed");
    }

    #[tokio::test]
    async fn a_record_read_or_saved_here_is_served_without_the_store_until_it_is_deleted() {
        let inner = Watched::default();
        let store = cache(&inner, 8);
        let mut created = record("ada");
        store.create(&mut created).await.unwrap();
        assert_eq!(
            store.load(&created.id).await.unwrap(),
            Some(created.clone())
        );
        assert_eq!(reads(&inner), 1, "a new record is read once");
        let saved = with_member(&created, "ada in staging");
        store.save(&saved).await.unwrap();
        assert_eq!(store.load(&saved.id).await.unwrap(), Some(saved.clone()));
        assert_eq!(store.load(&saved.id).await.unwrap(), Some(saved.clone()));
        assert_eq!(reads(&inner), 1, "then served from memory, as saved");

        store.delete(&saved.id).await.unwrap();
        assert_eq!(
            store.load(&saved.id).await.unwrap(),
            None,
            "a delete forgets"
        );
        assert_eq!(reads(&inner), 2);
    }

    #[tokio::test]
    async fn the_least_recently_used_record_goes_first() {
        let inner = Watched::default();
        let (mut first, mut second) = (record("ada"), record("grace"));
        inner.store.create(&mut first).await.unwrap();
        inner.store.create(&mut second).await.unwrap();
        let store = cache(&inner, 1);
        store.load(&first.id).await.unwrap();
        store.load(&first.id).await.unwrap();
        assert_eq!(reads(&inner), 1, "read once, then remembered");
        store.load(&second.id).await.unwrap();
        assert_eq!(store.load(&first.id).await.unwrap(), Some(first));
        assert_eq!(reads(&inner), 3, "the bound pushed the first out");
    }

    #[tokio::test]
    async fn an_expired_record_is_not_served_from_memory() {
        let inner = Watched::default();
        let store = cache(&inner, 8);
        let mut expiring = record("ada");
        expiring.expiry_date = OffsetDateTime::now_utc() + time::Duration::milliseconds(50);
        store.save(&expiring).await.unwrap();
        assert_eq!(
            store.load(&expiring.id).await.unwrap(),
            Some(expiring.clone())
        );
        tokio::time::sleep(std::time::Duration::from_millis(80)).await;
        assert_eq!(store.load(&expiring.id).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_save_that_failed_is_not_served() {
        let inner = Watched::default();
        let store = cache(&inner, 8);
        let old = record("before");
        store.save(&old).await.unwrap();
        inner.failing_saves.store(true, Ordering::SeqCst);
        assert!(store.save(&with_member(&old, "after")).await.is_err());
        assert_eq!(
            store.load(&old.id).await.unwrap(),
            Some(old),
            "what the store holds"
        );
    }

    /// The race the generation closes: a read takes the old record from the store, a write lands,
    /// then the read returns. Remembering what that read found would serve the old record (say,
    /// the environment before a switch) until it was pushed out.
    #[tokio::test]
    async fn a_read_that_raced_with_a_write_is_not_remembered() {
        let (read, release) = (Arc::new(Notify::new()), Arc::new(Semaphore::new(0)));
        let inner = Watched {
            hold_reads: Some((read.clone(), release.clone())),
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
        let new = with_member(&old, "after");
        store.save(&new).await.unwrap();
        release.add_permits(1);
        assert_eq!(
            racing.await.unwrap(),
            Some(old),
            "the racing read saw the old record"
        );

        release.add_permits(8);
        assert_eq!(store.load(&new.id).await.unwrap(), Some(new));
    }

    /// Two saves of one record whose ends come in another order than their writes landed: the
    /// first to land must not be remembered over the second.
    #[tokio::test]
    async fn of_two_overlapping_saves_the_one_that_landed_last_is_served() {
        let gate = Arc::new(Semaphore::new(0));
        let inner = Watched {
            hold_after_saving: Some(("first", gate.clone())),
            ..Watched::default()
        };
        let store = cache(&inner, 8);
        let base = record("base");
        let (first, second) = (with_member(&base, "first"), with_member(&base, "second"));
        let slow = tokio::spawn({
            let (store, first) = (store.clone(), first.clone());
            async move { store.save(&first).await }
        });
        landed(&inner, &first).await;
        store.save(&second).await.unwrap();
        gate.add_permits(1);
        slow.await.unwrap().unwrap();
        assert_eq!(
            inner.store.load(&base.id).await.unwrap(),
            Some(second.clone())
        );
        assert_eq!(store.load(&base.id).await.unwrap(), Some(second));
    }

    /// A request dropped mid-save (the browser went away) while its statement still lands: the
    /// record a read took from the store in between must not outlive the write.
    #[tokio::test]
    async fn a_save_whose_caller_went_away_is_still_followed() {
        let gate = Arc::new(Semaphore::new(0));
        let inner = Watched {
            hold_before_saving: Some(("after", gate.clone())),
            ..Watched::default()
        };
        let store = cache(&inner, 8);
        let old = record("before");
        store.save(&old).await.unwrap();
        let new = with_member(&old, "after");
        let dropped =
            tokio::time::timeout(std::time::Duration::from_millis(20), store.save(&new)).await;
        assert!(
            dropped.is_err(),
            "the caller gave up while the write waited"
        );
        assert_eq!(store.load(&old.id).await.unwrap(), Some(old.clone()));
        gate.add_permits(1);
        landed(&inner, &new).await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert_eq!(store.load(&old.id).await.unwrap(), Some(new));
    }
}
