//! Validation of keyword fields, for one CSV row or one form submission.
//!
//! These functions are the single place where keyword fields are checked, so the CSV import and the
//! add/edit keyword form accept exactly the same values. Each returns a reason the user can read
//! (the import prefixes it with the line number). Exports format numbers differently ("1,200",
//! "$1.25", "45%", "1K – 10K"), so the common forms are accepted rather than rejected.

use super::mapping::{Field, Mapping};
use crate::modules::planner::keywords::filter::KeywordStatus;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct KeywordRow {
    pub keyword: String,
    pub volume: Option<i32>,
    /// The upper bound of an estimated range ("1K – 10K"); `volume` holds the lower one.
    pub volume_high: Option<i32>,
    pub difficulty: Option<i16>,
    pub cpc: Option<f64>,
    /// Every intent the row names, in its order, each once.
    pub intents: Vec<&'static str>,
    pub country: Option<String>,
    pub sector: Option<String>,
    pub parent_keyword: Option<String>,
    pub clicks: Option<i32>,
    pub impressions: Option<i32>,
    /// Click-through rate in percent.
    pub ctr: Option<f64>,
    pub position: Option<f64>,
    pub competition: Option<&'static str>,
    pub competition_index: Option<i16>,
    pub bid_low: Option<f64>,
    pub bid_high: Option<f64>,
    /// A cluster by name: the workspace's cluster of that name, made by the import when there is none.
    pub cluster: Option<String>,
    pub status: Option<KeywordStatus>,
    /// What was left out of the row and why; the row is imported without it.
    pub notes: Vec<String>,
}

pub const INTENTS: [&str; 4] = ["informational", "navigational", "commercial", "transactional"];
pub const COMPETITION: [&str; 3] = ["low", "medium", "high"];
pub const KEYWORD_MAX: usize = 255;
const SECTOR_MAX: usize = 100;
const CLUSTER_MAX: usize = 200;
const CELL_MAX: usize = 1000;
const VOLUME_MAX: u64 = 2_000_000_000;
const CPC_MAX: f64 = 10_000.0;
const POSITION_MAX: f64 = 10_000.0;
/// Ahrefs lists these next to real intents; they say nothing about intent, so they are skipped.
const NON_INTENTS: [&str; 4] = ["branded", "non-branded", "local", "non-local"];

/// Characters that show nothing but make two equal-looking keywords differ: zero-width spaces and joiners, the
/// word joiner, a stray byte-order mark, and the bidirectional controls.
fn invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Text as stored: invisible characters removed, composed (NFC, so a decomposed "café" is the composed one),
/// whitespace trimmed and collapsed. The keyword form, the API and the import all clean keywords here.
pub fn clean_text(raw: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let composed: String = raw.chars().filter(|c| !invisible(*c)).nfc().collect();
    collapse(&composed)
}

/// Cleans ([`clean_text`]); rejects empty, over-long, control and unreadable characters.
pub fn keyword(raw: &str) -> Result<String, String> {
    let k = clean_text(raw);
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

/// The uniqueness key: the cleaned keyword in lowercase.
pub fn dedupe_key(keyword: &str) -> String {
    clean_text(keyword).to_lowercase()
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
/// A Keyword Planner range such as "1K – 10K" gives its lower bound (see [`volume_range`] for both).
pub fn volume(raw: &str) -> Result<Option<i32>, String> {
    volume_range(raw).map(|(low, _)| low)
}

/// A volume and, for a range ("1K – 10K", an estimate), its upper bound too.
pub fn volume_range(raw: &str) -> Result<(Option<i32>, Option<i32>), String> {
    let s = raw.trim();
    if blank(s) {
        return Ok((None, None));
    }
    // A dash after the first character splits a range; a leading one is a minus sign.
    let Some((i, dash)) = s.char_indices().skip(1).find(|&(_, c)| matches!(c, '-' | '–' | '—')) else {
        return Ok((whole("volume", s)?, None));
    };
    let (low, high) = (s.get(..i).unwrap_or("").trim_end(), s.get(i + dash.len_utf8()..).unwrap_or("").trim_start());
    let low = whole("volume", low)?;
    let high = whole("volume", high).map_err(|_| format!("volume \"{s}\" is not a number or a range such as 1K – 10K"))?;
    if high < low {
        return Err(format!("volume range \"{s}\" ends below its start"));
    }
    Ok((low, high))
}

/// A whole number from 0 to 2,000,000,000 with thousands separators and K/M suffixes; `name` is for the message.
fn whole(name: &str, raw: &str) -> Result<Option<i32>, String> {
    let s = raw.trim();
    if blank(s) {
        return Ok(None);
    }
    let (negative, body) = s.strip_prefix('-').map_or((false, s), |rest| (true, rest));
    let body: String = body.chars().filter(|c| !matches!(c, ',' | ' ' | '\u{a0}' | '\u{202f}')).collect();
    let (digits, scale) = match body.strip_suffix(['k', 'K']) {
        Some(d) => (d, 3),
        None => body.strip_suffix(['m', 'M']).map_or((body.as_str(), 0), |d| (d, 6)),
    };
    let (int, frac) = decimal(digits).ok_or_else(|| format!("{name} \"{s}\" is not a number"))?;
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
        return Err(format!("{name} \"{s}\" is out of range (0 to 2,000,000,000)"));
    }
    if fractional {
        return Err(format!("{name} \"{s}\" is not a whole number"));
    }
    Ok(i32::try_from(value).ok())
}

/// 0 to 100; accepts "45", "45.0" and "45%". Decimals are rounded ("45.5" → 46).
pub fn difficulty(raw: &str) -> Result<Option<i16>, String> {
    score("difficulty", raw)
}

/// A 0–100 score (difficulty, Keyword Planner's competition index); `name` is for the message.
fn score(name: &str, raw: &str) -> Result<Option<i16>, String> {
    let s = raw.trim();
    if blank(s) {
        return Ok(None);
    }
    let value = number(s.strip_suffix('%').unwrap_or(s).trim_end()).ok_or_else(|| format!("{name} \"{s}\" is not a number"))?;
    if !(0.0..=100.0).contains(&value) {
        return Err(format!("{name} \"{s}\" is out of range (0 to 100)"));
    }
    Ok(Some(value.round() as i16))
}

/// 0 to 10,000, in the file's currency. Accepts "1.25", "$1.25", "1.25 USD", "1,234.50" and a decimal
/// comma ("€1,25") when there is no dot and at most two digits follow the comma.
pub fn cpc(raw: &str) -> Result<Option<f64>, String> {
    money("cpc", raw)
}

/// An amount of money (CPC, a top-of-page bid); `name` is for the message.
fn money(name: &str, raw: &str) -> Result<Option<f64>, String> {
    let s = raw.trim();
    if blank(s) {
        return Ok(None);
    }
    let (negative, body) = s.strip_prefix('-').map_or((false, s), |rest| (true, rest));
    let body = body.trim_matches(|c: char| c.is_whitespace() || c.is_ascii_alphabetic() || "$€£¥₹₩₽¢".contains(c));
    let value = decimal_number(body).ok_or_else(|| format!("{name} \"{s}\" is not a number"))?;
    let value = if negative { -value } else { value };
    if !(0.0..=CPC_MAX).contains(&value) {
        return Err(format!("{name} \"{s}\" is out of range (0 to 10,000)"));
    }
    Ok(Some(value.abs())) // "-0" is 0, not -0
}

/// Search Console's click-through rate: "1.68%" (or "1,68 %") in percent, 0 to 100.
pub fn ctr(raw: &str) -> Result<Option<f64>, String> {
    let s = raw.trim();
    if blank(s) {
        return Ok(None);
    }
    let value = decimal_number(s.strip_suffix('%').unwrap_or(s)).ok_or_else(|| format!("ctr \"{s}\" is not a percentage"))?;
    if !(0.0..=100.0).contains(&value) {
        return Err(format!("ctr \"{s}\" is out of range (0 to 100%)"));
    }
    Ok(Some(value))
}

/// Search Console's average position: above 0 ("8.2", "8,2").
pub fn position(raw: &str) -> Result<Option<f64>, String> {
    let s = raw.trim();
    if blank(s) {
        return Ok(None);
    }
    let value = decimal_number(s).ok_or_else(|| format!("position \"{s}\" is not a number"))?;
    if !(value > 0.0 && value <= POSITION_MAX) {
        return Err(format!("position \"{s}\" is out of range (above 0, at most 10,000)"));
    }
    Ok(Some(value))
}

/// Keyword Planner's competition: Low, Medium or High.
pub fn competition(raw: &str) -> Result<Option<&'static str>, String> {
    let s = raw.trim();
    if blank(s) || s.eq_ignore_ascii_case("unknown") {
        return Ok(None);
    }
    let lower = s.to_lowercase();
    COMPETITION.into_iter().find(|c| *c == lower).map(Some).ok_or_else(|| format!("competition \"{s}\" is not Low, Medium or High"))
}

/// The intents a cell names (Semrush and Ahrefs give several: "Commercial, Informational"), in order, each
/// once, by name or first letter; and the words that are not intents.
pub fn intents(raw: &str) -> (Vec<&'static str>, Vec<String>) {
    let (mut found, mut unknown) = (Vec::new(), Vec::new());
    for item in raw.split([',', ';', '/', '|', '\n']).map(str::trim).filter(|i| !i.is_empty()) {
        let lower = item.to_lowercase();
        if NON_INTENTS.contains(&lower.as_str()) {
            continue;
        }
        match INTENTS.into_iter().find(|i| *i == lower || (lower.len() == 1 && i.starts_with(&lower))) {
            Some(i) if !found.contains(&i) => found.push(i),
            Some(_) => {}
            None => unknown.push(item.to_string()),
        }
    }
    (found, unknown)
}

/// The form's and the API's intents: every word must be one (an import leaves an unknown word out instead).
pub fn intent_set(raw: &str) -> Result<Vec<&'static str>, String> {
    match intents(raw) {
        (found, unknown) if unknown.is_empty() => Ok(found),
        (_, unknown) => Err(unknown_intents(&unknown)),
    }
}

fn unknown_intents(unknown: &[String]) -> String {
    let words: Vec<String> = unknown.iter().map(|w| format!("\"{w}\"")).collect();
    format!("intent {} is not one of {}", words.join(", "), INTENTS.join(", "))
}

/// A country as an ISO two-letter code: codes, `uk`, alpha-3 codes and names of the main markets are understood.
pub fn country(raw: &str) -> Result<Option<String>, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    super::countries::alpha2(s)
        .map(Some)
        .ok_or_else(|| format!("country \"{}\" is not a country we know; use a two-letter code such as US", cut(s, 60)))
}

/// Free text up to 100 characters, whitespace collapsed.
pub fn sector(raw: &str) -> Result<Option<String>, String> {
    let s = clean_text(raw);
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

/// Ahrefs' parent keyword: checked as a keyword, empty allowed.
pub fn parent_keyword(raw: &str) -> Result<Option<String>, String> {
    if clean_text(raw).is_empty() { Ok(None) } else { keyword(raw).map(Some).map_err(|e| format!("parent {e}")) }
}

/// A cluster name, as the keyword export writes it.
pub fn cluster(raw: &str) -> Result<Option<String>, String> {
    let s = clean_text(raw);
    let len = s.chars().count();
    if s.is_empty() {
        Ok(None)
    } else if len > CLUSTER_MAX {
        Err(format!("cluster name is longer than {CLUSTER_MAX} characters (got {len})"))
    } else if s.chars().any(char::is_control) {
        Err("cluster name contains a control character".into())
    } else {
        Ok(Some(s))
    }
}

/// A keyword status as the export writes it (new, clustered, archived).
pub fn status(raw: &str) -> Result<Option<KeywordStatus>, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    KeywordStatus::parse(&s.to_lowercase())
        .map(Some)
        .ok_or_else(|| format!("status \"{}\" is not one of {}", cut(s, 40), KeywordStatus::words().join(", ")))
}

/// Validates one data row; the error is the first failing field's reason. Fields that only describe the keyword
/// (intent words, country, competition, status) never cost the row: a value not understood is left out with a note.
pub fn parse(fields: &[String], mapping: &Mapping) -> Result<KeywordRow, String> {
    check_width(fields, &mapping.headers)?;
    let cell = |f: Field| mapping.columns.get(&f).and_then(|&i| fields.get(i)).map_or("", |c| unguard(c));
    let keyword = keyword(cell(Field::Keyword))?;
    let keyword_column = mapping.columns.get(&Field::Keyword).copied();
    let too_long = |(i, c): (usize, &String)| Some(i) != keyword_column && c.chars().nth(CELL_MAX).is_some();
    if fields.iter().enumerate().any(too_long) {
        return Err("a cell is longer than 1,000 characters".into());
    }
    let mut notes = Vec::new();
    let country = noted(&mut notes, country(cell(Field::Country)));
    let competition = noted(&mut notes, competition(cell(Field::Competition)));
    let status = noted(&mut notes, status(cell(Field::Status)));
    let (intents, unknown) = intents(cell(Field::Intent));
    if !unknown.is_empty() {
        notes.push(format!("{}; left out", unknown_intents(&unknown)));
    }
    let (volume, range_high) = volume_range(cell(Field::Volume))?;
    let volume_high = match (range_high, whole("volume high", cell(Field::VolumeHigh))?) {
        (Some(h), _) => Some(h),
        (None, None) => None,
        (None, Some(h)) if volume.is_some_and(|v| v <= h) => Some(h),
        (None, Some(h)) => return Err(format!("volume high {h} needs a volume at most as large")),
    };
    Ok(KeywordRow {
        keyword,
        volume,
        volume_high,
        difficulty: difficulty(cell(Field::Difficulty))?,
        cpc: cpc(cell(Field::Cpc))?,
        intents,
        country,
        sector: sector(cell(Field::Sector))?,
        parent_keyword: parent_keyword(cell(Field::ParentKeyword))?,
        clicks: whole("clicks", cell(Field::Clicks))?,
        impressions: whole("impressions", cell(Field::Impressions))?,
        ctr: ctr(cell(Field::Ctr))?,
        position: position(cell(Field::Position))?,
        competition,
        competition_index: score("competition index", cell(Field::CompetitionIndex))?,
        bid_low: money("top of page bid (low range)", cell(Field::BidLow))?,
        bid_high: money("top of page bid (high range)", cell(Field::BidHigh))?,
        cluster: cluster(cell(Field::Cluster))?,
        status,
        notes,
    })
}

/// The value, or nothing with the reason kept as the row's note.
fn noted<T>(notes: &mut Vec<String>, r: Result<Option<T>, String>) -> Option<T> {
    r.unwrap_or_else(|e| {
        notes.push(format!("{e}; left out"));
        None
    })
}

/// A data row has as many fields as the header: one fewer means a value slid into the wrong column, one more a
/// separator inside an unquoted cell. Empty fields at the end of either (some tools write them) do not count.
/// A headerless one-column list has no header to compare with.
fn check_width(fields: &[String], headers: &[String]) -> Result<(), String> {
    if headers.is_empty() {
        return Ok(());
    }
    let used = |cells: &[String]| cells.iter().rposition(|c| !c.is_empty()).map_or(0, |i| i + 1);
    let header_width = used(headers);
    if fields.len() < header_width {
        return Err(format!(
            "malformed row: {} fields where the header has {header_width} (a separator is missing, so values would land in the wrong columns)",
            fields.len()
        ));
    }
    if used(fields) > headers.len() {
        return Err(format!(
            "malformed row: {} fields where the header has {} (a separator inside a cell that is not quoted?)",
            used(fields),
            headers.len()
        ));
    }
    Ok(())
}

/// Undoes the export's formula guard: a `'` before `=`, `+`, `-` or `@` was added so spreadsheets show the cell
/// as text, and is not part of the value.
fn unguard(cell: &str) -> &str {
    cell.strip_prefix('\'').filter(|rest| rest.starts_with(['=', '+', '-', '@'])).unwrap_or(cell)
}

fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
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

/// An unsigned decimal as exports write it: "1,234.50", "1 234.5", or a decimal comma ("1,25", no dot and at
/// most two digits after the comma). "1.234,50" (thousands dots and a decimal comma) is too easy to misread: None.
fn decimal_number(raw: &str) -> Option<f64> {
    let body: String = raw.trim().chars().filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}')).collect();
    let plain = match (body.rfind('.'), body.rfind(',')) {
        (Some(dot), Some(comma)) if comma > dot => None,
        (None, Some(comma)) if body.matches(',').count() == 1 && (2..=3).contains(&(body.len() - comma)) => Some(body.replace(',', ".")),
        _ => Some(body.replace(',', "")),
    };
    plain.as_deref().and_then(number)
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
    fn intents_are_a_set_and_unknown_words_are_named() {
        assert_eq!(intents("Informational"), (vec!["informational"], vec![]));
        assert_eq!(intents("T"), (vec!["transactional"], vec![]));
        assert_eq!(intents("Commercial, Informational"), (vec!["commercial", "informational"], vec![]));
        assert_eq!(intents("Branded, Navigational, navigational"), (vec!["navigational"], vec![]));
        assert_eq!(intents(""), (vec![], vec![]));
        assert_eq!(intents("Commercial, Local-ish"), (vec!["commercial"], vec!["Local-ish".to_string()]));
        assert_eq!(intent_set("informational; commercial"), Ok(vec!["informational", "commercial"]));
        assert_eq!(intent_set("x"), Err("intent \"x\" is not one of informational, navigational, commercial, transactional".into()));
    }

    #[test]
    fn countries_and_sectors() {
        assert_eq!(country(" us "), Ok(Some("US".into())));
        assert_eq!(country(""), Ok(None));
        assert_eq!(country("USA"), Ok(Some("US".into())));
        assert_eq!(country("uk"), Ok(Some("GB".into())));
        assert_eq!(country("United Kingdom"), Ok(Some("GB".into())));
        assert!(country("Narnia").is_err_and(|e| e.contains("Narnia") && e.contains("two-letter")));
        assert_eq!(sector("  Home   & Garden "), Ok(Some("Home & Garden".into())));
        assert_eq!(sector(""), Ok(None));
        assert_eq!(sector(&"x".repeat(101)), Err("sector is longer than 100 characters (got 101)".into()));
    }

    #[test]
    fn invisible_characters_go_and_text_is_composed() {
        assert_eq!(keyword("cafe\u{301}"), Ok("caf\u{e9}".into()));
        assert_eq!(dedupe_key("Cafe\u{301}"), dedupe_key("caf\u{e9}"));
        assert_eq!(keyword("\u{feff}seo\u{200b} to\u{200d}ols\u{2060}"), Ok("seo tools".into()));
        assert_eq!(keyword("\u{202e}seo\u{202c} \u{2067}tools\u{2069}\u{200e}\u{200f}"), Ok("seo tools".into()));
        assert_eq!(keyword("\u{200b}\u{feff}"), Err("keyword is empty".into()));
    }

    #[test]
    fn search_console_and_keyword_planner_figures() {
        assert_eq!(volume_range("1K – 10K"), Ok((Some(1000), Some(10_000))));
        assert_eq!(volume_range("100K – 1M"), Ok((Some(100_000), Some(1_000_000))));
        assert_eq!(volume_range("5400"), Ok((Some(5400), None)));
        assert!(volume_range("10K – 1K").is_err_and(|e| e.contains("below")));
        assert_eq!(ctr("1.68%"), Ok(Some(1.68)));
        assert_eq!(ctr("1,5 %"), Ok(Some(1.5)));
        assert!(ctr("120%").is_err());
        assert_eq!(position("8.2"), Ok(Some(8.2)));
        assert!(position("0").is_err());
        assert_eq!(competition("Medium"), Ok(Some("medium")));
        assert_eq!(competition(""), Ok(None));
        assert!(competition("0.31").is_err());
        assert_eq!(status("Clustered"), Ok(Some(KeywordStatus::Clustered)));
        assert!(status("done").is_err());
    }

    #[test]
    fn whole_rows() {
        let columns = BTreeMap::from([(Field::Keyword, 1), (Field::Volume, 0), (Field::Intent, 2), (Field::Country, 3)]);
        let mapping = Mapping { columns, headers: Vec::new(), header_line: 1, source: "CSV" };
        let row = |cells: &[&str]| parse(&cells.iter().map(|c| c.to_string()).collect::<Vec<_>>(), &mapping);
        let want = KeywordRow {
            keyword: "seo tools".into(),
            volume: Some(1200),
            intents: vec!["commercial"],
            country: Some("GB".into()),
            ..KeywordRow::default()
        };
        assert_eq!(row(&["1,200", " seo  tools ", "Commercial", "gb"]), Ok(want));
        assert_eq!(row(&["1,200"]), Err("keyword is empty".into()), "missing cells are empty");
        assert_eq!(row(&["abc", "seo", "", ""]), Err("volume \"abc\" is not a number".into()));
        let long = "x".repeat(1001);
        assert_eq!(row(&["1", "seo", "", "", &long]), Err("a cell is longer than 1,000 characters".into()));
        assert!(row(&["1", &long, "", ""]).is_err_and(|e| e.contains("255")));
    }

    fn mapping(headers: &[&str], columns: &[(Field, usize)]) -> Mapping {
        let headers = headers.iter().map(|h| h.to_string()).collect();
        Mapping { columns: columns.iter().copied().collect(), headers, header_line: 1, source: "CSV" }
    }

    fn cells(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn rows_wider_or_narrower_than_the_header_are_malformed() {
        let m = mapping(&["Keyword", "Volume", "KD", ""], &[(Field::Keyword, 0), (Field::Volume, 1), (Field::Difficulty, 2)]);
        assert!(parse(&cells(&["seo", "45"]), &m).is_err_and(|e| e.contains("malformed") && e.contains("2 fields") && e.contains("3")));
        assert!(parse(&cells(&["seo", "1", "200", "x", "y"]), &m).is_err_and(|e| e.contains("malformed") && e.contains("5 fields")));
        // Trailing empty fields on either side are how some tools write rows.
        assert_eq!(parse(&cells(&["seo", "45", "10"]), &m).map(|r| r.volume), Ok(Some(45)));
        assert_eq!(parse(&cells(&["seo", "45", "10", "", "", ""]), &m).map(|r| r.difficulty), Ok(Some(10)));
    }

    #[test]
    fn descriptions_not_understood_are_left_out_with_a_note() {
        let m = mapping(
            &["Keyword", "Intent", "Country", "Status"],
            &[(Field::Keyword, 0), (Field::Intent, 1), (Field::Country, 2), (Field::Status, 3)],
        );
        let row = parse(&cells(&["seo", "Commercial, Bogus", "Narnia", "clustered"]), &m).expect("kept");
        assert_eq!((row.intents, row.country, row.status), (vec!["commercial"], None, Some(KeywordStatus::Clustered)));
        assert_eq!(row.notes.len(), 2, "{:?}", row.notes);
        assert!(row.notes[0].contains("Narnia") && row.notes[1].contains("Bogus"), "{:?}", row.notes);
    }

    #[test]
    fn the_export_formula_guard_is_undone() {
        let m = mapping(&["Keyword", "Cluster"], &[(Field::Keyword, 0), (Field::Cluster, 1)]);
        let row = parse(&cells(&["'=HYPERLINK(\"x\")", "'-minus"]), &m).expect("row");
        assert_eq!((row.keyword.as_str(), row.cluster.as_deref()), ("=HYPERLINK(\"x\")", Some("-minus")));
        assert_eq!(parse(&cells(&["'quoted'", ""]), &m).map(|r| r.keyword), Ok("'quoted'".into()));
    }
}
