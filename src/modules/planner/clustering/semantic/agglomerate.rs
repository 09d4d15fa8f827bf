//! Grouping keyword vectors: average-linkage agglomerative clustering on cosine similarity, cut at a threshold.
//!
//! Two groups merge while the mean similarity of all their cross pairs is at least the threshold, so a group is
//! held together by what its members share on average and cannot chain across topics through one close pair.
//! The dendrogram is built with the nearest-neighbour chain over a condensed similarity matrix (n²/2 f32s:
//! 200 MB at 10,000 keywords, hence [`super::SEMANTIC_MAX`]); average linkage never inverts, so the merges at
//! or above the threshold are exactly the clusters of the cut.
//!
//! Deterministic: keywords are first sorted by (lowercased keyword, id), every later step works on indices into
//! that order, and ties go to the lower index. Names and member order follow the lexical clusterer: the
//! highest-volume keyword names its cluster.

use crate::modules::planner::clustering::local::{self, Item, Outcome};

use super::encoder::dot;

/// Upper-triangle similarity matrix without its diagonal.
struct Condensed {
    n: usize,
    sims: Vec<f32>,
}

impl Condensed {
    fn build(vectors: &[&[f32]]) -> Self {
        let n = vectors.len();
        let mut sims = vec![0f32; n * n.saturating_sub(1) / 2];
        // Row i holds (i, i+1..n); rows are split between threads by equal shares of pairs.
        let threads = std::thread::available_parallelism().map_or(1, |p| p.get()).clamp(1, 8);
        let mut rest: &mut [f32] = &mut sims;
        let mut jobs: Vec<(usize, usize, &mut [f32])> = Vec::new();
        let share = rest.len() / threads + 1;
        let mut start = 0;
        while start < n {
            let (mut end, mut len) = (start, 0);
            while end < n && (len < share || end == start) {
                len += n - end - 1;
                end += 1;
            }
            let (chunk, tail) = rest.split_at_mut(len);
            rest = tail;
            jobs.push((start, end, chunk));
            start = end;
        }
        std::thread::scope(|s| {
            for (from, to, chunk) in jobs {
                s.spawn(move || {
                    let mut k = 0;
                    for i in from..to {
                        for j in i + 1..n {
                            chunk[k] = dot(vectors[i], vectors[j]);
                            k += 1;
                        }
                    }
                });
            }
        });
        Condensed { n, sims }
    }

    fn at(&self, a: usize, b: usize) -> usize {
        let (i, j) = if a < b { (a, b) } else { (b, a) };
        i * (2 * self.n - i - 1) / 2 + (j - i - 1)
    }
    fn get(&self, a: usize, b: usize) -> f32 {
        self.sims[self.at(a, b)]
    }
    fn set(&mut self, a: usize, b: usize, v: f32) {
        let k = self.at(a, b);
        self.sims[k] = v;
    }
}

/// Every merge of the full average-linkage dendrogram: (similarity, a, b), found by the nearest-neighbour chain.
fn dendrogram(mut m: Condensed) -> Vec<(f32, usize, usize)> {
    let n = m.n;
    let mut size = vec![1f32; n];
    let mut active: Vec<usize> = (0..n).collect();
    let mut merges = Vec::with_capacity(n.saturating_sub(1));
    let mut chain: Vec<usize> = Vec::new();
    while active.len() > 1 {
        if chain.is_empty() {
            chain.push(active[0]);
        }
        let (a, b) = loop {
            let a = *chain.last().unwrap_or(&active[0]);
            let prev = chain.len().checked_sub(2).map(|p| chain[p]);
            // The most similar other group; the chain's previous element wins ties (so the chain ends), then
            // the lower index.
            let mut best = (f32::NEG_INFINITY, usize::MAX);
            for &k in &active {
                if k == a {
                    continue;
                }
                let s = m.get(a, k);
                if s > best.0 || (s == best.0 && Some(k) == prev) {
                    best = (s, k);
                }
            }
            match prev {
                Some(p) if best.1 == p || m.get(a, p) >= best.0 => break (a, p),
                _ => chain.push(best.1),
            }
        };
        chain.truncate(chain.len() - 2);
        let s = m.get(a, b);
        let (keep, gone) = (a.min(b), a.max(b));
        merges.push((s, keep, gone));
        let (nk, ng) = (size[keep], size[gone]);
        active.retain(|&k| k != gone);
        for &k in &active {
            if k != keep {
                let v = (nk * m.get(keep, k) + ng * m.get(gone, k)) / (nk + ng);
                m.set(keep, k, v);
            }
        }
        size[keep] = nk + ng;
    }
    merges
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

/// Groups keywords whose vectors (unit length, one per item, in the items' order) are alike on average at
/// `threshold` (cosine, clamped to 0.05..=0.95); groups of one stay unclustered. Every id comes back once.
pub fn cluster_embeddings(items: &[Item], vectors: &[Vec<f32>], threshold: f64) -> Outcome {
    assert_eq!(items.len(), vectors.len(), "one vector per keyword");
    let threshold = if threshold.is_nan() { super::DEFAULT_THRESHOLD } else { threshold.clamp(0.05, 0.95) } as f32;
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_cached_key(|&i| (items[i].keyword.to_lowercase(), items[i].id, items[i].volume, items[i].keyword.clone()));
    let items: Vec<&Item> = order.iter().map(|&i| &items[i]).collect();
    let vectors: Vec<&[f32]> = order.iter().map(|&i| vectors[i].as_slice()).collect();
    let n = items.len();

    let mut parent: Vec<usize> = (0..n).collect();
    for (s, a, b) in dendrogram(Condensed::build(&vectors)) {
        if s >= threshold {
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            parent[ra.max(rb)] = ra.min(rb);
        }
    }

    // Members of one root form a group; naming and order are the lexical clusterer's (`local::outcome`).
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = std::collections::BTreeMap::new();
    for m in 0..n {
        let root = find(&mut parent, m);
        groups.entry(root).or_default().push(m);
    }
    local::outcome(&items, groups.into_values(), 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::planner::clustering::local::LocalCluster;

    fn item(id: i64, keyword: &str, volume: i64) -> Item {
        Item { id, keyword: keyword.into(), volume }
    }

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    /// Two tight pairs near the x and y axes, one loner on z, and a point between x and y that is close to one
    /// member of each pair but, on average, to neither pair well enough.
    fn example() -> (Vec<Item>, Vec<Vec<f32>>) {
        let items = vec![item(1, "a1", 10), item(2, "a2", 50), item(3, "b1", 5), item(4, "b2", 5), item(5, "z", 1), item(6, "mid", 1)];
        let vectors = vec![
            unit(&[1.0, 0.05, 0.0]),
            unit(&[1.0, -0.05, 0.0]),
            unit(&[0.05, 1.0, 0.0]),
            unit(&[-0.05, 1.0, 0.0]),
            unit(&[0.0, 0.0, 1.0]),
            unit(&[0.7, 0.7, 0.1]),
        ];
        (items, vectors)
    }

    #[test]
    fn pairs_group_and_the_loners_stay_out() {
        let (items, vectors) = example();
        let out = cluster_embeddings(&items, &vectors, 0.9);
        let a = LocalCluster { name: "a2".into(), keyword_ids: vec![2, 1], total_volume: 60 };
        let b = LocalCluster { name: "b1".into(), keyword_ids: vec![3, 4], total_volume: 10 };
        assert_eq!(out, Outcome { clusters: vec![a, b], unclustered: vec![5, 6] });
        // Loose enough, the point between them joins, and at last all three meet.
        assert_eq!(cluster_embeddings(&items, &vectors, 0.6).unclustered, vec![5]);
        assert_eq!(cluster_embeddings(&items, &vectors, 0.6).clusters.len(), 2);
        assert_eq!(cluster_embeddings(&items, &vectors, 0.2).clusters[0].keyword_ids.len(), 5);
    }

    #[test]
    fn average_linkage_does_not_chain() {
        // Each step along the arc is close to the next (cos 0.95) but the ends are far apart: single linkage
        // would take all five; average linkage splits them.
        let angles = [0.0f32, 0.32, 0.64, 0.96, 1.28];
        let items: Vec<Item> = (0..5).map(|i| item(i, &format!("k{i}"), 1)).collect();
        let vectors: Vec<Vec<f32>> = angles.iter().map(|a| vec![a.cos(), a.sin()]).collect();
        let out = cluster_embeddings(&items, &vectors, 0.9);
        assert!(out.clusters.iter().all(|c| c.keyword_ids.len() < 5), "{out:?}");
    }

    #[test]
    fn same_groups_in_any_input_order() {
        let (items, vectors) = example();
        let first = cluster_embeddings(&items, &vectors, 0.6);
        for shift in 1..items.len() {
            let idx: Vec<usize> = (0..items.len()).map(|i| (i * 5 + shift) % items.len()).collect();
            let (its, vs): (Vec<Item>, Vec<Vec<f32>>) = idx.iter().map(|&i| (items[i].clone(), vectors[i].clone())).unzip();
            assert_eq!(cluster_embeddings(&its, &vs, 0.6), first, "shift {shift}");
        }
    }

    #[test]
    fn ties_are_broken_the_same_way() {
        // Four identical vectors: every pair ties; all four end in one group named by volume, then keyword.
        let items = vec![item(4, "d", 1), item(3, "c", 1), item(2, "b", 9), item(1, "a", 1)];
        let vectors = vec![vec![1.0, 0.0]; 4];
        let out = cluster_embeddings(&items, &vectors, 0.5);
        assert_eq!(out.clusters, vec![LocalCluster { name: "b".into(), keyword_ids: vec![2, 1, 3, 4], total_volume: 12 }]);
    }

    #[test]
    fn edge_inputs() {
        assert_eq!(cluster_embeddings(&[], &[], 0.5), Outcome { clusters: vec![], unclustered: vec![] });
        let one = cluster_embeddings(&[item(7, "x", 1)], &[vec![1.0, 0.0]], 0.5);
        assert_eq!(one, Outcome { clusters: vec![], unclustered: vec![7] });
        let two = [item(1, "x", 1), item(2, "y", 1)];
        let vs = [vec![1.0, 0.0], vec![0.0, 1.0]];
        assert_eq!(cluster_embeddings(&two, &vs, f64::NAN).unclustered, vec![1, 2]);
        assert_eq!(cluster_embeddings(&two, &vs, -3.0).clusters.len(), 0); // clamped to 0.05: orthogonal stays apart
    }

    #[test]
    fn nn_chain_matches_the_naive_algorithm() {
        // Pseudo-random vectors: the chain's merges at each level equal those of the plain "merge the closest
        // pair" loop.
        let mut seed = 7u64;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let vectors: Vec<Vec<f32>> = (0..40).map(|_| unit(&(0..6).map(|_| next()).collect::<Vec<_>>())).collect();
        let refs: Vec<&[f32]> = vectors.iter().map(Vec::as_slice).collect();
        let mut chain: Vec<f32> = dendrogram(Condensed::build(&refs)).into_iter().map(|m| m.0).collect();
        // Naive: groups as member lists, merge the pair with the highest mean similarity.
        let mut groups: Vec<Vec<usize>> = (0..40).map(|i| vec![i]).collect();
        let mut naive = Vec::new();
        while groups.len() > 1 {
            let mean = |g: &[usize], h: &[usize]| {
                let s: f32 = g.iter().flat_map(|&i| h.iter().map(move |&j| (i, j))).map(|(i, j)| dot(&vectors[i], &vectors[j])).sum();
                s / (g.len() * h.len()) as f32
            };
            let mut best = (f32::NEG_INFINITY, 0, 0);
            for x in 0..groups.len() {
                for y in x + 1..groups.len() {
                    let s = mean(&groups[x], &groups[y]);
                    if s > best.0 {
                        best = (s, x, y);
                    }
                }
            }
            naive.push(best.0);
            let g = groups.remove(best.2);
            groups[best.1].extend(g);
        }
        chain.sort_by(|a, b| b.total_cmp(a));
        assert_eq!(chain.len(), naive.len());
        for (c, n) in chain.iter().zip(&naive) {
            assert!((c - n).abs() < 1e-4, "{chain:?} vs {naive:?}");
        }
    }
}
