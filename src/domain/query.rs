//! Query strings the dashboard writes into its own links.

/// Percent-encodes a query value: every byte but RFC 3986's unreserved characters, so a path or a
/// search term can never end the value early or add a parameter.
pub fn encode_component(value: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                encoded.push(byte as char)
            }
            other => {
                encoded.push('%');
                encoded.push(HEX[usize::from(other >> 4)] as char);
                encoded.push(HEX[usize::from(other & 0x0F)] as char);
            }
        }
    }
    encoded
}

/// `name=value&…` with every name and value encoded; empty values are left out.
pub fn query_string<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> String {
    pairs
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| format!("{}={}", encode_component(name), encode_component(&value)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_encoded_for_the_query() {
        assert_eq!(
            encode_component("/members?search=a b&x=1"),
            "%2Fmembers%3Fsearch%3Da%20b%26x%3D1"
        );
        assert_eq!(encode_component("ça"), "%C3%A7a");
    }

    #[test]
    fn empty_values_are_left_out() {
        assert_eq!(
            query_string([("search", "a&b".to_owned()), ("offset", String::new())]),
            "search=a%26b"
        );
    }
}
