//! Session records stored under a hash of their id. The store never holds the value of anyone's
//! cookie, so a copy of Redis or of the SQLite file (a backup, a dump, a replica) opens no
//! session; riding one would mean inverting SHA-256 on 128 random bits.

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tower_sessions::{
    session::{Id, Record},
    session_store::{Result, SessionStore},
};

/// Wraps any tower-sessions store; the layer sees the browser's id, the store only its hash.
#[derive(Clone, Debug)]
pub struct HashedIds<S>(pub S);

/// SHA-256 of the id, truncated to an id's 128 bits. No salt or key is needed: the id itself is
/// 128 random bits, so there is no dictionary to try.
fn stored_id(id: &Id) -> Id {
    let digest = Sha256::digest(id.0.to_le_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    Id(i128::from_le_bytes(first))
}

fn stored(record: &Record) -> Record {
    Record {
        id: stored_id(&record.id),
        ..record.clone()
    }
}

#[async_trait]
impl<S: SessionStore> SessionStore for HashedIds<S> {
    async fn create(&self, record: &mut Record) -> Result<()> {
        loop {
            let mut hashed = stored(record);
            self.0.create(&mut hashed).await?;
            if hashed.id == stored_id(&record.id) {
                return Ok(());
            }
            // The inner store met a collision and chose another id, which cannot be mapped back to
            // one the browser could hold: drop it and start over with a new browser-side id.
            self.0.delete(&hashed.id).await?;
            record.id = Id::default();
        }
    }

    /// Only ever updates: a request that was in flight while its session was signed out should not
    /// write the record back (the Redis store already sets with `XX`; SQLite would upsert). The
    /// check and the write are two steps, so this narrows the window rather than closing it; the
    /// closing defence is the gate, which refuses a session whose token set is gone.
    ///
    /// When the sign-out lands between the two steps, Redis refuses the `XX` write with a nil
    /// reply that the Redis store fails to read as a bool (tower-sessions-stores#19), and the
    /// request would answer 500. A failed save of a record that is gone kept nothing, which is
    /// what an update-only save of a signed-out session should do: it is not an error.
    async fn save(&self, record: &Record) -> Result<()> {
        let hashed = stored(record);
        if self.0.load(&hashed.id).await?.is_none() {
            return Ok(());
        }
        let Err(error) = self.0.save(&hashed).await else {
            return Ok(());
        };
        match self.0.load(&hashed.id).await {
            Ok(None) => {
                // Logged: a store that loses records while its writes fail (Redis evicting under
                // memory pressure, a failover) shows here too, as members signed out.
                tracing::info!(%error, "a session record was gone when its save failed: nothing saved");
                Ok(())
            }
            // Still there, or the store cannot say: the save's own error is the one to report.
            _ => Err(error),
        }
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        Ok(self
            .0
            .load(&stored_id(id))
            .await?
            .map(|record| Record { id: *id, ..record }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.0.delete(&stored_id(id)).await
    }
}

#[cfg(test)]
mod tests {
    use tower_sessions::MemoryStore;

    use super::*;

    fn record() -> Record {
        Record {
            id: Id::default(),
            data: Default::default(),
            expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        }
    }

    #[tokio::test]
    async fn records_are_kept_under_the_hash_and_found_by_the_id() {
        let inner = MemoryStore::default();
        let store = HashedIds(inner.clone());
        let mut record = record();
        store.create(&mut record).await.unwrap();
        assert!(
            inner.load(&record.id).await.unwrap().is_none(),
            "not under the id"
        );
        assert!(inner.load(&stored_id(&record.id)).await.unwrap().is_some());
        assert_eq!(store.load(&record.id).await.unwrap().unwrap().id, record.id);
        store.delete(&record.id).await.unwrap();
        assert!(inner.load(&stored_id(&record.id)).await.unwrap().is_none());
    }

    /// A memory store whose writes always fail, as the Redis store's `SET … XX` does on a key that
    /// is gone. `signed_out_mid_save`: the record is deleted between `HashedIds`' check and its
    /// write. `loads_before_down`: how many loads answer before the store is unreachable.
    #[derive(Clone, Debug, Default)]
    struct FailingSaves {
        inner: MemoryStore,
        signed_out_mid_save: bool,
        loads_before_down: Option<usize>,
        loads: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    }

    fn unreachable(what: &str) -> tower_sessions::session_store::Error {
        tower_sessions::session_store::Error::Backend(what.to_owned())
    }

    #[async_trait]
    impl SessionStore for FailingSaves {
        async fn create(&self, record: &mut Record) -> Result<()> {
            self.inner.create(record).await
        }
        async fn save(&self, record: &Record) -> Result<()> {
            if self.signed_out_mid_save {
                self.inner.delete(&record.id).await?;
            }
            Err(unreachable("the save's error"))
        }
        async fn load(&self, id: &Id) -> Result<Option<Record>> {
            let loaded = self.loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            match self.loads_before_down {
                Some(answered) if loaded >= answered => Err(unreachable("the load's error")),
                _ => self.inner.load(id).await,
            }
        }
        async fn delete(&self, id: &Id) -> Result<()> {
            self.inner.delete(id).await
        }
    }

    /// Saves `record` through `HashedIds` over `inner`, once it was created there.
    async fn save_over(inner: FailingSaves) -> (HashedIds<FailingSaves>, Record, Result<()>) {
        let store = HashedIds(inner);
        let mut record = record();
        store.create(&mut record).await.unwrap();
        let saved = store.save(&record).await;
        (store, record, saved)
    }

    #[tokio::test]
    async fn a_save_refused_because_the_session_ended_meanwhile_is_not_an_error() {
        let (store, record, saved) = save_over(FailingSaves {
            signed_out_mid_save: true,
            ..FailingSaves::default()
        })
        .await;
        saved.unwrap();
        assert!(store.load(&record.id).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_save_that_fails_while_the_record_is_there_is_an_error() {
        let (_, _, saved) = save_over(FailingSaves::default()).await;
        assert!(saved.unwrap_err().to_string().contains("the save's error"));
    }

    #[tokio::test]
    async fn a_failed_save_whose_record_cannot_be_checked_again_reports_the_saves_error() {
        // The check before the write answers; the one after the failed write cannot.
        let (_, _, saved) = save_over(FailingSaves {
            loads_before_down: Some(1),
            ..FailingSaves::default()
        })
        .await;
        let error = saved.unwrap_err();
        assert!(error.to_string().contains("the save's error"), "{error}");
    }

    #[tokio::test]
    async fn a_save_after_the_delete_does_not_bring_the_record_back() {
        let store = HashedIds(MemoryStore::default());
        let mut record = record();
        store.create(&mut record).await.unwrap();
        store.delete(&record.id).await.unwrap();
        store.save(&record).await.unwrap();
        assert!(store.load(&record.id).await.unwrap().is_none());
    }
}
