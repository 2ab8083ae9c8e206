//! Text that comes from a peer (a Graph error message, a token endpoint's description, a
//! redirect's `Location`) made safe to print and to store: the secrets hunt sent are masked
//! (a peer may quote the request back), control characters are escaped (an ESC sequence must not
//! drive the terminal, a newline must not forge a line of hunt's own), and long texts are cut.
//!
//! Every peer text goes through [`Masks::clean`] once, where it enters hunt, so that whatever
//! prints, logs or stores it later (stderr, `--json`, the schedule state) never sees it raw.

/// The longest peer text kept, in characters; the rest is replaced by a note of its length.
pub const MAX_PEER_TEXT: usize = 500;

/// Shortest value worth masking: shorter ones would mask ordinary words, and no secret or token
/// hunt sends is that short.
const MIN_MASKED: usize = 8;

/// What replaces a masked secret.
pub const REDACTED: &str = "<redacted>";

/// Values that must never appear in a peer's text as hunt shows or stores it: the client secret,
/// the client assertion, the access token, each also in the encodings a peer may quote it in
/// (form-urlencoded, percent-encoded).
#[derive(Clone, Default)]
pub struct Masks(Vec<String>);

impl std::fmt::Debug for Masks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Masks({} values)", self.0.len())
    }
}

impl Masks {
    /// Masks nothing (texts are still escaped and cut).
    pub fn none() -> Masks {
        Masks(Vec::new())
    }

    /// Masks for `values` (values shorter than 8 characters are ignored).
    pub fn of<'a>(values: impl IntoIterator<Item = &'a str>) -> Masks {
        let mut masks = Masks::none();
        for v in values {
            masks.add(v);
        }
        masks
    }

    /// Adds `value` and its encodings.
    pub fn add(&mut self, value: &str) {
        if value.chars().count() < MIN_MASKED {
            return;
        }
        let form: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        let percent =
            percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        for v in [value.to_owned(), form, percent] {
            if !self.0.contains(&v) {
                self.0.push(v);
            }
        }
        // Longest first, so that a value containing another is masked whole.
        self.0.sort_by_key(|v| std::cmp::Reverse(v.len()));
    }

    /// `text` with every masked value replaced by `<redacted>` (case-insensitively for the
    /// percent-encoded forms, whose hex digits a peer may write in either case).
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for v in &self.0 {
            out = if v.contains('%') {
                replace_ignore_ascii_case(&out, v)
            } else {
                out.replace(v.as_str(), REDACTED)
            };
        }
        out
    }

    /// `text` masked, escaped and cut: ready to print on one line or store.
    pub fn clean(&self, text: &str) -> String {
        escape_and_cut(&self.mask(text), MAX_PEER_TEXT)
    }
}

fn replace_ignore_ascii_case(text: &str, needle: &str) -> String {
    let (hay, pat) = (text.to_ascii_lowercase(), needle.to_ascii_lowercase());
    if !hay.contains(&pat) {
        return text.to_owned();
    }
    // ASCII lowercasing keeps byte offsets, so positions found in `hay` hold in `text`.
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in hay.match_indices(&pat) {
        out.push_str(&text[last..at]);
        out.push_str(REDACTED);
        last = at + pat.len();
    }
    out.push_str(&text[last..]);
    out
}

/// Whether `c` must not reach a terminal as is: C0 and C1 controls, DEL, and the Unicode format
/// characters that reorder or hide text (bidi overrides and isolates, zero-width marks).
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        || c == '\u{feff}'
}

/// `text` with unsafe characters written as escapes (`\n`, `\t`, `\u{1b}`) and, past `max`
/// characters, cut with a note of how many were left out.
pub fn escape_and_cut(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max * 2));
    let mut chars = text.chars();
    for (kept, c) in chars.by_ref().enumerate() {
        if kept == max {
            let rest = 1 + chars.count();
            out.push_str(&format!("… [{rest} more characters]"));
            return out;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_raw_form_and_percent_encoded() {
        let secret = "Zq8~abc.DEF_ghi+jk/l=";
        let masks = Masks::of([secret, "short"]);
        let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        let text = format!("a {secret} b client_secret={form} c {}", form.to_lowercase());
        let masked = masks.mask(&text);
        assert!(!masked.contains("Zq8") && !masked.to_lowercase().contains("zq8"), "{masked}");
        assert_eq!(masked.matches(REDACTED).count(), 3, "{masked}");
        // Short values are not masks: they would hide ordinary words.
        assert_eq!(masks.mask("a short word"), "a short word");
        assert_eq!(Masks::none().mask(secret), secret);
        assert!(!format!("{masks:?}").contains("Zq8"));
    }

    #[test]
    fn control_characters_are_escaped_and_lines_kept_whole() {
        let hostile = "x\u{1b}]0;pwned\u{7}\u{1b}[2J\nerror: fake line\r\u{202e}txt\u{85}";
        let clean = Masks::none().clean(hostile);
        assert!(!clean.chars().any(is_unsafe), "{clean:?}");
        assert!(!clean.contains('\n') && !clean.contains('\u{1b}'), "{clean:?}");
        assert_eq!(
            clean,
            "x\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\nerror: fake line\\r\\u{202e}txt\\u{85}"
        );
        assert_eq!(Masks::none().clean("plain text: ünïcödé ok"), "plain text: ünïcödé ok");
    }

    #[test]
    fn long_texts_are_cut_with_the_count_left_out() {
        let long = "é".repeat(100_000);
        let clean = Masks::none().clean(&long);
        assert!(clean.starts_with(&"é".repeat(MAX_PEER_TEXT)));
        assert!(clean.ends_with(&format!("… [{} more characters]", 100_000 - MAX_PEER_TEXT)));
        let exact = "a".repeat(MAX_PEER_TEXT);
        assert_eq!(Masks::none().clean(&exact), exact);
    }

    #[test]
    fn masking_comes_before_cutting() {
        let token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.payload.sig";
        let text = format!("{}{token}", "x".repeat(MAX_PEER_TEXT - 10));
        let clean = Masks::of([token]).clean(&text);
        assert!(!clean.contains("eyJ0eXAi"), "{clean}");
    }
}
