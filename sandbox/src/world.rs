//! The sandbox's state: the API's resources (persisted to a file when asked) and the identity
//! provider's short-lived records (kept in memory only).

use std::{
    cell::OnceCell,
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
    sync::Mutex,
};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::model::{
    ActivityEntry, AllowlistEntry, Environment, Invitation, InvitationView, M2mClient, MemberView,
    Membership, Person, Platform, Role, RoleView, StoredWebhook, WebhookDelivery,
};
use crate::permissions::PLATFORM_MANAGER;

/// What a restart keeps when a state file is configured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Data {
    pub platform: Platform,
    pub environments: Vec<Environment>,
    pub roles: Vec<Role>,
    pub people: Vec<Person>,
    pub memberships: Vec<Membership>,
    pub invitations: Vec<Invitation>,
    pub allowlist: Vec<AllowlistEntry>,
    /// Oldest first; the API lists newest first.
    pub activity: Vec<ActivityEntry>,
    pub m2m_clients: Vec<M2mClient>,
    /// Absent from state files written before webhooks existed.
    #[serde(default)]
    pub webhooks: Vec<StoredWebhook>,
    /// Oldest first; the API lists newest first.
    #[serde(default)]
    pub webhook_deliveries: Vec<WebhookDelivery>,
    /// Refresh tokens survive a restart, as Auth0's do.
    pub refresh_tokens: HashMap<String, RefreshToken>,
    /// The provider's sign-in sessions, by the `sid` its ID tokens carry (one per sign-in here;
    /// the refreshed ID tokens of a sign-in carry its `sid` too). The end-session endpoint ends
    /// one named by `logout_hint`, and refuses a `sid` it does not hold, as Auth0 does. Absent from
    /// state files written before.
    #[serde(default)]
    pub provider_sessions: HashSet<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RefreshToken {
    pub family: String,
    pub user_id: String,
    pub client_id: String,
    pub scope: String,
    pub org_id: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub used_at: Option<OffsetDateTime>,
    pub family_revoked: bool,
}

impl Data {
    pub fn person(&self, user_id: &str) -> Option<&Person> {
        self.people.iter().find(|person| person.user_id == user_id)
    }

    pub fn membership(&self, user_id: &str) -> Option<&Membership> {
        self.memberships
            .iter()
            .find(|membership| membership.user_id == user_id)
    }

    pub fn role(&self, role_id: &str) -> Option<&Role> {
        self.roles.iter().find(|role| role.id == role_id)
    }

    pub fn roles_of(&self, role_ids: &[String]) -> Vec<Role> {
        role_ids
            .iter()
            .filter_map(|id| self.role(id))
            .cloned()
            .collect()
    }

    /// The permissions a member's roles grant today (sorted, de-duplicated); `None` for a non-member.
    pub fn permissions_of(&self, user_id: &str) -> Option<Vec<String>> {
        let membership = self.membership(user_id)?;
        let mut permissions: Vec<String> = self
            .roles_of(&membership.role_ids)
            .into_iter()
            .flat_map(|role| role.permissions)
            .collect();
        permissions.sort();
        permissions.dedup();
        Some(permissions)
    }

    pub fn member_view(&self, membership: &Membership) -> MemberView {
        self.view_of(membership, self.person(&membership.user_id))
    }

    /// Every membership and its person, as indexes into `memberships` and `people`, in the
    /// order the API lists members: by name (case-insensitive), then user id. People are looked
    /// up through one index: scanning them once per member made a list of 1,000 members
    /// quadratic.
    fn member_listing(&self) -> Vec<(usize, Option<usize>)> {
        let people: HashMap<&str, usize> = self
            .people
            .iter()
            .enumerate()
            .map(|(index, person)| (person.user_id.as_str(), index))
            .collect();
        let mut listing: Vec<(usize, Option<usize>)> = self
            .memberships
            .iter()
            .enumerate()
            .map(|(index, membership)| (index, people.get(membership.user_id.as_str()).copied()))
            .collect();
        listing.sort_by_cached_key(|&(membership, person)| {
            (
                person
                    .map(|person| self.people[person].name.to_lowercase())
                    .unwrap_or_default(),
                self.memberships[membership].user_id.clone(),
            )
        });
        listing
    }

    pub fn view_of(&self, membership: &Membership, person: Option<&Person>) -> MemberView {
        MemberView {
            user_id: membership.user_id.clone(),
            email: person.map(|person| person.email.clone()),
            name: person.map(|person| person.name.clone()),
            picture: person.and_then(|person| person.picture.clone()),
            roles: self
                .roles_of(&membership.role_ids)
                .into_iter()
                .map(RoleView::from)
                .collect(),
            joined_at: membership.joined_at,
            last_login_at: membership.last_login_at,
        }
    }

    pub fn invitation_view(&self, invitation: &Invitation) -> InvitationView {
        InvitationView {
            id: invitation.id.clone(),
            invitee_email: invitation.invitee_email.clone(),
            inviter_name: invitation.inviter_name.clone(),
            roles: self
                .roles_of(&invitation.role_ids)
                .into_iter()
                .map(|role| role.name)
                .collect(),
            created_at: invitation.created_at,
            expires_at: invitation.expires_at,
            invitation_url: invitation.invitation_url.clone(),
        }
    }

    pub fn environment(&self, id: Uuid) -> Option<&Environment> {
        self.environments
            .iter()
            .find(|environment| environment.id == id)
    }

    pub fn environment_by_slug(&self, slug: &str) -> Option<&Environment> {
        self.environments
            .iter()
            .find(|environment| environment.slug == slug)
    }

    pub fn environment_by_client(&self, client_id: &str) -> Option<&Environment> {
        self.environments
            .iter()
            .find(|environment| environment.auth0_client_id == client_id)
    }

    /// How many members hold the Platform Manager role.
    pub fn platform_manager_count(&self) -> usize {
        self.memberships
            .iter()
            .filter(|membership| self.is_platform_manager(membership))
            .count()
    }

    pub fn is_platform_manager(&self, membership: &Membership) -> bool {
        membership.role_ids.iter().any(|id| {
            self.role(id)
                .is_some_and(|role| role.name == PLATFORM_MANAGER)
        })
    }
}

/// The identity provider's in-flight records: never persisted.
#[derive(Default)]
pub struct Transient {
    pub pending_logins: HashMap<String, PendingLogin>,
    pub codes: HashMap<String, AuthorizationCode>,
    /// Requests counted per environment (or per platform for environment-less calls) and minute.
    pub rate_windows: HashMap<Option<Uuid>, (i64, u32)>,
}

/// A validated `/authorize` request waiting for the tester to pick who signs in.
#[derive(Clone, Debug)]
pub struct PendingLogin {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: String,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub scope: String,
    pub invitation: Option<String>,
    pub created_at: OffsetDateTime,
}

#[derive(Clone, Debug)]
pub struct AuthorizationCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub user_id: String,
    pub scope: String,
    pub expires_at: OffsetDateTime,
}

/// The persisted store: the data behind a lock, written to `file` after every change when configured.
pub struct Store {
    guarded: Mutex<Guarded>,
    file: Option<PathBuf>,
}

/// The data and what is derived from it, under one lock so that a change and the derived
/// values it makes stale are never seen apart.
struct Guarded {
    data: Data,
    /// The member list's order, worked out on the first list after a change. Sorting 1,000
    /// members by name on every list call was a fifth of the sandbox's CPU under a members page
    /// load, CPU the benchmarks' dashboard shares on the same cores. Every write resets it, even
    /// one that touches no member: knowing which changes could reorder the list is a second
    /// copy of its order's rules, and writes are rare next to reads.
    member_listing: OnceCell<Vec<(usize, Option<usize>)>>,
}

impl Store {
    /// Loads `file` when it exists (what a previous run saved), otherwise starts from `seed`.
    pub fn open(file: Option<PathBuf>, seed: impl FnOnce() -> Data) -> std::io::Result<Self> {
        let data = match &file {
            Some(path) if path.exists() => {
                let text = std::fs::read_to_string(path)?;
                serde_json::from_str(&text).map_err(|error| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("{}: {error}", path.display()),
                    )
                })?
            }
            _ => seed(),
        };
        let store = Self {
            guarded: Mutex::new(Guarded {
                data,
                member_listing: OnceCell::new(),
            }),
            file,
        };
        store.persist(&store.lock().data)?;
        Ok(store)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Guarded> {
        self.guarded.lock().expect("store lock")
    }

    pub fn read<R>(&self, read: impl FnOnce(&Data) -> R) -> R {
        read(&self.lock().data)
    }

    /// Reads with every membership and its person in the order the API lists members.
    pub fn read_members<R>(
        &self,
        read: impl FnOnce(&Data, Vec<(&Membership, Option<&Person>)>) -> R,
    ) -> R {
        let guarded = self.lock();
        let data = &guarded.data;
        let members = guarded
            .member_listing
            .get_or_init(|| data.member_listing())
            .iter()
            .map(|&(membership, person)| {
                (
                    &data.memberships[membership],
                    person.map(|person| &data.people[person]),
                )
            })
            .collect();
        read(data, members)
    }

    /// Applies a change and saves it before answering, so an acknowledged write survives a restart.
    pub fn write<R>(&self, change: impl FnOnce(&mut Data) -> R) -> R {
        let mut guarded = self.lock();
        let result = change(&mut guarded.data);
        // Any change may rename, add or remove a member: the order is worked out again.
        guarded.member_listing = OnceCell::new();
        if let Err(error) = self.persist(&guarded.data) {
            tracing::error!(%error, "could not save the sandbox state");
        }
        result
    }

    /// Logs a request as it is served without saving: saving rewrites the whole state, which on
    /// every M2M request would put a file write of up to megabytes on the request path. The next
    /// acknowledged write saves it. Only the activity log is reachable, so what is derived from
    /// the rest stays valid.
    pub fn note<R>(&self, change: impl FnOnce(&mut Vec<ActivityEntry>) -> R) -> R {
        change(&mut self.lock().data.activity)
    }

    fn persist(&self, data: &Data) -> std::io::Result<()> {
        let Some(path) = &self.file else {
            return Ok(());
        };
        write_atomically(
            path,
            &serde_json::to_vec_pretty(data).expect("state serialises"),
        )
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let temporary = path.with_extension("tmp");
    // The state holds refresh tokens and webhook secrets: the owner's alone, whatever the umask.
    // A temporary file left by a crash is replaced, not reused with its old mode.
    let _ = std::fs::remove_file(&temporary);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(&temporary)?, bytes)?;
    std::fs::rename(temporary, path)
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::Store;
    use crate::model::{Membership, Person};

    /// Each listed member's sort key as the API orders them: the person's name (case-insensitive,
    /// empty without a person), then the user id.
    fn keys(store: &Store) -> Vec<(String, String)> {
        store.read_members(|_, members| {
            members
                .iter()
                .map(|(membership, person)| {
                    let name = person.map(|person| person.name.to_lowercase());
                    (name.unwrap_or_default(), membership.user_id.clone())
                })
                .collect()
        })
    }

    fn names(store: &Store) -> Vec<String> {
        store.read_members(|_, members| {
            members
                .iter()
                .map(|(_, person)| person.map(|person| person.name.clone()).unwrap_or_default())
                .collect()
        })
    }

    #[test]
    fn the_member_list_is_in_name_order_and_follows_every_change() {
        let now = OffsetDateTime::now_utc();
        let store = Store::open(None, || {
            let mut data = crate::seed::seed(now, "http://dashboard", 3);
            // A member whose person record is missing sorts first (an empty name).
            data.memberships.push(Membership {
                user_id: "auth0|no-person".to_owned(),
                role_ids: vec![],
                joined_at: now,
                last_login_at: None,
            });
            data
        })
        .unwrap();
        let before = keys(&store);
        let mut sorted = before.clone();
        sorted.sort();
        assert_eq!(before, sorted, "members are listed by name, then user id");
        assert_eq!(before[0].1, "auth0|no-person");
        let before = names(&store);

        // The first list remembered its order; a member added after it must be listed.
        store.write(|data| {
            data.people.push(Person {
                user_id: "auth0|aaron".to_owned(),
                email: "aaron@example.com".to_owned(),
                name: "aaron Aardvark".to_owned(),
                picture: None,
            });
            data.memberships.push(Membership {
                user_id: "auth0|aaron".to_owned(),
                role_ids: vec![],
                joined_at: now,
                last_login_at: None,
            });
        });
        let after = names(&store);
        assert_eq!(after.get(1).map(String::as_str), Some("aaron Aardvark"));
        assert_eq!(after.len(), before.len() + 1);

        // A rename moves the member; a removal drops them.
        store.write(|data| {
            let aaron = data.people.iter_mut().find(|p| p.user_id == "auth0|aaron");
            aaron.unwrap().name = "Zzyzx Zebra".to_owned();
        });
        assert_eq!(
            names(&store).last().map(String::as_str),
            Some("Zzyzx Zebra")
        );
        store.write(|data| data.memberships.retain(|m| m.user_id != "auth0|aaron"));
        assert_eq!(names(&store), before);
    }
}
