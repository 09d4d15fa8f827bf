//! Planner benchmark helpers (run by `scripts/bench-planner`, or `cargo bench --bench planner -- <mode>`):
//! - `sql <tenant_id> <query string> [cached]`: prints the keywords page's own SQL with its values filled in,
//!   one statement per line, for pgbench to run beside the page;
//! - `cluster [n]`: times the local clusterer on n (default 10,000) generated keywords.

use std::time::Instant;

use diesel::pg::Pg;
use diesel::prelude::*;
use igny8::db::schema::{clusters, list_revisions};
use igny8::listing::PageParams;
use igny8::modules::planner::clustering::local::{self, Item, Options};
use igny8::modules::planner::keywords::filter::{self, KeywordFilter};
use igny8::modules::planner::keywords::service::Keyword;

/// `debug_query` prints `SQL -- binds: [a, b]`; pgbench needs the values in place.
fn inline(debug: String) -> String {
    let (sql, binds) = debug.split_once(" -- binds: ").unwrap_or((&debug, "[]"));
    let binds = binds.trim().trim_start_matches('[').trim_end_matches(']');
    let values: Vec<String> = if binds.is_empty() {
        vec![]
    } else {
        binds
            .split(", ")
            .map(|v| {
                if let Some(s) = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                    format!("'{}'", s.replace('\'', "''"))
                } else {
                    v.to_string()
                }
            })
            .collect()
    };
    let mut out = sql.to_string();
    for (i, v) in values.iter().enumerate().rev() {
        out = out.replace(&format!("${}", i + 1), v);
    }
    out
}

/// Prints the statements of one page view: uncached (list, count, cluster names) or, with `cached`, those
/// a view runs when the count comes from the cache (revision, list, cluster names).
fn print_sql(tenant_id: i64, query: &str, cached: bool) {
    let f: KeywordFilter = serde_urlencoded::from_str(query).expect("a query string");
    let page: PageParams = serde_urlencoded::from_str(query).expect("a query string");
    let list = filter::ordered(filter::matching(tenant_id, &f), &f)
        .select((Keyword::as_select(), clusters::name.nullable()))
        .limit(page.per_page())
        .offset(page.offset());
    let count = filter::matching(tenant_id, &f).count();
    let names =
        clusters::table.filter(clusters::tenant_id.eq(tenant_id)).order(clusters::name).select((clusters::id, clusters::name)).limit(5_000);
    let rev = list_revisions::table
        .filter(list_revisions::tenant_id.eq(tenant_id))
        .filter(list_revisions::list.eq("keywords"))
        .select(list_revisions::rev);
    let middle = if cached {
        inline(diesel::debug_query::<Pg, _>(&rev).to_string())
    } else {
        inline(diesel::debug_query::<Pg, _>(&count).to_string())
    };
    for q in [inline(diesel::debug_query::<Pg, _>(&list).to_string()), middle, inline(diesel::debug_query::<Pg, _>(&names).to_string())] {
        println!("{};", q.replace('\n', " "));
    }
}

fn time_cluster(n: usize) {
    const HEADS: [&str; 20] = [
        "running",
        "trail",
        "chocolate",
        "vegan",
        "budget",
        "luxury",
        "garden",
        "kitchen",
        "winter",
        "summer",
        "kids",
        "office",
        "travel",
        "camping",
        "yoga",
        "coffee",
        "wireless",
        "gaming",
        "wedding",
        "pet",
    ];
    const TAILS: [&str; 25] = [
        "shoes",
        "jacket",
        "cake",
        "recipe",
        "tent",
        "chair",
        "mat",
        "grinder",
        "headphones",
        "laptop",
        "dress",
        "food",
        "bed",
        "lights",
        "boots",
        "backpack",
        "watch",
        "table",
        "desk",
        "mug",
        "socks",
        "gloves",
        "hat",
        "bag",
        "bottle",
    ];
    const MODS: [&str; 12] =
        ["best", "cheap", "how to choose", "reviews", "for beginners", "near me", "vs", "sale", "2026", "ideas", "guide", "diy"];
    let items: Vec<Item> = (0..n)
        .map(|i| Item {
            id: i as i64,
            keyword: format!(
                "{} {} {} {}",
                MODS[i % 12],
                HEADS[(i / 12) % 20],
                TAILS[(i / 240) % 25],
                if i % 3 == 0 { MODS[(i / 7) % 12] } else { "" }
            )
            .trim()
            .to_string(),
            volume: ((i * 7919) % 10_000) as i64,
        })
        .collect();
    for threshold in [0.3, 0.5, 0.7] {
        let t = Instant::now();
        let out = local::cluster(&items, &Options { threshold, ..Default::default() });
        println!(
            "local clustering of {n} keywords, threshold {threshold}: {:.1} ms, {} clusters, {} unclustered",
            t.elapsed().as_secs_f64() * 1000.0,
            out.clusters.len(),
            out.unclustered.len()
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    match args.first().map(String::as_str) {
        Some("sql") => print_sql(
            args.get(1).and_then(|t| t.parse().ok()).expect("tenant id"),
            args.get(2).map(String::as_str).unwrap_or(""),
            args.get(3).is_some_and(|m| m == "cached"),
        ),
        Some("cluster") | None => time_cluster(args.get(1).and_then(|n| n.parse().ok()).unwrap_or(10_000)),
        Some(other) => eprintln!("unknown mode {other}: use sql or cluster"),
    }
}
