//! Clustering benchmark (run by `scripts/bench-clustering`, or `cargo bench --bench clustering -- [n]`):
//! - each clusterer's scores on the labelled set in `benches/data/clustering` (adjusted Rand index, pair
//!   recall and precision, hard-negative merge rate);
//! - the local clusterer's scores over a sweep of thresholds;
//! - the time the local clusterer takes on n (default 10,000) keywords generated from the set's vocabulary.

use std::time::Instant;

use igny8::modules::planner::clustering::eval::{self, EvalSet, Scores};
use igny8::modules::planner::clustering::local::{self, Item, Options};

/// A clusterer under comparison: runs on the set (ids = indices into `set.keywords`) and is scored.
type Clusterer = fn(&EvalSet) -> Scores;

fn lexical(set: &EvalSet) -> Scores {
    eval::score(set, &local::cluster(&set.items(), &Options::default()))
}

/// The clusterers printed side by side.
fn clusterers() -> Vec<(&'static str, Clusterer)> {
    vec![
        ("lexical (local, default)", lexical),
        // SEMANTIC CLUSTERER: add its line here, e.g. ("semantic (embeddings)", semantic), where `semantic` is a
        // `fn(&EvalSet) -> Scores` that clusters `set.keywords` and calls `eval::score`.
    ]
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
}
