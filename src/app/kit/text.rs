//! Words and letters every page spells the same way.

/// "1 network", "3 networks", "0 networks".
pub fn count_of(count: u64, one: &str, many: &str) -> String {
    match count {
        1 => format!("1 {one}"),
        count => format!("{count} {many}"),
    }
}

/// The letters of an avatar: the first of (at most) two words.
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .collect::<String>()
        .to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_agree_with_their_noun() {
        assert_eq!(count_of(1, "network", "networks"), "1 network");
        assert_eq!(count_of(0, "network", "networks"), "0 networks");
        assert_eq!(count_of(12, "entry", "entries"), "12 entries");
    }

    #[test]
    fn initials_take_the_first_letters_of_two_words() {
        assert_eq!(initials("ada lovelace"), "AL");
        assert_eq!(initials("Grace Brewster Hopper"), "GB");
        assert_eq!(initials("Linus"), "L");
        assert_eq!(initials(""), "");
    }
}
