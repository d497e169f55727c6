//! Which address a request came from. `X-Forwarded-For` (and a proxy's `X-Request-Id`) is believed
//! only when the TCP peer is a configured proxy: anyone else can write any header they like, and
//! the address feeds rate limits, the metrics allowlist and the logs.

use std::net::IpAddr;

use axum::http::HeaderMap;

use crate::domain::Cidr;

/// The client address as resolved by [`ProxyTrust::client_of`], stored in the request extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

#[derive(Clone, Debug, Default)]
pub struct ProxyTrust {
    proxies: Vec<Cidr>,
}

impl ProxyTrust {
    pub fn new(proxies: Vec<Cidr>) -> Self {
        Self { proxies }
    }

    pub fn trusts(&self, address: IpAddr) -> bool {
        self.proxies.iter().any(|proxy| proxy.contains(address))
    }

    /// The TCP peer, unless it is a trusted proxy: then the rightmost `X-Forwarded-For` hop that is
    /// not itself a trusted proxy. Hops left of that were written by the client and prove nothing.
    pub fn client_of(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        // An IPv4 client reached over a dual-stack socket shows as `::ffff:a.b.c.d`: one client,
        // one address, whichever way it came.
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        // Several headers count as one comma-separated list, in order (RFC 9110 §5.3).
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        for hop in hops.into_iter().rev() {
            match parse_hop(hop) {
                Some(address) => {
                    client = address;
                    if !self.trusts(address) {
                        break;
                    }
                }
                // Garbage from a trusted hop's client: stop at the last address we can vouch for.
                None => break,
            }
        }
        client
    }
}

/// One `X-Forwarded-For` hop: an address, or an address with a port (`198.51.100.7:4711`,
/// `[2001:db8::1]:443`), as some proxies write them; canonical, as the peer is.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| {
            hop.parse::<std::net::SocketAddr>()
                .ok()
                .map(|socket| socket.ip())
        })
        .or_else(|| {
            // `[2001:db8::1]` without a port.
            hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok()
        })
        .map(|address| address.to_canonical())
}

/// The key a per-client limit counts under: an IPv4 address as it is, an IPv6 address by its /64.
/// One IPv6 subscriber usually holds a whole /64 and can pick a new address per request.
pub fn rate_limit_key(client: IpAddr) -> IpAddr {
    match client.to_canonical() {
        IpAddr::V6(address) => {
            let bits = u128::from(address) & !((1u128 << 64) - 1);
            IpAddr::V6(std::net::Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn trust(list: &[&str]) -> ProxyTrust {
        ProxyTrust::new(list.iter().map(|cidr| cidr.parse().unwrap()).collect())
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let proxies = trust(&["10.0.0.0/8"]);
        let headers = forwarded(&["1.2.3.4"]);
        assert_eq!(
            proxies.client_of("203.0.113.9".parse().unwrap(), &headers),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            ProxyTrust::default().client_of("127.0.0.1".parse().unwrap(), &headers),
            "127.0.0.1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn a_trusted_chain_yields_the_rightmost_untrusted_hop() {
        let proxies = trust(&["10.0.0.0/8", "192.0.2.1"]);
        // The client forged "6.6.6.6"; the edge proxy appended the real 198.51.100.7.
        let headers = forwarded(&["6.6.6.6, 198.51.100.7", "192.0.2.1"]);
        assert_eq!(
            proxies.client_of("10.1.1.1".parse().unwrap(), &headers),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            proxies.client_of("10.1.1.1".parse().unwrap(), &forwarded(&["nonsense"])),
            "10.1.1.1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            proxies.client_of("10.1.1.1".parse().unwrap(), &HeaderMap::new()),
            "10.1.1.1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn ports_and_mapped_addresses_do_not_stop_the_walk() {
        let proxies = trust(&["10.0.0.0/8"]);
        assert_eq!(
            proxies.client_of(
                "10.1.1.1".parse().unwrap(),
                &forwarded(&["198.51.100.7:4711, 10.2.2.2:80"])
            ),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            proxies.client_of(
                "10.1.1.1".parse().unwrap(),
                &forwarded(&["[2001:db8::7]:443"])
            ),
            "2001:db8::7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            proxies.client_of(
                "::ffff:10.1.1.1".parse().unwrap(),
                &forwarded(&["::ffff:198.51.100.7"])
            ),
            "198.51.100.7".parse::<IpAddr>().unwrap(),
            "a mapped proxy is still the proxy, a mapped client still the client"
        );
    }

    #[test]
    fn ipv6_clients_are_limited_by_their_64() {
        let key = |text: &str| rate_limit_key(text.parse().unwrap());
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(
            key("198.51.100.7"),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(key("::ffff:198.51.100.7"), key("198.51.100.7"));
    }
}
