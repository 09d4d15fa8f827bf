//! Turning stored bytes into values, repairing what can be repaired and saying so: text that is not UTF-8 is
//! read as Windows-1252 (what old WordPress databases hold), NUL characters (which Postgres refuses) are
//! dropped, zero dates (`0000-00-00`) become "unknown", numbers that do not parse are left empty.
//! Every repair adds a note, and the report lists it beside the row.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::source::Raw;

/// Windows-1252's characters for bytes 0x80–0x9F (the rest of the byte range is Latin-1).
const CP1252: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–',
    '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
];

fn cp1252(b: u8) -> char {
    match b {
        0x80..=0x9F => CP1252[(b - 0x80) as usize],
        _ => b as char,
    }
}

/// UTF-8 where it is UTF-8; each byte that is not read as Windows-1252.
fn mixed(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (good, rest) = bytes.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).unwrap_or_default());
                let bad = e.error_len().unwrap_or(rest.len());
                out.extend(rest[..bad].iter().map(|&b| cp1252(b)));
                bytes = &rest[bad..];
            }
        }
    }
}

/// Text of a value: UTF-8, else Windows-1252 (noted); NUL characters dropped (noted).
pub fn text(raw: &Raw, field: &str, notes: &mut Vec<String>) -> Option<String> {
    let bytes = raw.as_ref()?;
    let mut s = match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(e) => {
            notes.push(format!(
                "{field}: not UTF-8 (byte 0x{:02X} at {}); such bytes read as Windows-1252",
                bytes[e.valid_up_to()],
                e.valid_up_to()
            ));
            mixed(bytes)
        }
    };
    if s.contains('\0') {
        s.retain(|c| c != '\0');
        notes.push(format!("{field}: NUL characters removed"));
    }
    Some(s)
}

/// Trimmed text, None when empty.
pub fn text_nonempty(raw: &Raw, field: &str, notes: &mut Vec<String>) -> Option<String> {
    text(raw, field, notes).map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

pub fn int(raw: &Raw, field: &str, notes: &mut Vec<String>) -> Option<i64> {
    let s = text_nonempty(raw, field, notes)?;
    match s.parse::<i64>() {
        Ok(n) => Some(n),
        // DECIMAL columns and "1,200" style text.
        Err(_) => match s.replace(',', "").parse::<f64>() {
            Ok(f) if f.is_finite() && f.abs() < 9.0e18 => Some(f.round() as i64),
            _ => {
                notes.push(format!("{field}: “{}” is not a number; left empty", short(&s)));
                None
            }
        },
    }
}

pub fn float(raw: &Raw, field: &str, notes: &mut Vec<String>) -> Option<f64> {
    let s = text_nonempty(raw, field, notes)?;
    match s.trim_start_matches('$').replace(',', "").parse::<f64>() {
        Ok(f) if f.is_finite() => Some(f),
        _ => {
            notes.push(format!("{field}: “{}” is not a number; left empty", short(&s)));
            None
        }
    }
}

/// A DATETIME/DATE (taken as UTC). Zero dates and dates that do not parse are None, with a note.
pub fn date(raw: &Raw, field: &str, notes: &mut Vec<String>) -> Option<DateTime<Utc>> {
    let s = text_nonempty(raw, field, notes)?;
    if s.starts_with("0000-00-00") {
        notes.push(format!("{field}: zero date ({s}); the import time is used"));
        return None;
    }
    let parsed = NaiveDateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .or_else(|| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)));
    match parsed {
        Some(d) if d.and_utc().timestamp() > 0 => Some(d.and_utc()),
        _ => {
            notes.push(format!("{field}: “{}” is not a date; the import time is used", short(&s)));
            None
        }
    }
}

/// A comma- (or newline-) separated list, trimmed, without empties and case-insensitive repeats.
pub fn list(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in s.split([',', '\n', ';', '|']).map(str::trim).filter(|p| !p.is_empty()) {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(part)) {
            out.push(part.to_string());
        }
    }
    out
}

/// At most `n` characters (for report lines and length limits).
pub fn cut(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn short(s: &str) -> String {
    let c = cut(s, 40);
    if c.len() < s.len() { format!("{c}…") } else { c }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_and_nul_are_repaired_with_notes() {
        let mut notes = vec![];
        assert_eq!(text(&Some(b"caf\xe9 \x93quoted\x94".to_vec()), "keyword", &mut notes).unwrap(), "café “quoted”");
        assert_eq!(text(&Some(b"a\0b".to_vec()), "title", &mut notes).unwrap(), "ab");
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].starts_with("keyword: not UTF-8"));
        assert_eq!(text(&Some("ünïcode ✓".as_bytes().to_vec()), "x", &mut notes).unwrap(), "ünïcode ✓");
        // Valid UTF-8 stays as it is beside a stray byte.
        assert_eq!(text(&Some(b"old \xc3\xa9t \xc3".to_vec()), "x", &mut notes).unwrap(), "old ét Ã");
        assert_eq!(notes.len(), 3);
    }

    #[test]
    fn zero_and_bad_dates_are_unknown() {
        let mut notes = vec![];
        assert_eq!(date(&Some(b"0000-00-00 00:00:00".to_vec()), "created", &mut notes), None);
        assert_eq!(date(&Some(b"2023-13-45".to_vec()), "created", &mut notes), None);
        assert_eq!(date(&Some(b"2023-05-06 07:08:09".to_vec()), "created", &mut notes).unwrap().to_rfc3339(), "2023-05-06T07:08:09+00:00");
        assert_eq!(notes.len(), 2);
    }

    #[test]
    fn numbers_from_decimal_and_text() {
        let mut notes = vec![];
        assert_eq!(int(&Some(b"1,200".to_vec()), "volume", &mut notes), Some(1200));
        assert_eq!(int(&Some(b"12.6".to_vec()), "volume", &mut notes), Some(13));
        assert_eq!(int(&Some(b"lots".to_vec()), "volume", &mut notes), None);
        assert_eq!(float(&Some(b"$1.25".to_vec()), "cpc", &mut notes), Some(1.25));
        assert_eq!(notes.len(), 1);
        assert_eq!(list("a, B,,b , c\nd"), vec!["a", "B", "c", "d"]);
    }
}
