//! Clustering benchmark (run by `scripts/bench-clustering`, or `cargo bench --bench clustering -- [n]`):
//! - each clusterer's scores on the labelled set in `benches/data/clustering` (adjusted Rand index, pair
//!   recall and precision, hard-negative merge rate);
//! - the local clusterer's scores over a sweep of thresholds;
//! - the time the local clusterer takes on n (default 10,000) keywords generated from the set's vocabulary;
//! - the same for clustering by meaning (the packaged model from `IGNY8_MODEL_DIR`, default models/all-minilm-l6-v2,
//!   fetched by scripts/fetch-model.sh): scores, a threshold sweep, and n keywords embedded and clustered.

use std::time::Instant;

use igny8::modules::planner::clustering::eval::{self, EvalSet, Scores};
use igny8::modules::planner::clustering::local::{self, Item, Options};
use igny8::modules::planner::clustering::semantic;

/// A clusterer under comparison: runs on the set (ids = indices into `set.keywords`) and is scored.
type Clusterer = fn(&EvalSet) -> Scores;

fn lexical(set: &EvalSet) -> Scores {
    eval::score(set, &local::cluster(&set.items(), &Options::default()))
}

/// The clusterers printed side by side.
fn clusterers() -> Vec<(&'static str, Clusterer)> {
    vec![("lexical (local, default)", lexical)]
}

fn model_dir() -> std::path::PathBuf {
    std::env::var_os("IGNY8_MODEL_DIR").map(Into::into).unwrap_or_else(|| "models/all-minilm-l6-v2".into())
}

/// Clustering by meaning on the set: scores at the shipped default and over a sweep (the set is embedded once).
fn semantic_scores(set: &EvalSet) {
    let items = set.items();
    let texts: Vec<&str> = items.iter().map(|i| i.keyword.as_str()).collect();
    let vectors = match semantic::embed(&model_dir(), &texts) {
        Ok(v) => v,
        Err(e) => return println!("semantic: no model ({e}); run scripts/fetch-model.sh"),
    };
    let at = |threshold: f64| eval::score(set, &semantic::cluster_embeddings(&items, &vectors, threshold));
    print_scores("semantic (default)", &at(semantic::DEFAULT_THRESHOLD));
    println!("semantic threshold sweep (default {}):", semantic::DEFAULT_THRESHOLD);
    for threshold in [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7] {
        print_scores(&format!("  threshold {threshold:.2}"), &at(threshold));
    }
}

/// n generated keywords embedded (model load included) and clustered by meaning at the default.
fn semantic_timing(set: &EvalSet, n: usize) {
    let items = generated(set, n);
    let texts: Vec<&str> = items.iter().map(|i| i.keyword.as_str()).collect();
    let started = Instant::now();
    let Ok(vectors) = semantic::embed(&model_dir(), &texts) else { return };
    let embedded = started.elapsed();
    let out = semantic::cluster_embeddings(&items, &vectors, semantic::DEFAULT_THRESHOLD);
    let total = started.elapsed();
    println!(
        "clustering by meaning of {n} generated keywords: {:.1} s (embedding {:.1} s, grouping {:.1} s), {} clusters, {} unclustered",
        total.as_secs_f64(),
        embedded.as_secs_f64(),
        (total - embedded).as_secs_f64(),
        out.clusters.len(),
        out.unclustered.len()
    );
}

fn print_scores(name: &str, s: &Scores) {
    println!(
        "{name:<28} ARI {:.3}  pair recall {:.3}  pair precision {:.3}  hard-negative merges {:>4.1} %  ({} clusters, {} unclustered)",
        s.ari,
        s.pair_recall,
        s.pair_precision,
        100.0 * s.hard_negative_merge_rate,
        s.clusters,
        s.unclustered
    );
}

/// n distinct keywords: each keyword of the set with a modifier before and/or after it (as keyword tools
/// expand a seed), volumes spread deterministically.
fn generated(set: &EvalSet, n: usize) -> Vec<Item> {
    const BEFORE: [&str; 8] = ["", "best", "cheap", "how to choose", "affordable", "top rated", "easy", "professional"];
    const AFTER: [&str; 12] =
        ["", "2026", "near me", "for beginners", "reviews", "uk", "online", "guide", "at home", "for kids", "ideas", "price"];
    let k = set.keywords.len();
    (0..n)
        .map(|i| {
            let round = i / k;
            let (before, after) = (BEFORE[round % BEFORE.len()], AFTER[(round / BEFORE.len()) % AFTER.len()]);
            let copy = round / (BEFORE.len() * AFTER.len());
            let mut keyword = format!("{before} {} {after}", set.keywords[i % k]).trim().to_string();
            if copy > 0 {
                keyword = format!("{keyword} {copy}");
            }
            Item { id: i as i64, keyword, volume: ((i * 7919) % 10_000) as i64 }
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let set = eval::load_eval_set(eval::shipped_dir()).expect("the labelled set");
    println!(
        "labelled set: {} keywords, {} topics, {} hard-negative topic pairs",
        set.keywords.len(),
        set.topic_names.len(),
        set.hard_negative_pairs.len()
    );
    for (name, clusterer) in clusterers() {
        print_scores(name, &clusterer(&set));
    }

    println!("local threshold sweep (default {}):", local::DEFAULT_THRESHOLD);
    for threshold in [0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7] {
        let outcome = local::cluster(&set.items(), &Options { threshold, ..Default::default() });
        print_scores(&format!("  threshold {threshold:.2}"), &eval::score(&set, &outcome));
    }

    let items = generated(&set, n);
    let mut runs = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let out = local::cluster(&items, &Options::default());
        runs.push((t.elapsed().as_secs_f64() * 1000.0, out.clusters.len(), out.unclustered.len()));
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (ms, clusters, unclustered) = runs[1];
    let all: Vec<String> = runs.iter().map(|r| format!("{:.0}", r.0)).collect();
    println!(
        "local clustering of {n} generated keywords at the default: {ms:.0} ms (median of 3: {} ms), {clusters} clusters, {unclustered} unclustered",
        all.join(" / ")
    );

    semantic_scores(&set);
    semantic_timing(&set, n);
}
