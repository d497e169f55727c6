//! "Check an address": whether the list shown lets an address in, worked out in the browser.

use leptos::prelude::*;

use crate::{
    app::kit::count_of,
    domain::{check_address, AddressCheck, Cidr},
};

/// "Check an address": evaluated in the browser against the list shown.
#[component]
pub(super) fn CheckAddress(
    networks: Vec<Cidr>,
    /// Entries stored in a form the dashboard cannot read: they may allow the address.
    unreadable: usize,
) -> impl IntoView {
    let address = expect_context::<super::Drafts>().checked_address;
    let verdict = move || {
        let typed = address.get();
        let typed = typed.trim();
        if typed.is_empty() {
            return None;
        }
        Some(match typed.parse::<std::net::IpAddr>() {
            Err(_) => (false, format!("“{typed}” is not an IP address.")),
            Ok(ip) => match (check_address(ip, &networks), unreadable) {
                (AddressCheck::AllowedBy(entry), _) => {
                    (true, format!("{ip} is allowed by {entry}."))
                }
                (AddressCheck::OpenToAll, 0) => (
                    true,
                    format!("{ip} is allowed: the list is empty, so every address is."),
                ),
                (AddressCheck::Refused, 0) => (
                    false,
                    format!("{ip} would be refused: no entry contains it."),
                ),
                // The list is not empty, and an entry the dashboard cannot read may contain it.
                (_, unreadable) => (
                    false,
                    format!(
                        "{ip} is in no entry the dashboard can read, but {} stored in a form it cannot read: whether the API allows {ip} is not certain.",
                        count_of(unreadable as u64, "entry is", "entries are")
                    ),
                ),
            },
        })
    };
    view! {
        <section class="panel">
            <h2>"Check an address"</h2>
            <label for="allowlist-check">"IP address"</label>
            <input
                id="allowlist-check"
                type="text"
                autocomplete="off"
                placeholder="198.51.100.17"
                bind:value=address
            />
            <p class="hint" role="status" data-testid="check-result">
                {move || {
                    verdict()
                        .map(|(ok, text)| {
                            view! {
                                <span class:hint--error=!ok>{text}</span>
                            }
                        })
                }}
            </p>
        </section>
    }
    .into_any()
}
