//! A form shown again after its errors: each field keeps what the user typed (not the stored value), and each
//! error sits beside its field, tied to it with `aria-invalid` + `aria-describedby` (static/app.js moves focus to
//! the first). A fresh form (nothing typed) shows the stored values.

use crate::error::FieldErrors;

#[derive(Debug, Default)]
pub struct ShownForm {
    /// The submitted fields in order (repeated names kept), or None for a fresh form.
    typed: Option<Vec<(String, String)>>,
    errors: FieldErrors,
}

impl ShownForm {
    pub fn fresh() -> Self {
        Self::default()
    }

    /// `errors` are keyed by form field name.
    pub fn refused(typed: Vec<(String, String)>, errors: FieldErrors) -> Self {
        Self { typed: Some(typed), errors }
    }

    /// The text of an input: what was typed, else the stored value.
    pub fn value(&self, name: &str, stored: impl std::fmt::Display) -> String {
        match &self.typed {
            Some(pairs) => pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default(),
            None => stored.to_string(),
        }
    }

    /// A checkbox or option: ticked as submitted (`value` among the `name` fields), else as stored.
    pub fn checked(&self, name: &str, value: &str, stored: impl std::borrow::Borrow<bool>) -> bool {
        match &self.typed {
            Some(pairs) => pairs.iter().any(|(k, v)| k == name && v == value),
            None => *stored.borrow(),
        }
    }

    pub fn error(&self, name: &str) -> Option<&String> {
        self.errors.get(name)
    }

    /// ` aria-invalid="true" aria-describedby="err-<name>"` for a field with an error, else "". Names are the
    /// template's own literals (letters, digits, `_` and `.`), so the attribute text is safe to emit unescaped.
    pub fn aria(&self, name: &str) -> String {
        match self.errors.contains_key(name) && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.')) {
            true => format!(r#" aria-invalid="true" aria-describedby="err-{name}""#),
            false => String::new(),
        }
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_values_win_over_stored_ones_and_errors_are_tied_to_their_field() {
        let fresh = ShownForm::fresh();
        assert_eq!(fresh.value("budget", 40), "40");
        assert!(fresh.checked("enabled", "on", true));
        assert_eq!(fresh.aria("budget"), "");

        let typed = vec![("budget".to_string(), "lots".to_string()), ("statuses".to_string(), "draft".to_string())];
        let shown = ShownForm::refused(typed, FieldErrors::from([("budget".to_string(), "A whole number".to_string())]));
        assert_eq!(shown.value("budget", 40), "lots");
        assert!(!shown.checked("enabled", "on", true), "an unticked box stays unticked");
        assert!(shown.checked("statuses", "draft", false) && !shown.checked("statuses", "ready", true));
        assert_eq!(shown.aria("budget"), r#" aria-invalid="true" aria-describedby="err-budget""#);
        assert_eq!(shown.error("budget").map(String::as_str), Some("A whole number"));
        assert_eq!(shown.aria("x\"onclick"), "", "never emits a name it did not expect");
    }
}
