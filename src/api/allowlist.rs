//! The IP allowlist of the current environment: view model, the warnings a change needs confirmed,
//! and the server functions that read and change it.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{ApiError, EnvironmentRecord, Listed, OddRecord, Section, Warning};
use crate::domain::{Cidr, EnvironmentSlug, Timestamp};

/// The API allows at most this many entries per environment.
pub const MAX_ENTRIES: usize = crate::domain::MAX_ALLOWLIST_ENTRIES;
/// The API's limit on descriptions.
pub const MAX_DESCRIPTION: usize = 255;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AllowlistEntry {
    pub id: String,
    pub cidr: Cidr,
    #[serde(default)]
    pub description: Option<String>,
    pub created_at: Timestamp,
    #[serde(default)]
    pub created_by: Option<String>,
    /// Who `created_by` is, by name, when the member list says (worked out on the server).
    #[serde(default)]
    pub created_by_name: Option<String>,
}

impl AllowlistEntry {
    /// Who added the entry: a name when known, else the id the API stored.
    pub fn added_by(&self) -> String {
        self.created_by_name
            .clone()
            .or_else(|| self.created_by.clone())
            .unwrap_or_default()
    }
}

impl super::ShownAsStored for AllowlistEntry {
    const FIELDS: &'static [&'static str] =
        &["id", "cidr", "description", "created_at", "created_by"];
}

/// An environment's list as the API holds it, and whether the member may change it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Allowlist {
    pub environment: EnvironmentRecord,
    pub entries: Vec<AllowlistEntry>,
    /// Entries the dashboard cannot parse (say, a network stored with host bits set): shown as
    /// stored, counted, and deletable; they still restrict M2M traffic.
    pub entries_as_stored: Vec<OddRecord>,
    /// The member holds `security:manage`.
    pub can_manage: bool,
}

/// What the Security page is read from: the list, and the M2M clients that called its environment
/// lately (`None` without `activity:read`: the log cannot be read, so no change can be previewed
/// against it). Two reads made together, each also a server function of its own: the callers are
/// a section that fails alone, and a read of the list costs the API one call per 100 entries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AllowlistView {
    pub allowlist: Allowlist,
    pub recent_callers: Section<CallerLog>,
}

impl AllowlistView {
    /// The page's view from its two reads, as the page's server function and the test harness
    /// get them.
    ///
    /// Callers read from another environment's log than the list's (the session's environment
    /// changed between the two reads) are never shown as this list's: the section says so.
    pub fn new(
        allowlist: Allowlist,
        recent_callers: Result<Option<RecentCallers>, ApiError>,
    ) -> Self {
        let recent_callers = match recent_callers {
            Ok(Some(read)) if !read.are_for(&allowlist) => Some(Err(
                ApiError::Conflict(
                    "The recent M2M callers were read for another environment than this list. Reload the page to check them."
                        .to_owned(),
                ),
            )),
            read => read.map(|read| read.map(|read| read.log)).transpose(),
        };
        Self {
            allowlist,
            recent_callers,
        }
    }

    /// What this list's changes are checked against, as the page shows them.
    pub fn change_check(&self) -> ChangeCheck {
        ChangeCheck::new(
            &self.allowlist.entries,
            self.allowlist.entries_as_stored.len(),
            &self.allowlist.environment.slug,
            &self.recent_callers,
        )
    }
}

/// Rows of the Security page's table per page: a table of 500 rows cost the server its render
/// and a phone seconds of hydration.
pub const ALLOWLIST_PAGE_SIZE: u64 = 50;

/// What the Security page is given: one page of the table's rows, and what every check of a
/// change needs of the whole list (its networks, how many entries it holds, the callers). The
/// whole list is read either way; only the rows shown travel to the browser. (With 500 entries,
/// the list was 116 KB of a 171 KB page, serialized into it in full for the 50 rows it showed,
/// and read again while hydrating.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AllowlistPage {
    pub environment: EnvironmentRecord,
    /// The member holds `security:manage`.
    pub can_manage: bool,
    /// This page's rows in the table's order: parsed entries, then those shown as stored.
    pub rows: Vec<Listed<AllowlistEntry>>,
    /// The first row's place in the table: a page's start, the last page's when asked past the
    /// end (the last rows were just deleted, an old link).
    pub offset: u64,
    /// Entries on the list, parsed or not.
    pub total: u64,
    /// Every parsed entry's network, on this page or not.
    pub networks: Vec<Cidr>,
    pub recent_callers: Section<CallerLog>,
}

impl AllowlistView {
    /// The page of the table that starts at (or holds) row `offset`, with the whole list's
    /// networks.
    pub fn page(self, offset: u64) -> AllowlistPage {
        let Allowlist {
            environment,
            entries,
            entries_as_stored,
            can_manage,
        } = self.allowlist;
        let total = (entries.len() + entries_as_stored.len()) as u64;
        let offset = crate::api::page_start(offset, total, ALLOWLIST_PAGE_SIZE);
        let networks = entries.iter().map(|entry| entry.cidr).collect();
        let rows = entries
            .into_iter()
            .map(Listed::Parsed)
            .chain(entries_as_stored.into_iter().map(Listed::AsStored))
            .skip(offset as usize)
            .take(ALLOWLIST_PAGE_SIZE as usize)
            .collect();
        AllowlistPage {
            environment,
            can_manage,
            rows,
            offset,
            total,
            networks,
            recent_callers: self.recent_callers,
        }
    }
}

impl AllowlistPage {
    /// What this list's changes are checked against: the whole list, not only the rows shown.
    pub fn change_check(&self) -> ChangeCheck {
        ChangeCheck::of_networks(
            self.networks.clone(),
            self.total as usize,
            &self.environment.slug,
            &self.recent_callers,
        )
    }
}

/// The recent M2M callers as read, and the environment whose log was read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecentCallers {
    pub environment_id: String,
    pub log: CallerLog,
}

impl RecentCallers {
    /// Whether these callers were read from the log of `allowlist`'s environment: only then may
    /// they preview its changes.
    fn are_for(&self, allowlist: &Allowlist) -> bool {
        self.environment_id == allowlist.environment.id
    }
}

/// What a change of the list is checked against: the list (its parsed networks, and how many
/// entries it holds, parsed or not: an odd one restricts traffic all the same), its environment
/// and the recent M2M callers. The page builds it from what it loaded, the server from what it
/// has just read, and both ask it for a change's warnings, so the two work them out one way.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeCheck {
    networks: Vec<Cidr>,
    entries: usize,
    environment: EnvironmentSlug,
    /// `None`: the activity log could not be read (none when the member may not read it).
    callers: Option<Vec<RecentCaller>>,
    /// Said with every change that could lock a caller out when the log was read in part.
    read_in_part: Option<Warning>,
}

impl ChangeCheck {
    /// `parsed`: the entries the dashboard read; `unparsed_count`: those shown as stored.
    pub fn new(
        parsed: &[AllowlistEntry],
        unparsed_count: usize,
        environment: &EnvironmentSlug,
        callers: &Section<CallerLog>,
    ) -> Self {
        Self::of_networks(
            parsed.iter().map(|entry| entry.cidr).collect(),
            parsed.len() + unparsed_count,
            environment,
            callers,
        )
    }

    /// `networks`: the parsed entries' networks; `entries`: every entry, parsed or not.
    fn of_networks(
        networks: Vec<Cidr>,
        entries: usize,
        environment: &EnvironmentSlug,
        callers: &Section<CallerLog>,
    ) -> Self {
        Self {
            networks,
            entries,
            environment: environment.clone(),
            callers: checkable_callers(callers).map(<[RecentCaller]>::to_vec),
            read_in_part: match callers {
                Some(Ok(log)) if log.partial => Some(read_in_part_warning(log)),
                _ => None,
            },
        }
    }

    /// The list's parsed networks.
    pub fn networks(&self) -> &[Cidr] {
        &self.networks
    }

    /// Entries on the list, parsed or not.
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// The environment whose list this is: the add forms send it, so that a change is made where
    /// the page showed it ([`ssr::Current::refuse_unless_shown`]).
    pub fn environment(&self) -> &EnvironmentSlug {
        &self.environment
    }

    /// Adding `adding`: the first entry's effect, allow-everyone networks, production, and each
    /// recent caller it newly locks out (or that the callers could not be checked).
    pub fn adding(&self, adding: &[Cidr]) -> Vec<Warning> {
        let mut warnings = add_warnings(
            self.entries,
            &self.networks,
            adding,
            &self.environment,
            self.callers.as_deref(),
        );
        // Only a first entry can lock a caller out; a later one only lets more in.
        if self.entries == 0 && !adding.is_empty() {
            warnings.extend(self.read_in_part.clone());
        }
        warnings
    }

    /// What any addition means before one is typed: the first entry's effect, production. (No
    /// caller is named, nor that the callers could not be read: which ones a network locks out
    /// depends on the network.)
    pub fn any_addition(&self) -> Vec<Warning> {
        let example = Cidr::parse("192.0.2.0/24").expect("a valid documentation network");
        let mut warnings = add_warnings(
            self.entries,
            &self.networks,
            &[example],
            &self.environment,
            Some(&[]),
        );
        // As any first entry carries it (see `adding`).
        if self.entries == 0 {
            warnings.extend(self.read_in_part.clone());
        }
        warnings
    }

    /// Pasted lines, judged against this list: each line's outcome, and what adding the good
    /// ones means.
    pub fn adding_lines(&self, lines: &str) -> (Vec<crate::domain::BulkLine>, Vec<Warning>) {
        let parsed = crate::domain::parse_bulk(lines, &self.networks);
        let adding: Vec<Cidr> = parsed
            .iter()
            .filter_map(|line| line.outcome.as_ref().ok().map(|(cidr, _)| *cidr))
            .collect();
        let warnings = self.adding(&adding);
        (parsed, warnings)
    }

    /// Deleting `deleting` (`None`: an entry shown as stored, which never let anyone in).
    pub fn deleting(&self, deleting: Option<Cidr>) -> Vec<Warning> {
        let mut warnings = delete_warnings(
            self.entries,
            &self.networks,
            deleting,
            &self.environment,
            self.callers.as_deref(),
        );
        // Deleting a network from a list that stays restricted can lock a caller out.
        if deleting.is_some() && self.entries > 1 {
            warnings.extend(self.read_in_part.clone());
        }
        warnings
    }
}

/// Why a paste is refused before its lines are judged: more lines than one add takes.
pub fn too_many_lines(lines: &str) -> Option<String> {
    let count = crate::domain::count_bulk_lines(lines);
    (count > crate::domain::MAX_BULK_LINES).then(|| {
        format!(
            "One add takes at most {} lines; this one has {count}. Add the rest in another batch.",
            crate::domain::MAX_BULK_LINES
        )
    })
}

/// How far back the activity log is read for M2M callers a change could lock out.
pub const CALLERS_LOOKBACK_DAYS: i64 = 7;

/// Whether an activity entry's `actor_type` may be an M2M client's. KeyStone publishes that the
/// field is always set, not its values: the sandbox writes `m2m`, `user` and `system`. A preview
/// that knew only `m2m` would say "no M2M calls" against a log that spells it `client`, and let a
/// change through that locks that client out; so every actor that is not a member or the system is
/// taken for a caller. Spelled otherwise, a member's own calls would then show as a caller: a
/// warning too many, never one too few.
pub fn is_machine_actor(actor_type: &str) -> bool {
    !["user", "system"]
        .iter()
        .any(|known| actor_type.trim().eq_ignore_ascii_case(known))
}

/// An M2M client seen calling this environment recently, from one address (the activity log's
/// entries by a machine actor (`is_machine_actor`): `actor_id`, `ip_address`, `created_at`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecentCaller {
    pub client_id: String,
    pub address: std::net::IpAddr,
    pub last_call: Timestamp,
}

/// The recent M2M callers as read from the activity log: one page of it (its largest), newest
/// entries first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CallerLog {
    pub callers: Vec<RecentCaller>,
    /// Whether the log held more entries in the last [`CALLERS_LOOKBACK_DAYS`] days than one read
    /// brings (a busy environment): calls before the oldest entry read are not known, and the
    /// page and each change's confirmation say so instead of claiming the whole period.
    pub partial: bool,
    /// When `partial`, the time of the oldest entry read (if any had a time the dashboard reads).
    pub read_back_to: Option<Timestamp>,
}

impl CallerLog {
    /// How far back the callers are known, to end "Clients that called this environment …".
    pub fn covered(&self) -> String {
        match (self.partial, &self.read_back_to) {
            (false, _) => format!("in the last {CALLERS_LOOKBACK_DAYS} days"),
            (true, Some(oldest)) => format!(
                "since {} (the newest entries of the activity log; calls before that, in the last {CALLERS_LOOKBACK_DAYS} days, were not read)",
                oldest.second_utc()
            ),
            (true, None) => format!(
                "lately (the newest entries of the activity log; older calls in the last {CALLERS_LOOKBACK_DAYS} days were not read)"
            ),
        }
    }
}

/// A change checked against a log read in part: a caller seen only before it is not named. How
/// far back it goes is a detail, outside what is confirmed: a busy log moves on between the
/// page's read and the server's, and a confirmation must not go stale with it.
fn read_in_part_warning(log: &CallerLog) -> Warning {
    Warning::with_detail(
        "This change is checked against the newest entries of the activity log only: an M2M client seen only before them is not named".to_owned(),
        &match &log.read_back_to {
            Some(oldest) => format!(" (they go back to {}).", oldest.second_utc()),
            None => ".".to_owned(),
        },
    )
}

/// The callers a list would refuse: `networks` are its parsed networks and `entries` how many
/// entries it holds in all. An empty list allows all; an entry the dashboard cannot parse is not
/// counted as letting anyone in (the preview errs on the side of naming a caller).
pub fn refused_callers<'a>(
    networks: &[Cidr],
    entries: usize,
    callers: &'a [RecentCaller],
) -> Vec<&'a RecentCaller> {
    if entries == 0 {
        return Vec::new();
    }
    callers
        .iter()
        .filter(|caller| {
            !networks
                .iter()
                .any(|network| network.contains(caller.address))
        })
        .collect()
}

/// The recent callers a change can be checked against: `None` when the activity log could not be
/// read (the change then says so), none when the member may not read it (the page says so).
fn checkable_callers(callers: &Section<CallerLog>) -> Option<&[RecentCaller]> {
    match callers {
        Some(Ok(log)) => Some(&log.callers),
        Some(Err(_)) => None,
        None => Some(&[]),
    }
}

/// The list on one side of a change: its parsed networks and how many entries it holds in all.
type ListState<'a> = (&'a [Cidr], usize);

/// One warning per recent caller the change locks out (the list lets it in before, refuses it
/// after), naming it. A caller the list refuses already is not the change's doing.
fn lockout_warnings(
    (networks_before, entries_before): ListState,
    (networks_after, entries_after): ListState,
    callers: Option<&[RecentCaller]>,
) -> Vec<Warning> {
    let Some(callers) = callers else {
        return if entries_after == 0 {
            Vec::new()
        } else {
            vec![Warning::new("The recent M2M callers could not be read from the activity log: this change is not checked against them.")]
        };
    };
    let refused_before = refused_callers(networks_before, entries_before, callers);
    refused_callers(networks_after, entries_after, callers)
        .into_iter()
        .filter(|caller| !refused_before.contains(caller))
        .map(|caller| {
            Warning::with_detail(
                format!(
                    "{} would be refused: it last called from {}",
                    caller.client_id, caller.address
                ),
                &format!(" at {}.", caller.last_call.second_utc()),
            )
        })
        .collect()
}

/// What a change of the list does beyond the obvious, in words; each must be confirmed (asked
/// through [`ChangeCheck`] by the page, which shows them next to a required checkbox, and by the
/// server, which refuses an unconfirmed change).
///
/// `networks_now` are the list's parsed networks and `callers` the recent M2M callers: a caller
/// the list after the change would refuse is named (the lockout preview). An entry shown as
/// stored is not counted as allowing anyone, so the preview errs on the side of warning.
fn add_warnings(
    entries_now: usize,
    networks_now: &[Cidr],
    adding: &[Cidr],
    environment: &EnvironmentSlug,
    callers: Option<&[RecentCaller]>,
) -> Vec<Warning> {
    let mut warnings = Vec::new();
    if entries_now == 0 && !adding.is_empty() {
        warnings.push(Warning::new(format!(
            "This is the first entry: M2M traffic to {environment} from every other address will be refused at once."
        )));
    }
    for everyone in adding.iter().filter(|cidr| cidr.is_everyone()) {
        let family = if everyone.is_ipv4() { "IPv4" } else { "IPv6" };
        warnings.push(Warning::new(format!(
            "{everyone} allows every {family} address."
        )));
    }
    if environment.is_production() && !adding.is_empty() {
        warnings.push(Warning::new("This changes production."));
    }
    if !adding.is_empty() {
        let after: Vec<Cidr> = networks_now.iter().chain(adding).copied().collect();
        warnings.extend(lockout_warnings(
            (networks_now, entries_now),
            (&after, entries_now + adding.len()),
            callers,
        ));
    }
    warnings
}

/// `networks_now` are the list's parsed networks; `deleting` is the one deleted (`None` for an
/// entry the dashboard cannot parse, which never counted as letting anyone in).
fn delete_warnings(
    entries_now: usize,
    networks_now: &[Cidr],
    deleting: Option<Cidr>,
    environment: &EnvironmentSlug,
    callers: Option<&[RecentCaller]>,
) -> Vec<Warning> {
    let mut warnings = Vec::new();
    if entries_now == 1 {
        warnings.push(Warning::new(format!(
            "This is the last entry: {environment} will accept M2M traffic from every address."
        )));
    }
    if environment.is_production() {
        warnings.push(Warning::new("This changes production."));
    }
    let networks_after: Vec<Cidr> = networks_now
        .iter()
        .copied()
        .filter(|network| Some(*network) != deleting)
        .collect();
    warnings.extend(lockout_warnings(
        (networks_now, entries_now),
        (&networks_after, entries_now.saturating_sub(1)),
        callers,
    ));
    warnings
}

/// One line of a bulk add, as applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BulkResult {
    pub line: usize,
    pub text: String,
    /// The entry added, or why the line was not.
    pub outcome: Result<Cidr, String>,
    /// The entry was sent and the API's answer is unknown: it may be on the list. Shown as such,
    /// never as "not added".
    #[serde(default)]
    pub unconfirmed: bool,
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    pub use crate::server::member::respond;

    use super::*;
    use std::{collections::HashMap, sync::Arc};

    use reqwest::Method;
    use serde_json::json;

    use crate::{
        api::{Lenient, Listed, Member},
        domain::ResourceId,
        server::{member::MemberRequest, upstream::paths},
    };

    fn cidr_field(input: &str) -> Result<Cidr, ApiError> {
        Cidr::parse(input).map_err(|error| {
            ApiError::Validation(vec![crate::api::FieldError {
                field: "cidr".to_owned(),
                message: error.to_string(),
            }])
        })
    }

    /// Members read to name who added entries (two pages of the API's 100): a larger team's
    /// other members are shown by id.
    const MAX_NAMED_MEMBERS: usize = 200;
    /// How long the names may take; the list never waits longer for them.
    const NAMES_BUDGET: std::time::Duration = std::time::Duration::from_secs(2);

    pub struct Current {
        pub request: MemberRequest,
        pub environment: EnvironmentRecord,
        /// The environment's id, fit for a path.
        pub environment_id: ResourceId,
        pub entries: Vec<AllowlistEntry>,
        pub entries_as_stored: Vec<OddRecord>,
        pub recent_callers: Section<CallerLog>,
    }

    impl Current {
        /// Refuses a change sent from a page that showed another environment's list (`shown`, the
        /// form's): the session moved on since, in another tab say, and the change would land
        /// where the member is not looking, checked against a list they have not seen. A caller
        /// that names none (the test harness, a script) is taken at its session's word.
        pub fn refuse_unless_shown(&self, shown: Option<&str>) -> Result<(), ApiError> {
            let Some(shown) = shown else {
                return Ok(());
            };
            let shown = EnvironmentSlug::parse(shown).map_err(|_| {
                ApiError::BadRequest(
                    "The form names no environment the dashboard knows.".to_owned(),
                )
            })?;
            if shown == self.environment.slug {
                return Ok(());
            }
            Err(ApiError::Conflict(format!(
                "This page showed the list of {shown}, but you have since switched to {} ({}), in another tab perhaps. Nothing was added: the page now shows the list of {}; look at it before adding to it.",
                self.environment.name,
                self.environment.slug.as_str(),
                self.environment.name,
            )))
        }

        /// What a change is checked against: the list and callers just read.
        pub fn change_check(&self) -> ChangeCheck {
            ChangeCheck::new(
                &self.entries,
                self.entries_as_stored.len(),
                &self.environment.slug,
                &self.recent_callers,
            )
        }
    }

    /// Whether a read of the list also reads the recent M2M callers: only a change that can lock
    /// someone out (add, bulk add, delete) reads them here, not an export or a description edit;
    /// the page reads them beside the list (`load_allowlist_view`).
    #[derive(Clone, Copy, PartialEq)]
    pub enum Callers {
        Read,
        Skip,
    }

    /// The member's current environment and its whole list (paged through; at most 500 entries).
    pub async fn current(callers: Callers) -> Result<Current, ApiError> {
        current_for(MemberRequest::current()?, callers).await
    }

    /// One API call (two with the callers, sent together): the session keeps the environment's
    /// id. Should the id it kept be stale (the list answers 404), the environments are listed and
    /// the read tried once more.
    pub async fn current_for(
        request: MemberRequest,
        callers: Callers,
    ) -> Result<Current, ApiError> {
        let mut environment = request.environment_record().await?;
        let mut environment_id = paths::id_from_api(&environment.id)?;
        let reads_log =
            callers == Callers::Read && request.may(crate::api::permissions::ACTIVITY_READ).await?;
        // Independent reads, sent together: the list, and who called lately (the preview).
        let (mut listed, mut recent_callers) = futures::join!(
            read_entries(&request, &environment_id),
            read_callers(&request, &environment_id, reads_log)
        );
        if matches!(listed, Err(ApiError::NotFound(_))) {
            let fresh = request.listed_environment_record().await?;
            if fresh.id != environment.id {
                environment = fresh;
                environment_id = paths::id_from_api(&environment.id)?;
                (listed, recent_callers) = futures::join!(
                    read_entries(&request, &environment_id),
                    read_callers(&request, &environment_id, reads_log)
                );
            }
        }
        let listed = listed?;
        let (mut entries, mut entries_as_stored) = (Vec::new(), Vec::new());
        for item in listed {
            match Listed::from(item) {
                Listed::Parsed(entry) => entries.push(entry),
                Listed::AsStored(record) => entries_as_stored.push(record),
            }
        }
        Ok(Current {
            request,
            environment,
            environment_id,
            entries,
            entries_as_stored,
            recent_callers,
        })
    }

    /// The fields of an activity entry that say who called from where and when: all the callers'
    /// preview reads of the log. Decoding whole entries (a description, a user agent, a `detail`
    /// tree each) for the 200 read on every render of the Security page was a tenth of its time.
    /// An entry missing one of these is skipped, not the log.
    #[derive(Deserialize)]
    struct CallEntry {
        actor_type: String,
        #[serde(default)]
        actor_id: Option<String>,
        #[serde(default)]
        ip_address: Option<String>,
        created_at: Timestamp,
    }

    impl crate::api::ShownAsStored for CallEntry {
        // Never shown: an entry that does not parse is left out of the preview.
        const FIELDS: &'static [&'static str] = &[];
    }

    /// The M2M clients that called the environment in the last days, one per client and
    /// address, newest call first: the activity log's entries by a machine actor with an address.
    /// One page of the log (its largest); a busier environment is previewed against its latest
    /// calls.
    pub async fn read_callers(
        request: &MemberRequest,
        environment_id: &ResourceId,
        reads_log: bool,
    ) -> Section<CallerLog> {
        if !reads_log {
            return None;
        }
        let since = time::OffsetDateTime::now_utc() - time::Duration::days(CALLERS_LOOKBACK_DAYS);
        let since = since
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let query = [
            ("environment_id", environment_id.as_str().to_owned()),
            ("date_from", since),
            ("limit", "200".to_owned()),
        ];
        let page = request
            .get::<crate::api::Page<Lenient<CallEntry>>>(paths::ACTIVITY, &query)
            .await;
        Some(page.map(|page| {
            // Fewer entries than the period holds: the callers are known back to the oldest.
            let partial = page.total > page.items.len() as u64;
            let mut callers: Vec<RecentCaller> = Vec::new();
            let mut oldest: Option<Timestamp> = None;
            for entry in page.items.into_iter().filter_map(Lenient::parsed) {
                let older = |moment| {
                    oldest
                        .as_ref()
                        .and_then(Timestamp::moment)
                        .is_none_or(|oldest| moment < oldest)
                };
                if entry.created_at.moment().is_some_and(older) {
                    oldest = Some(entry.created_at.clone());
                }
                let (Some(client_id), Some(address)) = (
                    entry
                        .actor_id
                        .filter(|_| is_machine_actor(&entry.actor_type)),
                    entry
                        .ip_address
                        .and_then(|address| address.parse::<std::net::IpAddr>().ok()),
                ) else {
                    continue;
                };
                // Newest first: the first entry of a client and address is its last call.
                if !callers
                    .iter()
                    .any(|seen| seen.client_id == client_id && seen.address == address)
                {
                    callers.push(RecentCaller {
                        client_id,
                        address,
                        last_call: entry.created_at,
                    });
                }
            }
            CallerLog {
                callers,
                partial,
                read_back_to: oldest.filter(|_| partial),
            }
        }))
    }

    async fn read_entries(
        request: &MemberRequest,
        environment_id: &ResourceId,
    ) -> Result<Vec<Lenient<AllowlistEntry>>, ApiError> {
        request
            .get_all(&paths::ip_allowlist(environment_id), &[], MAX_ENTRIES)
            .await
    }

    pub fn clean_description(description: Option<String>) -> Result<Option<String>, ApiError> {
        let description = description
            .map(|text| text.trim().to_owned())
            .filter(|text| !text.is_empty());
        if description
            .as_ref()
            .is_some_and(|text| text.chars().count() > MAX_DESCRIPTION)
        {
            return Err(ApiError::Validation(vec![super::super::FieldError {
                field: "description".to_owned(),
                message: format!("A description can be at most {MAX_DESCRIPTION} characters."),
            }]));
        }
        Ok(description)
    }

    pub async fn create(
        current: &Current,
        cidr: Cidr,
        description: Option<String>,
    ) -> Result<AllowlistEntry, ApiError> {
        current
            .request
            .send_for(
                Method::POST,
                &paths::ip_allowlist(&current.environment_id),
                Some(&json!({ "cidr": cidr, "description": description })),
            )
            .await
    }

    /// The members' names by user id, to say who added each entry. Whatever this cannot
    /// resolve (no `members:read`, a removed member, an M2M client, a failed or slow read) keeps
    /// the id the API stored: names are a courtesy, never a reason for the list to fail or wait.
    /// Remembered per platform (`crate::server::remembered`), so a list read costs one call;
    /// otherwise read beside the list, given at most [`NAMES_BUDGET`] and two pages of members.
    async fn member_names(
        request: &MemberRequest,
        held: &[String],
    ) -> Arc<HashMap<String, String>> {
        let members_read = crate::api::permissions::MEMBERS_READ;
        if !crate::api::permits(held, members_read) {
            return Arc::default();
        }
        let shared = crate::api::permissions::shares_remembered(held, members_read);
        let remembered = &request.bff().member_names;
        let platform = &request.member().organization_id;
        if let Some(names) = remembered.get(platform).filter(|_| shared) {
            return names;
        }
        let ticket = remembered.ticket();
        match tokio::time::timeout(NAMES_BUDGET, read_member_names(request)).await {
            Ok(Some(names)) => {
                let names = Arc::new(names);
                if shared {
                    remembered.remember(platform, ticket, names.clone());
                }
                names
            }
            Ok(None) => Arc::default(),
            Err(_) => {
                tracing::debug!("member names for the allowlist not read in time");
                Arc::default()
            }
        }
    }

    async fn read_member_names(request: &MemberRequest) -> Option<HashMap<String, String>> {
        match request
            .get_all::<Lenient<Member>>(paths::MEMBERS, &[], MAX_NAMED_MEMBERS)
            .await
        {
            // An odd member's calls show their id, as any caller not among the members.
            Ok(members) => Some(
                members
                    .into_iter()
                    .filter_map(Lenient::parsed)
                    .map(|member| (member.user_id.clone(), member.display_name()))
                    .collect(),
            ),
            Err(error) => {
                tracing::debug!(%error, "member names for the allowlist not read");
                None
            }
        }
    }

    pub async fn load_allowlist() -> Result<Allowlist, ApiError> {
        let request = MemberRequest::current()?;
        // The token's permissions, read once for both questions.
        let held = request.permissions().await?;
        let can_manage = crate::api::permits(&held, crate::api::permissions::SECURITY_MANAGE);
        let (current, names) = futures::join!(
            ssr::current_for(request.clone(), ssr::Callers::Skip),
            member_names(&request, &held)
        );
        let mut current = current?;
        for entry in &mut current.entries {
            entry.created_by_name = entry
                .created_by
                .as_ref()
                .and_then(|id| names.get(id).cloned());
        }
        Ok(Allowlist {
            environment: current.environment,
            entries: current.entries,
            entries_as_stored: current.entries_as_stored,
            can_manage,
        })
    }

    /// The Security page's two reads, together. The plain readers, not their server functions:
    /// a server function's failure sets the status of the reply it runs in, and the callers'
    /// failure is a section of this page, not the page's.
    pub async fn load_allowlist_view() -> Result<AllowlistView, ApiError> {
        let (allowlist, mut callers) = futures::join!(load_allowlist(), load_recent_callers());
        let allowlist = allowlist?;
        // The list's read found the environment id the session kept stale (and kept the fresh
        // one), or another tab switched environments in between: the callers are read once
        // more, now for the list's environment.
        if matches!(&callers, Ok(Some(read)) if !read.are_for(&allowlist)) {
            callers = load_recent_callers().await;
        }
        Ok(AllowlistView::new(allowlist, callers))
    }

    /// One call: the log read by the environment id the session keeps. `None` without
    /// `activity:read`.
    pub async fn load_recent_callers() -> Result<Option<RecentCallers>, ApiError> {
        let request = MemberRequest::current()?;
        if !request.may(crate::api::permissions::ACTIVITY_READ).await? {
            return Ok(None);
        }
        let environment = request.environment_record().await?;
        let environment_id = paths::id_from_api(&environment.id)?;
        let callers = ssr::read_callers(&request, &environment_id, true)
            .await
            .transpose()?;
        Ok(callers.map(|log| RecentCallers {
            environment_id: environment.id,
            log,
        }))
    }

    pub async fn add_allowlist_entry(
        cidr: String,
        description: Option<String>,
        confirm: Option<String>,
        environment: Option<String>,
    ) -> Result<AllowlistEntry, ApiError> {
        let cidr = cidr_field(&cidr)?;
        let description = ssr::clean_description(description)?;
        let current = ssr::current(ssr::Callers::Read).await?;
        current.refuse_unless_shown(environment.as_deref())?;
        match crate::domain::overlap(
            &cidr,
            &current
                .entries
                .iter()
                .map(|entry| entry.cidr)
                .collect::<Vec<_>>(),
        ) {
            crate::domain::Overlap::Duplicate => {
                return Err(ApiError::Conflict(format!(
                    "{cidr} is already on the list."
                )))
            }
            crate::domain::Overlap::CoveredBy(wider) => {
                return Err(ApiError::Conflict(format!(
                    "{cidr} is already allowed by {wider}."
                )))
            }
            _ => {}
        }
        let warnings = current.change_check().adding(&[cidr]);
        crate::server::member::require_confirmation(&warnings, confirm.as_deref())?;
        ssr::create(&current, cidr, description).await
    }

    pub async fn add_allowlist_entries(
        lines: String,
        confirm: Option<String>,
        environment: Option<String>,
    ) -> Result<Vec<BulkResult>, ApiError> {
        // Counted before anything is read or judged: judging is quadratic in the lines.
        if let Some(refusal) = too_many_lines(&lines) {
            return Err(ApiError::BadRequest(refusal));
        }
        let current = ssr::current(ssr::Callers::Read).await?;
        current.refuse_unless_shown(environment.as_deref())?;
        let check = current.change_check();
        let (parsed, warnings) = check.adding_lines(&lines);
        let adding = parsed.iter().filter(|line| line.outcome.is_ok()).count();
        if adding == 0 {
            return Err(ApiError::BadRequest(
                "No line holds a network that can be added.".to_owned(),
            ));
        }
        if check.entries() + adding > MAX_ENTRIES {
            return Err(ApiError::BadRequest(format!(
                "An environment holds at most {MAX_ENTRIES} entries."
            )));
        }
        crate::server::member::require_confirmation(&warnings, confirm.as_deref())?;
        let mut results = Vec::with_capacity(parsed.len());
        // Once the API has said "too many requests", or stopped answering, the lines after are
        // not sent: KeyStone's limit is a window per environment, so each would be refused too
        // (and spend the environment's budget, which its M2M clients share), and an API that is
        // down would make each wait out its timeout.
        let mut stopped: Option<String> = None;
        for line in parsed {
            let mut unconfirmed = false;
            let outcome = match line.outcome {
                Err(message) => Err(message),
                Ok(_) if stopped.is_some() => Err(stopped.clone().unwrap_or_default()),
                Ok((cidr, description)) => match ssr::clean_description(description) {
                    Err(error) => Err(error.to_string()),
                    Ok(description) => match ssr::create(&current, cidr, description).await {
                        Ok(entry) => Ok(entry.cidr),
                        Err(error) => {
                            stopped = not_sent_after(&error);
                            unconfirmed = error.may_have_applied();
                            Err(error.to_string())
                        }
                    },
                },
            };
            results.push(BulkResult {
                line: line.line,
                text: line.text,
                outcome,
                unconfirmed,
            });
        }
        Ok(results)
    }

    /// Why the lines after a failed create are not sent, when the failure means the next would
    /// fail too.
    fn not_sent_after(error: &ApiError) -> Option<String> {
        match error {
            ApiError::RateLimited {
                retry_after_seconds,
            } => Some(format!(
                "KeyStone's rate limit for this environment was reached before this line was \
                 sent. Add it again in {retry_after_seconds} seconds."
            )),
            ApiError::Unavailable { .. } => Some(
                "The KeyStone API stopped answering before this line was sent. Add it again once \
                 it is back."
                    .to_owned(),
            ),
            _ => None,
        }
    }

    pub async fn update_allowlist_description(
        id: String,
        description: Option<String>,
    ) -> Result<AllowlistEntry, ApiError> {
        let id = ResourceId::parse(&id)?;
        let description = ssr::clean_description(description)?;
        let current = ssr::current(ssr::Callers::Skip).await?;
        let path = paths::ip_allowlist_entry(&current.environment_id, &id);
        current
            .request
            .send_for(
                reqwest::Method::PATCH,
                &path,
                Some(&serde_json::json!({ "description": description })),
            )
            .await
    }

    pub async fn delete_allowlist_entry(
        id: String,
        confirm: Option<String>,
    ) -> Result<String, ApiError> {
        let entry_id = ResourceId::parse(&id)?;
        let current = ssr::current(ssr::Callers::Read).await?;
        let deleting = current
            .entries
            .iter()
            .find(|entry| entry.id == id)
            .map(|entry| entry.cidr);
        // An entry stored in a form the dashboard cannot parse can be deleted all the same.
        let network = deleting
            .map(|cidr| cidr.to_string())
            .or_else(|| {
                current
                    .entries_as_stored
                    .iter()
                    .find(|record| record.field("id") == id)
                    .map(|record| record.field("cidr").to_owned())
            })
            .ok_or_else(|| ApiError::NotFound("That entry is no longer on the list.".to_owned()))?;
        crate::server::member::require_confirmation(
            &current.change_check().deleting(deleting),
            confirm.as_deref(),
        )?;
        let path = paths::ip_allowlist_entry(&current.environment_id, &entry_id);
        current
            .request
            .send::<(), serde_json::Value>(reqwest::Method::DELETE, &path, None)
            .await?;
        Ok(network)
    }
}

/// The current environment's allowlist.
#[server(endpoint = "allowlist")]
pub async fn load_allowlist() -> Result<Allowlist, ApiError> {
    ssr::respond(ssr::load_allowlist().await)
}

/// The Security page: one page of the list's rows (`offset` rounded to a page's start), the whole
/// list's networks for the checks made in the browser, and the recent callers. The whole list is
/// read; only the rows shown go to the browser, on the first render and on every page turn.
#[server(endpoint = "allowlist/page")]
pub async fn load_allowlist_page(offset: u64) -> Result<AllowlistPage, ApiError> {
    ssr::respond(
        ssr::load_allowlist_view()
            .await
            .map(|view| view.page(offset)),
    )
}

/// The M2M clients that called the current environment lately (the lockout preview); `None`
/// without `activity:read`.
#[server(endpoint = "allowlist/callers")]
pub async fn load_recent_callers() -> Result<Option<RecentCallers>, ApiError> {
    ssr::respond(ssr::load_recent_callers().await)
}

/// Adds one network. Validated here again (the browser's check is a convenience, not a guard), and
/// refused unless the warnings it carries (first entry, everyone, production) were confirmed.
#[server(endpoint = "allowlist/add")]
pub async fn add_allowlist_entry(
    cidr: String,
    description: Option<String>,
    confirm: Option<String>,
    /// The slug of the environment whose list the form was shown with.
    environment: Option<String>,
) -> Result<AllowlistEntry, ApiError> {
    ssr::respond(ssr::add_allowlist_entry(cidr, description, confirm, environment).await)
}

/// Adds every good line of a pasted list; bad lines are reported and skipped, never guessed at.
#[server(endpoint = "allowlist/bulk")]
pub async fn add_allowlist_entries(
    lines: String,
    confirm: Option<String>,
    /// The slug of the environment whose list the form was shown with.
    environment: Option<String>,
) -> Result<Vec<BulkResult>, ApiError> {
    ssr::respond(ssr::add_allowlist_entries(lines, confirm, environment).await)
}

#[server(endpoint = "allowlist/describe")]
pub async fn update_allowlist_description(
    id: String,
    description: Option<String>,
) -> Result<AllowlistEntry, ApiError> {
    ssr::respond(ssr::update_allowlist_description(id, description).await)
}

/// Deletes an entry; the last one (which opens the environment to all) and any in production need
/// confirming.
#[server(endpoint = "allowlist/delete")]
pub async fn delete_allowlist_entry(
    id: String,
    confirm: Option<String>,
) -> Result<String, ApiError> {
    ssr::respond(ssr::delete_allowlist_entry(id, confirm).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slug(text: &str) -> EnvironmentSlug {
        EnvironmentSlug::parse(text).unwrap()
    }

    #[test]
    fn the_first_entry_everyone_and_production_need_confirming() {
        let office = Cidr::parse("203.0.113.0/24").unwrap();
        let everyone = Cidr::parse("::/0").unwrap();
        let staging = slug("staging");
        assert!(add_warnings(2, &[], &[office], &staging, Some(&[])).is_empty());
        let first = add_warnings(0, &[], &[office], &staging, Some(&[]));
        assert_eq!(first.len(), 1);
        assert!(first[0].text().contains("refused at once"));
        assert!(add_warnings(3, &[], &[everyone], &staging, Some(&[]))[0]
            .text()
            .contains("every IPv6 address"));
        assert_eq!(
            add_warnings(3, &[], &[office], &slug("production"), Some(&[])),
            [Warning::new("This changes production.")]
        );
    }

    #[test]
    fn the_last_entry_and_production_need_confirming_to_delete() {
        let staging = slug("staging");
        assert!(delete_warnings(2, &[], None, &staging, Some(&[])).is_empty());
        assert!(delete_warnings(1, &[], None, &staging, Some(&[]))[0]
            .text()
            .contains("every address"));
        assert_eq!(
            delete_warnings(4, &[], None, &slug("production"), Some(&[])).len(),
            1
        );
    }

    #[test]
    fn a_page_keeps_its_rows_and_the_whole_lists_checks() {
        let entry = |i: u64| AllowlistEntry {
            id: format!("e{i}"),
            cidr: Cidr::parse(&format!("10.0.{i}.0/24")).unwrap(),
            description: None,
            created_at: Timestamp::parse("2026-12-02T10:05:00Z"),
            created_by: None,
            created_by_name: None,
        };
        let odd = OddRecord {
            fields: vec![("cidr".to_owned(), "10.0.0.1/8".to_owned())],
            reason: "cidr: host bits set".to_owned(),
        };
        let view = AllowlistView::new(
            Allowlist {
                environment: EnvironmentRecord {
                    id: "env".to_owned(),
                    name: "Staging".to_owned(),
                    slug: slug("staging"),
                    is_active: true,
                },
                entries: (0..120).map(entry).collect(),
                entries_as_stored: vec![odd.clone()],
                can_manage: true,
            },
            Ok(None),
        );
        let ids = |page: &AllowlistPage| -> Vec<String> {
            page.rows
                .iter()
                .map(|row| match row {
                    Listed::Parsed(entry) => entry.id.clone(),
                    Listed::AsStored(record) => record.field("cidr").to_owned(),
                })
                .collect()
        };
        let second = view.clone().page(73);
        assert_eq!((second.offset, second.total), (50, 121));
        assert_eq!(
            ids(&second),
            (50..100).map(|i| format!("e{i}")).collect::<Vec<_>>()
        );
        // Past the end: the last page, where the entry shown as stored comes after the parsed.
        let last = view.clone().page(5_000);
        assert_eq!(last.offset, 100);
        assert_eq!(ids(&last).len(), 21);
        assert_eq!(ids(&last)[20], "10.0.0.1/8");
        // Every check is against the whole list, whichever page is shown.
        assert_eq!(second.change_check(), view.change_check());
        // Exactly two pages: past the end is the second, not an empty third.
        let mut two_pages = view.clone();
        two_pages.allowlist.entries.truncate(100);
        two_pages.allowlist.entries_as_stored.clear();
        assert_eq!(two_pages.clone().page(100).offset, 50);
        assert_eq!(two_pages.page(99).rows.len(), 50);
        // An empty list: one empty page.
        let mut empty = view;
        empty.allowlist.entries.clear();
        empty.allowlist.entries_as_stored.clear();
        let empty = empty.page(50);
        assert_eq!((empty.offset, empty.total, empty.rows.len()), (0, 0, 0));
    }

    fn caller(client_id: &str, address: &str) -> RecentCaller {
        RecentCaller {
            client_id: client_id.to_owned(),
            address: address.parse().unwrap(),
            last_call: Timestamp::parse("2026-12-02T10:05:00Z"),
        }
    }

    #[test]
    fn a_change_names_each_recent_caller_it_would_lock_out() {
        let staging = slug("staging");
        let office = Cidr::parse("203.0.113.0/24").unwrap();
        let lab = Cidr::parse("198.51.100.0/24").unwrap();
        let callers = [
            caller("billing-service", "203.0.113.7"),
            caller("reporting-job", "192.0.2.50"),
        ];
        // The first entry allows the office: the job calling from elsewhere is named.
        let first = add_warnings(0, &[], &[office], &staging, Some(&callers));
        assert_eq!(first.len(), 2, "{first:?}");
        assert_eq!(
            first[1].text(),
            "reporting-job would be refused: it last called from 192.0.2.50 at 2026-12-02 10:05:00 UTC."
        );
        // Adding to a list that already covers every caller names nobody.
        let covering = Cidr::parse("192.0.2.0/24").unwrap();
        assert!(add_warnings(2, &[office, covering], &[lab], &staging, Some(&callers)).is_empty());
        // A caller the list refuses already is not this change's doing: not named again.
        assert!(add_warnings(1, &[office], &[lab], &staging, Some(&callers)).is_empty());
        // Deleting the network a caller depends on names it; deleting the last entry opens the
        // list to all, so it names nobody.
        let without_office = delete_warnings(
            2,
            &[office, covering],
            Some(office),
            &staging,
            Some(&callers),
        );
        assert_eq!(without_office.len(), 1, "{without_office:?}");
        assert!(without_office[0]
            .text()
            .starts_with("billing-service would be refused"));
        assert_eq!(
            delete_warnings(1, &[covering], Some(covering), &staging, Some(&callers)).len(),
            1,
            "only the last-entry warning"
        );
        assert!(
            refused_callers(&[], 0, &callers).is_empty(),
            "an empty list refuses no one"
        );
    }

    #[test]
    fn a_log_read_in_part_is_said_with_each_change_that_could_lock_a_caller_out() {
        let staging = slug("staging");
        let office = Cidr::parse("203.0.113.0/24").unwrap();
        let home = Cidr::parse("198.51.100.0/24").unwrap();
        let read_in_part: Section<CallerLog> = Some(Ok(CallerLog {
            callers: vec![caller("billing", "203.0.113.9")],
            partial: true,
            read_back_to: Some(Timestamp::parse("2026-12-05T10:00:00Z")),
        }));
        let said = |warnings: Vec<Warning>| {
            warnings.iter().any(|warning| {
                warning
                    .text()
                    .contains("go back to 2026-12-05 10:00:00 UTC")
            })
        };
        let empty = ChangeCheck::new(&[], 0, &staging, &read_in_part);
        assert!(said(empty.adding(&[office])), "a first entry");
        let two = ChangeCheck::of_networks(vec![office, home], 2, &staging, &read_in_part);
        assert!(
            !said(two.adding(&[Cidr::parse("192.0.2.0/24").unwrap()])),
            "lets more in"
        );
        assert!(said(two.deleting(Some(home))), "the list stays restricted");
        let one = ChangeCheck::of_networks(vec![office], 1, &staging, &read_in_part);
        assert!(!said(one.deleting(Some(office))), "the list opens to all");
        let whole = Some(Ok(CallerLog {
            partial: false,
            ..read_in_part.clone().unwrap().unwrap()
        }));
        assert!(!said(
            ChangeCheck::new(&[], 0, &staging, &whole).adding(&[office])
        ));
        // The page read the log a moment before the server: the window moved, and what the
        // member confirmed still confirms the change.
        let moved_on: Section<CallerLog> = Some(Ok(CallerLog {
            read_back_to: Some(Timestamp::parse("2026-12-05T11:30:00Z")),
            ..read_in_part.clone().unwrap().unwrap()
        }));
        let on_the_page = ChangeCheck::new(&[], 0, &staging, &read_in_part).adding(&[office]);
        let on_the_server = ChangeCheck::new(&[], 0, &staging, &moved_on).adding(&[office]);
        assert!(crate::api::confirms(
            &crate::api::confirmation_code(&on_the_page),
            &on_the_server
        ));
        assert!(
            said(empty.any_addition()),
            "a first entry, before it is typed"
        );
    }

    #[test]
    fn a_change_check_counts_the_entries_it_cannot_parse_and_names_callers_only_for_a_network() {
        let staging = slug("staging");
        let office = Cidr::parse("203.0.113.0/24").unwrap();
        let callers: Section<CallerLog> = Some(Ok(CallerLog {
            callers: vec![caller("billing", "192.0.2.9")],
            partial: false,
            read_back_to: None,
        }));
        // One odd entry only: adding is not the first entry (and the list, which lets no one in
        // that it can read, refused billing already); deleting it is the last.
        let odd_only = ChangeCheck::new(&[], 1, &staging, &callers);
        assert_eq!(odd_only.adding(&[office]), []);
        assert!(odd_only.deleting(None)[0].text().contains("last entry"));
        // An empty list: before a network is typed, only what any first entry means.
        let empty = ChangeCheck::new(&[], 0, &staging, &callers);
        let before_typing = empty.any_addition();
        assert_eq!(before_typing.len(), 1, "{before_typing:?}");
        assert!(before_typing[0].text().contains("first entry"));
        assert_eq!(
            empty.adding(&[office]).len(),
            2,
            "the first entry, and billing"
        );
        // Pasted lines: judged line by line, warned about as a whole.
        let (lines, warnings) = empty.adding_lines("203.0.113.0/24\n10.0.0.0/33");
        assert_eq!(lines.len(), 2);
        assert_eq!(warnings, empty.adding(&[office]));
    }

    #[test]
    fn an_unreadable_entry_or_log_never_makes_the_preview_say_all_is_well() {
        let staging = slug("staging");
        let callers = [caller("billing-service", "203.0.113.7")];
        // One parsed entry and one the dashboard cannot read: deleting the parsed one leaves a
        // list that still restricts, so the caller outside it is named.
        let office_network = Cidr::parse("203.0.113.0/24").unwrap();
        let office = delete_warnings(
            2,
            &[office_network],
            Some(office_network),
            &staging,
            Some(&callers),
        );
        assert_eq!(office.len(), 1, "{office:?}");
        assert!(office[0]
            .text()
            .starts_with("billing-service would be refused"));
        // The log could not be read: the change says it is unchecked.
        let unchecked = add_warnings(
            1,
            &[],
            &[Cidr::parse("198.51.100.0/24").unwrap()],
            &staging,
            None,
        );
        assert_eq!(unchecked.len(), 1);
        assert!(
            unchecked[0].text().contains("could not be read"),
            "{unchecked:?}"
        );
        assert_eq!(
            checkable_callers(&Some(Err(ApiError::Internal))),
            None,
            "a failed read is not an empty one"
        );
        assert_eq!(checkable_callers(&None), Some(&[][..]));
    }
}
