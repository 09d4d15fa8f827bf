//! The hostile values: text for form fields, and raw JSON (wrong types, huge, deep) for JSON fields and bodies.

/// (kind, value) for one form field.
pub fn form_values() -> Vec<(&'static str, String)> {
    vec![
        ("nul", "a\u{0}b".into()),
        ("escape", "\u{1b}[31mred".into()),
        ("del", "x\u{7f}".into()),
        ("c1", "\u{85}\u{9b}".into()),
        ("1 MB", "a".repeat(1 << 20)),
        ("100k chars", "é".repeat(100_000)),
        ("unicode", "\u{202e}evil\u{202c} 🦀👩‍👩‍👧 e\u{301}\u{301}\u{301} \u{feff}\u{200b}".into()),
        ("script", "<script>alert(1)</script>".into()),
        ("sql", "' OR '1'='1'; DROP TABLE users; --\"".into()),
        ("-1", "-1".into()),
        ("huge number", "9999999999999999999".into()),
        ("1e309", "1e309".into()),
        ("NaN", "NaN".into()),
        ("empty", String::new()),
        ("whitespace", " \t \r\n ".into()),
        ("invalid UTF-8", INVALID_UTF8.into()),
    ]
}

/// Sent as percent-encoded bytes that are no UTF-8 (see `invalid_utf8` in the sweep).
pub const INVALID_UTF8: &str = "\u{fffe}invalid-utf8\u{fffe}";

/// What a browser's address bar or a proxy would refuse anyway is not sent in a query string.
pub const QUERY_MAX: usize = 4096;

/// (kind, raw JSON) put in place of one field's value.
pub fn json_values() -> Vec<(&'static str, String)> {
    vec![
        ("number", "1".into()),
        ("negative", "-1".into()),
        ("string", "\"1\"".into()),
        ("text", "\"x\"".into()),
        ("null", "null".into()),
        ("bool", "true".into()),
        ("array", "[1,\"a\",null]".into()),
        ("object", "{\"a\":{\"b\":1}}".into()),
        ("huge number", "18446744073709551616".into()),
        ("1e400", "1e400".into()),
        ("float", "-0.5".into()),
        ("deep nesting", format!("{}{}", "[".repeat(1000), "]".repeat(1000))),
        ("2 MB string", format!("\"{}\"", "a".repeat(2 << 20))),
        ("escaped NUL", "\"a\\u0000b\"".into()),
        ("lone surrogate", "\"\\ud800\"".into()),
    ]
}

/// (kind, raw body) sent instead of an object.
pub fn json_bodies() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("empty body", vec![]),
        ("array body", b"[]".to_vec()),
        ("string body", b"\"x\"".to_vec()),
        ("number body", b"1".to_vec()),
        ("null body", b"null".to_vec()),
        ("truncated", b"{\"a\":".to_vec()),
        ("invalid UTF-8", b"{\"name\":\"\xff\xfe\"}".to_vec()),
        ("deep body", format!("{}{}", "{\"a\":".repeat(1000), "}".repeat(1000)).into_bytes()),
        ("2 MB body", format!("{{\"a\":\"{}\"}}", "a".repeat(2 << 20)).into_bytes()),
        ("duplicate keys", b"{\"name\":\"a\",\"name\":1}".to_vec()),
    ]
}

/// A plausible value for a documented field, so a request is refused for the one hostile field only.
pub fn plausible(field: &str) -> serde_json::Value {
    use serde_json::json;
    let f = field;
    if f == "ids" || f.ends_with("_ids") {
        json!([1])
    } else if f == "all" || f == "enabled" || f == "json" || f == "as_new_post" || f.starts_with("clear_") {
        json!(false)
    } else if f.ends_with("_id")
        || ["volume", "difficulty", "cpc", "delta", "threshold", "batch_size", "count", "into", "estimated_words"].contains(&f)
        || f.ends_with("_goal")
        || f.ends_with("_cap")
        || f.ends_with("_budget")
        || f.ends_with("_usd")
    {
        json!(1)
    } else if f == "email" {
        json!("someone@example.com")
    } else {
        json!("x")
    }
}
