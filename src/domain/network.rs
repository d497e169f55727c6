//! IP allowlist networks: parsing, canonical form, coverage and address checks. Shared by the
//! browser (validation as you type, "check an address") and the server (validation again before the
//! API is called), so both say exactly the same thing.

use std::{fmt, net::IpAddr, str::FromStr};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// A network in canonical form (no host bits set): `203.0.113.0/24`, `2001:db8::/32`, `10.0.0.1/32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cidr(IpNet);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    #[error("Enter an IP address or a network such as 203.0.113.0/24.")]
    Empty,
    #[error("“{0}” has host bits set. The network it belongs to is {1}.")]
    HostBitsSet(String, Cidr),
    #[error("“{0}” is not an IP address or a CIDR network (e.g. 203.0.113.7 or 2001:db8::/48).")]
    Invalid(String),
    #[error("The prefix length of “{0}” is too long (at most /32 for IPv4, /128 for IPv6).")]
    PrefixTooLong(String),
}

impl Cidr {
    /// Parses what a person typed. A bare address becomes a /32 or /128 network; a network with
    /// host bits set is refused with the canonical network named (so the UI can offer it).
    pub fn parse(input: &str) -> Result<Self, CidrError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(CidrError::Empty);
        }
        if let Ok(address) = input.parse::<IpAddr>() {
            return Ok(Self(IpNet::from(address)));
        }
        match input.parse::<IpNet>() {
            Ok(network) if network.trunc() == network => Ok(Self(network)),
            Ok(network) => Err(CidrError::HostBitsSet(
                input.to_owned(),
                Self(network.trunc()),
            )),
            Err(_) => match input.split_once('/') {
                Some((address, prefix))
                    if address.parse::<IpAddr>().is_ok() && prefix.parse::<u8>().is_ok() =>
                {
                    Err(CidrError::PrefixTooLong(input.to_owned()))
                }
                _ => Err(CidrError::Invalid(input.to_owned())),
            },
        }
    }

    /// The canonical network of `input`, host bits cleared (what the "use it" button offers).
    pub fn canonical_of(input: &str) -> Result<Self, CidrError> {
        match Self::parse(input) {
            Err(CidrError::HostBitsSet(_, canonical)) => Ok(canonical),
            other => other,
        }
    }

    pub fn network(&self) -> IpNet {
        self.0
    }

    pub fn is_ipv4(&self) -> bool {
        matches!(self.0, IpNet::V4(_))
    }

    /// `0.0.0.0/0` or `::/0`: an entry that lets every address of its family in.
    pub fn is_everyone(&self) -> bool {
        self.0.prefix_len() == 0
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        self.0.contains(&address)
    }

    /// True when every address of `other` is in `self` (including equal networks).
    pub fn covers(&self, other: &Cidr) -> bool {
        self.0.contains(&other.0)
    }

    /// How many addresses the network holds, for people: `256`, `65,536`, `2^80`.
    pub fn size_label(&self) -> String {
        let host_bits = u32::from(self.0.max_prefix_len() - self.0.prefix_len());
        if host_bits <= 32 {
            super::group_thousands(1u64 << host_bits)
        } else {
            format!("2^{host_bits}")
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for Cidr {
    type Err = CidrError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

impl TryFrom<String> for Cidr {
    type Error = CidrError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Cidr> for String {
    fn from(value: Cidr) -> Self {
        value.to_string()
    }
}

/// How a new network relates to the networks already on the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Overlap {
    None,
    /// The same network is already there.
    Duplicate,
    /// An existing, wider entry already allows every address of it.
    CoveredBy(Cidr),
    /// It would make these narrower existing entries redundant.
    Covers(Vec<Cidr>),
}

pub fn overlap(candidate: &Cidr, existing: &[Cidr]) -> Overlap {
    if existing.contains(candidate) {
        return Overlap::Duplicate;
    }
    if let Some(wider) = existing.iter().find(|entry| entry.covers(candidate)) {
        return Overlap::CoveredBy(*wider);
    }
    let narrower: Vec<Cidr> = existing
        .iter()
        .filter(|entry| candidate.covers(entry))
        .copied()
        .collect();
    if narrower.is_empty() {
        Overlap::None
    } else {
        Overlap::Covers(narrower)
    }
}

/// The outcome of "check an address" against a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddressCheck {
    /// The list is empty: every address is allowed.
    OpenToAll,
    /// Allowed by this entry (the narrowest one that contains it).
    AllowedBy(Cidr),
    Refused,
}

pub fn check_address(address: IpAddr, entries: &[Cidr]) -> AddressCheck {
    if entries.is_empty() {
        return AddressCheck::OpenToAll;
    }
    entries
        .iter()
        .filter(|entry| entry.contains(address))
        .max_by_key(|entry| entry.network().prefix_len())
        .map_or(AddressCheck::Refused, |entry| {
            AddressCheck::AllowedBy(*entry)
        })
}

/// One line of a pasted bulk list: `network[,| ]description`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BulkLine {
    pub line: usize,
    pub text: String,
    pub outcome: Result<(Cidr, Option<String>), String>,
}

/// The most entries an environment's allowlist holds [doc].
pub const MAX_ALLOWLIST_ENTRIES: usize = 500;

/// The most lines one bulk add judges and sends: as many as an environment holds. Each line is checked against the list and every line before it, so the work grows
/// with the square of the lines: without a bound, one paste of the largest body the server takes
/// would hold a worker for minutes.
pub const MAX_BULK_LINES: usize = MAX_ALLOWLIST_ENTRIES;

/// The lines of a paste that hold something: not blank, not a `#` comment; with their numbers.
fn bulk_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
}

/// How many lines of a paste hold something (see [`MAX_BULK_LINES`]).
pub fn count_bulk_lines(text: &str) -> usize {
    bulk_lines(text).count()
}

/// Parses pasted lines; blank lines and `#` comments are skipped. Each line is judged on its own
/// and against the list and the lines before it (duplicates are reported, not added twice). Only
/// the first [`MAX_BULK_LINES`] are judged.
pub fn parse_bulk(text: &str, existing: &[Cidr]) -> Vec<BulkLine> {
    let mut seen: Vec<Cidr> = existing.to_vec();
    bulk_lines(text)
        .take(MAX_BULK_LINES)
        .map(|(index, line)| {
            let trimmed = line.trim();
            let (network, description) = match trimmed.find([',', ' ', '\t']) {
                Some(at) => (
                    &trimmed[..at],
                    Some(trimmed[at + 1..].trim().trim_matches('"').to_owned()),
                ),
                None => (trimmed, None),
            };
            let outcome = Cidr::parse(network)
                .map_err(|error| error.to_string())
                .and_then(|cidr| match overlap(&cidr, &seen) {
                    Overlap::Duplicate => Err(format!("{cidr} is already on the list.")),
                    Overlap::CoveredBy(wider) => {
                        Err(format!("{cidr} is already allowed by {wider}."))
                    }
                    Overlap::None | Overlap::Covers(_) => {
                        seen.push(cidr);
                        Ok((cidr, description.filter(|text| !text.is_empty())))
                    }
                });
            BulkLine {
                line: index + 1,
                text: trimmed.to_owned(),
                outcome,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(text: &str) -> Cidr {
        Cidr::parse(text).unwrap()
    }

    #[test]
    fn bare_addresses_become_single_address_networks() {
        assert_eq!(cidr("203.0.113.7").to_string(), "203.0.113.7/32");
        assert_eq!(cidr(" 2001:db8::1 ").to_string(), "2001:db8::1/128");
        assert_eq!(cidr("10.0.0.0/8").to_string(), "10.0.0.0/8");
        assert_eq!(cidr("2001:DB8:AC3E::/48").to_string(), "2001:db8:ac3e::/48");
    }

    #[test]
    fn host_bits_are_refused_with_the_canonical_network_named() {
        let error = Cidr::parse("10.1.2.3/8").unwrap_err();
        assert_eq!(
            error,
            CidrError::HostBitsSet("10.1.2.3/8".into(), cidr("10.0.0.0/8"))
        );
        assert!(error.to_string().contains("10.0.0.0/8"));
        assert_eq!(
            Cidr::canonical_of("2001:db8::1/32").unwrap(),
            cidr("2001:db8::/32")
        );
    }

    #[test]
    fn invalid_input_gets_a_specific_message() {
        assert_eq!(Cidr::parse("  "), Err(CidrError::Empty));
        assert_eq!(
            Cidr::parse("10.0.0.0/33"),
            Err(CidrError::PrefixTooLong("10.0.0.0/33".into()))
        );
        assert_eq!(
            Cidr::parse("300.1.1.1"),
            Err(CidrError::Invalid("300.1.1.1".into()))
        );
        assert_eq!(
            Cidr::parse("office"),
            Err(CidrError::Invalid("office".into()))
        );
        assert!(Cidr::parse("10.0.0.0/8/8").is_err());
    }

    #[test]
    fn everyone_networks_are_recognised() {
        assert!(cidr("0.0.0.0/0").is_everyone());
        assert!(cidr("::/0").is_everyone());
        assert!(!cidr("0.0.0.0/1").is_everyone());
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(cidr("10.0.0.1").size_label(), "1");
        assert_eq!(cidr("203.0.113.0/24").size_label(), "256");
        assert_eq!(cidr("10.0.0.0/8").size_label(), "16,777,216");
        assert_eq!(cidr("0.0.0.0/0").size_label(), "4,294,967,296");
        assert_eq!(cidr("2001:db8:ac3e::/48").size_label(), "2^80");
    }

    #[test]
    fn overlaps_are_classified() {
        let list = [cidr("203.0.113.0/24"), cidr("198.51.100.17")];
        assert_eq!(overlap(&cidr("203.0.113.0/24"), &list), Overlap::Duplicate);
        assert_eq!(
            overlap(&cidr("203.0.113.9"), &list),
            Overlap::CoveredBy(cidr("203.0.113.0/24"))
        );
        assert_eq!(
            overlap(&cidr("198.51.100.0/24"), &list),
            Overlap::Covers(vec![cidr("198.51.100.17")])
        );
        assert_eq!(overlap(&cidr("192.0.2.0/24"), &list), Overlap::None);
        assert_eq!(
            overlap(&cidr("::/0"), &list),
            Overlap::None,
            "IPv6 never covers IPv4"
        );
    }

    #[test]
    fn checking_an_address_names_the_narrowest_entry() {
        let list = [
            cidr("10.0.0.0/8"),
            cidr("10.1.0.0/16"),
            cidr("2001:db8::/32"),
        ];
        let check = |address: &str| check_address(address.parse().unwrap(), &list);
        assert_eq!(
            check("10.1.2.3"),
            AddressCheck::AllowedBy(cidr("10.1.0.0/16"))
        );
        assert_eq!(
            check("10.9.9.9"),
            AddressCheck::AllowedBy(cidr("10.0.0.0/8"))
        );
        assert_eq!(
            check("2001:db8::5"),
            AddressCheck::AllowedBy(cidr("2001:db8::/32"))
        );
        assert_eq!(check("192.0.2.1"), AddressCheck::Refused);
        assert_eq!(
            check_address("192.0.2.1".parse().unwrap(), &[]),
            AddressCheck::OpenToAll
        );
    }

    #[test]
    fn only_the_lines_one_add_takes_are_judged() {
        let text: String = (0..MAX_BULK_LINES + 100)
            .map(|n| format!("# comment\n\n10.{}.{}.1\n", n / 256, n % 256))
            .collect();
        assert_eq!(count_bulk_lines(&text), MAX_BULK_LINES + 100);
        let judged = parse_bulk(&text, &[]);
        assert_eq!(judged.len(), MAX_BULK_LINES);
        assert_eq!(judged.last().unwrap().line, 3 * MAX_BULK_LINES);
    }

    #[test]
    fn bulk_lines_are_judged_one_by_one() {
        let existing = [cidr("203.0.113.0/24")];
        let lines = parse_bulk(
            "# office and VPN\n192.0.2.10, office\n\n10.0.0.0/33\n203.0.113.5 old office\n192.0.2.10\n2001:db8::/48\t\"VPN, EU\"\n",
            &existing,
        );
        let outcomes: Vec<(usize, bool)> = lines
            .iter()
            .map(|line| (line.line, line.outcome.is_ok()))
            .collect();
        assert_eq!(
            outcomes,
            [(2, true), (4, false), (5, false), (6, false), (7, true)]
        );
        assert_eq!(
            lines[0].outcome,
            Ok((cidr("192.0.2.10"), Some("office".to_owned())))
        );
        assert!(lines[2]
            .outcome
            .as_ref()
            .unwrap_err()
            .contains("already allowed by 203.0.113.0/24"));
        assert!(lines[3]
            .outcome
            .as_ref()
            .unwrap_err()
            .contains("already on the list"));
        assert_eq!(
            lines[4].outcome,
            Ok((cidr("2001:db8::/48"), Some("VPN, EU".to_owned())))
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn any_network() -> impl Strategy<Value = IpNet> {
            prop_oneof![
                (any::<u32>(), 0u8..=32).prop_map(|(bits, prefix)| {
                    IpNet::new(IpAddr::from(bits.to_be_bytes()), prefix).unwrap()
                }),
                (any::<u128>(), 0u8..=128).prop_map(|(bits, prefix)| {
                    IpNet::new(IpAddr::from(bits.to_be_bytes()), prefix).unwrap()
                }),
            ]
        }

        proptest! {
            #[test]
            fn canonicalisation_is_idempotent(network in any_network()) {
                let once = Cidr::canonical_of(&network.to_string()).unwrap();
                let twice = Cidr::canonical_of(&once.to_string()).unwrap();
                prop_assert_eq!(once, twice);
                prop_assert_eq!(Cidr::parse(&once.to_string()), Ok(once));
                prop_assert_eq!(once.network(), network.trunc());
            }

            #[test]
            fn covers_agrees_with_ipnet(a in any_network(), b in any_network()) {
                let (a, b) = (Cidr::canonical_of(&a.to_string()).unwrap(), Cidr::canonical_of(&b.to_string()).unwrap());
                prop_assert_eq!(a.covers(&b), a.network().contains(&b.network()));
                // Covering is the same as containing both ends of the other network.
                let ends = a.network().contains(&b.network().network()) && a.network().contains(&b.network().broadcast());
                prop_assert_eq!(a.covers(&b), ends);
            }

            #[test]
            fn an_allowed_address_is_inside_its_entry(network in any_network(), address in any::<u32>()) {
                let entry = Cidr::canonical_of(&network.to_string()).unwrap();
                let address = IpAddr::from(address.to_be_bytes());
                match check_address(address, &[entry]) {
                    AddressCheck::AllowedBy(found) => prop_assert!(found.network().contains(&address)),
                    AddressCheck::Refused => prop_assert!(!entry.network().contains(&address)),
                    AddressCheck::OpenToAll => prop_assert!(false, "a non-empty list"),
                }
            }
        }
    }
}
