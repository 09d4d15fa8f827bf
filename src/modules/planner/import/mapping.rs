//! Works out which column of an uploaded keyword file holds which field.
//!
//! Every tool names its columns differently ("Keyword" vs "Top queries", "Volume" vs "Avg. monthly
//! searches"), and some put title lines above the header row, so the header row is searched for and its
//! cells matched against known aliases. Users never have to rename columns for a standard export.

use std::collections::BTreeMap;

use super::csv_stream::{FileError, Record};

/// Keyword Planner puts two title lines above its header row; allow a few more.
const HEADER_SEARCH: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Keyword,
    Volume,
    Difficulty,
    Cpc,
    Intent,
    Country,
    Sector,
    VolumeHigh,
    ParentKeyword,
    Clicks,
    Impressions,
    Ctr,
    Position,
    Competition,
    CompetitionIndex,
    BidLow,
    BidHigh,
    Cluster,
    Status,
}

impl Field {
    pub const ALL: [Field; 19] = [
        Field::Keyword,
        Field::Volume,
        Field::Difficulty,
        Field::Cpc,
        Field::Intent,
        Field::Country,
        Field::Sector,
        Field::VolumeHigh,
        Field::ParentKeyword,
        Field::Clicks,
        Field::Impressions,
        Field::Ctr,
        Field::Position,
        // The index first: "Competition (indexed value)" without its unit would pass for "Competition".
        Field::CompetitionIndex,
        Field::Competition,
        Field::BidLow,
        Field::BidHigh,
        Field::Cluster,
        Field::Status,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Field::Keyword => "keyword",
            Field::Volume => "volume",
            Field::Difficulty => "difficulty",
            Field::Cpc => "cpc",
            Field::Intent => "intent",
            Field::Country => "country",
            Field::Sector => "sector",
            Field::VolumeHigh => "volume_high",
            Field::ParentKeyword => "parent_keyword",
            Field::Clicks => "clicks",
            Field::Impressions => "impressions",
            Field::Ctr => "ctr",
            Field::Position => "position",
            Field::Competition => "competition",
            Field::CompetitionIndex => "competition_index",
            Field::BidLow => "bid_low",
            Field::BidHigh => "bid_high",
            Field::Cluster => "cluster",
            Field::Status => "status",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Field::Keyword => "Keyword",
            Field::Volume => "Volume",
            Field::Difficulty => "Difficulty",
            Field::Cpc => "CPC",
            Field::Intent => "Intent",
            Field::Country => "Country",
            Field::Sector => "Sector",
            Field::VolumeHigh => "Volume high",
            Field::ParentKeyword => "Parent keyword",
            Field::Clicks => "Clicks",
            Field::Impressions => "Impressions",
            Field::Ctr => "CTR",
            Field::Position => "Position",
            Field::Competition => "Competition",
            Field::CompetitionIndex => "Competition index",
            Field::BidLow => "Top of page bid (low)",
            Field::BidHigh => "Top of page bid (high)",
            Field::Cluster => "Cluster",
            Field::Status => "Status",
        }
    }

    /// Normalised header names, best first; "global volume" is used only without a "volume" column. Search
    /// Console's impressions and Keyword Planner's competition and bids are their own fields, never volume,
    /// difficulty or CPC: they measure something else.
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::Keyword => &["keyword", "keywords", "query", "top queries", "search term", "search query", "keyword text", "term"],
            Field::Volume => {
                &["volume", "search volume", "avg. monthly searches", "avg monthly searches", "monthly volume", "global volume"]
            }
            Field::Difficulty => &["difficulty", "kd", "kd %", "kd%", "keyword difficulty", "keyword difficulty index"],
            Field::Cpc => &["cpc", "cpc (usd)", "cpc (eur)", "cpc (gbp)", "avg. cpc"],
            Field::Intent => &["intent", "intents", "search intent", "keyword intents"],
            Field::Country => &["country", "database", "location", "country code"],
            Field::Sector => &["sector", "category", "industry", "topic"],
            Field::VolumeHigh => &["volume high"],
            Field::ParentKeyword => &["parent keyword", "parent topic"],
            Field::Clicks => &["clicks", "url clicks"],
            Field::Impressions => &["impressions"],
            Field::Ctr => &["ctr", "url ctr"],
            Field::Position => &["position", "average position", "avg. position"],
            Field::Competition => &["competition"],
            Field::CompetitionIndex => &["competition (indexed value)", "competition index"],
            Field::BidLow => &["top of page bid (low range)", "top of page bid (low)"],
            Field::BidHigh => &["top of page bid (high range)", "top of page bid (high)"],
            Field::Cluster => &["cluster", "cluster name"],
            Field::Status => &["status"],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// Column index per field (absent = not in the file).
    pub columns: BTreeMap<Field, usize>,
    /// The header row's cells as in the file (empty for a headerless one-column list).
    pub headers: Vec<String>,
    /// Line of the header row (0 = no header row).
    pub header_line: u64,
    /// "Ahrefs", "Semrush", "Google Search Console", "Google Keyword Planner", "Keyword export" (this app's) or "CSV".
    pub source: &'static str,
}

/// Finds the header row among the first few records and maps its columns. A first record with one cell
/// that is not a known header means a headerless keyword list. Returns the mapping and how many records
/// it consumed (title lines and the header row).
/// The mapping with the user's chosen columns instead of the detected ones. Detection still finds the
/// header row; when it found none, the first record is taken as the header row.
pub fn with_override(first: &[Record], columns: BTreeMap<Field, usize>) -> Result<(Mapping, usize), FileError> {
    match detect(first) {
        Ok((m, consumed)) if m.header_line > 0 => Ok((Mapping { columns, source: "CSV (columns chosen by hand)", ..m }, consumed)),
        _ => {
            let head = first.first().ok_or(FileError::Empty)?;
            Ok((Mapping { columns, headers: head.fields.clone(), header_line: head.line, source: "CSV (columns chosen by hand)" }, 1))
        }
    }
}

impl Field {
    /// The field named by `as_str`, e.g. from a form.
    pub fn parse(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

pub fn detect(first: &[Record]) -> Result<(Mapping, usize), FileError> {
    let Some(head) = first.first() else { return Err(FileError::Empty) };
    for (i, record) in first.iter().take(HEADER_SEARCH).enumerate() {
        // Title lines are single cells; a single cell further down is data, never the header.
        if i > 0 && record.fields.len() < 2 {
            continue;
        }
        let names: Vec<String> = record.fields.iter().map(|f| normalize(f)).collect();
        let columns = map_columns(&names);
        if columns.contains_key(&Field::Keyword) {
            let mapping = Mapping { columns, headers: record.fields.clone(), header_line: record.line, source: source(&names) };
            return Ok((mapping, i + 1));
        }
    }
    if let [cell] = head.fields.as_slice()
        && !is_known_header(&normalize(cell))
    {
        let columns = BTreeMap::from([(Field::Keyword, 0)]);
        return Ok((Mapping { columns, headers: Vec::new(), header_line: 0, source: "CSV" }, 0));
    }
    // The first multi-column record is the likeliest header row to show the user.
    let shown = first.iter().take(HEADER_SEARCH).find(|r| r.fields.len() > 1).unwrap_or(head);
    Err(FileError::NoKeywordColumn { headers: shown.fields.clone() })
}

/// Lowercase, without surrounding spaces, quotes or a stray BOM, inner whitespace collapsed.
fn normalize(cell: &str) -> String {
    let trimmed = cell.trim_matches(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '\u{feff}'));
    trimmed.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// "cpc (cad)" → "cpc": the name without a trailing unit in parentheses.
fn without_unit(name: &str) -> Option<&str> {
    let open = name.strip_suffix(')')?.rfind('(')?;
    name.get(..open).map(str::trim_end).filter(|s| !s.is_empty())
}

fn is_alias(name: &str, alias: &str, strip_unit: bool) -> bool {
    if strip_unit { without_unit(name) == Some(alias) } else { name == alias }
}

fn is_known_header(name: &str) -> bool {
    Field::ALL.iter().flat_map(|f| f.aliases()).any(|a| is_alias(name, a, false) || is_alias(name, a, true))
}

/// Each field takes the first unused column matching its best alias; names with a unit stripped
/// ("Volume (US)") are tried only after every exact alias.
/// The columns recognisable by name in a header row (the keyword column may be missing): what the column-choice
/// form pre-selects when detection could not find a keyword column.
pub fn recognise(headers: &[String]) -> BTreeMap<Field, usize> {
    map_columns(&headers.iter().map(|h| normalize(h)).collect::<Vec<_>>())
}

/// A column mapping as `keyword_imports.mapping` stores it: field name → column index.
pub fn to_json(columns: &BTreeMap<Field, usize>) -> serde_json::Value {
    serde_json::Value::Object(columns.iter().map(|(f, i)| (f.as_str().to_string(), serde_json::json!(i))).collect())
}

fn map_columns(names: &[String]) -> BTreeMap<Field, usize> {
    let mut columns = BTreeMap::new();
    for field in Field::ALL {
        let found = [false, true].into_iter().find_map(|strip| {
            field.aliases().iter().find_map(|alias| {
                let free = |i: &usize| !columns.values().any(|used| used == i);
                names.iter().enumerate().find(|(i, name)| is_alias(name, alias, strip) && free(i)).map(|(i, _)| i)
            })
        });
        if let Some(i) = found {
            columns.insert(field, i);
        }
    }
    columns
}

fn source(names: &[String]) -> &'static str {
    let has = |n: &str| names.iter().any(|name| name == n);
    if has("cluster") && has("status") && has("created") {
        "Keyword export"
    } else if has("keyword difficulty") && (has("competitive density") || has("cpc (usd)")) {
        "Semrush"
    } else if has("parent keyword") || has("traffic potential") || (has("difficulty") && has("cps")) {
        "Ahrefs"
    } else if has("top queries") || (has("query") && has("impressions") && has("position")) {
        "Google Search Console"
    } else if has("avg. monthly searches") {
        "Google Keyword Planner"
    } else {
        "CSV"
    }
}

#[cfg(test)]
mod tests {
    use super::super::csv_stream::{RecordStream, sniff};
    use super::*;
    use Field::*;

    /// Reads a whole file through the real stream, as an upload would be.
    fn records(bytes: &[u8]) -> Vec<Record> {
        let mut out = Vec::new();
        let Ok(s) = sniff(bytes) else { return out };
        let mut stream = RecordStream::new(s);
        let _ = stream.feed(bytes, &mut out).and_then(|()| stream.finish(&mut out));
        out
    }

    fn utf16le(text: &str) -> Vec<u8> {
        [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect()
    }

    fn cols(pairs: &[(Field, usize)]) -> BTreeMap<Field, usize> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn ahrefs_comma_and_utf16_tab_exports() {
        let header = "Keyword,Country,Difficulty,Volume,CPC,CPS,Parent Keyword,Last Update,SERP Features,Global volume,Traffic potential,Global traffic potential,First seen,Intents";
        let expected = cols(&[(Keyword, 0), (Country, 1), (Difficulty, 2), (Volume, 3), (Cpc, 4), (ParentKeyword, 6), (Intent, 13)]);
        for bytes in [format!("{header}\nseo,us,40,100,1.2,1,seo,,,,,,,\n").into_bytes(), utf16le(&header.replace(',', "\t"))] {
            let (m, used) = detect(&records(&bytes)).expect("ahrefs header");
            assert_eq!((m.columns, m.source, m.header_line, used), (expected.clone(), "Ahrefs", 1, 1));
            assert_eq!(m.headers.len(), 14);
        }
    }

    #[test]
    fn semrush_with_bom_and_semicolons() {
        let file = "\u{feff}Keyword;Intent;Volume;Trend;Keyword Difficulty;CPC (USD);Competitive Density;SERP Features;Number of Results\nseo;Informational;100;0.1,0.2,0.3;40;1.2;0.5;;1000\n";
        let (m, used) = detect(&records(file.as_bytes())).expect("semrush header");
        assert_eq!(m.columns, cols(&[(Keyword, 0), (Intent, 1), (Volume, 2), (Difficulty, 4), (Cpc, 5)]));
        assert_eq!((m.source, used), ("Semrush", 1));
    }

    #[test]
    fn search_console_figures_are_their_own_fields_and_no_volume() {
        let (m, _) = detect(&records(b"Top queries,Clicks,Impressions,CTR,Position\nseo,1,20,5%,3.1\n")).expect("gsc");
        let want = cols(&[(Keyword, 0), (Clicks, 1), (Impressions, 2), (Ctr, 3), (Position, 4)]);
        assert_eq!((m.columns, m.source), (want, "Google Search Console"));
    }

    #[test]
    fn keyword_planner_skips_two_title_lines() {
        let file = "Keyword Stats 2026-11-01 at 10_00_00\nNovember 1, 2025 - October 31, 2026\nKeyword\tCurrency\tAvg. monthly searches\tThree month change\tYoY change\tCompetition\tCompetition (indexed value)\tTop of page bid (low range)\tTop of page bid (high range)\nseo\tUSD\t1000\t0%\t0%\tLow\t20\t1.20\t5.50\n";
        let (m, used) = detect(&records(&utf16le(file))).expect("keyword planner");
        let want = cols(&[(Keyword, 0), (Volume, 2), (Competition, 5), (CompetitionIndex, 6), (BidLow, 7), (BidHigh, 8)]);
        assert_eq!(m.columns, want, "the competition index is not difficulty, nor a bid the CPC");
        assert_eq!((m.source, m.header_line, used), ("Google Keyword Planner", 3, 3));
    }

    #[test]
    fn units_quotes_and_case_are_ignored() {
        let (m, _) = detect(&records(b"\" KEYWORD \",Volume (US),KD (%),CPC (CAD),Sector\n")).expect("header");
        assert_eq!(m.columns, cols(&[(Keyword, 0), (Volume, 1), (Difficulty, 2), (Cpc, 3), (Sector, 4)]));
        assert_eq!(m.source, "CSV");
    }

    #[test]
    fn metrics_are_recognised_without_a_keyword_column() {
        let headers: Vec<String> = ["Topic idea", "Volume", "CPC (USD)", "Trend"].iter().map(|s| s.to_string()).collect();
        assert_eq!(recognise(&headers), cols(&[(Field::Volume, 1), (Field::Cpc, 2)]));
    }

    #[test]
    fn headerless_keyword_list() {
        let (m, used) = detect(&records(b"seo tools\nlink building\n")).expect("list");
        assert_eq!((m.columns, m.headers.len(), m.header_line, m.source, used), (cols(&[(Keyword, 0)]), 0, 0, "CSV", 0));
        let (m, used) = detect(&records(b"Keywords\nseo\n")).expect("one-column header");
        assert_eq!((m.header_line, used), (1, 1));
    }

    #[test]
    fn missing_keyword_column_lists_headers() {
        let err = detect(&records(b"Clicks,Impressions\n1,2\n"));
        assert_eq!(err, Err(FileError::NoKeywordColumn { headers: vec!["Clicks".into(), "Impressions".into()] }));
        assert!(matches!(detect(&records(b"Volume\n10\n")), Err(FileError::NoKeywordColumn { .. })));
        assert_eq!(detect(&[]), Err(FileError::Empty));
    }

    #[test]
    fn field_names() {
        assert_eq!(Field::ALL.map(Field::as_str)[3], "cpc");
        assert_eq!(Field::ALL.map(Field::label)[3], "CPC");
    }
}
