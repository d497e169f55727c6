//! What a platform's member list says, remembered for a short while per platform (per
//! organization): how many Platform Managers it has, which roles each member holds, and its
//! members' names.
//!
//! The API has no role filter, no count of a role's members and no names beside an allowlist
//! entry: the members page's "last Platform Manager" guardrail means paging through the members
//! (five reads at 1,000 members), the roles page's member counts mean reading every member (ten
//! reads), and naming who added each allowlist entry means reading members too. All only shape a
//! page. A
//! change is checked again against a fresh read when it is made, and the API itself refuses to
//! lose its last manager, so a count a few seconds old is safe to show; a name a minute old is
//! only a label (a member who joins within the minute is shown by id). This replica forgets a
//! platform's count and names as soon as it changes a role or removes a member; a change made
//! through another replica shows within the time given.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

pub const MANAGER_COUNT_KEPT_FOR: Duration = Duration::from_secs(30);
pub const MEMBER_NAMES_KEPT_FOR: Duration = Duration::from_secs(60);
pub const MEMBERS_ROLES_KEPT_FOR: Duration = Duration::from_secs(30);

/// Each member's roles as (id, name), one list per member: what a role's holders are counted from.
pub type MembersRoles = std::sync::Arc<Vec<Vec<(String, String)>>>;

pub struct Remembered<T> {
    kept_for: Duration,
    values: Mutex<HashMap<String, (Instant, T)>>,
}

impl<T: Clone> Remembered<T> {
    pub fn new(kept_for: Duration) -> Self {
        Self {
            kept_for,
            values: Mutex::default(),
        }
    }

    pub fn get(&self, organization: &str) -> Option<T> {
        let values = self.values.lock().expect("remembered lock");
        values
            .get(organization)
            .filter(|(noted_at, _)| noted_at.elapsed() < self.kept_for)
            .map(|(_, value)| value.clone())
    }

    pub fn remember(&self, organization: &str, value: T) {
        let mut values = self.values.lock().expect("remembered lock");
        // Old values go when new ones come, so the map holds only recently active platforms.
        values.retain(|_, (noted_at, _)| noted_at.elapsed() < self.kept_for);
        values.insert(organization.to_owned(), (Instant::now(), value));
    }

    pub fn forget(&self, organization: &str) {
        self.values
            .lock()
            .expect("remembered lock")
            .remove(organization);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_per_platform_and_can_be_forgotten() {
        let counts = Remembered::new(MANAGER_COUNT_KEPT_FOR);
        assert_eq!(counts.get("org_a"), None);
        counts.remember("org_a", 2);
        counts.remember("org_b", 1);
        assert_eq!(counts.get("org_a"), Some(2));
        assert_eq!(counts.get("org_b"), Some(1));
        counts.forget("org_a");
        assert_eq!(counts.get("org_a"), None);
        assert_eq!(counts.get("org_b"), Some(1));
    }

    #[test]
    fn an_old_value_is_not_used_and_goes_when_a_new_one_comes() {
        let counts = Remembered::new(Duration::ZERO);
        counts.remember("org_a", 2);
        assert_eq!(counts.get("org_a"), None);
        counts.remember("org_b", 1);
        let held = counts.values.lock().unwrap();
        assert!(!held.contains_key("org_a") && held.contains_key("org_b"));
    }
}
