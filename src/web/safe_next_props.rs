//! Properties of the `next` check: whatever is asked for, the answer is nothing or a path on this site.

use proptest::prelude::*;

use super::safe_next;

/// Targets from the pieces an open redirect is made of, mixed with arbitrary text.
fn target() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        prop::sample::select(vec![
            "/",
            "//",
            "\\",
            "/\\",
            "\t",
            "\n",
            "\r",
            " ",
            "\u{0}",
            "\u{7f}",
            "\u{85}",
            "\u{2028}",
            "\u{ff0f}",
            "%2f",
            "%5c",
            "%09",
            "http:",
            "https://",
            "javascript:",
            "data:",
            "evil.example",
            "@",
            ":",
            "?",
            "#",
            ".",
            "..",
            "a",
        ])
        .prop_map(str::to_string),
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..10).prop_map(|p| p.concat())
}

fn check(next: &str) -> Result<(), TestCaseError> {
    let Some(out) = safe_next(next) else { return Ok(()) };
    prop_assert_eq!(out, next, "accepted unchanged or not at all");
    prop_assert!(out.starts_with('/') && !out.starts_with("//") && !out.starts_with("/\\"), "{:?}", out);
    prop_assert!(out.bytes().all(|b| b.is_ascii_graphic() && b != b'\\'), "{:?}", out);
    prop_assert!(url::Url::parse(out).is_err(), "has a scheme: {:?}", out);
    // Read as a browser reads it, relative to a page of this site, it stays on this site.
    let base = url::Url::parse("https://app.example/dashboard").unwrap();
    let joined = base.join(out).map_err(|e| TestCaseError::fail(format!("{out:?}: {e}")))?;
    prop_assert_eq!((joined.scheme(), joined.host_str(), joined.port()), ("https", Some("app.example"), None), "{:?}", out);
    Ok(())
}

proptest! {
    #![proptest_config(crate::props_config(1000))]

    #[test]
    fn the_answer_is_nothing_or_a_path_on_this_site(next in target()) {
        check(&next)?;
    }

    #[test]
    fn any_text_at_all_is_answered(next in any::<String>()) {
        check(&next)?;
    }
}
