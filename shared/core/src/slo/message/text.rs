//! Text and numbers as messages print them: the one sanitiser that turns outside text
//! (alarm reasons and names, change names, stored SLO texts) into one safe quoted line, and
//! the number, count and time formats every output shares.

use chrono::{DateTime, SecondsFormat, Utc};

/// Longest outside text a message quotes, in characters: CloudWatch's own reasons (at most
/// 1,023) fit whole, a flood does not.
pub const MAX_QUOTED_CHARS: usize = 1024;

/// A character that must never reach a reader as it is: it breaks the line (control
/// characters, U+2028/U+2029), reorders what follows (bidi controls such as U+202E) or
/// hides itself (zero-width and tag characters), so text holding it could pose as ours.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}'                  // line and paragraph separators
            | '\u{061C}' | '\u{200E}' | '\u{200F}'   // bidi marks
            | '\u{202A}'..='\u{202E}'                // bidi embeddings and overrides
            | '\u{2066}'..='\u{2069}'                // bidi isolates
            | '\u{200B}'..='\u{200D}'                // zero-width space, (non-)joiner
            | '\u{2060}'..='\u{2064}'                // word joiner, invisible operators
            | '\u{FEFF}' | '\u{180E}'                // byte order mark, Mongolian vowel separator
            | '\u{FFF9}'..='\u{FFFB}'                // interlinear annotation
            | '\u{E0000}'..='\u{E007F}' // tag characters
        )
}

/// How a reader is told which unsafe character stood where: `\n`, `\t`, `\u{202e}`.
fn escape_char(c: char, out: &mut String) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
    }
}

/// Outside text as one quoted line: `"Threshold Crossed: ..."`, with `"` and `\` escaped,
/// every [`is_unsafe_char`] written as an escape, and at most [`MAX_QUOTED_CHARS`]
/// characters (a longer text ends `"...`). Nothing in it can end the line, the quote or
/// the reader's left-to-right order, so it can never pass for a line the composer wrote.
pub fn quoted(text: &str) -> String {
    quoted_at_most(text, MAX_QUOTED_CHARS)
}

/// [`quoted`] with room for only `max_chars` characters of the text (for subjects).
pub fn quoted_at_most(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars) + 2);
    out.push('"');
    let mut chars = text.chars();
    for c in chars.by_ref().take(max_chars) {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if is_unsafe_char(c) => escape_char(c, &mut out),
            c => out.push(c),
        }
    }
    out.push('"');
    if chars.next().is_some() {
        out.push_str("...");
    }
    out
}

/// Text we show unquoted (a URL, a name the loader checked) made safe all the same when it
/// comes back from storage: one line, unsafe characters escaped, at most [`MAX_QUOTED_CHARS`].
pub fn one_line(text: &str) -> String {
    if !text.chars().any(is_unsafe_char) && text.chars().count() <= MAX_QUOTED_CHARS {
        return text.to_string();
    }
    quoted(text)
}

/// RFC 3339 in UTC, seconds precision: the time format of every output.
pub fn rfc3339(t: i64) -> String {
    DateTime::<Utc>::from_timestamp(t, 0)
        .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| t.to_string())
}

/// A span of time in the unit that reads best: `45 min`, `29 h`, `6 d`.
pub fn relative(seconds: i64) -> String {
    let s = seconds.max(0);
    if s < 90 * 60 {
        format!("{} min", (s + 30) / 60)
    } else if s < 72 * 3600 {
        format!("{} h", (s + 1800) / 3600)
    } else {
        format!("{} d", (s + 43_200) / 86_400)
    }
}

/// A fraction as a percentage with `digits` decimals, `n/a` without a value; never `-0.0%`
/// (a value that rounds to zero has no sign). Takes an `f64` or an `Option<f64>`.
pub fn pct(x: impl Into<Option<f64>>, digits: usize) -> String {
    match x.into() {
        Some(v) if v.is_finite() => {
            let s = format!("{:.*}", digits, v * 100.0);
            let zero = s
                .trim_start_matches('-')
                .chars()
                .all(|c| c == '0' || c == '.');
            format!("{}%", if zero { s.trim_start_matches('-') } else { &s })
        }
        _ => "n/a".to_string(),
    }
}

/// A fraction as a table cell: a percentage, or "-" like every empty cell (the CLI's
/// tables and the report's).
pub fn pct_cell(x: Option<f64>, digits: usize) -> String {
    x.map_or_else(|| "-".into(), |v| pct(v, digits))
}

/// A burn rate as people read it: `126x`, `29.3x`, `3.36x`, `n/a` without data.
pub fn rate(x: Option<f64>) -> String {
    match x {
        None => "n/a".to_string(),
        Some(v) if v >= 100.0 => format!("{v:.0}x"),
        Some(v) if v >= 10.0 => format!("{v:.1}x"),
        Some(v) => format!("{v:.2}x"),
    }
}

/// A condition's trigger as people read it: `burn > 14.4x in both` (its windows), not `gt 14.4`.
pub fn fires_when(op: crate::slo::model::Op, threshold: f64) -> String {
    let t = format!("{threshold:.2}");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    format!("burn {} {t}x in both", op.symbol())
}

/// A count as people read it: thousands separated, at most one decimal when not whole
/// (round first for a whole number: `thousands(x.round())`).
pub fn thousands(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    let rounded = (x * 10.0).round() / 10.0;
    let whole = rounded.trunc().abs() as u64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    let frac = (rounded.abs() - whole as f64) * 10.0;
    if frac.round() >= 1.0 {
        out.push_str(&format!(".{}", frac.round() as u64));
    }
    if rounded < 0.0 {
        out.insert(0, '-');
    }
    out
}

/// A count and its noun as people write them: `1 problem`, `2 problems`, `1,204 SLOs`
/// (every noun sloguard counts takes an `s`).
pub fn count(n: usize, noun: &str) -> String {
    let s = if n == 1 { "" } else { "s" };
    format!("{} {noun}{s}", thousands(n as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_text_is_one_line_with_every_unsafe_character_escaped() {
        assert_eq!(quoted("Threshold Crossed"), "\"Threshold Crossed\"");
        assert_eq!(
            quoted("a\nRUNBOOK\r\n\tb"),
            "\"a\\nRUNBOOK\\r\\n\\tb\"",
            "line breaks and tabs are escapes"
        );
        assert_eq!(quoted("say \"hi\" \\o/"), "\"say \\\"hi\\\" \\\\o/\"");
        assert_eq!(
            quoted("ok\u{202E}lanigiro\u{2028}x\u{200B}\u{E0041}\u{85}"),
            "\"ok\\u{202e}lanigiro\\u{2028}x\\u{200b}\\u{e0041}\\u{85}\""
        );
        // Accents and other scripts are text, not hazards.
        assert_eq!(
            quoted("caf\u{e9} \u{65e5}\u{672c}"),
            "\"caf\u{e9} \u{65e5}\u{672c}\""
        );
    }

    #[test]
    fn quoted_text_is_capped_and_says_so() {
        let long = "r".repeat(400 * 1024);
        let q = quoted(&long);
        assert_eq!(q.len(), MAX_QUOTED_CHARS + 2 + 3);
        assert!(q.ends_with("\"..."), "{}", &q[q.len() - 10..]);
        assert_eq!(quoted_at_most("checkout-5xx-high", 8), "\"checkout\"...");
        assert_eq!(quoted_at_most("checkout", 8), "\"checkout\"");
    }

    #[test]
    fn one_line_leaves_clean_text_alone_and_quotes_the_rest() {
        let url = "https://runbooks.example.com/shop/checkout-errors";
        assert_eq!(one_line(url), url);
        assert_eq!(
            one_line("https://x.example/\nRUNBOOK"),
            "\"https://x.example/\\nRUNBOOK\""
        );
    }

    #[test]
    fn percentages_never_show_a_negative_zero() {
        assert_eq!(pct(Some(-0.000_01), 1), "0.0%");
        assert_eq!(pct(-0.0, 1), "0.0%");
        assert_eq!(pct(Some(-0.026), 1), "-2.6%");
        assert_eq!(pct(0.999, 3), "99.900%");
        assert_eq!(pct(None, 1), "n/a");
        assert_eq!(pct(f64::NAN, 1), "n/a");
        // Table cells (the CLI's and the report's) are the same numbers, "-" when empty.
        assert_eq!(pct_cell(Some(-0.000_01), 1), "0.0%");
        assert_eq!(pct_cell(None, 1), "-");
    }

    #[test]
    fn thousands_separate_and_keep_one_decimal() {
        assert_eq!(thousands(1_234_567.0), "1,234,567");
        assert_eq!(thousands(19_492.5), "19,492.5");
        assert_eq!(thousands(-1234.0), "-1,234");
        assert_eq!(thousands(-0.01), "0");
        assert_eq!(thousands(123.0), "123");
        assert_eq!(thousands(f64::INFINITY), "n/a");
    }

    #[test]
    fn counts_agree_with_their_number() {
        assert_eq!(count(0, "problem"), "0 problems");
        assert_eq!(count(1, "problem"), "1 problem");
        assert_eq!(count(2, "file"), "2 files");
        assert_eq!(count(1204, "SLO"), "1,204 SLOs");
    }
}
