//! A request writes back only what it changed in its session record.
//!
//! tower-sessions saves the whole record a request holds: the values it loaded plus its own
//! changes. When two requests of one session are in flight at once, the later save undoes the
//! earlier one's change: a slow request that marked the member "last seen" would switch the
//! environment back to the one it loaded, and a callback would write back a pending login another
//! tab's callback had just spent. So each request remembers the record as it loaded it, and its
//! save applies to the record as stored now only the values that differ from that.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use axum::{extract::Request, middleware::Next, response::Response};
use serde_json::{Map, Value};
use tower_sessions::{
    session::{Id, Record},
    session_store::{Result, SessionStore},
};

type Data = HashMap<String, Value>;

/// What this request knows of its record: the values it last loaded or wrote, and, once it gave
/// the session a new id (a sign-in), the old record as stored just before it was deleted.
struct Held {
    id: Id,
    data: Data,
    /// `Some(None)`: the old record was already gone (another request had replaced or ended it).
    cycled_from: Option<Option<Data>>,
}

type RequestRecord = Arc<Mutex<Option<Held>>>;

tokio::task_local! {
    static REQUEST_RECORD: RequestRecord;
}

/// Gives each request a place for the record it loads. Goes outside the session layer, which loads
/// the record (lazily, on the first read) and saves it (after the handler) inside this scope. A
/// store call outside it (a task the request spawned) finds none and is passed through unmerged,
/// as tower-sessions would do it.
pub async fn hold_request_record(request: Request, next: Next) -> Response {
    REQUEST_RECORD
        .scope(RequestRecord::default(), next.run(request))
        .await
}

fn with_held<T>(action: impl FnOnce(&mut Option<Held>) -> T) -> Option<T> {
    REQUEST_RECORD
        .try_with(|held| action(&mut held.lock().unwrap_or_else(|poison| poison.into_inner())))
        .ok()
}

/// The values this request holds for the record `id`, when it loaded or wrote it.
fn held_data(id: &Id) -> Option<Data> {
    with_held(|held| {
        held.as_ref()
            .filter(|held| held.id == *id)
            .map(|held| held.data.clone())
    })
    .flatten()
}

fn hold(id: Id, data: &Data) {
    with_held(|held| {
        *held = Some(Held {
            id,
            data: data.clone(),
            cycled_from: None,
        })
    });
}

/// Wraps the session store so that saves merge (see the module's comment). `entry_merged` names
/// the keys whose value is a map of independent entries (the pending logins, one per tab): their
/// entries are merged one by one, so two requests that each spent their own entry both stay spent.
/// Every other value is replaced whole: mixing the fields of two environments would describe
/// neither.
#[derive(Clone, Debug)]
pub struct ChangesOnly<S> {
    store: S,
    entry_merged: &'static [&'static str],
    /// Two saves of one record in this process take turns between reading what is stored and
    /// writing the merge. Striped by id: sign-ins of different sessions do not queue for one
    /// lock. Replicas on Redis do not share these; between them the window is one round trip long
    /// instead of a whole request.
    turns: Arc<[tokio::sync::Mutex<()>]>,
}

const TURN_STRIPES: usize = 64;

impl<S> ChangesOnly<S> {
    pub fn new(store: S, entry_merged: &'static [&'static str]) -> Self {
        Self {
            store,
            entry_merged,
            turns: (0..TURN_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        }
    }

    fn turn(&self, id: &Id) -> &tokio::sync::Mutex<()> {
        &self.turns[id.0.rem_euclid(TURN_STRIPES as i128) as usize]
    }
}

#[async_trait]
impl<S: SessionStore> SessionStore for ChangesOnly<S> {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // A new id for a record this request loaded (`Session::cycle_id` at sign-in): what the
        // request changed goes onto the old record as it stood when deleted, or onto nothing if
        // another request had already replaced it, so that entries this request only carried
        // along (another tab's login, spent by its own callback since) are not revived.
        let cycled = with_held(|held| {
            held.as_mut()
                .and_then(|held| Some((held.data.clone(), held.cycled_from.take()?)))
        })
        .flatten();
        if let Some((loaded, stored)) = cycled {
            record.data = merge(
                &loaded,
                &record.data,
                &stored.unwrap_or_default(),
                self.entry_merged,
            );
        }
        self.store.create(record).await?;
        hold(record.id, &record.data);
        Ok(())
    }

    async fn save(&self, record: &Record) -> Result<()> {
        let Some(loaded) = held_data(&record.id) else {
            return self.store.save(record).await;
        };
        let _turn = self.turn(&record.id).lock().await;
        let Some(stored) = self.store.load(&record.id).await? else {
            // Ended since this request loaded it (signed out, timed out, replaced at a sign-in):
            // writing it would bring it back.
            return Ok(());
        };
        let merged = Record {
            id: record.id,
            data: merge(&loaded, &record.data, &stored.data, self.entry_merged),
            expiry_date: record.expiry_date,
        };
        self.store.save(&merged).await?;
        // The next save of this request (an early save, then the session layer's) diffs against
        // what the request itself held, not the merge: the merge's other values are not its own.
        hold(record.id, &record.data);
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let record = self.store.load(id).await?;
        if let Some(record) = &record {
            hold(record.id, &record.data);
        }
        Ok(record)
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        if held_data(id).is_none() {
            return self.store.delete(id).await;
        }
        let _turn = self.turn(id).lock().await;
        let stored = self.store.load(id).await?.map(|record| record.data);
        self.store.delete(id).await?;
        with_held(|held| {
            if let Some(held) = held.as_mut().filter(|held| held.id == *id) {
                held.cycled_from = Some(stored);
            }
        });
        Ok(())
    }
}

/// `stored` with the changes from `loaded` to `ours` applied.
fn merge(loaded: &Data, ours: &Data, stored: &Data, entry_merged: &[&str]) -> Data {
    let mut merged = stored.clone();
    let keys: BTreeSet<&String> = loaded.keys().chain(ours.keys()).collect();
    for key in keys {
        let (before, after) = (loaded.get(key), ours.get(key));
        if before == after {
            continue;
        }
        match after {
            Some(Value::Object(after)) if entry_merged.contains(&key.as_str()) => {
                let empty = Map::new();
                let before = match before {
                    Some(Value::Object(before)) => before,
                    _ => &empty,
                };
                let mut entries = match merged.remove(key) {
                    Some(Value::Object(stored)) => stored,
                    _ => Map::new(),
                };
                apply_entries(before, after, &mut entries);
                merged.insert(key.clone(), Value::Object(entries));
            }
            Some(value) => {
                merged.insert(key.clone(), value.clone());
            }
            None => {
                merged.remove(key);
            }
        }
    }
    merged
}

fn apply_entries(
    before: &Map<String, Value>,
    after: &Map<String, Value>,
    stored: &mut Map<String, Value>,
) {
    let names: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for name in names {
        match (before.get(name), after.get(name)) {
            (before, Some(value)) if before != Some(value) => {
                stored.insert(name.clone(), value.clone());
            }
            (Some(_), None) => {
                stored.remove(name);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use tower_sessions::{MemoryStore, Session};

    use super::*;

    const PENDING: &str = "pending";

    fn store() -> Arc<ChangesOnly<MemoryStore>> {
        Arc::new(ChangesOnly::new(MemoryStore::default(), &[PENDING]))
    }

    /// One request's view of the session `id`: each step runs inside that request's scope.
    struct InFlight {
        session: Session,
        record: RequestRecord,
    }

    impl InFlight {
        fn new(store: &Arc<ChangesOnly<MemoryStore>>, id: Id) -> Self {
            Self {
                session: Session::new(Some(id), store.clone(), None),
                record: RequestRecord::default(),
            }
        }

        async fn step<T>(&self, step: impl std::future::Future<Output = T>) -> T {
            REQUEST_RECORD.scope(self.record.clone(), step).await
        }
    }

    async fn seeded(store: &Arc<ChangesOnly<MemoryStore>>, data: Value) -> Id {
        let mut record = Record {
            id: Id::default(),
            data: serde_json::from_value(data).unwrap(),
            expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        };
        store.store.create(&mut record).await.unwrap();
        record.id
    }

    async fn stored(store: &Arc<ChangesOnly<MemoryStore>>, id: Id) -> Option<Value> {
        let record = store.store.load(&id).await.unwrap()?;
        Some(serde_json::to_value(record.data).unwrap())
    }

    #[tokio::test]
    async fn a_slow_request_that_marks_the_member_seen_keeps_a_switch_made_meanwhile() {
        let store = store();
        let id = seeded(
            &store,
            json!({ "member": { "seen": 1 }, "environment": "development" }),
        )
        .await;
        let (slow, switch) = (InFlight::new(&store, id), InFlight::new(&store, id));
        slow.step(slow.session.insert("member", json!({ "seen": 2 })))
            .await
            .unwrap();
        switch
            .step(async {
                switch.session.insert("environment", "staging").await?;
                switch.session.save().await
            })
            .await
            .unwrap();
        slow.step(slow.session.save()).await.unwrap();
        assert_eq!(
            stored(&store, id).await.unwrap(),
            json!({ "member": { "seen": 2 }, "environment": "staging" })
        );
    }

    #[tokio::test]
    async fn two_callbacks_at_once_leave_both_logins_spent() {
        let store = store();
        let id = seeded(
            &store,
            json!({ PENDING: { "a": 1, "b": 2 }, "environment": "development" }),
        )
        .await;
        let (first, second) = (InFlight::new(&store, id), InFlight::new(&store, id));
        // Each callback takes its own login out and saves at once, then signs in (a new id).
        for (callback, state) in [(&first, "a"), (&second, "b")] {
            callback
                .step(async {
                    let mut pending: Map<String, Value> =
                        callback.session.get(PENDING).await?.unwrap();
                    pending.remove(state);
                    callback.session.insert(PENDING, pending).await?;
                    callback.session.save().await
                })
                .await
                .unwrap();
        }
        assert_eq!(stored(&store, id).await.unwrap()[PENDING], json!({}));
        for (callback, member) in [(&first, "ada"), (&second, "grace")] {
            callback
                .step(async {
                    callback.session.cycle_id().await?;
                    callback.session.remove_value("environment").await?;
                    callback.session.insert("member", member).await?;
                    callback.session.save().await
                })
                .await
                .unwrap();
        }
        assert_eq!(stored(&store, id).await, None, "the old id is gone");
        // The first found the old record with both logins spent; the second found it gone and
        // keeps only what it wrote itself.
        let first_new = stored(&store, first.session.id().unwrap()).await.unwrap();
        assert_eq!(first_new, json!({ PENDING: {}, "member": "ada" }));
        let second_new = stored(&store, second.session.id().unwrap()).await.unwrap();
        assert_eq!(second_new, json!({ "member": "grace" }));
    }

    #[tokio::test]
    async fn a_save_after_the_record_ended_does_not_bring_it_back() {
        let store = store();
        let id = seeded(&store, json!({ "member": { "seen": 1 } })).await;
        let (slow, sign_out) = (InFlight::new(&store, id), InFlight::new(&store, id));
        slow.step(slow.session.insert("member", json!({ "seen": 2 })))
            .await
            .unwrap();
        sign_out.step(sign_out.session.flush()).await.unwrap();
        slow.step(slow.session.save()).await.unwrap();
        assert_eq!(stored(&store, id).await, None);
    }

    #[tokio::test]
    async fn outside_a_request_a_save_writes_the_record_whole() {
        let store = store();
        let id = seeded(&store, json!({ "a": 1, "b": 1 })).await;
        let session = Session::new(Some(id), store.clone(), None);
        session.insert("a", 2).await.unwrap();
        store
            .store
            .save(&Record {
                id,
                data: serde_json::from_value(json!({ "a": 1, "b": 3 })).unwrap(),
                expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
            })
            .await
            .unwrap();
        session.save().await.unwrap();
        assert_eq!(stored(&store, id).await.unwrap(), json!({ "a": 2, "b": 1 }));
    }

    #[test]
    fn entries_of_a_merged_key_are_applied_one_by_one_and_other_values_whole() {
        let data = |value: Value| -> Data { serde_json::from_value(value).unwrap() };
        let merged = merge(
            &data(
                json!({ PENDING: { "a": 1, "b": 1 }, "environment": { "id": 1, "slug": "dev" } }),
            ),
            &data(
                json!({ PENDING: { "b": 1, "c": 1 }, "environment": { "id": 2, "slug": "stg" } }),
            ),
            &data(
                json!({ PENDING: { "a": 1 }, "environment": { "id": 3, "slug": "dev" }, "x": 1 }),
            ),
            &[PENDING],
        );
        assert_eq!(
            serde_json::to_value(merged).unwrap(),
            json!({ PENDING: { "c": 1 }, "environment": { "id": 2, "slug": "stg" }, "x": 1 })
        );
    }
}
