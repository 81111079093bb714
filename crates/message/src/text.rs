//! Canonical text for comparisons: c-client compares SEARCH strings and
//! SORT/THREAD subjects after decomposing (compatibility decomposition) and
//! case folding them (its `U8T_CANONICAL`), so `Déclaration` sorts before
//! `Duplicate` and a precomposed `é` matches a decomposed one.

use unicode_normalization::UnicodeNormalization;

/// The canonical form: NFKD, then upper case.
pub fn canonical(s: &str) -> String {
    s.nfkd().flat_map(char::to_uppercase).collect()
}

/// Case-insensitive substring test on canonical text, the SEARCH
/// primitive. An empty needle matches.
pub fn contains_ci(haystack: &str, needle: &str) -> bool {
    needle.is_empty() || canonical(haystack).contains(&canonical(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_decomposes_and_upcases() {
        assert!(canonical("Déclaration") < canonical("Duplicate"));
        assert!(contains_ci("D\u{e9}j\u{e0} vu", "de\u{301}ja\u{300}"));
        assert!(contains_ci("Grüße", "GRÜSSE") || contains_ci("Grüße", "grüße"));
        assert!(!contains_ci("abc", "abd"));
    }
}
