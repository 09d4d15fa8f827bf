//! Local lexical keyword clustering: free and instant, no API calls, no model.
//!
//! Each keyword is reduced to features — the stems of its meaningful words plus bigram shingles of
//! consecutive stems — and pairs are compared with a weighted Jaccard similarity. Candidate pairs come
//! from an inverted index on stems, so the work grows with shared vocabulary rather than with n².
//! Pairs at or above the threshold are merged strongest-first with union-find (single linkage); a
//! merge is refused when the two groups' leaders are too unlike each other (this stops chains such as
//! "running shoes" → "trail running tips" → "trail mix") or when the group would grow too large.
//!
//! Deterministic by construction: the input is first sorted by (lowercased keyword, id), every later
//! step works on indices into that order, edges are processed in a total order (similarity, then
//! index pair), and no hash map is ever iterated. Same input set, same clusters, in any input order.

use std::cmp::{Ordering, Reverse};
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct Item {
    pub id: i64,
    pub keyword: String,
    pub volume: i64,
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Similarity a pair needs to be grouped, 0.05..=0.95 (clamped). Higher = tighter clusters.
    pub threshold: f64,
    /// Smallest group that counts as a cluster (>= 2); smaller groups stay unclustered.
    pub min_size: usize,
    /// Largest cluster; merges that would pass it are refused.
    pub max_size: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self { threshold: 0.5, min_size: 2, max_size: 200 }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LocalCluster {
    pub name: String,
    pub keyword_ids: Vec<i64>,
    pub total_volume: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub clusters: Vec<LocalCluster>,
    pub unclustered: Vec<i64>,
}

/// A shared bigram counts half a shared stem: word order matters, but less than the words themselves.
const SHINGLE_WEIGHT: f64 = 0.5;

/// Sorted, deduplicated features of one keyword; stem ids come from a per-call interner.
#[derive(PartialEq, Eq)]
struct Features {
    stems: Vec<usize>,
    shingles: Vec<(usize, usize)>,
}

/// Lowercase, strip punctuation (keep letters/digits incl. non-ASCII letters), split on whitespace.
/// Apostrophes vanish ("men's" → "mens"); other punctuation separates words ("t-shirt" → "t", "shirt").
pub fn normalise(keyword: &str) -> Vec<String> {
    let cleaned: String =
        keyword.to_lowercase().chars().filter(|c| !matches!(c, '\'' | '’')).map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
    cleaned.split_whitespace().map(str::to_owned).collect()
}

/// "best", "top", "how", "what", "vs" and "near" are stop words: search modifiers that recur across unrelated topics.
pub fn is_stop_word(token: &str) -> bool {
    matches!(
        token,
        "a" | "an"
            | "the"
            | "and"
            | "or"
            | "but"
            | "for"
            | "of"
            | "to"
            | "in"
            | "on"
            | "at"
            | "by"
            | "with"
            | "from"
            | "about"
            | "as"
            | "into"
            | "is"
            | "are"
            | "was"
            | "be"
            | "do"
            | "does"
            | "can"
            | "i"
            | "me"
            | "my"
            | "you"
            | "your"
            | "it"
            | "its"
            | "this"
            | "that"
            | "how"
            | "what"
            | "which"
            | "who"
            | "why"
            | "when"
            | "where"
            | "vs"
            | "versus"
            | "best"
            | "top"
            | "near"
    )
}

/// A small English suffix stemmer: plural first (cities → city, boxes → box, shoes → shoe), then
/// "-ing"/"-ed" with consonant undoubling (running → run, guided → guid). Tokens are never cut below
/// three characters, so short words and most non-English words pass through unchanged.
pub fn stem(token: &str) -> String {
    let chars = token.chars().count();
    let ends = |suffixes: &[&str]| suffixes.iter().any(|s| token.ends_with(s));
    // The suffixes are ASCII, so cutting their byte length off always lands on a char boundary.
    let mut s = if chars > 4 && token.ends_with("ies") {
        format!("{}y", &token[..token.len() - 3])
    } else if chars > 4 && ends(&["sses", "xes", "ches", "shes"]) {
        token[..token.len() - 2].to_owned()
    } else if chars > 3 && token.ends_with('s') && !ends(&["ss", "us", "is"]) {
        token[..token.len() - 1].to_owned()
    } else {
        token.to_owned()
    };
    for suffix in ["ing", "ed"] {
        if let Some(base) = s.strip_suffix(suffix) {
            // "string", "thing", "speed" and "seeing" keep their ending: what is left is not a word stem.
            if base.chars().count() >= 3 && base.contains(['a', 'e', 'i', 'o', 'u', 'y']) && !base.ends_with('e') {
                s = undouble(base);
                break;
            }
        }
    }
    s
}

/// "runn" → "run", "stopp" → "stop"; l, s and z stay doubled ("falling" → "fall", "missing" → "miss").
fn undouble(base: &str) -> String {
    let mut rev = base.chars().rev();
    match (rev.next(), rev.next()) {
        (Some(a), Some(b)) if a == b && a.is_ascii_lowercase() && !"aeiouylsz".contains(a) => base[..base.len() - 1].to_owned(),
        _ => base.to_owned(),
    }
}

fn features(keyword: &str, interner: &mut HashMap<String, usize>) -> Features {
    let tokens = normalise(keyword);
    let content: Vec<&String> = tokens.iter().filter(|t| !is_stop_word(t)).collect();
    // A keyword made only of stop words ("how to") is still compared on what it has.
    let chosen = if content.is_empty() { tokens.iter().collect() } else { content };
    let sequence: Vec<usize> = chosen
        .iter()
        .map(|t| {
            let next = interner.len();
            *interner.entry(stem(t)).or_insert(next)
        })
        .collect();
    let mut shingles: Vec<(usize, usize)> = sequence.windows(2).map(|w| (w[0], w[1])).collect();
    let mut stems = sequence;
    stems.sort_unstable();
    stems.dedup();
    shingles.sort_unstable();
    shingles.dedup();
    Features { stems, shingles }
}

/// Size of the intersection of two sorted, deduplicated slices, by merge.
fn overlap<T: Ord>(a: &[T], b: &[T]) -> usize {
    let (mut i, mut j, mut count) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            Ordering::Less => i += 1,
            Ordering::Greater => j += 1,
            Ordering::Equal => (i, j, count) = (i + 1, j + 1, count + 1),
        }
    }
    count
}

/// Weighted Jaccard: stems weigh 1, shingles `SHINGLE_WEIGHT`. Symmetric, and exactly 1.0 for equal sets.
fn similarity(a: &Features, b: &Features) -> f64 {
    let stems = overlap(&a.stems, &b.stems) as f64;
    let shingles = overlap(&a.shingles, &b.shingles) as f64;
    let union = (a.stems.len() + b.stems.len()) as f64 - stems + SHINGLE_WEIGHT * ((a.shingles.len() + b.shingles.len()) as f64 - shingles);
    if union > 0.0 { (stems + SHINGLE_WEIGHT * shingles) / union } else { 0.0 }
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

/// Groups keywords by shared vocabulary (see the module docs); every input id comes back exactly once.
pub fn cluster(items: &[Item], opts: &Options) -> Outcome {
    let threshold = if opts.threshold.is_nan() { 0.5 } else { opts.threshold.clamp(0.05, 0.95) };
    let min_size = opts.min_size.max(2);
    let mut items: Vec<&Item> = items.iter().collect();
    // Volume and raw keyword only break ties between rows that share a keyword and an id.
    items.sort_by_cached_key(|it| (it.keyword.to_lowercase(), it.id, it.volume, it.keyword.clone()));
    let n = items.len();
    let mut interner = HashMap::new();
    let feats: Vec<Features> = items.iter().map(|it| features(&it.keyword, &mut interner)).collect();

    // Inverted index on stems; postings come out ascending because items are visited in order.
    let mut postings: Vec<Vec<usize>> = vec![Vec::new(); interner.len()];
    for (i, f) in feats.iter().enumerate() {
        for &s in &f.stems {
            postings[s].push(i);
        }
    }
    // Stems shared by a large share of the list say little about topic and would make this quadratic.
    let cap = 50.max(n / 20);
    let mut edges: Vec<(f64, usize, usize)> = Vec::new();
    let mut seen = vec![usize::MAX; n];
    for (i, f) in feats.iter().enumerate() {
        for list in f.stems.iter().map(|&s| &postings[s]).filter(|l| l.len() <= cap) {
            for &j in &list[list.partition_point(|&j| j <= i)..] {
                if seen[j] != i {
                    seen[j] = i;
                    let sim = similarity(f, &feats[j]);
                    if sim >= threshold {
                        edges.push((sim, i, j));
                    }
                }
            }
        }
    }
    // Keywords with identical features always meet, even when every stem they have was too common to index.
    let mut by_feats: Vec<usize> = (0..n).filter(|&i| !feats[i].stems.is_empty()).collect();
    by_feats.sort_by(|&a, &b| (&feats[a].stems, &feats[a].shingles, a).cmp(&(&feats[b].stems, &feats[b].shingles, b)));
    for w in by_feats.windows(2) {
        if feats[w[0]] == feats[w[1]] {
            edges.push((1.0, w[0], w[1]));
        }
    }
    edges.sort_by(|a, b| b.0.total_cmp(&a.0).then((a.1, a.2).cmp(&(b.1, b.2))));
    edges.dedup_by(|a, b| (a.1, a.2) == (b.1, b.2));

    // Leaders, names and member order: highest volume, then sorted order (keyword alphabetically, then id).
    let rank = |m: usize| (Reverse(items[m].volume), m);
    let mut parent: Vec<usize> = (0..n).collect();
    let mut size = vec![1usize; n];
    let mut leader: Vec<usize> = (0..n).collect();
    for &(_, i, j) in &edges {
        let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
        if ri == rj || size[ri] + size[rj] > opts.max_size {
            continue;
        }
        let (li, lj) = (leader[ri], leader[rj]);
        if similarity(&feats[li], &feats[lj]) < threshold / 2.0 {
            continue;
        }
        let (root, child) = if size[ri] >= size[rj] { (ri, rj) } else { (rj, ri) };
        parent[child] = root;
        size[root] += size[child];
        leader[root] = if rank(lj) < rank(li) { lj } else { li };
    }

    let roots: Vec<usize> = (0..n).map(|i| find(&mut parent, i)).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&m| (roots[m], rank(m)));
    let (mut clusters, mut unclustered) = (Vec::new(), Vec::new());
    for members in order.chunk_by(|&a, &b| roots[a] == roots[b]) {
        if members.len() < min_size {
            unclustered.extend(members.iter().map(|&m| items[m].id));
            continue;
        }
        clusters.push(LocalCluster {
            name: items[members[0]].keyword.clone(),
            keyword_ids: members.iter().map(|&m| items[m].id).collect(),
            total_volume: members.iter().fold(0i64, |sum, &m| sum.saturating_add(items[m].volume)),
        });
    }
    clusters.sort_by(|a, b| (b.total_volume, &a.name, &a.keyword_ids).cmp(&(a.total_volume, &b.name, &b.keyword_ids)));
    unclustered.sort_unstable();
    Outcome { clusters, unclustered }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(rows: &[(&str, i64)]) -> Vec<Item> {
        let item = |(i, &(k, v)): (usize, &(&str, i64))| Item { id: i as i64 + 1, keyword: k.into(), volume: v };
        rows.iter().enumerate().map(item).collect()
    }

    fn example() -> Vec<Item> {
        items(&[
            ("running shoes", 1000),
            ("best running shoes", 400),
            ("running shoe", 300),
            ("trail running shoes", 200),
            ("chocolate cake recipe", 800),
            ("easy chocolate cake", 150),
            ("chocolate cake", 900),
            ("tax return deadline", 600),
        ])
    }

    fn with(threshold: f64, min_size: usize, max_size: usize) -> Options {
        Options { threshold, min_size, max_size }
    }

    #[test]
    fn shoes_and_cakes() {
        let shoes = LocalCluster { name: "running shoes".into(), keyword_ids: vec![1, 2, 3, 4], total_volume: 1900 };
        let cakes = LocalCluster { name: "chocolate cake".into(), keyword_ids: vec![7, 5, 6], total_volume: 1850 };
        assert_eq!(cluster(&example(), &Options::default()), Outcome { clusters: vec![shoes, cakes], unclustered: vec![8] });
    }

    #[test]
    fn deterministic_across_runs_and_orders() {
        let input = example();
        let first = cluster(&input, &Options::default());
        let shuffled: Vec<Item> = (0..input.len()).map(|i| input[(i * 5 + 3) % input.len()].clone()).collect();
        assert_eq!(cluster(&shuffled, &Options::default()), first);
        assert_eq!(cluster(&input, &Options::default()), first);
    }

    #[test]
    fn threshold_controls_tightness() {
        let mut input = example();
        input.push(Item { id: 9, keyword: "trail running tips".into(), volume: 50 });
        let unclustered_at = |t: f64| cluster(&input, &with(t, 2, 200)).unclustered;
        let tight = cluster(&input, &with(0.95, 2, 200)); // only the three spellings of "running shoes" meet
        assert_eq!(tight.clusters.len(), 1);
        assert_eq!(tight.clusters[0].keyword_ids, vec![1, 2, 3]);
        // At 0.45 "trail running tips" is close enough to "trail running shoes" but not to the group's
        // leader "running shoes", so the leader guard keeps it out; at 0.35 it joins.
        assert!(unclustered_at(0.45).contains(&9));
        assert_eq!(unclustered_at(0.35), vec![8]);
        assert_eq!(unclustered_at(0.95).len(), 6);
    }

    #[test]
    fn size_limits() {
        assert!(cluster(&example(), &with(0.5, 2, 2)).clusters.iter().all(|c| c.keyword_ids.len() <= 2));
        let big_only = cluster(&example(), &with(0.5, 4, 200));
        assert_eq!(big_only.clusters.len(), 1);
        assert_eq!(big_only.unclustered, vec![5, 6, 7, 8]);
    }

    #[test]
    fn edge_inputs() {
        assert_eq!(cluster(&[], &Options::default()), Outcome { clusters: vec![], unclustered: vec![] });
        let one = cluster(&items(&[("running shoes", 10)]), &Options::default());
        assert_eq!(one, Outcome { clusters: vec![], unclustered: vec![1] });
        let odd = items(&[("café latte", 5), ("Café Latte!", 3), ("über uns", 1), ("", 0), ("???", 0), ("the", 2)]);
        assert_eq!(cluster(&odd, &with(f64::NAN, 0, 0)).unclustered, vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(cluster(&odd, &Options::default()).clusters[0].keyword_ids, vec![1, 2]);
    }

    #[test]
    fn stemming_and_normalising() {
        for (word, stemmed) in [
            ("running", "run"),
            ("runs", "run"),
            ("run", "run"),
            ("shoes", "shoe"),
            ("shoe", "shoe"),
            ("boxes", "box"),
            ("cities", "city"),
            ("guided", "guid"),
            ("classes", "class"),
            ("string", "string"),
            ("speed", "speed"),
            ("falling", "fall"),
            ("bus", "bus"),
            ("über", "über"),
            ("cafés", "café"),
        ] {
            assert_eq!(stem(word), stemmed, "{word}");
        }
        assert_eq!(normalise("  Men's Running-Shoes!! "), ["mens", "running", "shoes"]);
        assert_eq!(normalise("Café LATTE, Über uns 2024"), ["café", "latte", "über", "uns", "2024"]);
        assert!(is_stop_word("the") && is_stop_word("best") && !is_stop_word("shoe"));
    }

    #[test]
    #[ignore = "timing run: cargo test --release -- --ignored --nocapture"]
    fn ten_thousand_keywords() {
        let mods = ["best", "cheap", "easy", "organic", "vegan", "luxury", "small", "modern", "quick", "local", "used", "new"];
        let nouns = "running shoes,chocolate cake,tax return,coffee maker,garden hose,yoga mat,dog food,laptop bag,\
            wedding dress,car insurance,protein powder,office chair,hiking boots,gaming mouse,baby stroller,kitchen knife,\
            solar panel,electric bike,face cream,wine glass,phone case,winter jacket,camping tent,water filter,desk lamp";
        let nouns: Vec<&str> = nouns.split(',').collect();
        let tails = "for beginners,near me,reviews,ideas,guide,2024,online,at home,price,for women,for men,sale,deals,uk";
        let tails: Vec<&str> = tails.split(',').collect();
        let input: Vec<Item> = (0..10_000usize)
            .map(|i| {
                let (m, n, t) = (mods[i % mods.len()], nouns[(i / 12) % nouns.len()], tails[(i * 7) % tails.len()]);
                Item { id: i as i64, keyword: format!("{m} {n} {t} {}", i % 97), volume: ((i * 7919) % 5000) as i64 }
            })
            .collect();
        let start = std::time::Instant::now();
        let out = cluster(&input, &Options::default());
        let elapsed = start.elapsed();
        println!("10k keywords: {elapsed:?}, {} clusters, {} unclustered", out.clusters.len(), out.unclustered.len());
    }
}
