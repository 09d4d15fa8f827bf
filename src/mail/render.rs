//! One shape for every message: a greeting, paragraphs, at most one button, a closing line. The same data is
//! rendered twice, as plain text and as HTML (escaped by Askama), from `templates/mail/letter.{txt,html}`.

use askama::Template;
use serde::{Deserialize, Serialize};

use crate::error::AppResult;

#[derive(Debug, Clone, Default)]
pub struct Letter {
    pub subject: String,
    pub greeting: String,
    pub paragraphs: Vec<String>,
    /// (label, absolute URL)
    pub action: Option<(String, String)>,
    /// Said after the button, e.g. how long the link works.
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Body {
    pub text: String,
    pub html: String,
}

#[derive(Template)]
#[template(path = "mail/letter.txt")]
struct Text<'a> {
    l: &'a Letter,
}

#[derive(Template)]
#[template(path = "mail/letter.html")]
struct Html<'a> {
    l: &'a Letter,
}

impl Letter {
    pub fn new(subject: impl Into<String>, greeting: impl Into<String>) -> Self {
        Letter { subject: subject.into(), greeting: greeting.into(), ..Default::default() }
    }

    pub fn para(mut self, p: impl Into<String>) -> Self {
        self.paragraphs.push(p.into());
        self
    }

    pub fn action(mut self, label: impl Into<String>, url: impl Into<String>) -> Self {
        self.action = Some((label.into(), url.into()));
        self
    }

    pub fn note(mut self, n: impl Into<String>) -> Self {
        self.note = Some(n.into());
        self
    }

    pub fn render(&self) -> AppResult<Body> {
        Ok(Body { text: Text { l: self }.render()?, html: Html { l: self }.render()? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_plain_and_html_is_escaped() {
        let l = Letter::new("Hi", "Hello <Eve>,").para("Tom & Jerry").action("Open", "https://x.example/a?b=1&c=2").note("Soon.");
        let b = l.render().unwrap();
        assert!(b.text.contains("Hello <Eve>,") && b.text.contains("https://x.example/a?b=1&c=2") && b.text.contains("Soon."));
        assert!(b.html.contains("Hello &#60;Eve&#62;,") || b.html.contains("Hello &lt;Eve&gt;,"), "{}", b.html);
        assert!(b.html.contains("Tom &#38; Jerry") || b.html.contains("Tom &amp; Jerry"), "{}", b.html);
        assert!(!b.html.contains("<Eve>"));
    }
}
