//! Streaming reader for uploaded keyword CSV files.
//!
//! Uploads come from many tools (Ahrefs, Semrush, Search Console, Keyword Planner, spreadsheets), so the
//! encoding and delimiter are sniffed from the first chunk rather than assumed. Records are then produced
//! chunk by chunk, so a 100,000-row file is never held in memory whole, and every limit (record size,
//! column count) is enforced while reading, so a broken file fails early with a message the user can act on.

use std::fmt;

use csv_core::{ReadRecordResult, Reader, ReaderBuilder};

/// One record (its input bytes, quotes and delimiters included) may not exceed this.
const MAX_RECORD: usize = 64 * 1024;
const MAX_COLUMNS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniff {
    pub delimiter: u8,
    pub bom: bool,
    pub encoding: Encoding,
}

/// Looks at the first chunk of a file (64 KiB is plenty): BOM and encoding, binary content, delimiter.
pub fn sniff(first: &[u8]) -> Result<Sniff, FileError> {
    const SIGNATURES: [(&[u8], &str); 6] = [
        (b"%PDF", "a PDF"),
        (b"PK\x03\x04", "a zip or Excel file"),
        (b"\xD0\xCF\x11\xE0", "an old Excel (.xls) file"),
        (b"\x89PNG", "a PNG image"),
        (b"GIF8", "a GIF image"),
        (b"\xFF\xD8", "a JPEG image"),
    ];
    if let Some((_, what)) = SIGNATURES.iter().find(|(sig, _)| first.starts_with(sig)) {
        return Err(FileError::Binary(what));
    }
    let (encoding, bom_len) = match first {
        [0xEF, 0xBB, 0xBF, ..] => (Encoding::Utf8, 3),
        [0xFF, 0xFE, ..] => (Encoding::Utf16Le, 2),
        [0xFE, 0xFF, ..] => (Encoding::Utf16Be, 2),
        _ => (Encoding::Utf8, 0),
    };
    let body = first.get(bom_len..).unwrap_or_default();
    let text: Vec<u8> = match encoding {
        Encoding::Utf8 => body.to_vec(),
        // Lossy is fine here: the sample only feeds the checks below; the stream validates properly.
        _ => char::decode_utf16(units(body, encoding)).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect::<String>().into_bytes(),
    };
    if text.contains(&0) {
        return Err(FileError::Binary("binary data"));
    }
    if text.iter().all(u8::is_ascii_whitespace) {
        return Err(FileError::Empty);
    }
    Ok(Sniff { delimiter: delimiter(&text), bom: bom_len > 0, encoding })
}

/// Picks tab, ';' or ',' from the first five non-empty lines, ignoring quoted text. The winner is the
/// candidate found the same number of times on the most lines, then the most frequent; ties go to tab,
/// then ';', then ','. Consistency comes first because Semrush's semicolon export holds an unquoted,
/// comma-separated trend in every data row, which would otherwise outnumber the semicolons.
fn delimiter(text: &[u8]) -> u8 {
    const CANDIDATES: [u8; 3] = [b'\t', b';', b','];
    let mut counts = [[0usize; 3]; 5];
    let (mut line, mut in_quotes, mut content) = (0, false, false);
    for &b in text {
        let Some(row) = counts.get_mut(line) else { break };
        match b {
            b'"' => (in_quotes, content) = (!in_quotes, true),
            _ if in_quotes => {}
            b'\n' | b'\r' if content => (line, content) = (line + 1, false),
            b'\n' | b'\r' => *row = [0; 3],
            _ => {
                for (count, &c) in row.iter_mut().zip(&CANDIDATES) {
                    *count += usize::from(c == b);
                }
                content |= b != b' ' && b != b'\t';
            }
        }
    }
    let score = |i: usize| {
        let per_line = counts.map(|row| row.get(i).copied().unwrap_or(0));
        let same = per_line.iter().filter(|&&c| c > 0).map(|&c| per_line.iter().filter(|&&d| d == c).count());
        (same.max().unwrap_or(0), per_line.iter().sum::<usize>())
    };
    let mut best: Option<(u8, (usize, usize))> = None;
    for (i, &candidate) in CANDIDATES.iter().enumerate() {
        let s = score(i);
        if s.1 > 0 && best.is_none_or(|(_, b)| s > b) {
            best = Some((candidate, s));
        }
    }
    best.map_or(b',', |(c, _)| c)
}

fn units(bytes: &[u8], encoding: Encoding) -> impl Iterator<Item = u16> + '_ {
    let (pairs, _) = bytes.as_chunks::<2>();
    pairs.iter().map(move |&p| if encoding == Encoding::Utf16Be { u16::from_be_bytes(p) } else { u16::from_le_bytes(p) })
}

/// Advances a physical-line counter over `bytes`: LF, CRLF and a lone CR each end one line.
fn count_lines((mut line, mut after_cr): (u64, bool), bytes: &[u8]) -> (u64, bool) {
    for &b in bytes {
        line += u64::from(b == b'\r' || (b == b'\n' && !after_cr));
        after_cr = b == b'\r';
    }
    (line, after_cr)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 1-based physical line where the record starts.
    pub line: u64,
    pub fields: Vec<String>,
}

/// Push-based record reader: feed chunks as they arrive, collect complete records.
pub struct RecordStream {
    encoding: Encoding,
    reader: Reader,
    bom_left: usize,
    /// Undecoded tail of the previous chunk: a partial UTF-8 sequence, or an odd byte / lone high surrogate.
    carry: Vec<u8>,
    /// The current chunk as validated UTF-8.
    text: Vec<u8>,
    out: Vec<u8>,
    ends: Vec<usize>,
    nout: usize,
    nend: usize,
    /// Physical line (and whether the last byte was CR) at the parser's read position.
    pos: (u64, bool),
    /// Line of the record being read; None between records.
    record_line: Option<u64>,
    record_bytes: usize,
    bytes_read: u64,
}

impl RecordStream {
    pub fn new(sniff: Sniff) -> Self {
        let bom_left = match (sniff.bom, sniff.encoding) {
            (false, _) => 0,
            (true, Encoding::Utf8) => 3,
            (true, _) => 2,
        };
        Self {
            encoding: sniff.encoding,
            reader: ReaderBuilder::new().delimiter(sniff.delimiter).double_quote(true).build(),
            bom_left,
            carry: Vec::new(),
            text: Vec::new(),
            out: vec![0; 1024],
            ends: vec![0; 32],
            nout: 0,
            nend: 0,
            pos: (1, false),
            record_line: None,
            record_bytes: 0,
            bytes_read: 0,
        }
    }

    /// Feeds the next chunk (split anywhere); complete records are appended to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<Record>) -> Result<(), FileError> {
        self.bytes_read += chunk.len() as u64;
        let skip = self.bom_left.min(chunk.len());
        self.bom_left -= skip;
        self.decode(chunk.get(skip..).unwrap_or_default(), false)?;
        self.parse(out, false)
    }

    /// End of input: flushes the last record, newline or not.
    pub fn finish(&mut self, out: &mut Vec<Record>) -> Result<(), FileError> {
        self.decode(&[], true)?;
        self.parse(out, true)
    }

    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Turns `carry + chunk` into UTF-8 in `self.text`, keeping an incomplete tail for the next chunk.
    fn decode(&mut self, chunk: &[u8], last: bool) -> Result<(), FileError> {
        let mut data = std::mem::take(&mut self.carry);
        data.extend_from_slice(chunk);
        self.text.clear();
        if self.encoding == Encoding::Utf8 {
            let keep = match std::str::from_utf8(&data) {
                Ok(_) => data.len(),
                Err(e) if e.error_len().is_none() && !last => e.valid_up_to(),
                Err(e) => return Err(self.invalid(data.get(..e.valid_up_to()).unwrap_or_default())),
            };
            self.carry = data.split_off(keep);
            self.text = data;
        } else {
            let mut n = data.len() / 2 * 2;
            let last_unit = data.get(n.saturating_sub(2)..n).and_then(|p| units(p, self.encoding).next());
            if !last && last_unit.is_some_and(|u| (0xD800..0xDC00).contains(&u)) {
                n -= 2; // a high surrogate whose pair is in the next chunk
            }
            let mut buf = [0; 4];
            for c in char::decode_utf16(units(data.get(..n).unwrap_or_default(), self.encoding)) {
                let Ok(c) = c else { return Err(self.invalid(&self.text)) };
                self.text.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            if last && n < data.len() {
                return Err(self.invalid(&self.text));
            }
            self.carry = data.split_off(n);
        }
        if self.text.contains(&0) {
            return Err(FileError::Binary("binary data"));
        }
        Ok(())
    }

    fn invalid(&self, valid_prefix: &[u8]) -> FileError {
        FileError::InvalidUtf8 { line: count_lines(self.pos, valid_prefix).0 }
    }

    /// Runs `self.text` through the CSV parser.
    fn parse(&mut self, out: &mut Vec<Record>, last: bool) -> Result<(), FileError> {
        let text = std::mem::take(&mut self.text);
        let mut input = text.as_slice();
        loop {
            if self.record_line.is_none() {
                // Skip blank lines ourselves so the record's first line is known before it is parsed.
                let blank = input.iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
                self.pos = count_lines(self.pos, input.get(..blank).unwrap_or_default());
                input = input.get(blank..).unwrap_or_default();
                if input.is_empty() {
                    break;
                }
                self.record_line = Some(self.pos.0);
            } else if input.is_empty() && !last {
                break; // csv_core reads empty input as end of file
            }
            let line = self.record_line.unwrap_or(self.pos.0);
            let (res, nin, nout, nend) = self.reader.read_record(
                input,
                self.out.get_mut(self.nout..).unwrap_or_default(),
                self.ends.get_mut(self.nend..).unwrap_or_default(),
            );
            self.pos = count_lines(self.pos, input.get(..nin).unwrap_or_default());
            input = input.get(nin..).unwrap_or_default();
            (self.nout, self.nend, self.record_bytes) = (self.nout + nout, self.nend + nend, self.record_bytes + nin);
            if self.record_bytes > MAX_RECORD {
                return Err(FileError::RecordTooLarge { line });
            }
            match res {
                ReadRecordResult::InputEmpty if !last => break,
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull if self.out.len() >= MAX_RECORD => {
                    return Err(FileError::RecordTooLarge { line });
                }
                ReadRecordResult::OutputFull => self.out.resize((self.out.len() * 2).min(MAX_RECORD), 0),
                ReadRecordResult::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                ReadRecordResult::Record => self.emit(line, out)?,
                ReadRecordResult::End => break,
            }
        }
        self.text = text;
        Ok(())
    }

    fn emit(&mut self, line: u64, out: &mut Vec<Record>) -> Result<(), FileError> {
        let bytes = self.out.get(..self.nout).unwrap_or_default();
        let mut start = 0;
        let mut fields = Vec::with_capacity(self.nend);
        for &end in self.ends.get(..self.nend).unwrap_or_default() {
            // The text was validated before parsing, so this is never lossy.
            fields.push(String::from_utf8_lossy(bytes.get(start..end).unwrap_or_default()).trim().to_owned());
            start = end;
        }
        (self.nout, self.nend, self.record_bytes, self.record_line) = (0, 0, 0, None);
        if fields.len() > MAX_COLUMNS {
            return Err(FileError::TooManyColumns { line, count: fields.len() });
        }
        if fields.iter().any(|f| !f.is_empty()) {
            out.push(Record { line, fields });
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileError {
    Empty,
    Binary(&'static str),
    InvalidUtf8 { line: u64 },
    RecordTooLarge { line: u64 },
    TooManyColumns { line: u64, count: usize },
    NoKeywordColumn { headers: Vec<String> },
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => {
                write!(f, "The file is empty. Upload a CSV file with one keyword per row, or with a “Keyword” column.")
            }
            Self::Binary(what) => {
                write!(f, "The file looks like {what}, not a CSV file. Export or save it as CSV and upload it again.")
            }
            Self::InvalidUtf8 { line } => {
                write!(f, "The file is not valid UTF-8 text (line {line}). Save it as “CSV UTF-8” and upload it again.")
            }
            Self::RecordTooLarge { line } => write!(
                f,
                "The row starting on line {line} is over 64 KiB, usually because a quote (\") is never closed. Fix that row and upload the file again."
            ),
            Self::TooManyColumns { line, count } => write!(
                f,
                "Line {line} has {count} columns; at most {MAX_COLUMNS} are allowed. Check that the file is a keyword export and upload it again."
            ),
            Self::NoKeywordColumn { headers } => {
                let shown: Vec<&str> = headers.iter().take(20).map(String::as_str).collect();
                let more = if headers.len() > shown.len() { ", …" } else { "" };
                write!(
                    f,
                    "No keyword column was found (the columns are: {}{more}). Name the column that holds your keywords “Keyword” and upload the file again.",
                    shown.join(", ")
                )
            }
        }
    }
}

impl std::error::Error for FileError {}

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    /// The file fed in `chunk`-byte pieces, as an upload arrives (the property tests read with it too).
    pub(super) fn read(bytes: &[u8], chunk: usize) -> Result<Vec<Record>, FileError> {
        let mut stream = RecordStream::new(sniff(bytes.get(..65536).unwrap_or(bytes))?);
        let mut out = Vec::new();
        for piece in bytes.chunks(chunk.max(1)) {
            stream.feed(piece, &mut out)?;
        }
        stream.finish(&mut out)?;
        assert_eq!(stream.bytes_read(), bytes.len() as u64);
        Ok(out)
    }

    fn rec(line: u64, fields: &[&str]) -> Record {
        Record { line, fields: fields.iter().map(|f| f.to_string()).collect() }
    }

    fn utf16(text: &str, be: bool) -> Vec<u8> {
        let mut bytes = if be { vec![0xFE, 0xFF] } else { vec![0xFF, 0xFE] };
        for u in text.encode_utf16() {
            bytes.extend(if be { u.to_be_bytes() } else { u.to_le_bytes() });
        }
        bytes
    }

    #[test]
    fn sniffs_bom_encoding_and_delimiter() {
        let s = |b: &[u8]| sniff(b).map(|s| (s.delimiter, s.bom, s.encoding));
        assert_eq!(s(b"\xEF\xBB\xBFKeyword;Volume\nseo;10"), Ok((b';', true, Encoding::Utf8)));
        assert_eq!(s(&utf16("Keyword\tVolume\n", false)), Ok((b'\t', true, Encoding::Utf16Le)));
        assert_eq!(s(&utf16("a,b\n", true)), Ok((b',', true, Encoding::Utf16Be)));
        assert_eq!(s(b"seo tools\nlink building\n"), Ok((b',', false, Encoding::Utf8)));
        assert_eq!(s(b"\"a;b\",c\n\"d;e\",f"), Ok((b',', false, Encoding::Utf8)));
        assert_eq!(s(b"a\tb;c\n"), Ok((b'\t', false, Encoding::Utf8)), "ties prefer tab");
        let semrush = b"Keyword;Intent;Volume;Trend;Keyword Difficulty\nseo;Informational;100;0.1,0.2,0.3,0.4,0.5,0.6;40\n";
        assert_eq!(s(semrush), Ok((b';', false, Encoding::Utf8)));
    }

    #[test]
    fn sniff_rejects_binary_and_empty() {
        assert_eq!(sniff(b"%PDF-1.7"), Err(FileError::Binary("a PDF")));
        assert_eq!(sniff(b"PK\x03\x04xl/"), Err(FileError::Binary("a zip or Excel file")));
        assert_eq!(sniff(b"\x89PNG\r\n"), Err(FileError::Binary("a PNG image")));
        assert_eq!(sniff(b"GIF89a"), Err(FileError::Binary("a GIF image")));
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0"), Err(FileError::Binary("a JPEG image")));
        assert_eq!(sniff(b"ab\0cd"), Err(FileError::Binary("binary data")));
        for empty in [&b""[..], b"\xEF\xBB\xBF", b"\xFF\xFE", b" \r\n\t\n"] {
            assert_eq!(sniff(empty), Err(FileError::Empty));
        }
    }

    #[test]
    fn every_chunk_size_gives_the_same_records() {
        let text =
            "Keyword,Volume,Note\r\ncafé crème,1200,\"says \"\"hi\"\", twice\"\r\n\r\n\"multi\r\nline\",5,🦀 crab\r\n  ,  ,  \r\nlast,7,€";
        let expected = vec![
            rec(1, &["Keyword", "Volume", "Note"]),
            rec(2, &["café crème", "1200", "says \"hi\", twice"]),
            rec(4, &["multi\r\nline", "5", "🦀 crab"]),
            rec(7, &["last", "7", "€"]),
        ];
        let utf8 = [b"\xEF\xBB\xBF".to_vec(), text.as_bytes().to_vec()].concat();
        for file in [utf8, utf16(text, false), utf16(text, true)] {
            for chunk in (1..=17).chain([file.len()]) {
                assert_eq!(read(&file, chunk), Ok(expected.clone()), "chunk size {chunk}");
            }
        }
    }

    #[test]
    fn counts_lines_across_blank_lines_cr_and_quoted_newlines() {
        let got = read(b"a;b\n\n\n\"x\ny\nz\";1\rc;2\n", 3).unwrap_or_default();
        assert_eq!(got, vec![rec(1, &["a", "b"]), rec(4, &["x\ny\nz", "1"]), rec(7, &["c", "2"])]);
    }

    #[test]
    fn reports_invalid_text_with_its_line() {
        assert_eq!(read(b"a\nb\nc\xFFd\n", 2), Err(FileError::InvalidUtf8 { line: 3 }));
        assert_eq!(read(b"a\nb\xC3", 64), Err(FileError::InvalidUtf8 { line: 2 }), "truncated at the end");
        assert_eq!(read(&[0xFF, 0xFE, b'a', 0, b'\n', 0, 0x00, 0xDC], 1), Err(FileError::InvalidUtf8 { line: 2 }));
        // Past the sniffed sample, the stream itself refuses NUL bytes.
        let mut stream = RecordStream::new(Sniff { delimiter: b',', bom: false, encoding: Encoding::Utf8 });
        assert_eq!(stream.feed(b"a\nb\0c\n", &mut Vec::new()), Err(FileError::Binary("binary data")));
    }

    #[test]
    fn enforces_record_size_and_column_limits() {
        let mut open = b"keyword\nok\n\"never closed,".to_vec();
        open.resize(70_000, b'x');
        for chunk in [8192, open.len()] {
            assert_eq!(read(&open, chunk), Err(FileError::RecordTooLarge { line: 3 }), "chunk size {chunk}");
        }
        let wide = format!("keyword\n{}\n", vec!["x"; 201].join(","));
        assert_eq!(read(wide.as_bytes(), 100), Err(FileError::TooManyColumns { line: 2, count: 201 }));
    }

    #[test]
    fn last_record_without_newline_is_kept() {
        assert_eq!(read(b"k\nlast one", 4), Ok(vec![rec(1, &["k"]), rec(2, &["last one"])]));
    }

    #[test]
    fn messages_say_what_to_do() {
        let msg = FileError::InvalidUtf8 { line: 12 }.to_string();
        assert!(msg.contains("line 12") && msg.contains("CSV UTF-8"));
        let msg = FileError::NoKeywordColumn { headers: vec!["Clicks".into(), "CTR".into()] }.to_string();
        assert!(msg.contains("Clicks, CTR"));
    }
}
