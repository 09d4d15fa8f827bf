//! Article HTML: the allow-list sanitiser every article passes before it is stored or shown, and the
//! figures computed from it (word count, headings, slug) rather than taken from the model.

use std::collections::{HashMap, HashSet};

/// Tags an article may contain; everything else is removed (script and style with their content).
const TAGS: &[&str] = &[
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "ul",
    "ol",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "th",
    "td",
    "caption",
    "img",
    "figure",
    "figcaption",
    "strong",
    "em",
    "b",
    "i",
    "u",
    "s",
    "sub",
    "sup",
    "blockquote",
    "code",
    "pre",
    "br",
    "hr",
    "span",
];

/// Allow-list sanitising: no script/style, no event handlers, no `javascript:`/`data:` URLs, links get
/// `rel="noopener noreferrer"`.
pub fn sanitize(html: &str) -> String {
    // One pass can leave markup that reads differently when parsed again (a heading inside a link inside a
    // heading); what is stored must be what the next reader — a browser, WordPress, this function — sees, so clean
    // until nothing changes (twice; a third pass is a safeguard).
    let mut out = clean_once(html);
    for _ in 0..2 {
        let again = clean_once(&out);
        if again == out {
            break;
        }
        out = again;
    }
    out
}

fn clean_once(html: &str) -> String {
    let attrs: HashMap<&str, HashSet<&str>> = HashMap::from([
        ("a", HashSet::from(["href", "title"])),
        ("img", HashSet::from(["src", "alt", "title", "width", "height"])),
        ("th", HashSet::from(["colspan", "rowspan", "scope"])),
        ("td", HashSet::from(["colspan", "rowspan"])),
    ]);
    ammonia::Builder::default()
        .tags(TAGS.iter().copied().collect())
        .tag_attributes(attrs)
        .generic_attributes(HashSet::new())
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer"))
        .clean(html)
        .to_string()
}

/// The article's visible text with tags removed (each tag ends a word), whitespace untouched.
fn visible(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// Words of the article's visible text (tags and entities are not words).
pub fn word_count(html: &str) -> i32 {
    visible(html).split_whitespace().filter(|w| !(w.starts_with('&') && w.ends_with(';')) && w.chars().any(char::is_alphanumeric)).count()
        as i32
}

/// The first `max_words` words of the visible text, single-spaced (what a prompt about the article needs).
pub fn text(html: &str, max_words: usize) -> String {
    visible(html).split_whitespace().take(max_words).collect::<Vec<_>>().join(" ")
}

/// How many `<h2>` headings the article has (an article without any is refused).
pub fn h2_count(html: &str) -> usize {
    html.matches("<h2").count()
}

/// The longest slug.
pub const SLUG_MAX: usize = 80;

/// A URL slug: lower-case letters and digits joined by single hyphens, at most [`SLUG_MAX`] characters (a slug made
/// from a long title is cut; a typed one is checked against the limit by the caller).
pub fn slugify(text: &str) -> String {
    let cut: String = slugify_uncut(text).chars().take(SLUG_MAX).collect();
    cut.trim_matches('-').to_string()
}

/// The slug of `text` at whatever length it comes to.
pub fn slugify_uncut(text: &str) -> String {
    let mut out = String::new();
    for c in text.to_lowercase().chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// Cuts text to `max` characters at a word boundary (meta title 60, description 160).
pub fn fit(text: &str, max: usize) -> String {
    let t = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.chars().count() <= max {
        return t;
    }
    let cut: String = t.chars().take(max).collect();
    match cut.rfind(' ') {
        Some(i) if i > max / 2 => cut[..i].trim_end_matches([',', ';', ':', '-']).to_string(),
        _ => cut,
    }
}

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_handlers_and_bad_urls_are_removed() {
        let dirty = r#"<h2 onclick="x()">Hi</h2><script>alert(1)</script><p style="color:red">Text <a href="javascript:alert(1)">bad</a>
            <a href="https://example.com">good</a><img src=x onerror="alert(1)"><img src="data:image/png;base64,AAA"><iframe src="https://e.com"></iframe></p><style>p{}</style>"#;
        let clean = sanitize(dirty);
        for banned in ["script", "onclick", "onerror", "javascript:", "style", "iframe", "data:"] {
            assert!(!clean.contains(banned), "{banned} in {clean}");
        }
        assert!(
            clean.contains("<h2>Hi</h2>") && clean.contains(r#"<a href="https://example.com" rel="noopener noreferrer">good</a>"#),
            "{clean}"
        );
    }

    #[test]
    fn figures_come_from_the_html() {
        assert_eq!(word_count("<h2>Two words</h2><p>and &amp; three more</p>"), 5);
        assert_eq!(h2_count("<h2>a</h2><p>x</p><h2>b</h2>"), 2);
        assert_eq!(slugify("  Best Running Shoes — 2026 Guide! "), "best-running-shoes-2026-guide");
        assert_eq!(
            fit("A title that is clearly much too long for a search result snippet here", 40),
            "A title that is clearly much too long"
        );
    }
}
