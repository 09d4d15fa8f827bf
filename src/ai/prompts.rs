//! Built-in prompts: what a module ships for each AI step it runs — its system message, its template with
//! `[IGNY8_*]` placeholders, the placeholders it may use and the ones it cannot do without, and the purpose its
//! calls are logged under. Modules declare theirs (`planner::prompts::BUILTINS`, `writer::prompts::BUILTINS`);
//! the app assembles them into one [`Library`] that the Thinker shows, workspaces override, and jobs resolve.

pub struct Builtin {
    pub key: &'static str,
    pub label: &'static str,
    /// What calls made with it are logged as (and what the offline dev provider answers to).
    pub purpose: &'static str,
    pub system: &'static str,
    pub template: &'static str,
    pub placeholders: &'static [&'static str],
    pub required: &'static [&'static str],
}

/// Every built-in prompt of the app, in the order the Thinker lists them.
#[derive(Default)]
pub struct Library {
    prompts: Vec<&'static Builtin>,
}

impl Library {
    pub fn add(&mut self, prompts: &'static [Builtin]) -> &mut Self {
        for p in prompts {
            assert!(self.builtin(p.key).is_none(), "prompt {} declared twice", p.key);
            self.prompts.push(p);
        }
        self
    }

    pub fn all(&self) -> &[&'static Builtin] {
        &self.prompts
    }

    pub fn builtin(&self, key: &str) -> Option<&'static Builtin> {
        self.prompts.iter().copied().find(|b| b.key == key)
    }

    /// The purpose of a step's calls ("chat" for a key the library does not have).
    pub fn purpose_of(&self, key: &str) -> &'static str {
        self.builtin(key).map(|b| b.purpose).unwrap_or("chat")
    }
}

/// Replaces each `[IGNY8_NAME]` with its value; unknown placeholders are left as written.
pub fn render(template: &str, values: &[(&str, String)]) -> String {
    let mut out = template.to_string();
    for (name, value) in values {
        out = out.replace(&format!("[IGNY8_{name}]"), value);
    }
    out
}

/// The `[IGNY8_NAME]` placeholders a text uses, in order of first use.
pub fn placeholders_in(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("[IGNY8_") {
        let after = &rest[at + 7..];
        match after.find(']') {
            Some(end) if after[..end].chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') && end > 0 => {
                let name = after[..end].to_string();
                if !out.contains(&name) {
                    out.push(name);
                }
                rest = &after[end + 1..];
            }
            _ => rest = after,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_found_once_each_and_rendered() {
        assert_eq!(placeholders_in("[IGNY8_A] [IGNY8_B] [IGNY8_A] [IGNY8_] [IGNY8_lower]"), vec!["A", "B"]);
        assert_eq!(render("Hi [IGNY8_NAME], [IGNY8_OTHER]", &[("NAME", "Ann".into())]), "Hi Ann, [IGNY8_OTHER]");
    }
}
