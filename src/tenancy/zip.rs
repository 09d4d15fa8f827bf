//! A tiny zip writer for workspace exports: STORED entries (no compression), CRC-32 from crc32fast, UTF-8 names,
//! no zip64 — an archive past 4 GiB is refused rather than written wrong. Small enough to own instead of a zip crate.

use crate::error::{AppError, AppResult};

struct Entry {
    name: String,
    crc: u32,
    size: u32,
    offset: u32,
}

pub struct ZipWriter {
    buf: Vec<u8>,
    entries: Vec<Entry>,
    time: u16,
    date: u16,
}

/// General purpose flag bit 11: the name is UTF-8.
const UTF8_NAMES: u16 = 0x0800;
/// 2.0: the version a reader needs for stored entries in folders.
const VERSION: u16 = 20;

fn too_large() -> AppError {
    AppError::PayloadTooLarge("The export is larger than a zip file without zip64 can hold (4 GiB).".into())
}

fn u16le(buf: &mut Vec<u8>, v: u16) {
    buf.extend_from_slice(&v.to_le_bytes());
}

fn u32le(buf: &mut Vec<u8>, v: u32) {
    buf.extend_from_slice(&v.to_le_bytes());
}

impl ZipWriter {
    /// Every entry carries `at` as its modification time (MS-DOS format: local time, 2-second steps, from 1980).
    pub fn new(at: chrono::NaiveDateTime) -> ZipWriter {
        use chrono::{Datelike, Timelike};
        let year = at.year().clamp(1980, 2107) as u16;
        let time = ((at.hour() as u16) << 11) | ((at.minute() as u16) << 5) | (at.second() as u16 / 2);
        let date = ((year - 1980) << 9) | ((at.month() as u16) << 5) | at.day() as u16;
        ZipWriter { buf: Vec::new(), entries: Vec::new(), time, date }
    }

    /// Appends one file (its local header, then its bytes).
    pub fn add(&mut self, name: &str, data: &[u8]) -> AppResult<()> {
        let size = u32::try_from(data.len()).map_err(|_| too_large())?;
        let offset = u32::try_from(self.buf.len()).map_err(|_| too_large())?;
        let name_len = u16::try_from(name.len()).map_err(|_| AppError::internal("zip entry name too long"))?;
        if self.entries.len() >= u16::MAX as usize {
            return Err(too_large());
        }
        let crc = crc32fast::hash(data);
        let b = &mut self.buf;
        u32le(b, 0x0403_4b50);
        u16le(b, VERSION);
        u16le(b, UTF8_NAMES);
        u16le(b, 0); // stored
        u16le(b, self.time);
        u16le(b, self.date);
        u32le(b, crc);
        u32le(b, size); // compressed size = size
        u32le(b, size);
        u16le(b, name_len);
        u16le(b, 0); // no extra field
        b.extend_from_slice(name.as_bytes());
        b.extend_from_slice(data);
        u32::try_from(self.buf.len()).map_err(|_| too_large())?;
        self.entries.push(Entry { name: name.to_string(), crc, size, offset });
        Ok(())
    }

    /// The central directory and its end record; returns the whole archive.
    pub fn finish(mut self) -> AppResult<Vec<u8>> {
        let start = u32::try_from(self.buf.len()).map_err(|_| too_large())?;
        let b = &mut self.buf;
        for e in &self.entries {
            u32le(b, 0x0201_4b50);
            u16le(b, VERSION); // made by
            u16le(b, VERSION); // needed
            u16le(b, UTF8_NAMES);
            u16le(b, 0);
            u16le(b, self.time);
            u16le(b, self.date);
            u32le(b, e.crc);
            u32le(b, e.size);
            u32le(b, e.size);
            u16le(b, e.name.len() as u16);
            u16le(b, 0); // extra
            u16le(b, 0); // comment
            u16le(b, 0); // disk
            u16le(b, 0); // internal attributes
            u32le(b, 0); // external attributes
            u32le(b, e.offset);
            b.extend_from_slice(e.name.as_bytes());
        }
        let size = u32::try_from(b.len()).map_err(|_| too_large())? - start;
        let n = self.entries.len() as u16;
        u32le(b, 0x0605_4b50);
        u16le(b, 0);
        u16le(b, 0);
        u16le(b, n);
        u16le(b, n);
        u32le(b, size);
        u32le(b, start);
        u16le(b, 0); // comment
        Ok(self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u16at(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([b[at], b[at + 1]])
    }
    fn u32at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    /// Reads the archive the way unzip does: end record → central directory → each local header and its bytes.
    fn read(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
        let end = zip.len() - 22;
        assert_eq!(u32at(zip, end), 0x0605_4b50, "end record");
        let (n, cd_size, cd_start) = (u16at(zip, end + 10) as usize, u32at(zip, end + 12) as usize, u32at(zip, end + 16) as usize);
        assert_eq!(cd_start + cd_size, end);
        let mut at = cd_start;
        let mut out = vec![];
        for _ in 0..n {
            assert_eq!(u32at(zip, at), 0x0201_4b50);
            assert_eq!(u16at(zip, at + 10), 0, "stored");
            let (crc, size) = (u32at(zip, at + 16), u32at(zip, at + 24) as usize);
            let name_len = u16at(zip, at + 28) as usize;
            let name = String::from_utf8(zip[at + 46..at + 46 + name_len].to_vec()).unwrap();
            let local = u32at(zip, at + 42) as usize;
            assert_eq!(u32at(zip, local), 0x0403_4b50);
            assert_eq!(u32at(zip, local + 14), crc);
            let data_at = local + 30 + u16at(zip, local + 26) as usize + u16at(zip, local + 28) as usize;
            let data = zip[data_at..data_at + size].to_vec();
            assert_eq!(crc32fast::hash(&data), crc, "{name}");
            out.push((name, data));
            at += 46 + name_len;
        }
        out
    }

    #[test]
    fn stored_entries_read_back_with_their_crc() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 12, 6).unwrap().and_hms_opt(1, 2, 4).unwrap();
        let mut z = ZipWriter::new(at);
        z.add("manifest.json", b"{\"rows\":2}").unwrap();
        z.add("tables/k\u{e9}ywords.jsonl", "{\"a\":1}\n{\"a\":\"\u{e9}\"}\n".as_bytes()).unwrap();
        z.add("empty.jsonl", b"").unwrap();
        let bytes = z.finish().unwrap();
        let files = read(&bytes);
        assert_eq!(files.len(), 3);
        assert_eq!(files[0], ("manifest.json".to_string(), b"{\"rows\":2}".to_vec()));
        assert_eq!(files[1].0, "tables/k\u{e9}ywords.jsonl");
        assert_eq!(files[2].1, Vec::<u8>::new());
        // The known CRC-32 of "123456789" (the check value of the zip polynomial).
        assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);
        // MS-DOS date and time: 2026-12-06 01:02:04.
        assert_eq!(u16at(&bytes, 10), (1 << 11) | (2 << 5) | 2);
        assert_eq!(u16at(&bytes, 12), (46 << 9) | (12 << 5) | 6);
    }

    #[test]
    fn an_empty_archive_is_just_the_end_record() {
        let z = ZipWriter::new(chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap());
        let bytes = z.finish().unwrap();
        assert_eq!(bytes.len(), 22);
        assert!(read(&bytes).is_empty());
    }
}
