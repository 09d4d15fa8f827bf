//! Validation of keyword fields, for one CSV row or one form submission.
//!
//! These functions are the single place where keyword fields are checked, so the CSV import and the
//! add/edit keyword form accept exactly the same values. Each returns a reason the user can read
//! (the import prefixes it with the line number). Exports format numbers differently ("1,200",
//! "$1.25", "45%", "1K – 10K"), so the common forms are accepted rather than rejected.

use super::mapping::{Field, Mapping};

#[derive(Debug, Clone, PartialEq)]
pub struct KeywordRow {
    pub keyword: String,
    pub volume: Option<i32>,
    pub difficulty: Option<i16>,
    pub cpc: Option<f64>,
    pub intent: Option<&'static str>,
    pub country: Option<String>,
    pub sector: Option<String>,
}

pub const INTENTS: [&str; 4] = ["informational", "navigational", "commercial", "transactional"];
pub const KEYWORD_MAX: usize = 255;
const SECTOR_MAX: usize = 100;
const CELL_MAX: usize = 1000;
const VOLUME_MAX: u64 = 2_000_000_000;
const CPC_MAX: f64 = 10_000.0;
/// Ahrefs lists these next to real intents; they say nothing about intent, so they are skipped.
const NON_INTENTS: [&str; 4] = ["branded", "non-branded", "local", "non-local"];

/// Trims and collapses inner whitespace; rejects empty, over-long, control and unreadable characters.
pub fn keyword(raw: &str) -> Result<String, String> {
    let k = collapse(raw);
    let len = k.chars().count();
    if k.is_empty() {
        Err("keyword is empty".into())
    } else if len > KEYWORD_MAX {
        Err(format!("keyword is longer than {KEYWORD_MAX} characters (got {len})"))
    } else if k.chars().any(char::is_control) {
        Err("keyword contains a control character".into())
    } else if k.contains(char::REPLACEMENT_CHARACTER) {
        Err("keyword contains an unreadable character (�); save the file as UTF-8 and try again".into())
    } else {
        Ok(k)
    }
}

/// The uniqueness key: the normalised keyword in lowercase.
pub fn dedupe_key(keyword: &str) -> String {
    collapse(keyword).to_lowercase()
}

/// What a whole file's "already seen" set keeps instead of the keys themselves: the first 16 bytes of the key's
/// SHA-256. 20 bytes a row with its line instead of a string and its allocation, so the set for a 20 MB file stays
/// near 10 MB; two different keywords sharing a fingerprint is not a practical possibility (2^-128 per pair).
pub type Fingerprint = [u8; 16];

pub fn fingerprint(key: &str) -> Fingerprint {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(key.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

/// A whole number from 0 to 2,000,000,000. Accepts "1200", "1,200", "1 200", "1200.0" and "1.5K".
/// A Keyword Planner range such as "1K – 10K" gives its lower bound: the figure the data supports.
pub fn volume(raw: &str) -> Result<Option<i32>, String> {
    let s = raw.trim();
    if blank(s) {
        return Ok(None);
    }
    // A dash after the first character splits a range; a leading one is a minus sign.
    let range_dash = s.char_indices().skip(1).find(|&(_, c)| matches!(c, '-' | '–' | '—'));
    let low = range_dash.and_then(|(i, _)| s.get(..i)).unwrap_or(s).trim_end();
    let (negative, body) = low.strip_prefix('-').map_or((false, low), |rest| (true, rest));
    let body: String = body.chars().filter(|c| !matches!(c, ',' | ' ' | '\u{a0}' | '\u{202f}')).collect();
    let (digits, scale) = match body.strip_suffix(['k', 'K']) {
        Some(d) => (d, 3),
        None => body.strip_suffix(['m', 'M']).map_or((body.as_str(), 0), |d| (d, 6)),
    };
    let (int, frac) = decimal(digits).ok_or_else(|| format!("volume \"{s}\" is not a number"))?;
    // Shift the fraction into the integer by the suffix's scale: "1.5K" → "1500", leftover "" is whole.
    let (shifted, leftover) = frac.split_at(frac.len().min(scale));
    let whole = format!("{int}{shifted:0<scale$}");
    let value = match whole.trim_start_matches('0') {
        "" => 0,
        w if w.len() > 12 => u64::MAX,
        w => w.parse::<u64>().unwrap_or(u64::MAX),
    };
    let fractional = leftover.bytes().any(|b| b != b'0');
    if value > VOLUME_MAX || (negative && (value > 0 || fractional)) {
        return Err(format!("volume \"{s}\" is out of range (0 to 2,000,000,000)"));
    }
    if fractional {
        return Err(format!("volume \"{s}\" is not a whole number"));
    }
    Ok(i32::try_from(value).ok())
}

/// 0 to 100; accepts "45", "45.0" and "45%". Decimals are rounded ("45.5" → 46).
pub fn difficulty(raw: &str) -> Result<Option<i16>, String> {
    let s = raw.trim();
    if blank(s) {
        return Ok(None);
    }
    let value = number(s.strip_suffix('%').unwrap_or(s).trim_end()).ok_or_else(|| format!("difficulty \"{s}\" is not a number"))?;
    if !(0.0..=100.0).contains(&value) {
        return Err(format!("difficulty \"{s}\" is out of range (0 to 100)"));
    }
    Ok(Some(value.round() as i16))
}

/// 0 to 10,000, in the file's currency. Accepts "1.25", "$1.25", "1.25 USD", "1,234.50" and a decimal
/// comma ("€1,25") when there is no dot and at most two digits follow the comma.
pub fn cpc(raw: &str) -> Result<Option<f64>, String> {
    let s = raw.trim();
    if blank(s) {
        return Ok(None);
    }
    let (negative, body) = s.strip_prefix('-').map_or((false, s), |rest| (true, rest));
    let body: String = body
        .trim_matches(|c: char| c.is_whitespace() || c.is_ascii_alphabetic() || "$€£¥₹₩₽¢".contains(c))
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}'))
        .collect();
    let plain = match (body.rfind('.'), body.rfind(',')) {
        // "1.234,50": thousands dots and a decimal comma are too easy to misread; refuse them.
        (Some(dot), Some(comma)) if comma > dot => None,
        (None, Some(comma)) if body.matches(',').count() == 1 && (2..=3).contains(&(body.len() - comma)) => Some(body.replace(',', ".")),
        _ => Some(body.replace(',', "")),
    };
    let value = plain.as_deref().and_then(number).ok_or_else(|| format!("cpc \"{s}\" is not a number"))?;
    let value = if negative { -value } else { value };
    if !(0.0..=CPC_MAX).contains(&value) {
        return Err(format!("cpc \"{s}\" is out of range (0 to 10,000)"));
    }
    Ok(Some(value.abs())) // "-0" is 0, not -0
}

/// One of [`INTENTS`], case-insensitive, or its first letter. A list ("Informational, Commercial")
/// gives its first intent.
pub fn intent(raw: &str) -> Result<Option<&'static str>, String> {
    let items = raw.split([',', ';', '/', '|', '\n']).map(str::trim).filter(|i| !i.is_empty());
    for item in items {
        let lower = item.to_lowercase();
        if NON_INTENTS.contains(&lower.as_str()) {
            continue;
        }
        return INTENTS
            .into_iter()
            .find(|i| *i == lower || (lower.len() == 1 && i.starts_with(&lower)))
            .map(Some)
            .ok_or_else(|| format!("intent \"{item}\" is not one of {}", INTENTS.join(", ")));
    }
    Ok(None)
}

/// A two-letter country code, uppercased.
pub fn country(raw: &str) -> Result<Option<String>, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(Some(s.to_ascii_uppercase()))
    } else {
        Err(format!("country \"{s}\" must be a two-letter code such as US"))
    }
}

/// Free text up to 100 characters, whitespace collapsed.
pub fn sector(raw: &str) -> Result<Option<String>, String> {
    let s = collapse(raw);
    let len = s.chars().count();
    if s.is_empty() {
        Ok(None)
    } else if len > SECTOR_MAX {
        Err(format!("sector is longer than {SECTOR_MAX} characters (got {len})"))
    } else if s.chars().any(char::is_control) {
        Err("sector contains a control character".into())
    } else {
        Ok(Some(s))
    }
}

/// Validates one data row; the error is the first failing field's reason.
pub fn parse(fields: &[String], mapping: &Mapping) -> Result<KeywordRow, String> {
    let cell = |f: Field| mapping.columns.get(&f).and_then(|&i| fields.get(i)).map_or("", String::as_str);
    let keyword = keyword(cell(Field::Keyword))?;
    let keyword_column = mapping.columns.get(&Field::Keyword).copied();
    let too_long = |(i, c): (usize, &String)| Some(i) != keyword_column && c.chars().nth(CELL_MAX).is_some();
    if fields.iter().enumerate().any(too_long) {
        return Err("a cell is longer than 1,000 characters".into());
    }
    Ok(KeywordRow {
        keyword,
        volume: volume(cell(Field::Volume))?,
        difficulty: difficulty(cell(Field::Difficulty))?,
        cpc: cpc(cell(Field::Cpc))?,
        intent: intent(cell(Field::Intent))?,
        country: country(cell(Field::Country))?,
        sector: sector(cell(Field::Sector))?,
    })
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Exports write "-" or "n/a" where a number is unknown; that is a missing value, not an error.
fn blank(s: &str) -> bool {
    matches!(s, "" | "-" | "–" | "—") || s.eq_ignore_ascii_case("n/a")
}

/// Splits plain "123.45" into its digit runs; anything else (signs, exponents, "inf") is None.
fn decimal(s: &str) -> Option<(&str, &str)> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    (digits(int) && digits(frac) && !(int.is_empty() && frac.is_empty())).then_some((int, frac))
}

/// A plain decimal number, optionally negative.
fn number(s: &str) -> Option<f64> {
    decimal(s.strip_prefix('-').unwrap_or(s))?;
    s.parse().ok().filter(|v: &f64| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn fingerprints_follow_the_uniqueness_key() {
        assert_eq!(fingerprint(&dedupe_key("SEO  Tools")), fingerprint(&dedupe_key("seo tools")));
        assert_ne!(fingerprint(&dedupe_key("seo tools")), fingerprint(&dedupe_key("seo tool")));
    }

    #[test]
    fn keywords_are_normalised_and_checked() {
        assert_eq!(keyword("  seo \t tools\u{a0} "), Ok("seo tools".into()));
        assert_eq!(keyword(" \t "), Err("keyword is empty".into()));
        assert_eq!(keyword(&"é".repeat(255)).map(|k| k.chars().count()), Ok(255));
        assert_eq!(keyword(&"a".repeat(256)), Err("keyword is longer than 255 characters (got 256)".into()));
        assert!(keyword("seo\u{7}").is_err_and(|e| e.contains("control")));
        assert!(keyword("caf\u{fffd}").is_err_and(|e| e.contains("unreadable")));
        assert_eq!(dedupe_key("SEO  Tools"), "seo tools");
    }

    #[test]
    fn volumes() {
        for (raw, want) in [("1200", 1200), ("1,200", 1200), ("1 200", 1200), ("1200.0", 1200), ("0", 0)] {
            assert_eq!(volume(raw), Ok(Some(want)), "{raw}");
        }
        for (raw, want) in [("1K – 10K", 1000), ("100 - 1K", 100), ("1.5K", 1500), ("2M", 2_000_000)] {
            assert_eq!(volume(raw), Ok(Some(want)), "{raw}");
        }
        assert_eq!(volume(""), Ok(None));
        assert_eq!(volume("-"), Ok(None));
        assert_eq!(volume("abc"), Err("volume \"abc\" is not a number".into()));
        assert_eq!(volume("1e5"), Err("volume \"1e5\" is not a number".into()));
        assert_eq!(volume("-5"), Err("volume \"-5\" is out of range (0 to 2,000,000,000)".into()));
        assert!(volume("2000000001").is_err_and(|e| e.contains("out of range")));
        assert!(volume("99999999999999999999999").is_err_and(|e| e.contains("out of range")));
        assert_eq!(volume("2,000,000,000"), Ok(Some(2_000_000_000)));
        assert_eq!(volume("1.5"), Err("volume \"1.5\" is not a whole number".into()));
    }

    #[test]
    fn difficulties() {
        for (raw, want) in [("45", 45), ("45.0", 45), ("45%", 45), ("45 %", 45), ("0", 0), ("100", 100), ("45.5", 46)] {
            assert_eq!(difficulty(raw), Ok(Some(want)), "{raw}");
        }
        assert_eq!(difficulty(" "), Ok(None));
        assert_eq!(difficulty("high"), Err("difficulty \"high\" is not a number".into()));
        assert_eq!(difficulty("NaN"), Err("difficulty \"NaN\" is not a number".into()));
        assert_eq!(difficulty("101"), Err("difficulty \"101\" is out of range (0 to 100)".into()));
        assert!(difficulty("-1").is_err_and(|e| e.contains("out of range")));
    }

    #[test]
    fn cpcs() {
        let cases = [
            ("1.25", 1.25),
            ("$1.25", 1.25),
            ("€1,25", 1.25),
            ("1,5", 1.5),
            ("1,234.50", 1234.5),
            ("1,234", 1234.0),
            ("0.82 USD", 0.82),
            ("0", 0.0),
        ];
        for (raw, want) in cases {
            assert_eq!(cpc(raw), Ok(Some(want)), "{raw}");
        }
        assert_eq!(cpc(""), Ok(None));
        assert_eq!(cpc("abc"), Err("cpc \"abc\" is not a number".into()));
        assert_eq!(cpc("1.234,50"), Err("cpc \"1.234,50\" is not a number".into()));
        assert_eq!(cpc("-1"), Err("cpc \"-1\" is out of range (0 to 10,000)".into()));
        assert_eq!(cpc("$-1"), Err("cpc \"$-1\" is out of range (0 to 10,000)".into()));
        assert_eq!(cpc("-0").map(|v| v.map(f64::is_sign_positive)), Ok(Some(true)));
        assert_eq!(cpc("10001"), Err("cpc \"10001\" is out of range (0 to 10,000)".into()));
    }

    #[test]
    fn intents() {
        assert_eq!(intent("Informational"), Ok(Some("informational")));
        assert_eq!(intent("T"), Ok(Some("transactional")));
        assert_eq!(intent("Informational, Commercial"), Ok(Some("informational")));
        assert_eq!(intent("Branded, Navigational"), Ok(Some("navigational")));
        assert_eq!(intent(""), Ok(None));
        assert_eq!(intent("x"), Err("intent \"x\" is not one of informational, navigational, commercial, transactional".into()));
    }

    #[test]
    fn countries_and_sectors() {
        assert_eq!(country(" us "), Ok(Some("US".into())));
        assert_eq!(country(""), Ok(None));
        assert_eq!(country("USA"), Err("country \"USA\" must be a two-letter code such as US".into()));
        assert_eq!(sector("  Home   & Garden "), Ok(Some("Home & Garden".into())));
        assert_eq!(sector(""), Ok(None));
        assert_eq!(sector(&"x".repeat(101)), Err("sector is longer than 100 characters (got 101)".into()));
    }

    #[test]
    fn whole_rows() {
        let columns = BTreeMap::from([(Field::Keyword, 1), (Field::Volume, 0), (Field::Intent, 2), (Field::Country, 3)]);
        let mapping = Mapping { columns, headers: Vec::new(), header_line: 1, source: "CSV" };
        let row = |cells: &[&str]| parse(&cells.iter().map(|c| c.to_string()).collect::<Vec<_>>(), &mapping);
        let want = KeywordRow {
            keyword: "seo tools".into(),
            volume: Some(1200),
            difficulty: None,
            cpc: None,
            intent: Some("commercial"),
            country: Some("GB".into()),
            sector: None,
        };
        assert_eq!(row(&["1,200", " seo  tools ", "Commercial", "gb"]), Ok(want));
        assert_eq!(row(&["1,200"]), Err("keyword is empty".into()), "missing cells are empty");
        assert_eq!(row(&["abc", "seo", "", ""]), Err("volume \"abc\" is not a number".into()));
        let long = "x".repeat(1001);
        assert_eq!(row(&["1", "seo", "", "", &long]), Err("a cell is longer than 1,000 characters".into()));
        assert!(row(&["1", &long, "", ""]).is_err_and(|e| e.contains("255")));
    }
}
