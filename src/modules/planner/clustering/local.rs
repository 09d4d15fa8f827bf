//! Local lexical keyword clustering: free and instant, no API calls, no model.
//!
//! 1. **Features.** Each keyword is normalised, stop words are dropped and the rest stemmed. Search
//!    modifiers ("cheap", "review", "guide", "2026", …) stay but weigh half: they recur across unrelated
//!    topics. Bigrams of consecutive topic words (modifiers left out) count too, at half weight, so word
//!    order matters a little.
//! 2. **Weights.** TF-IDF with document frequencies taken from the input itself — a word most of the list
//!    shares says less about which article a keyword belongs to than a rarer one — then cosine similarity.
//! 3. **Smoothing.** Each keyword's vector is blended with those of its nearest neighbours, so keywords that
//!    share few words but the same neighbourhood ("leaking tap repair", "dripping faucet") come closer.
//! 4. **Average linkage.** Groups merge strongest-first while the mean similarity over all their cross
//!    pairs (pairs never compared count 0) reaches the threshold. One close pair is not enough, so groups do
//!    not chain the way single linkage does. A merge is also refused when each group has a defining word
//!    (in ≥ 2/3 of its keywords) that is nearly absent (≤ 1/3) from the other: "travel insurance" and "car
//!    insurance" share a word, not an article.
//!
//! Candidate pairs come from an inverted index on features, skipping features shared by a large share of
//! the list, so the work grows with shared vocabulary rather than with n². Keywords with the same features
//! ("running shoes", "best running shoe") are one node from the start.
//!
//! The default threshold (0.4) was chosen on the labelled set in `benches/data/clustering` (630 keywords,
//! 63 article-level topics): adjusted Rand index 0.78 with 1.4 % of hard-negative pairs merged. It sits in
//! the middle of the plateau: 0.35 scores 0.785 but merges twice as many pairs of different articles
//! (2.8 %), which climb further below (4.2 % at 0.3, 6.3 % at 0.25), and 0.45 still scores 0.755
//! (`scripts/bench-clustering` prints the sweep).
//!
//! Deterministic by construction: the input is first sorted by (lowercased keyword, id), every later step
//! works on indices into that order, merges are taken in a total order (similarity, then index pair), and
//! no hash map is ever iterated. Same input set, same clusters, in any input order.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap, HashMap};

#[derive(Debug, Clone)]
pub struct Item {
    pub id: i64,
    pub keyword: String,
    pub volume: i64,
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Mean similarity two groups need to merge, 0.05..=0.95 (clamped). Higher = tighter clusters.
    pub threshold: f64,
    /// Smallest group that counts as a cluster (>= 2); smaller groups stay unclustered.
    pub min_size: usize,
    /// Largest cluster; merges that would pass it are refused.
    pub max_size: usize,
}

/// See the module docs for how it was chosen.
pub const DEFAULT_THRESHOLD: f64 = 0.4;

impl Default for Options {
    fn default() -> Self {
        Self { threshold: DEFAULT_THRESHOLD, min_size: 2, max_size: 200 }
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

/// A modifier counts half a topic word; so does a bigram.
const MODIFIER_WEIGHT: f64 = 0.5;
const BIGRAM_WEIGHT: f64 = 0.5;
/// Smoothing: how many neighbours, and how much of them is blended in (weighted by similarity).
const NEIGHBOURS: usize = 6;
const NEIGHBOUR_SHARE: f64 = 0.3;
/// IDF counts the list as if it had this many more keywords using none of its words: a short selection says
/// little about which words are common ("red shoes" and "blue shoes" alone would otherwise share only a
/// word weighted near 0), while for long lists it changes almost nothing.
const BACKGROUND: f64 = 10.0;
/// Pairs less similar than this are not kept (they count 0 in the group means).
const FLOOR: f64 = 0.05;

/// Lowercase, strip punctuation (keep letters/digits incl. non-ASCII letters), split on whitespace.
/// Apostrophes vanish ("men's" → "mens"); other punctuation separates words ("t-shirt" → "t", "shirt").
pub fn normalise(keyword: &str) -> Vec<String> {
    let cleaned: String =
        keyword.to_lowercase().chars().filter(|c| !matches!(c, '\'' | '’')).map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
    cleaned.split_whitespace().map(str::to_owned).collect()
}

/// Function words, and the commonest search modifiers ("best", "top", "how", "what", "vs", "near"), which
/// recur across unrelated topics so often that they are dropped outright.
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

/// Words that qualify a search rather than name its topic (price, quality, audience, format, generic verbs),
/// and plain numbers ("2026"). They are kept at `MODIFIER_WEIGHT`.
pub fn is_modifier(token: &str) -> bool {
    token.chars().all(|c| c.is_ascii_digit())
        || matches!(
            token,
            "cheap"
                | "cheapest"
                | "affordable"
                | "free"
                | "easy"
                | "simple"
                | "quick"
                | "fast"
                | "good"
                | "great"
                | "new"
                | "review"
                | "reviews"
                | "guide"
                | "tips"
                | "ideas"
                | "beginner"
                | "beginners"
                | "online"
                | "buy"
                | "price"
                | "cost"
                | "sale"
                | "deal"
                | "deals"
                | "diy"
                | "home"
                | "homemade"
                | "recipe"
                | "recipes"
                | "should"
                | "much"
                | "many"
                | "long"
                | "often"
                | "need"
                | "time"
                | "first"
                | "way"
                | "ways"
                | "get"
                | "make"
                | "use"
                | "using"
                | "start"
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

/// Sparse vector: (feature id, weight), sorted by feature id.
type Vector = Vec<(usize, f64)>;

#[derive(Hash, PartialEq, Eq)]
enum Feature {
    Word(usize),
    Bigram(usize, usize),
}

/// Interns words and features to dense ids, in order of first appearance.
#[derive(Default)]
struct Interner {
    words: HashMap<String, usize>,
    features: HashMap<Feature, usize>,
}

impl Interner {
    fn word(&mut self, w: String) -> usize {
        let next = self.words.len();
        *self.words.entry(w).or_insert(next)
    }
    fn feature(&mut self, f: Feature) -> usize {
        let next = self.features.len();
        *self.features.entry(f).or_insert(next)
    }
}

/// One keyword's raw features (weights before IDF) and its topic words (stem ids, not modifiers).
fn parse(keyword: &str, interner: &mut Interner) -> (Vector, Vec<usize>) {
    let tokens = normalise(keyword);
    let mut words: Vec<(usize, bool)> =
        tokens.iter().filter(|t| !is_stop_word(t)).map(|t| (interner.word(stem(t)), is_modifier(t))).collect();
    // A keyword made only of stop words ("how to") is still compared on what it has.
    if words.is_empty() {
        words = tokens.iter().map(|t| (interner.word(stem(t)), true)).collect();
    }
    let topic: Vec<usize> = words.iter().filter(|w| !w.1).map(|w| w.0).collect();
    let mut raw: Vector = words.iter().map(|&(w, m)| (interner.feature(Feature::Word(w)), if m { MODIFIER_WEIGHT } else { 1.0 })).collect();
    raw.extend(topic.windows(2).map(|p| (interner.feature(Feature::Bigram(p[0], p[1])), BIGRAM_WEIGHT)));
    // Sorted by id, heaviest first within an id, so dedup keeps the largest weight.
    raw.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
    raw.dedup_by_key(|f| f.0);
    let mut topic = topic;
    topic.sort_unstable();
    topic.dedup();
    (raw, topic)
}

fn normalised(mut v: Vector) -> Vector {
    let norm = v.iter().map(|f| f.1 * f.1).sum::<f64>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|f| f.1 /= norm);
    }
    v
}

fn dot(a: &[(usize, f64)], b: &[(usize, f64)]) -> f64 {
    let (mut i, mut j, mut sum) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            Ordering::Less => i += 1,
            Ordering::Greater => j += 1,
            Ordering::Equal => (i, j, sum) = (i + 1, j + 1, sum + a[i].1 * b[j].1),
        }
    }
    sum
}

/// (i, j, cosine) for i < j, every pair at or above `FLOOR` that shares a feature no more than a
/// twentieth of the list (at least 50 keywords) has; sorted by (i, j).
fn similar_pairs(vectors: &[Vector], features: usize) -> Vec<(usize, usize, f64)> {
    let n = vectors.len();
    let mut postings: Vec<Vec<usize>> = vec![Vec::new(); features];
    for (i, v) in vectors.iter().enumerate() {
        v.iter().for_each(|f| postings[f.0].push(i));
    }
    let cap = 50.max(n / 20);
    let mut pairs = Vec::new();
    let mut seen = vec![usize::MAX; n];
    for (i, v) in vectors.iter().enumerate() {
        for list in v.iter().map(|f| &postings[f.0]).filter(|l| l.len() <= cap) {
            for &j in &list[list.partition_point(|&j| j <= i)..] {
                if seen[j] != i {
                    seen[j] = i;
                    let s = dot(v, &vectors[j]);
                    if s >= FLOOR {
                        pairs.push((i, j, s));
                    }
                }
            }
        }
    }
    pairs.sort_by_key(|p| (p.0, p.1));
    pairs
}

/// Each vector plus `NEIGHBOUR_SHARE` × similarity × each of its `NEIGHBOURS` closest, renormalised.
fn smoothed(vectors: &[Vector], pairs: &[(usize, usize, f64)], features: usize) -> Vec<Vector> {
    let mut near: Vec<Vec<(usize, f64)>> = vec![Vec::new(); vectors.len()];
    for &(i, j, s) in pairs {
        near[i].push((j, s));
        near[j].push((i, s));
    }
    let mut acc = vec![0.0; features];
    let mut touched: Vec<usize> = Vec::new();
    vectors
        .iter()
        .zip(near.iter_mut())
        .map(|(v, near)| {
            near.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let mut add = |v: &Vector, k: f64| {
                for &(f, w) in v {
                    if acc[f] == 0.0 {
                        touched.push(f);
                    }
                    acc[f] += k * w;
                }
            };
            add(v, 1.0);
            near.iter().take(NEIGHBOURS).for_each(|&(j, s)| add(&vectors[j], NEIGHBOUR_SHARE * s));
            touched.sort_unstable();
            touched.dedup();
            let out: Vector = touched.iter().map(|&f| (f, std::mem::take(&mut acc[f]))).collect();
            touched.clear();
            normalised(out)
        })
        .collect()
}

/// A merge candidate: groups `a` < `b` at their versions when the mean was computed.
struct Candidate {
    mean: f64,
    a: usize,
    b: usize,
    versions: (u32, u32),
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}

impl Ord for Candidate {
    /// Highest mean first, then the smallest index pair.
    fn cmp(&self, other: &Self) -> Ordering {
        self.mean.total_cmp(&other.mean).then_with(|| (other.a, other.b).cmp(&(self.a, self.b)))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Groups during average linkage; a group is named by its smallest node index.
struct Groups {
    size: Vec<usize>,
    /// Sum of similarities over all cross pairs, per neighbouring group (pairs below `FLOOR` add 0).
    links: Vec<BTreeMap<usize, f64>>,
    /// (topic word, keywords having it), sorted by word.
    words: Vec<Vec<(usize, usize)>>,
    members: Vec<Vec<usize>>,
    version: Vec<u32>,
}

impl Groups {
    fn mean(&self, a: usize, b: usize, sum: f64) -> f64 {
        sum / (self.size[a] * self.size[b]) as f64
    }

    fn count(&self, g: usize, word: usize) -> usize {
        let words = &self.words[g];
        words.binary_search_by_key(&word, |w| w.0).map_or(0, |i| words[i].1)
    }

    /// `x` has a word in ≥ 2/3 of its keywords that is in ≤ 1/3 of `y`'s.
    fn has_own_word(&self, x: usize, y: usize) -> bool {
        self.words[x].iter().any(|&(w, c)| 3 * c >= 2 * self.size[x] && 3 * self.count(y, w) <= self.size[y])
    }

    /// Two established groups (two keywords or more each) that are each defined by a word of their own.
    fn distinct(&self, a: usize, b: usize) -> bool {
        self.size[a] >= 2 && self.size[b] >= 2 && self.has_own_word(a, b) && self.has_own_word(b, a)
    }

    /// Moves `b` into `a`.
    fn merge(&mut self, a: usize, b: usize) {
        let mut into = std::mem::take(&mut self.links[a]);
        let mut from = std::mem::take(&mut self.links[b]);
        into.remove(&b);
        from.remove(&a);
        for (&c, &x) in &from {
            let theirs = &mut self.links[c];
            theirs.remove(&b);
            *theirs.entry(a).or_insert(0.0) += x;
        }
        // Addition is commutative, so merging the smaller map into the larger gives the same sums.
        if from.len() > into.len() {
            std::mem::swap(&mut into, &mut from);
        }
        for (c, x) in from {
            *into.entry(c).or_insert(0.0) += x;
        }
        self.links[a] = into;
        self.size[a] += self.size[b];
        let (wa, wb) = (std::mem::take(&mut self.words[a]), std::mem::take(&mut self.words[b]));
        self.words[a] = merge_counts(&wa, &wb);
        let moved = std::mem::take(&mut self.members[b]);
        self.members[a].extend(moved);
        self.version[a] += 1;
        self.version[b] += 1;
    }
}

/// Sum of two sorted (word, count) lists.
fn merge_counts(a: &[(usize, usize)], b: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = a.iter().chain(b).copied().collect();
    out.sort_unstable();
    out.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            kept.1 += later.1;
        }
        same
    });
    out
}

/// Average linkage over nodes (see the module docs); returns each node's group.
fn average_linkage(groups: &mut Groups, pairs: &[(usize, usize, f64)], threshold: f64, max_size: usize) -> Vec<Vec<usize>> {
    let mut heap = BinaryHeap::new();
    // Pairs come sorted, so each group's list is too and its map is built in one pass.
    let mut lists: Vec<Vec<(usize, f64)>> = vec![Vec::new(); groups.size.len()];
    for &(a, b, s) in pairs {
        let sum = s * (groups.size[a] * groups.size[b]) as f64;
        lists[a].push((b, sum));
        lists[b].push((a, sum));
        if s >= threshold {
            heap.push(Candidate { mean: s, a, b, versions: (0, 0) });
        }
    }
    groups.links = lists.into_iter().map(BTreeMap::from_iter).collect();
    while let Some(Candidate { a, b, versions, .. }) = heap.pop() {
        if versions != (groups.version[a], groups.version[b]) || groups.members[b].is_empty() || groups.members[a].is_empty() {
            continue;
        }
        if groups.size[a] + groups.size[b] > max_size || groups.distinct(a, b) {
            continue;
        }
        groups.merge(a, b);
        for (&c, &sum) in &groups.links[a] {
            let mean = groups.mean(a, c, sum);
            if mean >= threshold {
                let (x, y) = (a.min(c), a.max(c));
                heap.push(Candidate { mean, a: x, b: y, versions: (groups.version[x], groups.version[y]) });
            }
        }
    }
    std::mem::take(&mut groups.members).into_iter().filter(|m| !m.is_empty()).collect()
}

/// Groups keywords by shared vocabulary (see the module docs); every input id comes back exactly once.
pub fn cluster(items: &[Item], opts: &Options) -> Outcome {
    let threshold = if opts.threshold.is_nan() { DEFAULT_THRESHOLD } else { opts.threshold.clamp(0.05, 0.95) };
    let min_size = opts.min_size.max(2);
    let mut items: Vec<&Item> = items.iter().collect();
    // Volume and raw keyword only break ties between rows that share a keyword and an id.
    items.sort_by_cached_key(|it| (it.keyword.to_lowercase(), it.id, it.volume, it.keyword.clone()));
    let mut interner = Interner::default();
    let parsed: Vec<(Vector, Vec<usize>)> = items.iter().map(|it| parse(&it.keyword, &mut interner)).collect();

    // Keywords with the same features become one node (up to max_size keywords; featureless ones never join).
    let mut by_features: Vec<usize> = (0..items.len()).collect();
    by_features.sort_by_cached_key(|&i| (parsed[i].0.iter().map(|f| (f.0, f.1.to_bits())).collect::<Vec<_>>(), i));
    let mut node_members: Vec<Vec<usize>> = Vec::new();
    for &i in &by_features {
        match node_members.last_mut() {
            Some(last) if !parsed[i].0.is_empty() && parsed[last[0]].0 == parsed[i].0 && last.len() < opts.max_size.max(1) => last.push(i),
            _ => node_members.push(vec![i]),
        }
    }
    // Nodes in the order of their first keyword, so node indices follow the sorted input.
    node_members.sort_by_key(|m| m[0]);

    // TF-IDF: document frequency over keywords (not nodes), with the `BACKGROUND` keywords added.
    let features = interner.features.len();
    let mut df = vec![0usize; features];
    parsed.iter().for_each(|(raw, _)| raw.iter().for_each(|f| df[f.0] += 1));
    let total = items.len() as f64;
    let vectors: Vec<Vector> = node_members
        .iter()
        .map(|m| normalised(parsed[m[0]].0.iter().map(|&(f, w)| (f, w * ((total + BACKGROUND) / (df[f] as f64 + 0.5)).ln())).collect()))
        .collect();
    let blended = smoothed(&vectors, &similar_pairs(&vectors, features), features);
    let pairs = similar_pairs(&blended, features);

    let mut groups = Groups {
        size: node_members.iter().map(Vec::len).collect(),
        links: vec![BTreeMap::new(); node_members.len()],
        words: node_members.iter().map(|m| parsed[m[0]].1.iter().map(|&w| (w, m.len())).collect()).collect(),
        members: (0..node_members.len()).map(|g| vec![g]).collect(),
        version: vec![0; node_members.len()],
    };
    let found = average_linkage(&mut groups, &pairs, threshold, opts.max_size);

    let groups = found.into_iter().map(|nodes| nodes.iter().flat_map(|&g| node_members[g].iter().copied()).collect());
    outcome(&items, groups, min_size)
}

/// The clusters of groups of member indices into `items` (in the clusterer's sorted order), shared by every local
/// clusterer. Leaders, names and member order: highest volume, then sorted order (keyword alphabetically, then id);
/// groups smaller than `min_size` stay unclustered; clusters come biggest total volume first.
pub fn outcome<I: std::borrow::Borrow<Item>>(items: &[I], groups: impl IntoIterator<Item = Vec<usize>>, min_size: usize) -> Outcome {
    let item = |m: usize| items[m].borrow();
    let (mut clusters, mut unclustered) = (Vec::new(), Vec::new());
    for mut members in groups {
        members.sort_by_key(|&m| (Reverse(item(m).volume), m));
        if members.len() < min_size {
            unclustered.extend(members.iter().map(|&m| item(m).id));
            continue;
        }
        clusters.push(LocalCluster {
            name: item(members[0]).keyword.clone(),
            keyword_ids: members.iter().map(|&m| item(m).id).collect(),
            total_volume: members.iter().fold(0i64, |sum, &m| sum.saturating_add(item(m).volume)),
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
        // At 0.95 only keywords that differ by a modifier at most meet: the three spellings of "running
        // shoes", and "chocolate cake" with "chocolate cake recipe" and "easy chocolate cake".
        let tight = cluster(&input, &with(0.95, 2, 200));
        let groups: Vec<Vec<i64>> = tight.clusters.iter().map(|c| c.keyword_ids.clone()).collect();
        assert_eq!(groups, vec![vec![7, 5, 6], vec![1, 2, 3]]);
        assert_eq!(tight.unclustered, vec![4, 8, 9]);
        // "trail running tips" ("tips" only qualifies) is near "trail running shoes": out at 0.95, in below.
        assert_eq!(unclustered_at(0.8), vec![8]);
        let left: Vec<usize> = [0.95, 0.7, 0.5, 0.3, 0.1].iter().map(|&t| unclustered_at(t).len()).collect();
        assert!(left.windows(2).all(|w| w[0] >= w[1]), "looser never leaves more out: {left:?}");
    }

    #[test]
    fn groups_defined_by_different_words_stay_apart() {
        let input = items(&[
            ("travel insurance", 900),
            ("best travel insurance", 500),
            ("travel insurance for seniors", 100),
            ("cheap travel insurance", 300),
            ("car insurance", 1000),
            ("cheap car insurance", 700),
            ("car insurance quotes", 400),
            ("car insurance for new drivers", 200),
        ]);
        let out = cluster(&input, &with(0.1, 2, 200));
        let groups: Vec<Vec<i64>> = out.clusters.iter().map(|c| c.keyword_ids.clone()).collect();
        assert_eq!(groups, vec![vec![5, 6, 7, 8], vec![1, 2, 4, 3]], "even at a loose threshold");
    }

    #[test]
    fn no_chaining_through_shared_words() {
        // Each keyword shares a word with the next; single linkage would make one group of all five.
        let input = items(&[
            ("running shoes", 10),
            ("running shoes for women", 9),
            ("trail running", 8),
            ("trail mix recipe", 7),
            ("trail mix", 6),
        ]);
        let out = cluster(&input, &Options::default());
        let groups: Vec<&Vec<i64>> = out.clusters.iter().map(|c| &c.keyword_ids).collect();
        assert!(groups.contains(&&vec![1, 2]), "the shoes stay together and apart from the trail mix: {out:?}");
        assert!(groups.iter().any(|g| g.ends_with(&[4, 5])), "{out:?}");
    }

    #[test]
    fn deterministic_on_a_large_list_in_any_order() {
        let set = super::super::eval::load_eval_set(super::super::eval::shipped_dir()).unwrap();
        let input = set.items();
        let first = cluster(&input, &Options::default());
        let reversed: Vec<Item> = input.iter().rev().cloned().collect();
        assert_eq!(cluster(&reversed, &Options::default()), first);
        let mut shuffled = input.clone();
        shuffled.sort_by_key(|it| (it.id * 7919) % 1000);
        assert_eq!(cluster(&shuffled, &Options::default()), first);
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
        assert!(is_modifier("cheap") && is_modifier("2026") && !is_modifier("5k") && !is_modifier("shoe"));
    }
}
