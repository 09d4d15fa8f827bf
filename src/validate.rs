//! Field checks shared by every form and JSON body: each failure becomes a message beside its field.

use crate::error::{AppError, AppResult, FieldErrors};

#[derive(Default)]
pub struct Check {
    pub errors: FieldErrors,
}

impl Check {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.entry(field.to_string()).or_insert_with(|| message.into());
    }

    /// Trimmed text of `min..=max` characters, without control characters or undecodable bytes.
    pub fn text(&mut self, field: &str, value: &str, label: &str, min: usize, max: usize) -> String {
        let v = value.trim();
        let n = v.chars().count();
        if n < min {
            self.fail(field, if min <= 1 { format!("{label} is required") } else { format!("{label} needs at least {min} characters") });
        } else if n > max {
            self.fail(field, format!("{label} can be at most {max} characters (got {n})"));
        } else if let Some(msg) = bad_chars(v) {
            self.fail(field, format!("{label} {msg}"));
        }
        v.to_string()
    }

    /// Like `text`, for textareas: line breaks and tabs are text too (CRLF becomes LF).
    pub fn multiline(&mut self, field: &str, value: &str, label: &str, min: usize, max: usize) -> String {
        let v = value.trim().replace("\r\n", "\n");
        let n = v.chars().count();
        if n < min {
            self.fail(field, if min <= 1 { format!("{label} is required") } else { format!("{label} needs at least {min} characters") });
        } else if n > max {
            self.fail(field, format!("{label} can be at most {max} characters (got {n})"));
        } else if let Some(msg) = bad_chars(&v.replace(['\n', '\t'], " ")) {
            self.fail(field, format!("{label} {msg}"));
        }
        v
    }

    /// A lower-cased email address with a plausible shape.
    pub fn email(&mut self, field: &str, value: &str) -> String {
        let v = value.trim().to_lowercase();
        if v.is_empty() {
            self.fail(field, "Email is required");
        } else if v.chars().count() > 254 {
            self.fail(field, "Email can be at most 254 characters");
        } else if !looks_like_email(&v) {
            self.fail(field, "Enter an email address such as name@example.com");
        } else if let Some(msg) = bad_chars(&v) {
            self.fail(field, format!("Email {msg}"));
        }
        v
    }

    /// A list typed as text (items split on `sep`, trimmed, empty ones dropped): at most `max_items` items of at most
    /// `max_len` characters each. Too many or too long is a field error, never a silent cut.
    pub fn list(&mut self, field: &str, raw: &str, sep: &[char], label: &str, max_len: usize, max_items: usize) -> Vec<String> {
        let items: Vec<String> = raw.split(sep).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        if items.len() > max_items {
            self.fail(field, format!("{label} can have at most {max_items} items (got {})", items.len()));
        } else if let Some((i, long)) = items.iter().enumerate().find(|(_, s)| s.chars().count() > max_len) {
            self.fail(field, format!("{label}: item {} can be at most {max_len} characters (got {})", i + 1, long.chars().count()));
        } else if let Some(msg) = items.iter().find_map(|s| bad_chars(s)) {
            self.fail(field, format!("{label} {msg}"));
        }
        items
    }

    pub fn finish(self) -> AppResult<()> {
        if self.errors.is_empty() { Ok(()) } else { Err(AppError::Validation(self.errors)) }
    }
}

/// A field that JSON callers send as a number (`"volume": 1200`) and forms as text: kept as text, so the
/// same checks and messages apply to both.
pub fn text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    use serde::Deserialize;
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    })
}

/// A list kept as typed text (one item per line) that JSON callers may also send as an array of strings.
pub fn text_or_lines<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    use serde::Deserialize;
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Array(items) => {
            items.into_iter().map(|v| v.as_str().map(String::from).unwrap_or_else(|| v.to_string())).collect::<Vec<_>>().join("\n")
        }
        serde_json::Value::String(s) => s,
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    })
}

/// A list field that JSON callers send as an array and forms as comma-separated text.
pub fn list_or_csv<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    use serde::Deserialize;
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Array(items) => {
            items.into_iter().map(|v| v.as_str().map(String::from).unwrap_or_else(|| v.to_string())).collect()
        }
        serde_json::Value::String(s) => s.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect(),
        serde_json::Value::Null => Vec::new(),
        other => vec![other.to_string()],
    })
}

/// An optional id that JSON callers send as a number or null and forms as text ("" for none, from a select's
/// empty choice). Anything else is an error naming the field, never a silent "none".
pub fn optional_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    use serde::Deserialize;
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Number(n) => n.as_i64().map(Some).ok_or_else(|| serde::de::Error::custom("an id must be a whole number")),
        serde_json::Value::String(s) if s.trim().is_empty() => Ok(None),
        serde_json::Value::String(s) => s.trim().parse().map(Some).map_err(|_| serde::de::Error::custom("an id must be a whole number")),
        _ => Err(serde::de::Error::custom("an id must be a whole number")),
    }
}

fn bad_chars(v: &str) -> Option<&'static str> {
    if v.contains('\u{FFFD}') {
        Some("contains bytes that are not valid UTF-8 text")
    } else if v.chars().any(|c| c.is_control()) {
        Some("contains control characters")
    } else {
        None
    }
}

fn looks_like_email(v: &str) -> bool {
    let Some((local, domain)) = v.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !v.chars().any(|c| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '(' | ')' | ',' | ';'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules() {
        let mut c = Check::new();
        assert_eq!(c.text("a", "  hi  ", "Name", 1, 10), "hi");
        c.text("b", "", "Name", 1, 10);
        c.text("c", &"x".repeat(10_000), "Name", 1, 120);
        c.text("d", "bad\u{FFFD}", "Name", 1, 10);
        c.text("e", "tab\u{7}", "Name", 1, 10);
        assert_eq!(c.errors.len(), 4);
        assert!(c.errors["c"].contains("at most 120"));
        let mut m = Check::new();
        assert_eq!(m.multiline("a", " one\r\ntwo\tthree ", "Text", 1, 50), "one\ntwo\tthree");
        m.multiline("b", "bell\u{7}", "Text", 1, 50);
        assert_eq!(m.errors.len(), 1);
    }

    #[test]
    fn email_rules() {
        let mut c = Check::new();
        assert_eq!(c.email("e", " Ann@Example.COM "), "ann@example.com");
        assert!(c.errors.is_empty());
        for bad in ["", "no-at", "a@b", "a@.com", "\"><img onerror=x>@x.com", "a b@c.com"] {
            let mut c = Check::new();
            c.email("e", bad);
            assert!(c.errors.contains_key("e"), "{bad}");
        }
    }
}
