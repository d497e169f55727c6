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
        let mut client = peer;
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
            match hop.parse::<IpAddr>() {
                Ok(address) => {
                    client = address;
                    if !self.trusts(address) {
                        break;
                    }
                }
                // Garbage from a trusted hop's client: stop at the last address we can vouch for.
                Err(_) => break,
            }
        }
        client
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
}
