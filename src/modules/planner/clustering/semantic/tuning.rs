//! How the default threshold was chosen: a labelled set of keywords (topics with paraphrases, shared words across
//! topics, homonyms) clustered with the packaged model at several thresholds, scored with the adjusted Rand index.
//! `cargo test --release --lib semantic::tuning -- --ignored --nocapture` prints the table.

use super::{DEFAULT_THRESHOLD, cluster_embeddings, encoder};
use crate::modules::planner::clustering::local::Item;

/// (topic, keywords): paraphrases inside a topic, and words shared across topics ("apple", "python", "running").
const SET: &[(&str, &[&str])] = &[
    (
        "running shoes",
        &[
            "running shoes",
            "best running shoes",
            "sneakers for jogging",
            "marathon trainers",
            "trail running footwear",
            "running shoes for women",
        ],
    ),
    (
        "mortgage",
        &[
            "mortgage rates",
            "home loan interest rates",
            "refinance my mortgage",
            "fixed rate mortgage",
            "best mortgage lender",
            "mortgage calculator",
        ],
    ),
    (
        "chocolate cake",
        &[
            "chocolate cake recipe",
            "easy chocolate cake",
            "how to bake a chocolate cake",
            "moist chocolate cake",
            "chocolate sponge recipe",
        ],
    ),
    ("flights rome", &["cheap flights to rome", "flights to rome", "airfare to italy", "rome plane tickets", "last minute flights rome"]),
    (
        "python programming",
        &["python tutorial", "learn python programming", "python for beginners", "python coding course", "python list comprehension"],
    ),
    ("python snake", &["ball python care", "pet python enclosure", "what do pythons eat", "python snake size"]),
    ("apple pie", &["apple pie recipe", "homemade apple pie", "easy apple pie", "apple crumble pie"]),
    ("iphone repair", &["iphone screen repair", "fix cracked iphone screen", "apple phone repair near me", "iphone battery replacement"]),
    ("start a business", &["how to start a business", "starting a small business", "business plan template", "register a company"]),
    (
        "weight loss",
        &["how to lose weight fast", "weight loss diet plan", "burn belly fat", "healthy weight loss tips", "calorie deficit diet"],
    ),
    ("dog training", &["how to train a puppy", "dog obedience training", "puppy potty training", "stop dog barking"]),
    (
        "car insurance",
        &["cheap car insurance", "car insurance quotes", "auto insurance comparison", "best car insurance for young drivers"],
    ),
    ("yoga", &["yoga for beginners", "morning yoga routine", "yoga poses for back pain", "hot yoga benefits"]),
    ("solar panels", &["solar panel cost", "solar panels for home", "are solar panels worth it", "rooftop solar installation"]),
    ("coffee maker", &["best coffee maker", "espresso machine for home", "drip coffee maker", "coffee machine reviews"]),
    ("tax return", &["tax return deadline", "how to file taxes", "income tax filing", "tax refund status"]),
    ("wedding dress", &["wedding dresses", "bridal gowns", "lace wedding dress", "cheap wedding dresses"]),
    ("camping tent", &["best camping tent", "4 person tent", "family camping tents", "waterproof tent for camping"]),
];

fn pairs(n: u64) -> f64 {
    (n * n.saturating_sub(1) / 2) as f64
}

/// Adjusted Rand index of two labelings of the same items (1 = identical partitions, ~0 = chance).
pub(crate) fn adjusted_rand(a: &[usize], b: &[usize]) -> f64 {
    use std::collections::HashMap;
    let mut joint: HashMap<(usize, usize), u64> = HashMap::new();
    let (mut ra, mut rb): (HashMap<usize, u64>, HashMap<usize, u64>) = (HashMap::new(), HashMap::new());
    for (&x, &y) in a.iter().zip(b) {
        *joint.entry((x, y)).or_default() += 1;
        *ra.entry(x).or_default() += 1;
        *rb.entry(y).or_default() += 1;
    }
    let index: f64 = joint.values().map(|&n| pairs(n)).sum();
    let (sa, sb): (f64, f64) = (ra.values().map(|&n| pairs(n)).sum(), rb.values().map(|&n| pairs(n)).sum());
    let expected = sa * sb / pairs(a.len() as u64);
    let max = (sa + sb) / 2.0;
    if max == expected { 1.0 } else { (index - expected) / (max - expected) }
}

/// Labels per item from an outcome: each cluster one label, each unclustered keyword its own.
fn labels(items: &[Item], out: &crate::modules::planner::clustering::local::Outcome) -> Vec<usize> {
    items
        .iter()
        .map(|it| match out.clusters.iter().position(|c| c.keyword_ids.contains(&it.id)) {
            Some(c) => c,
            None => out.clusters.len() + it.id as usize,
        })
        .collect()
}

#[test]
fn adjusted_rand_index() {
    assert!((adjusted_rand(&[0, 0, 1, 1], &[5, 5, 7, 7]) - 1.0).abs() < 1e-12);
    assert!(adjusted_rand(&[0, 0, 1, 1], &[0, 1, 0, 1]) < 0.0);
    let partial = adjusted_rand(&[0, 0, 0, 1, 1, 1], &[0, 0, 1, 1, 2, 2]);
    assert!(partial > 0.0 && partial < 1.0, "{partial}");
}

#[test]
#[ignore = "tuning run: cargo test --release --lib semantic::tuning -- --ignored --nocapture"]
fn threshold_sweep() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/all-minilm-l6-v2");
    let mut items = Vec::new();
    let mut truth = Vec::new();
    for (t, (_, ks)) in SET.iter().enumerate() {
        for k in *ks {
            items.push(Item { id: items.len() as i64, keyword: k.to_string(), volume: 100 });
            truth.push(t);
        }
    }
    let texts: Vec<&str> = items.iter().map(|i| i.keyword.as_str()).collect();
    let vectors = encoder::embed(&dir, &texts).unwrap();
    for t in [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65] {
        let out = cluster_embeddings(&items, &vectors, t);
        let ari = adjusted_rand(&truth, &labels(&items, &out));
        let mark = if (t - DEFAULT_THRESHOLD).abs() < 1e-9 { " (default)" } else { "" };
        println!("threshold {t:.2}: ARI {ari:.3}, {} clusters, {} unclustered{mark}", out.clusters.len(), out.unclustered.len());
    }
}

#[test]
#[ignore = "timing run: cargo test --release --lib semantic::tuning::ten_thousand -- --ignored --nocapture"]
fn ten_thousand_keywords() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/all-minilm-l6-v2");
    let mods = ["best", "cheap", "easy", "organic", "vegan", "luxury", "small", "modern", "quick", "local", "used", "new"];
    let nouns = SET.iter().flat_map(|(_, ks)| ks.iter()).collect::<Vec<_>>();
    let tails = ["for beginners", "near me", "reviews", "ideas", "guide", "2026", "online", "at home", "price", "uk"];
    let items: Vec<Item> = (0..10_000usize)
        .map(|i| {
            let (m, n, t) = (mods[i % mods.len()], nouns[(i / 12) % nouns.len()], tails[(i * 7) % tails.len()]);
            Item { id: i as i64, keyword: format!("{m} {n} {t} {}", i % 97), volume: ((i * 7919) % 5000) as i64 }
        })
        .collect();
    let texts: Vec<&str> = items.iter().map(|i| i.keyword.as_str()).collect();
    let started = std::time::Instant::now();
    encoder::shared(&dir).unwrap();
    let loaded = started.elapsed();
    let vectors = encoder::embed(&dir, &texts).unwrap();
    let embedded = started.elapsed();
    let out = cluster_embeddings(&items, &vectors, DEFAULT_THRESHOLD);
    let total = started.elapsed();
    println!(
        "10k keywords: model loaded {loaded:?}, embedded {:?}, clustered {:?}, total {total:?}; {} clusters, {} unclustered",
        embedded - loaded,
        total - embedded,
        out.clusters.len(),
        out.unclustered.len()
    );
}
