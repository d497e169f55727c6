//! What a platform's member list and its shell say, remembered for a short while per platform
//! (per organization): how many Platform Managers it has, which roles each member holds, its
//! members' names, and the platform's name and environments that every page's shell shows.
//!
//! The API has no role filter, no count of a role's members and no names beside an allowlist
//! entry: the members page's "last Platform Manager" guardrail means paging through the members
//! (five reads at 1,000 members), the roles page's member counts mean reading every member (ten
//! reads), and naming who added each allowlist entry means reading members too. All only shape a
//! page. A change is checked again against a fresh read when it is made, and the API itself
//! refuses to lose its last manager, so a count a few seconds old is safe to show; a name a minute
//! old is only a label (a member who joins within the minute is shown by id). The shell's two
//! reads (two of the five calls of a members page) only label the top bar and fill the
//! environment switcher: a switch is checked against a fresh list, and the Environments and
//! Settings pages read their own. This replica forgets what it remembers of a platform as soon as
//! it changes a role, removes a member, or changes an environment or the platform's profile, and
//! a read that was under way meanwhile is not remembered (it may have paged past the change); a
//! change made through another replica shows within the time given.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

pub const MANAGER_COUNT_KEPT_FOR: Duration = Duration::from_secs(30);
pub const MEMBER_NAMES_KEPT_FOR: Duration = Duration::from_secs(60);
pub const MEMBERS_ROLES_KEPT_FOR: Duration = Duration::from_secs(30);
pub const SHELL_PLATFORM_KEPT_FOR: Duration = Duration::from_secs(30);

/// Each member's roles, one list per member: what a role's holders are counted from.
pub type MembersRoles = std::sync::Arc<Vec<Vec<crate::api::HeldRole>>>;

pub struct Remembered<T> {
    kept_for: Duration,
    values: Mutex<Values<T>>,
}

struct Values<T> {
    by_platform: HashMap<String, (Instant, T)>,
    /// Moved by every forget: a read that started before a forget is not remembered. One counter
    /// for all platforms, so nothing grows per platform; a forget elsewhere only costs a read
    /// under way here being read again later, never a stale value.
    forgets: u64,
}

impl<T: Clone> Remembered<T> {
    pub fn new(kept_for: Duration) -> Self {
        Self {
            kept_for,
            values: Mutex::new(Values {
                by_platform: HashMap::new(),
                forgets: 0,
            }),
        }
    }

    pub fn get(&self, organization: &str) -> Option<T> {
        let values = self.values.lock().expect("remembered lock");
        values
            .by_platform
            .get(organization)
            .filter(|(noted_at, _)| noted_at.elapsed() < self.kept_for)
            .map(|(_, value)| value.clone())
    }

    /// The remembered value, else `read`'s, remembered unless a forget came while it was read.
    pub async fn get_or_read<E>(
        &self,
        organization: &str,
        read: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        if let Some(value) = self.get(organization) {
            return Ok(value);
        }
        let ticket = self.ticket();
        let value = read.await?;
        self.remember(organization, ticket, value.clone());
        Ok(value)
    }

    /// Taken before a read whose result will be remembered.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.values.lock().expect("remembered lock").forgets)
    }

    /// Remembers `value` unless something was forgotten since `ticket` was taken.
    pub fn remember(&self, organization: &str, ticket: Ticket, value: T) {
        let mut values = self.values.lock().expect("remembered lock");
        if values.forgets != ticket.0 {
            return;
        }
        // Old values go when new ones come, so the map holds only recently active platforms.
        values
            .by_platform
            .retain(|_, (noted_at, _)| noted_at.elapsed() < self.kept_for);
        values
            .by_platform
            .insert(organization.to_owned(), (Instant::now(), value));
    }

    pub fn forget(&self, organization: &str) {
        let mut values = self.values.lock().expect("remembered lock");
        values.by_platform.remove(organization);
        values.forgets += 1;
    }
}

/// Runs a change to what is remembered for a platform, then `forget` however the change ends: done,
/// failed (a call that failed or timed out may still have landed), or dropped with its request
/// when the browser went away mid-call (the call may have been sent). A call that lands at the API
/// after the forget (later than its timeout, or after its request was dropped) may have a read
/// made in between remembered: it shows within the time given, as another replica's change does.
pub async fn forgetting_after<F: std::future::Future>(
    change: F,
    forget: impl FnOnce(),
) -> F::Output {
    // Dropped at the end of this future, whether it ran to its end or was itself dropped.
    let _forget = scopeguard::guard((), |()| forget());
    change.await
}

/// When a read began, as far as forgets go (see [`Remembered::ticket`]).
#[derive(Clone, Copy)]
pub struct Ticket(u64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_per_platform_and_can_be_forgotten() {
        let counts = Remembered::new(MANAGER_COUNT_KEPT_FOR);
        assert_eq!(counts.get("org_a"), None);
        counts.remember("org_a", counts.ticket(), 2);
        counts.remember("org_b", counts.ticket(), 1);
        assert_eq!(counts.get("org_a"), Some(2));
        assert_eq!(counts.get("org_b"), Some(1));
        counts.forget("org_a");
        assert_eq!(counts.get("org_a"), None);
        assert_eq!(counts.get("org_b"), Some(1));
    }

    #[test]
    fn an_old_value_is_not_used_and_goes_when_a_new_one_comes() {
        let counts = Remembered::new(Duration::ZERO);
        counts.remember("org_a", counts.ticket(), 2);
        assert_eq!(counts.get("org_a"), None);
        counts.remember("org_b", counts.ticket(), 1);
        let held = counts.values.lock().unwrap();
        assert!(!held.by_platform.contains_key("org_a") && held.by_platform.contains_key("org_b"));
    }

    #[tokio::test]
    async fn a_read_under_way_when_something_was_forgotten_is_not_remembered() {
        // A role changed while a colleague's page was paging through the members: what that
        // page read may predate the change, so it is used once and not kept.
        let counts = Remembered::new(MANAGER_COUNT_KEPT_FOR);
        let read = counts.get_or_read("org_a", async {
            counts.forget("org_a");
            Ok::<_, ()>(2)
        });
        assert_eq!(read.await, Ok(2));
        assert_eq!(counts.get("org_a"), None);
        // A read with nothing forgotten meanwhile is kept and served.
        assert_eq!(
            counts.get_or_read("org_a", async { Ok::<_, ()>(3) }).await,
            Ok(3)
        );
        assert_eq!(
            counts.get_or_read("org_a", async { Ok::<_, ()>(4) }).await,
            Ok(3)
        );
    }
}
