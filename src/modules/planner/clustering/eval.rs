//! Scoring a clusterer against a labelled set: keywords grouped into article-level topics, plus pairs of
//! topics that share words but need different articles ("hard negatives").
//!
//! - Adjusted Rand index (ARI): agreement of two partitions over all keyword pairs, corrected for chance
//!   (1 = identical, about 0 = random, negative = worse than random). Unclustered keywords each count as a
//!   cluster of their own.
//! - Pair recall / precision: of the pairs that share a topic, the share placed together; of the pairs
//!   placed together, the share that share a topic.
//! - Hard-negative merge rate: of the keyword pairs (a, b) with a in topic X, b in topic Y and (X, Y) a
//!   listed hard-negative pair, the share placed in the same cluster.
//!
//! The shipped set is `benches/data/clustering` (see its README); the bench and the regression test use it.

use std::collections::HashMap;
use std::path::Path;

use super::local;

/// Keywords with their topic; ids given to a clusterer are indices into `keywords`.
#[derive(Debug, Clone)]
pub struct EvalSet {
    pub keywords: Vec<String>,
    /// Topic index of each keyword (into `topic_names`).
    pub topics: Vec<usize>,
    pub topic_names: Vec<String>,
    /// Pairs of topic indices, each listed once.
    pub hard_negative_pairs: Vec<(usize, usize)>,
}

impl EvalSet {
    /// The keywords as clusterer input: id = index, no volume.
    pub fn items(&self) -> Vec<local::Item> {
        self.keywords.iter().enumerate().map(|(i, k)| local::Item { id: i as i64, keyword: k.clone(), volume: 0 }).collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    pub ari: f64,
    pub pair_recall: f64,
    pub pair_precision: f64,
    pub hard_negative_merge_rate: f64,
    pub clusters: usize,
    pub unclustered: usize,
}

/// The set kept in the repository (for the bench and the regression test).
pub fn shipped_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/benches/data/clustering"))
}

/// Reads `topics.tsv` (`topic_id<TAB>keyword`) and `hard_negatives.tsv` (`topic_a<TAB>topic_b`), each with a
/// header line. A malformed line or a hard negative naming an unknown topic is an error naming the line.
pub fn load_eval_set(dir: &Path) -> Result<EvalSet, String> {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).map_err(|e| format!("{name}: {e}"));
    let (topics_tsv, negatives_tsv) = (read("topics.tsv")?, read("hard_negatives.tsv")?);
    let mut set = EvalSet { keywords: vec![], topics: vec![], topic_names: vec![], hard_negative_pairs: vec![] };
    let mut index: HashMap<String, usize> = HashMap::new();
    for (line, row) in tsv_rows("topics.tsv", &topics_tsv)? {
        if row.1.trim().is_empty() {
            return Err(format!("topics.tsv line {line}: empty keyword"));
        }
        let next = index.len();
        let topic = *index.entry(row.0.to_owned()).or_insert(next);
        if topic == set.topic_names.len() {
            set.topic_names.push(row.0.to_owned());
        }
        set.keywords.push(row.1.to_owned());
        set.topics.push(topic);
    }
    for (line, (a, b)) in tsv_rows("hard_negatives.tsv", &negatives_tsv)? {
        let topic = |t: &str| index.get(t).copied().ok_or_else(|| format!("hard_negatives.tsv line {line}: unknown topic {t}"));
        set.hard_negative_pairs.push((topic(a)?, topic(b)?));
    }
    Ok(set)
}

/// (line number, (first column, second column)) of a TSV line.
type Row<'a> = (usize, (&'a str, &'a str));

/// The non-empty lines after the header.
fn tsv_rows<'a>(name: &str, text: &'a str) -> Result<Vec<Row<'a>>, String> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1).filter(|(_, l)| !l.trim().is_empty()) {
        let cols = line.split_once('\t').ok_or_else(|| format!("{name} line {}: expected two tab-separated columns", i + 1))?;
        rows.push((i + 1, cols));
    }
    Ok(rows)
}

/// A cluster label per keyword: the index of its cluster, or a label of its own when unclustered.
/// Panics when an id is not an index into the set or comes back twice (a clusterer bug, not a score).
pub fn labels(n: usize, outcome: &local::Outcome) -> Vec<usize> {
    let mut labels = vec![usize::MAX; n];
    let mut assign = |id: i64, label: usize| {
        let slot = usize::try_from(id).ok().and_then(|i| labels.get_mut(i)).unwrap_or_else(|| panic!("id {id} is not in the set"));
        assert_eq!(*slot, usize::MAX, "id {id} comes back twice");
        *slot = label;
    };
    for (c, cluster) in outcome.clusters.iter().enumerate() {
        cluster.keyword_ids.iter().for_each(|&id| assign(id, c));
    }
    let singles = outcome.clusters.len();
    outcome.unclustered.iter().enumerate().for_each(|(k, &id)| assign(id, singles + k));
    // Ids the clusterer lost count as singletons too.
    let lost = labels.iter_mut().filter(|l| **l == usize::MAX);
    for (next, l) in (singles + outcome.unclustered.len()..).zip(lost) {
        *l = next;
    }
    labels
}

/// Scores a clusterer's outcome on the set (ids = indices into `set.keywords`).
pub fn score(set: &EvalSet, outcome: &local::Outcome) -> Scores {
    let predicted = labels(set.keywords.len(), outcome);
    let pairs = PairCounts::new(&set.topics, &predicted);
    Scores {
        ari: pairs.ari(),
        pair_recall: ratio(pairs.together, pairs.truth),
        pair_precision: ratio(pairs.together, pairs.predicted),
        hard_negative_merge_rate: hard_negative_merge_rate(&set.topics, &predicted, &set.hard_negative_pairs),
        clusters: outcome.clusters.len(),
        unclustered: outcome.unclustered.len(),
    }
}

/// Adjusted Rand index of two labelings of the same items (labels are arbitrary numbers).
pub fn adjusted_rand_index(truth: &[usize], predicted: &[usize]) -> f64 {
    PairCounts::new(truth, predicted).ari()
}

/// Share of same-topic pairs placed in the same cluster (1.0 when no topic has two keywords).
pub fn pair_recall(truth: &[usize], predicted: &[usize]) -> f64 {
    let pairs = PairCounts::new(truth, predicted);
    ratio(pairs.together, pairs.truth)
}

/// Share of keyword pairs across listed topic pairs that share a predicted cluster (0.0 when none listed).
pub fn hard_negative_merge_rate(truth: &[usize], predicted: &[usize], topic_pairs: &[(usize, usize)]) -> f64 {
    assert_eq!(truth.len(), predicted.len(), "one label per item in each");
    // (topic, cluster) → keywords, and topic → keywords.
    let mut cells: HashMap<(usize, usize), u64> = HashMap::new();
    let mut sizes: HashMap<usize, u64> = HashMap::new();
    for (&t, &p) in truth.iter().zip(predicted) {
        *cells.entry((t, p)).or_default() += 1;
        *sizes.entry(t).or_default() += 1;
    }
    let mut by_topic: HashMap<usize, Vec<(usize, u64)>> = HashMap::new();
    for (&(t, p), &count) in &cells {
        by_topic.entry(t).or_default().push((p, count));
    }
    let (mut merged, mut total) = (0u64, 0u64);
    for &(x, y) in topic_pairs {
        total += sizes.get(&x).copied().unwrap_or(0) * sizes.get(&y).copied().unwrap_or(0);
        for &(p, count) in by_topic.get(&x).map(Vec::as_slice).unwrap_or_default() {
            merged += count * cells.get(&(y, p)).copied().unwrap_or(0);
        }
    }
    if total == 0 { 0.0 } else { merged as f64 / total as f64 }
}

fn ratio(part: f64, whole: f64) -> f64 {
    if whole == 0.0 { 1.0 } else { part / whole }
}

fn pairs_of(count: u64) -> f64 {
    (count * count.saturating_sub(1) / 2) as f64
}

/// Pair counts from the contingency table of two labelings.
struct PairCounts {
    all: f64,
    /// Pairs together in both.
    together: f64,
    /// Pairs together in the truth / in the prediction.
    truth: f64,
    predicted: f64,
}

impl PairCounts {
    fn new(truth: &[usize], predicted: &[usize]) -> Self {
        assert_eq!(truth.len(), predicted.len(), "one label per item in each");
        let mut cells: HashMap<(usize, usize), u64> = HashMap::new();
        let (mut rows, mut cols): (HashMap<usize, u64>, HashMap<usize, u64>) = (HashMap::new(), HashMap::new());
        for (&t, &p) in truth.iter().zip(predicted) {
            *cells.entry((t, p)).or_default() += 1;
            *rows.entry(t).or_default() += 1;
            *cols.entry(p).or_default() += 1;
        }
        let sum = |m: &mut dyn Iterator<Item = u64>| m.map(pairs_of).sum::<f64>();
        PairCounts {
            all: pairs_of(truth.len() as u64),
            together: sum(&mut cells.values().copied()),
            truth: sum(&mut rows.values().copied()),
            predicted: sum(&mut cols.values().copied()),
        }
    }

    /// (index − expected) / (max − expected), the Hubert–Arabie form; 1.0 when both labelings are the
    /// same trivial partition (all apart or all together), where the formula is 0/0.
    fn ari(&self) -> f64 {
        let expected = if self.all == 0.0 { 0.0 } else { self.truth * self.predicted / self.all };
        let max = (self.truth + self.predicted) / 2.0;
        if max == expected { 1.0 } else { (self.together - expected) / (max - expected) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ari_of_identical_partitions_is_one_whatever_the_labels() {
        assert_eq!(adjusted_rand_index(&[0, 0, 1, 1, 2], &[0, 0, 1, 1, 2]), 1.0);
        assert_eq!(adjusted_rand_index(&[0, 0, 1, 1, 2], &[7, 7, 3, 3, 9]), 1.0);
        assert_eq!(adjusted_rand_index(&[0, 1, 2], &[5, 6, 7]), 1.0, "all apart in both");
        assert_eq!(adjusted_rand_index(&[], &[]), 1.0);
    }

    #[test]
    fn ari_hand_computed() {
        // Truth {a,b}{c,d}, predicted {a,b}{c}{d}: together-in-both 1, truth pairs 2, predicted pairs 1,
        // all pairs 6; expected 2·1/6 = 1/3, max 3/2, ARI = (1 − 1/3) / (3/2 − 1/3) = 4/7.
        assert!((adjusted_rand_index(&[0, 0, 1, 1], &[0, 0, 1, 2]) - 4.0 / 7.0).abs() < 1e-9);
        // Truth {a,b}{c,d}, predicted {a,c}{b,d}: no pair agrees; expected 2/3, max 2 → (0 − 2/3)/(4/3) = −1/2.
        assert!((adjusted_rand_index(&[0, 0, 1, 1], &[0, 1, 0, 1]) + 0.5).abs() < 1e-9);
        // All together vs all apart: nothing beyond chance.
        assert!(adjusted_rand_index(&[0, 0, 0, 0], &[0, 1, 2, 3]).abs() < 1e-9);
        // Truth {a,b,c}{d,e,f}, predicted {a,b}{c,d}{e,f}: together 2, truth 6, predicted 3, all 15;
        // expected 18/15 = 1.2, max 4.5 → (2 − 1.2) / (4.5 − 1.2) = 0.8/3.3.
        assert!((adjusted_rand_index(&[0, 0, 0, 1, 1, 1], &[0, 0, 1, 1, 2, 2]) - 0.8 / 3.3).abs() < 1e-9);
    }

    #[test]
    fn ari_is_symmetric_and_invariant_under_permutation() {
        let truth = [0, 0, 0, 1, 1, 2, 2, 2, 2, 3];
        let pred = [1, 1, 0, 0, 0, 2, 2, 3, 3, 3];
        let ari = adjusted_rand_index(&truth, &pred);
        assert!((ari - adjusted_rand_index(&pred, &truth)).abs() < 1e-12);
        let order = [7, 2, 9, 0, 4, 1, 8, 3, 6, 5];
        let (t2, p2): (Vec<usize>, Vec<usize>) = order.iter().map(|&i| (truth[i], pred[i])).unzip();
        assert!((ari - adjusted_rand_index(&t2, &p2)).abs() < 1e-12);
        assert!(ari > 0.0 && ari < 1.0);
    }

    #[test]
    fn hard_negative_rate_and_recall() {
        // Topics 0 {a,b}, 1 {c,d}, 2 {e}; pairs (0,1) and (1,2). Predicted: {a,c}, {b}, {d,e}.
        let truth = [0, 0, 1, 1, 2];
        let pred = [0, 1, 0, 2, 2];
        // (0,1): 4 cross pairs, a–c merged → 1; (1,2): 2 cross pairs, d–e merged → 1; 2 of 6.
        assert!((hard_negative_merge_rate(&truth, &pred, &[(0, 1), (1, 2)]) - 2.0 / 6.0).abs() < 1e-12);
        assert_eq!(hard_negative_merge_rate(&truth, &pred, &[(0, 2)]), 0.0);
        assert_eq!(hard_negative_merge_rate(&truth, &pred, &[]), 0.0);
        assert_eq!(pair_recall(&truth, &pred), 0.0, "neither same-topic pair is together");
        assert_eq!(pair_recall(&truth, &[0, 0, 1, 2, 3]), 0.5);
    }

    #[test]
    fn score_counts_unclustered_keywords_as_singletons() {
        let set = EvalSet {
            keywords: ["a", "b", "c", "d"].map(String::from).to_vec(),
            topics: vec![0, 0, 1, 1],
            topic_names: vec!["x".into(), "y".into()],
            hard_negative_pairs: vec![(0, 1)],
        };
        let cluster = |ids: Vec<i64>| local::LocalCluster { name: String::new(), keyword_ids: ids, total_volume: 0 };
        let outcome = local::Outcome { clusters: vec![cluster(vec![0, 1])], unclustered: vec![2, 3] };
        let s = score(&set, &outcome);
        assert!((s.ari - 4.0 / 7.0).abs() < 1e-9);
        assert_eq!((s.pair_recall, s.pair_precision, s.hard_negative_merge_rate), (0.5, 1.0, 0.0));
        assert_eq!((s.clusters, s.unclustered), (1, 2));
    }

    /// The local clusterer at its shipped default on the shipped set: a regression here fails the build.
    #[test]
    fn local_clusterer_at_its_default_meets_the_bar() {
        let set = load_eval_set(shipped_dir()).unwrap();
        let s = score(&set, &local::cluster(&set.items(), &local::Options::default()));
        println!("{s:?}");
        assert!(s.ari >= 0.75, "ARI {:.3} < 0.75 ({s:?})", s.ari);
        assert!(s.hard_negative_merge_rate <= 0.05, "hard-negative merge rate {:.3} > 0.05 ({s:?})", s.hard_negative_merge_rate);
    }

    #[test]
    fn the_shipped_set_loads() {
        let set = load_eval_set(shipped_dir()).unwrap();
        assert!(set.keywords.len() >= 600 && set.topic_names.len() >= 60 && set.hard_negative_pairs.len() >= 25);
        assert_eq!(set.topics.len(), set.keywords.len());
        let mut seen: Vec<String> = set.keywords.iter().map(|k| k.to_lowercase()).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), set.keywords.len(), "each keyword once");
        assert!(load_eval_set(Path::new("no/such/dir")).is_err());
    }
}
