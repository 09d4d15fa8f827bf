//! Maps a model's clustering answer back to keyword ids. Matching is case- and space-insensitive; a
//! keyword the model dropped stays unclustered, one it invented is never created, and one it listed in
//! two clusters stays in the first — each case is reported, none is silent.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
pub struct Answer {
    pub clusters: Vec<AnswerCluster>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AnswerCluster {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub keywords: Vec<String>,
}

/// A cluster to write: name, description and the ids of its keywords.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assigned {
    pub name: String,
    pub description: String,
    pub keyword_ids: Vec<i64>,
}

/// What went differently from what was asked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Keywords sent but in no cluster of the answer (left unclustered).
    pub dropped: Vec<String>,
    /// Keywords in the answer that were never sent (ignored).
    pub invented: Vec<String>,
    /// Keywords listed in more than one cluster: (keyword, kept in, also listed in).
    pub repeated: Vec<(String, String, String)>,
}

impl Report {
    pub fn merge(&mut self, other: Report) {
        self.dropped.extend(other.dropped);
        self.invented.extend(other.invented);
        self.repeated.extend(other.repeated);
    }
    pub fn is_clean(&self) -> bool {
        self.dropped.is_empty() && self.invented.is_empty() && self.repeated.is_empty()
    }
}

pub fn match_key(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// `sent` is the batch as (id, keyword). Every sent id ends up in at most one `Assigned`.
pub fn map_answer(sent: &[(i64, String)], answer: &Answer) -> (Vec<Assigned>, Report) {
    let by_key: HashMap<String, (i64, &str)> = sent.iter().map(|(id, k)| (match_key(k), (*id, k.as_str()))).collect();
    let mut owner: HashMap<i64, String> = HashMap::new();
    let mut out: Vec<Assigned> = Vec::new();
    let mut report = Report::default();
    for c in &answer.clusters {
        let mut ids = Vec::new();
        let mut name = c.name.trim().chars().take(200).collect::<String>();
        for k in &c.keywords {
            match by_key.get(&match_key(k)) {
                None => report.invented.push(k.trim().to_string()),
                Some((id, original)) => match owner.get(id) {
                    Some(first) => {
                        if !ids.contains(id) {
                            report.repeated.push((original.to_string(), first.clone(), name.clone()));
                        }
                    }
                    None => {
                        if name.is_empty() {
                            name = original.to_string();
                        }
                        owner.insert(*id, name.clone());
                        ids.push(*id);
                    }
                },
            }
        }
        if !ids.is_empty() {
            // Two answer clusters with one name become one cluster.
            match out.iter_mut().find(|a| match_key(&a.name) == match_key(&name)) {
                Some(existing) => existing.keyword_ids.extend(ids),
                None => out.push(Assigned { name, description: c.description.trim().chars().take(2000).collect(), keyword_ids: ids }),
            }
        }
    }
    report.dropped = sent.iter().filter(|(id, _)| !owner.contains_key(id)).map(|(_, k)| k.clone()).collect();
    (out, report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(v: serde_json::Value) -> Answer {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn drops_inventions_and_repeats_are_reported_never_lost() {
        let sent = vec![
            (1, "Running Shoes".to_string()),
            (2, "trail shoes".to_string()),
            (3, "cake recipe".to_string()),
            (4, "tax deadline".to_string()),
        ];
        let a = answer(serde_json::json!({ "clusters": [
            { "name": "Shoes", "description": "d", "keywords": ["running  shoes", "TRAIL SHOES", "hiking boots"] },
            { "name": "Baking", "keywords": ["cake recipe", "trail shoes"] },
        ]}));
        let (assigned, report) = map_answer(&sent, &a);
        assert_eq!(assigned.len(), 2);
        assert_eq!(assigned[0].keyword_ids, vec![1, 2]);
        assert_eq!(assigned[1].keyword_ids, vec![3]);
        assert_eq!(report.dropped, vec!["tax deadline".to_string()]);
        assert_eq!(report.invented, vec!["hiking boots".to_string()]);
        assert_eq!(report.repeated, vec![("trail shoes".into(), "Shoes".into(), "Baking".into())]);
        let all: Vec<i64> = assigned.iter().flat_map(|a| a.keyword_ids.clone()).collect();
        assert_eq!(all.len(), 3, "no keyword twice");
    }

    #[test]
    fn empty_names_take_the_first_keyword_and_same_names_merge() {
        let sent = vec![(1, "a".to_string()), (2, "b".to_string())];
        let a = answer(serde_json::json!({ "clusters": [{ "name": "", "keywords": ["a"] }, { "name": "A", "keywords": ["b"] }] }));
        let (assigned, report) = map_answer(&sent, &a);
        assert_eq!(assigned, vec![Assigned { name: "a".into(), description: String::new(), keyword_ids: vec![1, 2] }]);
        assert!(report.is_clean());
    }
}
