//! How many Platform Managers each platform has, remembered for a short while.
//!
//! The members page shows the "last Platform Manager" guardrail, and the API has no role filter:
//! counting means paging through the members (five reads at 1,000 members) on every render. The
//! guardrail only shapes the page. A change is checked again against a fresh read when it is made,
//! and the API itself refuses to lose its last manager, so a count a few seconds old is safe to
//! show. This replica forgets a platform's count as soon as it changes a role or removes a member;
//! a change made through another replica shows within [`REMEMBERED_FOR`].

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

pub const REMEMBERED_FOR: Duration = Duration::from_secs(30);

pub struct ManagerCounts {
    remembered_for: Duration,
    counts: Mutex<HashMap<String, (Instant, usize)>>,
}

impl ManagerCounts {
    pub fn new(remembered_for: Duration) -> Self {
        Self {
            remembered_for,
            counts: Mutex::default(),
        }
    }

    pub fn get(&self, organization: &str) -> Option<usize> {
        let counts = self.counts.lock().expect("manager counts lock");
        counts
            .get(organization)
            .filter(|(counted_at, _)| counted_at.elapsed() < self.remembered_for)
            .map(|&(_, count)| count)
    }

    pub fn remember(&self, organization: &str, count: usize) {
        let mut counts = self.counts.lock().expect("manager counts lock");
        // Old counts go when new ones come, so the map holds only recently active platforms.
        counts.retain(|_, (counted_at, _)| counted_at.elapsed() < self.remembered_for);
        counts.insert(organization.to_owned(), (Instant::now(), count));
    }

    pub fn forget(&self, organization: &str) {
        self.counts
            .lock()
            .expect("manager counts lock")
            .remove(organization);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_per_platform_and_can_be_forgotten() {
        let counts = ManagerCounts::new(REMEMBERED_FOR);
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
    fn an_old_count_is_not_used_and_goes_when_a_new_one_comes() {
        let counts = ManagerCounts::new(Duration::ZERO);
        counts.remember("org_a", 2);
        assert_eq!(counts.get("org_a"), None);
        counts.remember("org_b", 1);
        let held = counts.counts.lock().unwrap();
        assert!(!held.contains_key("org_a") && held.contains_key("org_b"));
    }
}
