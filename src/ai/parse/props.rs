//! Properties of the answer parser: any answer text is turned into data or a reason, never a panic; a cut-off
//! answer is always refused; what comes back is exactly the JSON the answer held, fenced or not.

use proptest::prelude::*;
use serde_json::Value;

use super::*;

fn res(content: String, finish: &str) -> ChatResponse {
    ChatResponse { content, finish_reason: finish.into(), tokens_in: 0, tokens_out: 0, model: "m".into(), sample: false }
}

/// Answer text from the pieces models really send (fences, braces, quotes, prose) and arbitrary text.
fn answer_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("```".to_string()),
        Just("```json\n".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("\"title\"".to_string()),
        Just(":".to_string()),
        Just(",".to_string()),
        Just("\"\\u0000\\ud800\"".to_string()),
        Just("1e999".to_string()),
        Just(" \n\t".to_string()),
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..16).prop_map(|p| p.concat())
}

/// JSON values without floats (whose text form does not always read back to the same bits).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(any::<String>(), inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[derive(serde::Deserialize, Debug)]
#[allow(dead_code)]
struct Shape {
    title: String,
    sections: Vec<String>,
}

proptest! {
    #![proptest_config(crate::props_config(512))]

    #[test]
    fn any_answer_gives_data_or_a_reason(content in answer_text(), finish in prop_oneof![Just("stop".to_string()), Just("length".to_string()), ".*"]) {
        let shaped = json::<Shape>(&res(content.clone(), &finish));
        let any = json::<Value>(&res(content.clone(), &finish));
        let plain = text(&res(content.clone(), &finish));
        if finish == "length" {
            prop_assert_eq!(shaped.unwrap_err(), AiError::Truncated);
            prop_assert_eq!(any.unwrap_err(), AiError::Truncated);
            prop_assert_eq!(plain.unwrap_err(), AiError::Truncated);
        } else {
            // Whatever is accepted is the JSON inside the fences, with the documented shape.
            let body = strip_fences(&content);
            prop_assert!(content.contains(body));
            prop_assert_eq!(body, body.trim());
            match any {
                Ok(v) => prop_assert_eq!(Some(v), serde_json::from_str::<Value>(body).ok()),
                Err(e) => prop_assert!(matches!(e, AiError::BadOutput(_))),
            }
            if let Ok(s) = shaped {
                let v: Value = serde_json::from_str(body).unwrap();
                prop_assert_eq!(v["title"].as_str(), Some(s.title.as_str()));
                prop_assert_eq!(v["sections"].as_array().map(Vec::len), Some(s.sections.len()));
            }
            prop_assert_eq!(plain.unwrap(), content.trim());
        }
    }

    #[test]
    fn json_comes_back_as_sent_with_or_without_fences(v in json_value(), fence in prop_oneof![Just(""), Just("```"), Just("```json")], pad in "[ \n\t]{0,3}") {
        let body = serde_json::to_string_pretty(&v).unwrap();
        let content = match fence {
            "" => format!("{pad}{body}{pad}"),
            f => format!("{pad}{f}\n{body}\n```{pad}"),
        };
        prop_assert_eq!(json::<Value>(&res(content, "stop")), Ok(v));
    }
}
