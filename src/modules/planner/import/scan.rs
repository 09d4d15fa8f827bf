//! Reads a stored upload chunk by chunk and turns it into validated rows: the one reader behind both the
//! analysis and the import, so the preview and the import can never disagree about a row.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::csv_stream::{FileError, Record, RecordStream, sniff};
use super::mapping::{self, Field, Mapping};
use super::rows::{self, KeywordRow};
use crate::db::schema::keyword_import_chunks;
use crate::error::AppError;

/// Records read before deciding which row is the header (Keyword Planner puts title lines first).
const HEADER_WINDOW: usize = 5;

pub struct ScannedRow {
    pub line: u64,
    /// The keyword cell as written (for the rejects list), cut to 120 characters.
    pub raw_keyword: String,
    pub parsed: Result<KeywordRow, String>,
}

#[derive(Debug)]
pub enum ScanError {
    File(FileError),
    Db(AppError),
}

impl From<AppError> for ScanError {
    fn from(e: AppError) -> Self {
        ScanError::Db(e)
    }
}
impl From<diesel::result::Error> for ScanError {
    fn from(e: diesel::result::Error) -> Self {
        ScanError::Db(e.into())
    }
}
impl From<diesel_async::pooled_connection::deadpool::PoolError> for ScanError {
    fn from(e: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        ScanError::Db(e.into())
    }
}
impl From<FileError> for ScanError {
    fn from(e: FileError) -> Self {
        ScanError::File(e)
    }
}

pub struct Scanner {
    tenant_id: i64,
    import_id: i64,
    next_seq: i32,
    stream: Option<RecordStream>,
    head: Vec<Record>,
    pub mapping: Option<Mapping>,
    /// Columns chosen by the user, used instead of the detected ones.
    column_override: Option<std::collections::BTreeMap<super::mapping::Field, usize>>,
    pub delimiter: u8,
    pub bytes: u64,
    finished: bool,
}

impl Scanner {
    pub fn new(tenant_id: i64, import_id: i64) -> Self {
        Scanner {
            tenant_id,
            import_id,
            next_seq: 0,
            stream: None,
            head: Vec::new(),
            mapping: None,
            column_override: None,
            delimiter: b',',
            bytes: 0,
            finished: false,
        }
    }

    /// Reads the file with these columns instead of the detected ones.
    pub fn with_columns(mut self, columns: Option<std::collections::BTreeMap<super::mapping::Field, usize>>) -> Self {
        self.column_override = columns;
        self
    }

    /// The rows completed by the next stored chunk; `None` once the file is read.
    pub async fn next(&mut self, conn: &mut AsyncPgConnection) -> Result<Option<Vec<ScannedRow>>, ScanError> {
        if self.finished {
            return Ok(None);
        }
        let chunk: Option<Vec<u8>> = keyword_import_chunks::table
            .filter(keyword_import_chunks::tenant_id.eq(self.tenant_id))
            .filter(keyword_import_chunks::import_id.eq(self.import_id))
            .filter(keyword_import_chunks::seq.eq(self.next_seq))
            .select(keyword_import_chunks::data)
            .first(conn)
            .await
            .optional()?;
        self.next_seq += 1;
        let mut records = Vec::new();
        match chunk {
            Some(bytes) => {
                if self.stream.is_none() {
                    let s = sniff(&bytes[..bytes.len().min(64 * 1024)])?;
                    self.delimiter = s.delimiter;
                    self.stream = Some(RecordStream::new(s));
                }
                self.bytes += bytes.len() as u64;
                if let Some(stream) = self.stream.as_mut() {
                    stream.feed(&bytes, &mut records)?;
                }
            }
            None => {
                self.finished = true;
                match self.stream.as_mut() {
                    Some(stream) => stream.finish(&mut records)?,
                    None => return Err(ScanError::File(FileError::Empty)),
                }
            }
        }
        self.rows(records).map(Some)
    }

    fn rows(&mut self, records: Vec<Record>) -> Result<Vec<ScannedRow>, ScanError> {
        let records = if self.mapping.is_none() {
            self.head.extend(records);
            if self.head.len() < HEADER_WINDOW && !self.finished {
                return Ok(Vec::new());
            }
            if self.head.is_empty() {
                return Err(ScanError::File(FileError::Empty));
            }
            let (m, consumed) = match self.column_override.clone() {
                Some(columns) => mapping::with_override(&self.head, columns)?,
                None => mapping::detect(&self.head)?,
            };
            self.mapping = Some(m);
            std::mem::take(&mut self.head).into_iter().skip(consumed).collect()
        } else {
            records
        };
        let Some(m) = self.mapping.as_ref() else { return Ok(Vec::new()) };
        let kw_col = m.columns.get(&Field::Keyword).copied().unwrap_or(0);
        Ok(records
            .into_iter()
            .map(|r| ScannedRow {
                line: r.line,
                raw_keyword: r.fields.get(kw_col).map(|s| s.chars().take(120).collect()).unwrap_or_default(),
                parsed: rows::parse(&r.fields, m),
            })
            .collect())
    }
}
