//! What "blank" means, once for every text the service takes (message texts, chat and model
//! names, e-mail addresses): white space as JavaScript's `String.prototype.trim` sees it, the
//! app's rule. That is Unicode White_Space plus the byte-order mark U+FEFF, which Rust's
//! `char::is_whitespace` and `str::trim` leave out.

/// Whether `c` is white space to JavaScript's `trim`.
pub fn is_blank_char(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

/// Whether `text` holds nothing but white space (or nothing at all).
pub fn is_blank(text: &str) -> bool {
    text.chars().all(is_blank_char)
}

/// `text` without white space at either end, as JavaScript's `trim` returns it.
pub fn trim(text: &str) -> &str {
    text.trim_matches(is_blank_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_order_mark_is_white_space_like_in_javascript() {
        for blank in [
            "",
            " ",
            "\t\n\r",
            "\u{a0}\u{2003}",
            "\u{feff}",
            " \u{feff}\u{3000}",
        ] {
            assert!(is_blank(blank), "{blank:?}");
            assert_eq!(trim(blank), "", "{blank:?}");
        }
        assert_eq!(trim("\u{feff} a b\u{feff}\n"), "a b");
        assert!(!is_blank("\u{feff}a"));
    }
}
