//! Properties of the upload reader: any bytes at all give records or a reason, never a panic; every record keeps
//! to the limits; a file read whole or in chunks gives the same records.

use proptest::prelude::*;

use super::tests::read;
use super::*;

/// Files from the pieces a broken or hostile CSV is made of, mixed with arbitrary bytes.
fn file() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        prop::sample::select(vec![
            &b","[..],
            b";",
            b"\t",
            b"\"",
            b"\"\"",
            b"\r",
            b"\n",
            b"\r\n",
            b" ",
            b"keyword",
            "café 🦀 \u{202e}".as_bytes(),
            b"\xEF\xBB\xBF",
            b"\xFF\xFE",
            b"\xFE\xFF",
            b"\x00",
            b"\xC3",
            b"\xED\xA0\x80",
            b"\x00\xD8",
            b"%PDF",
        ])
        .prop_map(<[u8]>::to_vec),
        (1usize..70_000).prop_map(|n| vec![b'x'; n]),
        (150usize..260).prop_map(|n| vec![b','; n]),
        any::<Vec<u8>>(),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(crate::props_config(512))]

    #[test]
    fn any_upload_gives_records_within_the_limits_or_a_reason(bytes in file(), chunk in 1usize..9000) {
        let whole = read(&bytes, bytes.len());
        // A file with several faults may name a different one first when read in pieces, but it fails either way.
        let chunked = read(&bytes, chunk);
        prop_assert_eq!(chunked.as_ref().ok(), whole.as_ref().ok(), "chunk size {}: {:?} / {:?}", chunk, chunked, whole);
        let Ok(records) = whole else { return Ok(()) };
        let mut previous = 0;
        for r in &records {
            prop_assert!(r.line > previous, "lines increase: {:?}", records);
            previous = r.line;
            prop_assert!(!r.fields.is_empty() && r.fields.len() <= MAX_COLUMNS, "{} columns", r.fields.len());
            prop_assert!(r.fields.iter().map(String::len).sum::<usize>() <= MAX_RECORD);
            prop_assert!(r.fields.iter().any(|f| !f.is_empty()), "a blank record was kept");
            for f in &r.fields {
                prop_assert!(!f.contains('\u{0}') && f.trim() == f, "{:?}", f);
            }
        }
    }
}
