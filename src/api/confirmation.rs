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

/// The code of a set of warnings, in any order (callers are listed by their latest call, which
/// may reorder them between two reads without changing what the change does).
///
/// Not a secret and not a guard against a hand-made post, which can send any code it likes (the
/// server's own check of the warnings is that guard): it only tells two sets of warnings apart,
/// for which FNV-1a, the same on both sides and tiny in the browser's bundle, is enough.
pub fn confirmation_code(warnings: &[Warning]) -> String {
    let mut gists: Vec<&str> = warnings
        .iter()
        .map(|warning| warning.gist.as_str())
        .collect();
    gists.sort_unstable();
    let mut hasher = fnv::FnvHasher::default();
    for gist in gists {
        hasher.write(gist.as_bytes());
        hasher.write_u8(0);
    }
    format!("{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(id: &str, at: &str) -> Warning {
        Warning::with_detail(format!("{id} would be refused"), &format!(" at {at}."))
    }

    #[test]
    fn a_code_changes_with_what_is_confirmed_not_with_details_or_order() {
        let shown = [
            Warning::new("This changes production."),
            caller("ci", "10:00"),
        ];
        let code = confirmation_code(&shown);
        assert_eq!(code.len(), 16);
        // The caller called again, and the two warnings come in another order: same consequences.
        let fresh = [
            caller("ci", "10:05"),
            Warning::new("This changes production."),
        ];
        assert_eq!(confirmation_code(&fresh), code);
        // A client the page did not name, or one warning fewer: another code.
        let more = [
            Warning::new("This changes production."),
            caller("ci", "10:00"),
            caller("billing", "10:01"),
        ];
        assert_ne!(confirmation_code(&more), code);
        assert_ne!(confirmation_code(&shown[..1]), code);
        // Gists are kept apart: two warnings never read as one.
        assert_ne!(
            confirmation_code(&[Warning::new("ab"), Warning::new("c")]),
            confirmation_code(&[Warning::new("a"), Warning::new("bc")])
        );
    }
}
