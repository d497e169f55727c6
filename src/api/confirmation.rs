//! What a member confirms before a risky change: its consequences in words ([`Warning`]) and the
//! code of exactly the warnings the page showed ([`confirmation_code`]), which the confirming form
//! sends. The server works the warnings out again from fresh reads and goes ahead only when the
//! codes match, so a page older than the list (or than an M2M client's first call) cannot confirm
//! a change whose consequences it never showed; the member is shown the fresh ones instead.

use std::hash::Hasher;

/// One consequence of a change that must be confirmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    text: String,
    /// What confirming agrees to: the text less what may change from one read to the next.
    gist: String,
}

impl Warning {
    /// A warning confirmed word for word.
    pub fn new(text: impl Into<String>) -> Self {
        let text = text.into();
        Self {
            gist: text.clone(),
            text,
        }
    }

    /// A warning whose `detail` (a caller's last call time) is shown but not confirmed: a busy
    /// client calling again must not void a confirmation, a client not named before must.
    pub fn with_detail(gist: String, detail: &str) -> Self {
        Self {
            text: format!("{gist}{detail}"),
            gist,
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

/// The code a confirming form sends for the warnings it shows: one short hash per warning's gist,
/// sorted (callers are listed by their latest call, which may reorder them between two reads).
///
/// Not a secret and not a guard against a hand-made post, which can send any code it likes (the
/// server's own check of the warnings is that guard): it only tells warnings apart, for which
/// FNV-1a, the same on both sides and tiny in the browser's bundle, is enough.
pub fn confirmation_code(warnings: &[Warning]) -> String {
    let mut hashes: Vec<String> = warnings
        .iter()
        .map(|warning| gist_hash(&warning.gist))
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    hashes.join(".")
}

/// Whether `code` confirms every one of `warnings`: each was among those the member was shown.
/// One shown but gone since (a caller that dropped out of the log's window, a list no longer
/// empty) was confirmed all the same, so it never stands in the way.
pub fn confirms(code: &str, warnings: &[Warning]) -> bool {
    let shown: Vec<&str> = code.split('.').collect();
    warnings
        .iter()
        .all(|warning| shown.contains(&gist_hash(&warning.gist).as_str()))
}

fn gist_hash(gist: &str) -> String {
    let mut hasher = fnv::FnvHasher::default();
    hasher.write(gist.as_bytes());
    format!("{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(id: &str, at: &str) -> Warning {
        Warning::with_detail(format!("{id} would be refused"), &format!(" at {at}."))
    }

    #[test]
    fn a_code_confirms_what_was_shown_whatever_its_details_or_order() {
        let shown = [
            Warning::new("This changes production."),
            caller("ci", "10:00"),
        ];
        let code = confirmation_code(&shown);
        assert!(confirms(&code, &shown));
        // The caller called again, and the two warnings come in another order: same consequences.
        let fresh = [
            caller("ci", "10:05"),
            Warning::new("This changes production."),
        ];
        assert_eq!(confirmation_code(&fresh), code);
        assert!(confirms(&code, &fresh));
        // One of them gone since: what is left was confirmed.
        assert!(confirms(&code, &fresh[..1]));
        assert!(confirms(&code, &[]));
    }

    #[test]
    fn a_code_never_confirms_a_warning_the_page_did_not_show() {
        let shown = [
            Warning::new("This changes production."),
            caller("ci", "10:00"),
        ];
        let code = confirmation_code(&shown);
        let more = [
            Warning::new("This changes production."),
            caller("ci", "10:00"),
            caller("billing", "10:01"),
        ];
        assert!(!confirms(&code, &more));
        assert!(!confirms("", &shown[..1]));
        assert!(
            !confirms("yes", &shown[..1]),
            "the old blanket yes confirms nothing"
        );
        // A code is whole hashes, not a prefix or a run of them.
        assert!(!confirms(&code[..8], &shown[..1]));
    }
}
