//! Domain newtypes: values parsed once at the edge and valid from then on (parse, don't validate).

mod email;
mod environment;
mod network;
mod query;
mod resource_id;
mod return_to;
mod timestamp;
mod web_url;

pub use email::{parse_email_list, Email, ListedEmail, MAX_INVITES_AT_ONCE};
pub use environment::{EnvironmentSlug, EnvironmentSlugError};
pub use network::{
    check_address, count_bulk_lines, overlap, parse_bulk, AddressCheck, BulkLine, Cidr, CidrError,
    Overlap, MAX_ALLOWLIST_ENTRIES, MAX_BULK_LINES,
};
pub use query::{encode_component, query_string};
pub use resource_id::{ResourceId, ResourceIdError};
pub use return_to::ReturnTo;
pub use timestamp::{parse_day, Timestamp};
pub use web_url::WebUrl;

/// A count for people, its digits in groups of three: `65,536`.
pub fn group_thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}
