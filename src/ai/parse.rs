//! Turning a model's answer into data: strip code fences, parse JSON, check the shape, and refuse a
//! truncated answer rather than pass half an article on.

use serde::de::DeserializeOwned;

use super::{AiError, ChatResponse};

/// Removes a surrounding ```json … ``` fence, if any.
pub fn strip_fences(text: &str) -> &str {
    let t = text.trim();
    let Some(rest) = t.strip_prefix("```") else { return t };
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_alphanumeric());
    rest.strip_suffix("```").unwrap_or(rest).trim()
}

/// The answer as `T`, or why it cannot be used.
pub fn json<T: DeserializeOwned>(res: &ChatResponse) -> Result<T, AiError> {
    if res.finish_reason == "length" {
        return Err(AiError::Truncated);
    }
    let body = strip_fences(&res.content);
    if body.is_empty() {
        return Err(AiError::BadOutput("the answer is empty".into()));
    }
    let value: serde_json::Value = serde_json::from_str(body)
        .map_err(|e| AiError::BadOutput(format!("not valid JSON ({e}): {}", body.chars().take(80).collect::<String>())))?;
    serde_json::from_value(value).map_err(|e| AiError::BadOutput(format!("JSON of the wrong shape: {e}")))
}

/// Plain text answers still refuse truncation.
pub fn text(res: &ChatResponse) -> Result<String, AiError> {
    if res.finish_reason == "length" {
        return Err(AiError::Truncated);
    }
    Ok(res.content.trim().to_string())
}

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    fn res(content: &str, finish: &str) -> ChatResponse {
        ChatResponse {
            content: content.into(),
            finish_reason: finish.into(),
            tokens_in: 0,
            tokens_out: 0,
            model: "m".into(),
            sample: false,
        }
    }

    #[derive(serde::Deserialize, Debug)]
    struct Shape {
        title: String,
    }

    #[test]
    fn fences_json_shape_and_truncation() {
        assert_eq!(strip_fences("```json\n{\"a\":1}\n```"), "{\"a\":1}");
        assert_eq!(strip_fences("  {\"a\":1} "), "{\"a\":1}");
        let ok: Shape = json(&res("```json\n{\"title\": \"Hi\"}\n```", "stop")).unwrap();
        assert_eq!(ok.title, "Hi");
        assert_eq!(json::<Shape>(&res("{\"title\": \"Hi\"", "length")).unwrap_err(), AiError::Truncated);
        assert!(matches!(json::<Shape>(&res("not json", "stop")), Err(AiError::BadOutput(m)) if m.contains("not valid JSON")));
        assert!(matches!(json::<Shape>(&res("{\"name\": 1}", "stop")), Err(AiError::BadOutput(m)) if m.contains("wrong shape")));
        assert!(matches!(json::<Shape>(&res("", "stop")), Err(AiError::BadOutput(_))));
    }
}
