//! Properties of the article cleaner: whatever HTML goes in, only allow-listed tags and attributes come out, no
//! script, no event handler, no URL with another scheme than http, https or mailto, and cleaning clean HTML
//! changes nothing.

use proptest::prelude::*;

use super::*;

/// HTML from the pieces an attack is made of, mixed with arbitrary text.
fn html_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        prop::sample::select(vec![
            "<script>alert(1)</script>",
            "<SCRIPT SRC=//x.example/a.js>",
            "<scr<script>ipt>",
            "<img src=x onerror=alert(1)>",
            "<img src=\"javascript:alert(1)\">",
            "<a href=\"javascript:alert(1)\">",
            "<a href=\"JaVaScRiPt&#58;alert(1)\">",
            "<a href=\"java\tscript:alert(1)\">",
            "<a href=\" javascript:alert(1)\">",
            "<a href=\"data:text/html,<script>\">",
            "<a href=\"vbscript:x\">",
            "<a href=\"https://ok.example/?a=1&b=2\" onclick=\"x()\" title=\"t\">",
            "<a href=/relative>",
            "<svg onload=alert(1)>",
            "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
            "<iframe srcdoc=\"<script>\">",
            "<style>@import 'x'</style>",
            "<!--",
            "-->",
            "<![CDATA[",
            "]]>",
            "<p style=\"x\" class=\"c\" id=\"i\">",
            "<table><td>",
            "<h2>",
            "</h2>",
            "<pre>",
            "<code>",
            "<td colspan=\"2\" onmouseover=\"x\">",
            "<form action=x><input name=a>",
            "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
            "<",
            ">",
            "\"",
            "'",
            "&",
            "&lt;script&gt;",
            " on",
            "=",
            "\u{0}",
        ])
        .prop_map(str::to_string),
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..16).prop_map(|p| p.concat())
}

/// The allow-list, read back from serialised output: every tag and attribute is checked.
fn check(out: &str) -> Result<(), String> {
    let allowed = |tag: &str, attr: &str| match tag {
        "a" => ["href", "title", "rel"].contains(&attr),
        "img" => ["src", "alt", "title", "width", "height"].contains(&attr),
        "th" => ["colspan", "rowspan", "scope"].contains(&attr),
        "td" => ["colspan", "rowspan"].contains(&attr),
        _ => false,
    };
    // The serialiser escapes `<` in text and `"` in attribute values (but not `<` or `>` there), so every `<`
    // outside a quoted value opens a tag.
    let mut rest = out;
    while let Some(at) = rest.find('<') {
        let after = &rest[at + 1..];
        let name_len = after.find([' ', '>', '/']).unwrap_or(after.len());
        let (name, closing) = match after.strip_prefix('/') {
            Some(n) => (&n[..n.find('>').unwrap_or(n.len())], true),
            None => (&after[..name_len], false),
        };
        if !TAGS.contains(&name) {
            return Err(format!("tag {name:?} in {out:?}"));
        }
        let mut attrs = if closing { &after[1 + name.len()..] } else { &after[name.len()..] };
        loop {
            attrs = attrs.trim_start();
            if let Some(r) = attrs.strip_prefix('>') {
                rest = r;
                break;
            }
            if let Some(r) = attrs.strip_prefix("/>") {
                rest = r;
                break;
            }
            let (attr, tail) = attrs.split_once("=\"").ok_or_else(|| format!("unreadable attributes {attrs:?} in {out:?}"))?;
            let (value, tail) = tail.split_once('"').ok_or_else(|| format!("unquoted value in {out:?}"))?;
            if closing || !allowed(name, attr) {
                return Err(format!("attribute {attr:?} on {name:?} in {out:?}"));
            }
            if ["href", "src"].contains(&attr)
                && let Some((scheme, _)) = value.split_once(':')
                && !scheme.contains(['/', '?', '#'])
                && !["http", "https", "mailto"].contains(&scheme.to_ascii_lowercase().as_str())
            {
                return Err(format!("{attr}={value:?} in {out:?}"));
            }
            attrs = tail;
        }
    }
    if out.contains('\u{0}') {
        return Err(format!("NUL in {out:?}"));
    }
    Ok(())
}

proptest! {
    #![proptest_config(crate::props_config(512))]

    #[test]
    fn only_allow_listed_markup_comes_out_and_cleaning_twice_changes_nothing(html in html_text()) {
        let once = sanitize(&html);
        if let Err(e) = check(&once) {
            prop_assert!(false, "{}", e);
        }
        let lower = once.to_ascii_lowercase();
        prop_assert!(!lower.contains("<script") && !lower.contains("<style") && !lower.contains("<iframe"), "{}", once);
        prop_assert_eq!(sanitize(&once), once.clone());
    }
}

/// Found by the property above: a heading inside a link inside a heading came out nested, and cleaning that
/// again un-nested it.
#[test]
fn a_heading_nested_through_a_link_is_stored_as_it_reads_back() {
    let once = sanitize(r#"<h2><a href="javascript:alert(1)"><h2><a href="javascript:alert(1)">"#);
    assert_eq!(sanitize(&once), once);
    assert!(!once.contains("javascript"), "{once}");
}

#[test]
fn the_checker_itself_catches_what_it_is_for() {
    assert!(check(r#"<p>a &lt;script&gt; <a href="https://x.example" rel="noopener noreferrer">x</a></p>"#).is_ok());
    for bad in
        ["<script>x</script>", r#"<p onclick="x">"#, r#"<a href="javascript:alert(1)">"#, r#"<img src="data:x">"#, "<iframe>", "<!-- x -->"]
    {
        assert!(check(bad).is_err(), "{bad}");
    }
}
