//! A request writes back only what it changed in its session record.
//!
//! tower-sessions saves the whole record a request holds: the values it loaded plus its own
//! changes. When two requests of one session are in flight at once, the later save undoes the
//! earlier one's change: a slow request that marked the member "last seen" would switch the
//! environment back to the one it loaded, and a callback would write back a pending login another
//! tab's callback had just spent. So each request remembers the record as it loaded it, and its
//! save applies to the record as stored now only the values that differ from that. (A value the
//! request removed without having loaded it is no change: it was never there to remove.)
//!
//! Some values a request both chooses and derives from what it read (the environment: switched to
//! by the member, or filled in from a listing). A derived change applies only when no other
//! request changed the value since this one loaded it: a slow page that filled in the environment
//! it started with must not undo a switch made while it ran. A chosen change always applies.
//!
//! The request's memory is a task-local set up around the session layer, which loads the record
//! (on the first read) and saves it (after the handler). A store call made from a task the request
//! spawned (Leptos runs a page's resources in their own tasks) finds none: a record first loaded
//! there is saved whole, as tower-sessions would. Today the gate (`require_member`) or the auth
//! route loads every record in the request's own task; a spawned task only reads it or changes it
//! for the layer's save, which is merged.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use axum::{extract::Request, middleware::Next, response::Response};
use serde_json::{Map, Value};
use tower_sessions::{
    session::{Id, Record},
    session_store::{Error, Result, SessionStore},
};
use tracing::Instrument;

type Data = HashMap<String, Value>;
pub type Entries = Map<String, Value>;

/// What this request knows of its record.
struct Held {
    id: Id,
    /// The values the request last loaded or wrote.
    data: Data,
    /// Set when the request deleted the record (a sign-in giving it a new id, a sign-out): the
    /// record as stored just before, `None` if it was already gone.
    deleted_as_stored: Option<Option<Data>>,
    /// Entries (key, name) the request's last save removed that another request had removed
    /// first, or that went with the record: spent elsewhere, not by this request.
    spent_elsewhere: BTreeSet<(String, String)>,
}

type RequestRecord = Arc<Mutex<Option<Held>>>;

tokio::task_local! {
    static REQUEST_RECORD: RequestRecord;
}

/// Gives each request a place for the record it loads. Goes outside the session layer.
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

fn hold(id: Id, data: &Data, spent_elsewhere: BTreeSet<(String, String)>) {
    with_held(|held| {
        *held = Some(Held {
            id,
            data: data.clone(),
            deleted_as_stored: None,
            spent_elsewhere,
        })
    });
}

/// Whether the entry `name` of `key`, which this request removed, had been removed by another
/// request (or gone with the record) when the request's last save ran: an entry taken once (a
/// login's state) was taken by that other request, not by this one. Saves take turns only within a
/// process: replicas on Redis can both see it stored in the few round trips of their saves.
///
/// Without the request's memory of the record `id` (a save outside the request's scope, say after
/// the layers were reordered) the answer is `true`: a take that cannot be checked is refused, so
/// such a mistake stops every sign-in in the tests instead of quietly allowing replays.
pub fn spent_elsewhere(id: &Id, key: &str, name: &str) -> bool {
    with_held(|held| {
        held.as_ref().filter(|held| held.id == *id).map(|held| {
            held.spent_elsewhere
                .contains(&(key.to_owned(), name.to_owned()))
        })
    })
    .flatten()
    .unwrap_or(true)
}

/// A key whose value is a map of independent entries (the pending logins, one per tab): its
/// entries are merged one by one, so two requests that each spent their own entry both stay
/// spent, then `bound` trims the result (entries merged from other requests could otherwise grow
/// it past its limit). Every other value is replaced whole: mixing the fields of two environments
/// would describe neither.
#[derive(Clone, Copy, Debug)]
pub struct EntryMerged {
    pub key: &'static str,
    pub bound: fn(&mut Entries),
}

/// A value requests derive from what they read unless they set `chosen` beside it (the one place
/// this rule is described; the session's keys point here). A derived change applies only over the
/// value the request loaded: another request's value stands. A chosen change applies whatever is
/// stored, even when it equals what the request loaded (two quick switches, there and back: the
/// second must undo the first). `chosen` marks the request's next save and is never stored; a
/// value derived after that save, in the same request, is derived again.
#[derive(Clone, Copy, Debug)]
pub struct Derived {
    pub key: &'static str,
    pub chosen: &'static str,
}

/// How a save merges the values of a record that are not simply replaced by the request's own.
#[derive(Clone, Copy, Debug)]
pub struct Rules {
    pub entry_merged: &'static [EntryMerged],
    pub derived: &'static [Derived],
}

impl Rules {
    fn is_mark(&self, key: &str) -> bool {
        self.derived.iter().any(|derived| derived.chosen == key)
    }

    /// `data` as the store should hold it: without the marks.
    fn without_marks(&self, data: &Data) -> Data {
        data.iter()
            .filter(|(key, _)| !self.is_mark(key))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    }
}

/// Wraps the session store so that saves merge (see the module's comment).
#[derive(Clone, Debug)]
pub struct ChangesOnly<S> {
    store: S,
    rules: Rules,
    /// Two saves (or deletes) of one record in this process take turns between reading what is
    /// stored and writing. Striped by id: sessions rarely queue behind another's store call.
    /// Replicas on Redis do not share these; between them the window is the few store round trips
    /// of a save instead of a whole request.
    turns: Arc<[Arc<tokio::sync::Mutex<()>>]>,
}

const TURN_STRIPES: usize = 64;

impl<S> ChangesOnly<S> {
    pub fn new(store: S, rules: Rules) -> Self {
        Self {
            store,
            rules,
            turns: (0..TURN_STRIPES)
                .map(|_| Arc::new(tokio::sync::Mutex::new(())))
                .collect(),
        }
    }

    fn turn(&self, id: &Id) -> Arc<tokio::sync::Mutex<()>> {
        self.turns[id.0.rem_euclid(TURN_STRIPES as i128) as usize].clone()
    }
}

/// Runs `step` to its end in a task of its own, holding `turn`: a request dropped mid-save (the
/// browser went away) must not release the turn while its write is still landing, or the next
/// save would merge onto what that write replaces.
async fn in_turn<T: Send + 'static>(
    turn: Arc<tokio::sync::Mutex<()>>,
    step: impl std::future::Future<Output = Result<T>> + Send + 'static,
) -> Result<T> {
    tokio::spawn(
        async move {
            let _turn = turn.lock_owned().await;
            step.await
        }
        .in_current_span(),
    )
    .await
    .map_err(|failed| Error::Backend(failed.to_string()))?
}

#[async_trait]
impl<S: SessionStore + Clone> SessionStore for ChangesOnly<S> {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // A record this request deleted, now given a new id (`Session::cycle_id` at sign-in): it
        // keeps the request's own values, as tower-sessions would (nothing another request stored
        // meanwhile, such as an environment of the organization being left), except for entries
        // of the pending logins (see `carry_live_entries`).
        let deleted = with_held(|held| {
            held.as_mut()
                .and_then(|held| Some((held.data.clone(), held.deleted_as_stored.take()?)))
        })
        .flatten();
        if let Some((loaded, stored)) = deleted {
            carry_live_entries(
                &loaded,
                &mut record.data,
                stored.as_ref(),
                self.rules.entry_merged,
            );
        }
        // The marks stay in the request's session (for its later saves); the store gets a copy
        // without them, and the session's record takes the id the store settled on.
        let mut created = Record {
            id: record.id,
            data: self.rules.without_marks(&record.data),
            expiry_date: record.expiry_date,
        };
        self.store.create(&mut created).await?;
        record.id = created.id;
        hold(record.id, &record.data, BTreeSet::new());
        Ok(())
    }

    async fn save(&self, record: &Record) -> Result<()> {
        let Some(loaded) = held_data(&record.id) else {
            // A record first loaded in a task the request spawned, or saved outside any request:
            // say so where a maintainer looks, as its save can undo a concurrent change.
            tracing::debug!("a session record saved whole: not loaded in its request's scope");
            let whole = Record {
                data: self.rules.without_marks(&record.data),
                ..record.clone()
            };
            return self.store.save(&whole).await;
        };
        let (store, rules, ours) = (self.store.clone(), self.rules, record.clone());
        let removed_meanwhile = in_turn(self.turn(&record.id), async move {
            // Ended since this request loaded it (signed out, timed out, replaced at a sign-in):
            // writing it would bring it back. (`HashedIds` checks this again below: it also
            // guards saves made outside a request.)
            let Some(stored) = store.load(&ours.id).await? else {
                return Ok(removed_entries(&loaded, &ours.data, None, rules));
            };
            let removed_meanwhile = removed_entries(&loaded, &ours.data, Some(&stored.data), rules);
            let merged = Record {
                id: ours.id,
                data: merge(&loaded, &ours.data, &stored.data, rules),
                expiry_date: ours.expiry_date,
            };
            store.save(&merged).await?;
            Ok(removed_meanwhile)
        })
        .await?;
        // The next save of this request (an early save, then the session layer's) diffs against
        // what the request itself held, not the merge: the merge's other values are not its own.
        hold(record.id, &record.data, removed_meanwhile);
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let record = self.store.load(id).await?;
        if let Some(record) = &record {
            hold(record.id, &record.data, BTreeSet::new());
        }
        Ok(record)
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        if held_data(id).is_none() {
            return self.store.delete(id).await;
        }
        let (store, deleted) = (self.store.clone(), *id);
        let stored = in_turn(self.turn(id), async move {
            let stored = store.load(&deleted).await?.map(|record| record.data);
            store.delete(&deleted).await?;
            Ok(stored)
        })
        .await?;
        with_held(|held| {
            if let Some(held) = held.as_mut().filter(|held| held.id == *id) {
                held.deleted_as_stored = Some(stored);
            }
        });
        Ok(())
    }
}

/// `stored` with the changes from `loaded` to `ours` applied.
fn merge(loaded: &Data, ours: &Data, stored: &Data, rules: Rules) -> Data {
    let mut merged = rules.without_marks(stored);
    let keys: BTreeSet<&String> = loaded.keys().chain(ours.keys()).collect();
    for key in keys {
        let (before, after) = (loaded.get(key), ours.get(key));
        let rule = rules.derived.iter().find(|derived| derived.key == key);
        // Marked since the last save the request made (which held the mark already).
        let chosen = rule.is_some_and(|derived| {
            ours.contains_key(derived.chosen) && !loaded.contains_key(derived.chosen)
        });
        if rules.is_mark(key) || (before == after && !chosen) {
            continue;
        }
        if rule.is_some() && !chosen && stored.get(key) != before {
            // Derived, and another request changed the value since: its value stands.
            continue;
        }
        let by_entry = rules.entry_merged.iter().find(|merged| merged.key == key);
        match (after, by_entry) {
            (Some(Value::Object(after)), Some(by_entry)) => {
                let mut entries = match merged.remove(key) {
                    Some(Value::Object(stored)) => stored,
                    _ => Map::new(),
                };
                apply_entries(entries_of(before), after, &mut entries);
                (by_entry.bound)(&mut entries);
                merged.insert(key.clone(), Value::Object(entries));
            }
            (Some(value), _) => {
                merged.insert(key.clone(), value.clone());
            }
            (None, _) => {
                merged.remove(key);
            }
        }
    }
    merged
}

/// The entries of merged keys that `ours` removed from `loaded` and `stored` no longer holds (all
/// it removed when the record is gone).
fn removed_entries(
    loaded: &Data,
    ours: &Data,
    stored: Option<&Data>,
    rules: Rules,
) -> BTreeSet<(String, String)> {
    let mut removed = BTreeSet::new();
    for EntryMerged { key, .. } in rules.entry_merged {
        let (before, after) = (entries_of(loaded.get(*key)), entries_of(ours.get(*key)));
        let still_stored = entries_of(stored.and_then(|stored| stored.get(*key)));
        for name in before.keys() {
            if !after.contains_key(name) && !still_stored.contains_key(name) {
                removed.insert((key.to_string(), name.clone()));
            }
        }
    }
    removed
}

fn entries_of(value: Option<&Value>) -> &Entries {
    static NONE: std::sync::LazyLock<Entries> = std::sync::LazyLock::new(Map::new);
    match value {
        Some(Value::Object(entries)) => entries,
        _ => &NONE,
    }
}

fn apply_entries(before: &Entries, after: &Entries, stored: &mut Entries) {
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

/// The entries of `ours` as a new record should hold them: those it carried unchanged from
/// `loaded` but `stored` no longer holds are dropped (another request spent them; all carried ones
/// when the record was gone), and those `stored` gained meanwhile are added (another tab's login,
/// started while this request ran: the same browser's, and tied to no organization).
fn carry_live_entries(
    loaded: &Data,
    ours: &mut Data,
    stored: Option<&Data>,
    entry_merged: &[EntryMerged],
) {
    for EntryMerged { key, bound } in entry_merged {
        let Some(Value::Object(entries)) = ours.get_mut(*key) else {
            continue;
        };
        let (before, stored) = (
            entries_of(loaded.get(*key)),
            entries_of(stored.and_then(|stored| stored.get(*key))),
        );
        entries.retain(|name, value| before.get(name) != Some(value) || stored.contains_key(name));
        for (name, value) in stored {
            if !before.contains_key(name) && !entries.contains_key(name) {
                entries.insert(name.clone(), value.clone());
            }
        }
        bound(entries);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use tower_sessions::{MemoryStore, Session};

    use super::{testing::RequestScope, *};

    const PENDING: &str = "pending";

    /// Keeps at most three entries: the first three by name.
    fn first_three(entries: &mut Entries) {
        let beyond: Vec<String> = entries.keys().skip(3).cloned().collect();
        for name in beyond {
            entries.remove(&name);
        }
    }

    const CHOSEN: &str = "environment_chosen";

    const RULES: Rules = Rules {
        entry_merged: &[EntryMerged {
            key: PENDING,
            bound: first_three,
        }],
        derived: &[Derived {
            key: "environment",
            chosen: CHOSEN,
        }],
    };

    fn store() -> Arc<ChangesOnly<MemoryStore>> {
        Arc::new(ChangesOnly::new(MemoryStore::default(), RULES))
    }

    /// One request's view of the session `id`: each step runs inside that request's scope.
    struct InFlight {
        session: Session,
        scope: RequestScope,
    }

    impl InFlight {
        fn new(store: &Arc<ChangesOnly<MemoryStore>>, id: Id) -> Self {
            Self {
                session: Session::new(Some(id), store.clone(), None),
                scope: RequestScope::default(),
            }
        }

        async fn step<T>(&self, step: impl std::future::Future<Output = T>) -> T {
            self.scope.run(step).await
        }

        /// Reads the record (its first read loads it, as the gate's does).
        async fn load(&self) {
            self.step(self.session.get::<Value>(PENDING)).await.unwrap();
        }

        /// Sets `key` and saves at once, as a request that changed one value and answered.
        async fn save_with(&self, key: &str, value: Value) {
            self.step(async {
                self.session.insert(key, value).await?;
                self.session.save().await
            })
            .await
            .unwrap();
        }

        /// Chooses `environment` (as a switch does: marked chosen) and saves at once.
        async fn choose(&self, environment: Value) {
            self.step(self.session.insert(CHOSEN, true)).await.unwrap();
            self.save_with("environment", environment).await;
        }
    }

    /// Two requests of the session `id` that have both read the record before either saves.
    async fn both_loaded(store: &Arc<ChangesOnly<MemoryStore>>, id: Id) -> (InFlight, InFlight) {
        let both = (InFlight::new(store, id), InFlight::new(store, id));
        both.0.load().await;
        both.1.load().await;
        both
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
        switch.choose(json!("staging")).await;
        slow.step(slow.session.save()).await.unwrap();
        assert_eq!(
            stored(&store, id).await.unwrap(),
            json!({ "member": { "seen": 2 }, "environment": "staging" })
        );
    }

    /// A slow page that filled in the environment it started with (the record for a kept slug, a
    /// first environment) leaves a switch made meanwhile chosen.
    #[tokio::test]
    async fn a_value_a_slow_request_derived_does_not_undo_a_choice_made_meanwhile() {
        let store = store();
        let id = seeded(&store, json!({ "environment": "development" })).await;
        let (slow, switch) = (InFlight::new(&store, id), InFlight::new(&store, id));
        slow.load().await;
        let filled_in = json!({ "id": 1, "slug": "development" });
        slow.step(slow.session.insert("environment", filled_in))
            .await
            .unwrap();
        switch.choose(json!("staging")).await;
        slow.step(slow.session.save()).await.unwrap();
        assert_eq!(
            stored(&store, id).await.unwrap(),
            json!({ "environment": "staging" }),
            "the switch stands, and its mark is not stored"
        );
    }

    /// Two quick switches from one page, there and back: the second loaded the value it chooses,
    /// and still undoes the first.
    #[tokio::test]
    async fn a_choice_of_the_value_loaded_undoes_a_choice_made_meanwhile() {
        let store = store();
        let id = seeded(&store, json!({ "environment": "development" })).await;
        let (there, back) = both_loaded(&store, id).await;
        there.choose(json!("staging")).await;
        back.choose(json!("development")).await;
        assert_eq!(
            stored(&store, id).await.unwrap(),
            json!({ "environment": "development" })
        );
    }

    /// A derived value applies when nobody changed the value meanwhile, and a choice applies over
    /// a value derived meanwhile.
    #[tokio::test]
    async fn a_choice_applies_over_a_value_derived_meanwhile() {
        let store = store();
        let id = seeded(&store, json!({ "environment": "development" })).await;
        let (switch, page) = both_loaded(&store, id).await;
        let filled_in = json!({ "id": 1, "slug": "development" });
        page.save_with("environment", filled_in.clone()).await;
        assert_eq!(
            stored(&store, id).await.unwrap(),
            json!({ "environment": filled_in })
        );
        switch.choose(json!("staging")).await;
        assert_eq!(
            stored(&store, id).await.unwrap(),
            json!({ "environment": "staging" })
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
        let (first, second) = both_loaded(&store, id).await;
        // Meanwhile a third tab starts a login.
        let third = InFlight::new(&store, id);
        third
            .step(async {
                let mut pending: Map<String, Value> = third.session.get(PENDING).await?.unwrap();
                pending.insert("c".to_owned(), json!(3));
                third.session.insert(PENDING, pending).await?;
                third.session.save().await
            })
            .await
            .unwrap();
        // Each callback takes its own login out and saves at once, then signs in (a new id). Each
        // has taken its own: the other removed another entry.
        for (callback, state) in [(&first, "a"), (&second, "b")] {
            let taken_elsewhere = callback
                .step(async {
                    let mut pending: Map<String, Value> =
                        callback.session.get(PENDING).await?.unwrap();
                    pending.remove(state);
                    callback.session.insert(PENDING, pending).await?;
                    callback.session.save().await?;
                    Ok::<_, tower_sessions::session::Error>(spent_elsewhere(&id, PENDING, state))
                })
                .await
                .unwrap();
            assert!(!taken_elsewhere, "{state} was taken by its own callback");
        }
        assert_eq!(
            stored(&store, id).await.unwrap()[PENDING],
            json!({ "c": 3 })
        );
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
        // The first found the old record with both logins spent and the third tab's started: that
        // one can still finish in the new session. The second found the record gone and keeps
        // none of the logins it only carried along.
        let first_new = stored(&store, first.session.id().unwrap()).await.unwrap();
        assert_eq!(first_new, json!({ PENDING: { "c": 3 }, "member": "ada" }));
        let second_new = stored(&store, second.session.id().unwrap()).await.unwrap();
        assert_eq!(second_new, json!({ PENDING: {}, "member": "grace" }));
    }

    /// A replayed callback racing the first: both loaded the login before either saved. Only the
    /// first save takes it; the second learns it was spent elsewhere. So does a take whose record
    /// ended meanwhile.
    #[tokio::test]
    async fn an_entry_two_requests_take_at_once_is_taken_by_one() {
        let store = store();
        let id = seeded(&store, json!({ PENDING: { "a": 1, "b": 1 } })).await;
        let (first, replay) = both_loaded(&store, id).await;
        let mut taken_elsewhere = Vec::new();
        for callback in [&first, &replay] {
            taken_elsewhere.push(
                callback
                    .step(async {
                        callback
                            .session
                            .insert(PENDING, json!({ "b": 1 }))
                            .await
                            .unwrap();
                        callback.session.save().await.unwrap();
                        let id = callback.session.id().unwrap();
                        (
                            spent_elsewhere(&id, PENDING, "a"),
                            spent_elsewhere(&id, PENDING, "b"),
                        )
                    })
                    .await,
            );
        }
        assert_eq!(taken_elsewhere, [(false, false), (true, false)]);

        let (late, sign_out) = (InFlight::new(&store, id), InFlight::new(&store, id));
        late.load().await;
        sign_out.step(sign_out.session.flush()).await.unwrap();
        let taken_elsewhere = late
            .step(async {
                late.session.insert(PENDING, json!({})).await.unwrap();
                late.session.save().await.unwrap();
                spent_elsewhere(&id, PENDING, "b")
            })
            .await;
        assert!(taken_elsewhere, "the record ended before this take");
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

    /// The new record of a sign-in is the sign-in's own: a value another request stored meanwhile
    /// (an environment of the organization being left) does not come along.
    #[tokio::test]
    async fn a_sign_in_keeps_nothing_another_request_stored_meanwhile() {
        let store = store();
        let id = seeded(&store, json!({ PENDING: { "a": 1 } })).await;
        let (callback, other) = (InFlight::new(&store, id), InFlight::new(&store, id));
        callback.load().await;
        other.save_with("environment", json!("production")).await;
        callback
            .step(async {
                callback.session.cycle_id().await?;
                callback.session.remove_value("environment").await?;
                callback.session.insert("member", "ada").await?;
                callback.session.save().await
            })
            .await
            .unwrap();
        let signed_in = stored(&store, callback.session.id().unwrap()).await;
        assert_eq!(
            signed_in.unwrap(),
            json!({ PENDING: { "a": 1 }, "member": "ada" })
        );
    }

    #[tokio::test]
    async fn entries_merged_from_other_requests_are_bounded_again() {
        let store = store();
        let id = seeded(&store, json!({ PENDING: {} })).await;
        let (first, second) = both_loaded(&store, id).await;
        for (request, entries) in [
            (&first, json!({ "b": 1, "d": 1 })),
            (&second, json!({ "a": 1, "c": 1 })),
        ] {
            request.save_with(PENDING, entries).await;
        }
        assert_eq!(
            stored(&store, id).await.unwrap()[PENDING],
            json!({ "a": 1, "b": 1, "c": 1 })
        );
    }

    #[test]
    fn entries_of_a_merged_key_are_applied_one_by_one_and_other_values_whole() {
        let data = |value: Value| -> Data { serde_json::from_value(value).unwrap() };
        let merged = merge(
            &data(json!({ PENDING: { "a": 1, "b": 1 }, "profile": { "id": 1, "name": "a" } })),
            &data(json!({ PENDING: { "b": 1, "c": 1 }, "profile": { "id": 2, "name": "b" } })),
            &data(json!({ PENDING: { "a": 1 }, "profile": { "id": 3, "name": "a" }, "x": 1 })),
            RULES,
        );
        assert_eq!(
            serde_json::to_value(merged).unwrap(),
            json!({ PENDING: { "c": 1 }, "profile": { "id": 2, "name": "b" }, "x": 1 })
        );
    }
}

/// One request's scope, for tests that drive several requests' sessions step by step.
#[cfg(test)]
pub(super) mod testing {
    use super::{RequestRecord, REQUEST_RECORD};

    #[derive(Clone, Default)]
    pub struct RequestScope(RequestRecord);

    impl RequestScope {
        pub async fn run<T>(&self, step: impl std::future::Future<Output = T>) -> T {
            REQUEST_RECORD.scope(self.0.clone(), step).await
        }
    }
}
