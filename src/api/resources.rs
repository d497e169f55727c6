//! KeyStone API resources as the dashboard reads them (field names as on the wire). Fields the
//! dashboard does not use are left out; unknown fields are ignored, so API additions are harmless.

use serde::{Deserialize, Serialize};

use crate::domain::EnvironmentSlug;

/// One page of a list endpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub limit: u64,
    pub offset: u64,
}

/// Where the page holding row `offset` starts, or the last page's start when `offset` is past the
/// end (the last rows were just removed, an old link): a table never shows "51–50 of 50".
pub fn page_start(offset: u64, total: u64, page_size: u64) -> u64 {
    let page_size = page_size.max(1);
    let last_page = total.saturating_sub(1) / page_size * page_size;
    offset.min(last_page) / page_size * page_size
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlatformRecord {
    pub id: String,
    pub name: String,
    pub slug: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub logo_url: Option<String>,
    #[serde(default)]
    pub support_email: Option<String>,
    #[serde(default)]
    pub support_url: Option<String>,
    /// Unset while the platform is new: the overview shows its getting-started checklist.
    #[serde(default)]
    pub onboarding_completed_at: Option<crate::domain::Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentRecord {
    pub id: String,
    pub name: String,
    pub slug: EnvironmentSlug,
    pub is_active: bool,
}

/// The largest `limit` every list of the API accepts. The environment list is bounded at 100 by
/// the published SDK (a FastAPI service answers 422 above it); lists whose bound is unpublished
/// are asked no more either, and paged through `total`.
pub const LIST_LIMIT: u64 = 100;

/// One item of a list: in the dashboard's type, or, when the API stored something the dashboard
/// would not create (a network with host bits, a slug outside its grammar), as stored. One odd
/// record is shown, marked, and never takes its list down.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Listed<T> {
    Parsed(T),
    AsStored(OddRecord),
}

impl<T> Listed<T> {
    pub fn parsed(self) -> Option<T> {
        match self {
            Self::Parsed(item) => Some(item),
            Self::AsStored(_) => None,
        }
    }
}

/// A record as the API stored it: its top-level fields as text, and why it did not parse.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OddRecord {
    pub fields: Vec<(String, String)>,
    pub reason: String,
}

impl OddRecord {
    /// A field as stored; empty when absent or null.
    pub fn field(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .unwrap_or_default()
    }
}

/// The fields of a record its row shows when the record is shown as stored. Only these reach the
/// browser: a field the dashboard never reads (say, a secret the API returned by mistake) must not
/// ride along because the record failed to parse.
pub trait ShownAsStored {
    const FIELDS: &'static [&'static str];
}

impl ShownAsStored for EnvironmentRecord {
    const FIELDS: &'static [&'static str] = &["id", "name", "slug", "is_active"];
}

/// Decodes a list item leniently (server side, from API replies): see [`Listed`]. Strictly, as a
/// plain `T`, within a [`strict_pass`], which `decode_body` tries first.
#[cfg(feature = "ssr")]
pub struct Lenient<T>(pub Listed<T>);

#[cfg(feature = "ssr")]
impl<T: serde::de::DeserializeOwned + ShownAsStored> Lenient<T> {
    /// A record already held as a JSON tree (the environments a request keeps for all its
    /// readers), read from it by reference.
    pub fn from_tree(value: &serde_json::Value) -> Listed<T> {
        match T::deserialize(value) {
            Ok(item) => Listed::Parsed(item),
            Err(_) => Self::as_stored(value),
        }
    }

    /// A record that did not parse: why, and the fields its row shows. As in `decode_body`, the
    /// path is worked out only for a record that does not parse.
    fn as_stored(value: &serde_json::Value) -> Listed<T> {
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(item) => Listed::Parsed(item),
            Err(error) => {
                let field = error.path().to_string();
                // Only the fields a row shows reach the browser: serde's message quotes the value
                // it refused, so it is kept for one of those and described otherwise.
                let shown = error.path().iter().next().is_some_and(|segment| {
                    matches!(segment, serde_path_to_error::Segment::Map { key } if T::FIELDS.contains(&key.as_str()))
                });
                let error = error.into_inner();
                let why = if shown {
                    error.to_string()
                } else {
                    without_values(&error)
                };
                // Logged by field and kind, never by value: records may hold personal data.
                tracing::warn!(
                    %field,
                    kind = ?error.classify(),
                    "a KeyStone API record does not parse; shown as stored"
                );
                Listed::AsStored(OddRecord {
                    fields: stored_fields(value, T::FIELDS),
                    reason: format!("{field}: {why}"),
                })
            }
        }
    }
}

/// What serde refused, without the value it quotes.
#[cfg(feature = "ssr")]
fn without_values(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let described = if message.starts_with("missing field") {
        // Names the field, never a value.
        return message;
    } else if message.starts_with("invalid type") {
        "not of the expected type"
    } else if message.starts_with("unknown variant") {
        "not one of the expected values"
    } else if message.starts_with("invalid value") || message.starts_with("invalid length") {
        "not an accepted value"
    } else {
        "not in the expected shape"
    };
    described.to_owned()
}

#[cfg(feature = "ssr")]
thread_local! {
    /// Set while a reply is read in one strict pass ([`strict_pass`]).
    static STRICT_PASS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `decode` with every [`Lenient`] record read strictly, straight into its type: one pass
/// over the reply, which fails as a whole if any record does not parse. Nearly every reply
/// parses; the caller then reads it again leniently, record by record (`decode_body`). Reading
/// each record's text first, to find where it ends, then parsing that text again, was a fifth of
/// a /security render. Decoding is synchronous, so the flag is this thread's for exactly the pass.
#[cfg(feature = "ssr")]
pub(crate) fn strict_pass<R>(decode: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            STRICT_PASS.set(self.0);
        }
    }
    let _reset = Reset(STRICT_PASS.replace(true));
    decode()
}

#[cfg(feature = "ssr")]
impl<'de, T: serde::de::DeserializeOwned + ShownAsStored> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if STRICT_PASS.get() {
            return T::deserialize(deserializer).map(|item| Self(Listed::Parsed(item)));
        }
        // The record's text, not a tree of it: a record that parses is read once more, straight
        // into `T`, skipping the fields it does not name; only one that does not parse is read
        // again as a tree, for its path and the fields it shows as stored. (Building the tree
        // first was a sixth of a /security render's time.) A record already held as a tree is
        // read with [`Lenient::from_tree`]: through here it would be printed and re-read.
        let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
        if let Ok(item) = serde_json::from_str::<T>(raw.get()) {
            return Ok(Self(Listed::Parsed(item)));
        }
        let value: serde_json::Value =
            serde_json::from_str(raw.get()).map_err(serde::de::Error::custom)?;
        Ok(Self(Self::as_stored(&value)))
    }
}

#[cfg(feature = "ssr")]
impl<T> Lenient<T> {
    /// The record, if it parsed: for readers that count or name, where an odd one counts for
    /// nothing.
    pub fn parsed(self) -> Option<T> {
        self.0.parsed()
    }
}

#[cfg(feature = "ssr")]
impl<T> From<Lenient<T>> for Listed<T> {
    fn from(lenient: Lenient<T>) -> Self {
        lenient.0
    }
}

#[cfg(feature = "ssr")]
fn stored_fields(value: &serde_json::Value, shown: &[&str]) -> Vec<(String, String)> {
    let Some(object) = value.as_object() else {
        return Vec::new();
    };
    object
        .iter()
        .filter(|(key, _)| shown.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), stored_text(value)))
        .collect()
}

/// A field of a record shown as stored, as text: a string as is, nothing for null, else its JSON.
#[cfg(feature = "ssr")]
pub(crate) fn stored_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    fn listed(body: &str) -> Vec<Listed<EnvironmentRecord>> {
        serde_json::from_str::<Vec<Lenient<EnvironmentRecord>>>(body)
            .unwrap()
            .into_iter()
            .map(Listed::from)
            .collect()
    }

    #[test]
    fn a_record_with_fields_the_dashboard_does_not_read_parses() {
        let items = listed(
            r#"[{"id":"env_1","name":"Staging","slug":"staging","is_active":true,
                 "region":{"name":"eu","zones":[1,2,{"deep":null}]},"note":"say \"hi\""}]"#,
        );
        assert_eq!(
            items,
            vec![Listed::Parsed(EnvironmentRecord {
                id: "env_1".to_owned(),
                name: "Staging".to_owned(),
                slug: EnvironmentSlug::parse("staging").unwrap(),
                is_active: true,
            })]
        );
    }

    #[test]
    fn a_record_that_does_not_parse_is_shown_as_stored_beside_one_that_does() {
        let items = listed(
            r#"[{"id":"env_2","name":"Odd","slug":"odd","is_active":"yes","secret":"s3cret"},
                {"id":"env_3","name":"Fine","slug":"fine","is_active":false}]"#,
        );
        let Listed::AsStored(odd) = &items[0] else {
            panic!("{:?}", items[0]);
        };
        assert!(odd.reason.starts_with("is_active: "), "{}", odd.reason);
        assert_eq!(odd.field("is_active"), "yes");
        assert_eq!(odd.field("name"), "Odd");
        // Only the fields a row shows are kept: nothing else rides along to the browser.
        assert_eq!(odd.field("secret"), "");
        assert!(matches!(&items[1], Listed::Parsed(record) if record.slug.as_str() == "fine"));
    }

    #[test]
    fn the_reason_quotes_no_value_of_a_field_the_row_does_not_show() {
        // `name` is shown: serde's words, value and all. `token` is not: described.
        let items = listed(
            r#"[{"id":"env_2","name":{"nested":"x"},"slug":"odd","is_active":true},
                {"id":"env_3","name":"N","slug":"odd","is_active":true,"internal":{"token":"s3cret"}}]"#,
        );
        let Listed::AsStored(shown) = &items[0] else {
            panic!("{:?}", items[0]);
        };
        assert!(
            shown.reason.starts_with("name: invalid type"),
            "{}",
            shown.reason
        );
        let hidden = Lenient::<HiddenField>::from_tree(&serde_json::json!(
            {"id": "x", "token": "s3cret-token-value"}
        ));
        let Listed::AsStored(hidden) = hidden else {
            panic!("parsed");
        };
        assert_eq!(hidden.reason, "token: not of the expected type");
        assert!(!hidden.reason.contains("s3cret"));
        assert!(matches!(&items[1], Listed::Parsed(_)));
    }

    /// A record whose `token` the row never shows.
    #[derive(Debug, Deserialize)]
    struct HiddenField {
        #[allow(dead_code)]
        token: u64,
    }

    impl ShownAsStored for HiddenField {
        const FIELDS: &'static [&'static str] = &["id"];
    }

    #[test]
    fn a_strict_pass_fails_on_an_odd_record_and_leaves_later_reads_lenient() {
        let body = r#"[{"id":"env_2","name":"Odd","slug":"odd","is_active":"yes"},
                       {"id":"env_3","name":"Fine","slug":"fine","is_active":false}]"#;
        let strictly =
            strict_pass(|| serde_json::from_str::<Vec<Lenient<EnvironmentRecord>>>(body));
        assert!(strictly.is_err());
        let items = listed(body);
        assert!(matches!(&items[0], Listed::AsStored(odd) if odd.field("id") == "env_2"));
        assert!(matches!(&items[1], Listed::Parsed(record) if record.id == "env_3"));
    }

    #[test]
    fn a_record_held_as_a_tree_is_read_from_it_the_same_way() {
        let good = serde_json::json!({"id": "env_1", "name": "Staging", "slug": "staging", "is_active": true, "extra": [1]});
        let odd = serde_json::json!({"id": "env_2", "name": "Odd", "slug": "odd", "is_active": "yes", "secret": "s"});
        assert!(matches!(
            Lenient::<EnvironmentRecord>::from_tree(&good),
            Listed::Parsed(record) if record.id == "env_1"
        ));
        let Listed::AsStored(odd) = Lenient::<EnvironmentRecord>::from_tree(&odd) else {
            panic!("parsed");
        };
        assert!(odd.reason.starts_with("is_active: ") && odd.field("secret").is_empty());
    }

    #[test]
    fn a_list_read_from_a_json_tree_is_read_the_same_way() {
        let tree = serde_json::json!([
            {"id": "env_1", "name": "Staging", "slug": "staging", "is_active": true, "extra": 1},
            {"id": "env_2", "name": "Odd", "slug": "odd", "is_active": "yes"}
        ]);
        let items: Vec<Listed<EnvironmentRecord>> =
            serde_json::from_value::<Vec<Lenient<EnvironmentRecord>>>(tree)
                .unwrap()
                .into_iter()
                .map(Listed::from)
                .collect();
        assert!(matches!(&items[0], Listed::Parsed(record) if record.id == "env_1"));
        assert!(matches!(&items[1], Listed::AsStored(odd) if odd.field("id") == "env_2"));
    }
}
