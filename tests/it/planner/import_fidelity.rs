//! Keyword data kept as the tools export it: several intents, country names, Search Console's clicks and
//! impressions, Keyword Planner's competition, bids and volume ranges, Ahrefs' parent keyword; malformed rows
//! refused; invisible and decomposed characters cleaned; and an export that imports back as it was.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::support::{app, import, keywords};

fn utf16le(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out
}

fn with_bom(text: &str) -> Vec<u8> {
    let mut out = vec![0xEF, 0xBB, 0xBF];
    out.extend_from_slice(text.as_bytes());
    out
}

/// The keywords matching a list query, by name.
async fn listed(b: &crate::harness::Browser, query: &str) -> Vec<String> {
    let v: Value = b.get(&format!("/api/planner/keywords?per_page=200&{query}")).await.json().await.unwrap();
    let mut names: Vec<String> = v["keywords"].as_array().unwrap().iter().map(|k| k["keyword"].as_str().unwrap().to_string()).collect();
    names.sort();
    names
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_intent_is_kept_filterable_and_an_unknown_word_is_dropped_with_a_note() {
    let app = app().await;
    let (b, _) = app.signup("Ina", "ina@example.com", "Ina Co").await;
    // Semrush's Keyword Magic export: BOM, semicolons, several intents in one cell.
    let semrush = "Keyword;Intent;Volume;Trend;Keyword Difficulty;CPC (USD);Competitive Density;SERP Features;Number of Results\n\
                   seo audit;Commercial, Informational;5400;0.81,0.67,1.00;62;12.50;0.31;Reviews;120000000\n\
                   buy seo tool;Transactional;880;0.5,0.6,0.7;40;20.10;0.90;;3000000\n\
                   seo meaning;Informational, Investigational;9900;1.00,1.00,1.00;30;0.40;0.02;;50000000\n";
    let (done, rejects) = import(&b, "semrush.csv", with_bom(semrush), "skip").await;
    assert_eq!((done["status"].as_str(), done["inserted"].as_i64()), (Some("done"), Some(3)), "{done} {rejects:?}");
    assert_eq!((done["rejected_rows"].as_i64(), done["warned_rows"].as_i64()), (Some(0), Some(1)), "{done}");
    let warning = rejects.iter().find(|r| r["kind"] == "warning").expect("the row with an unknown intent has a note");
    assert_eq!(warning["line"], 4);
    assert!(warning["reason"].as_str().unwrap().contains("Investigational"), "{warning}");

    let kws = keywords(&b).await;
    assert_eq!(strings(&kws["seo audit"]["intents"]), ["commercial", "informational"]);
    assert_eq!(kws["seo audit"]["intent"], "commercial", "the main intent is the first");
    assert_eq!(strings(&kws["seo meaning"]["intents"]), ["informational"]);
    assert_eq!(listed(&b, "intent=informational").await, ["seo audit", "seo meaning"], "a keyword matches each of its intents");
    assert_eq!(listed(&b, "intent=commercial").await, ["seo audit"]);
    assert_eq!(listed(&b, "intent=transactional").await, ["buy seo tool"]);

    let (_, html) = b.get_text("/planner/keywords?q=seo+audit").await;
    assert!(
        html.contains("<span class=\"badge badge-commercial\">commercial</span>")
            && html.contains("<span class=\"badge badge-informational\">informational</span>"),
        "the list shows all intents"
    );
    let csv = b.get("/api/planner/keywords/export?q=seo+audit").await.text().await.unwrap();
    assert!(csv.lines().nth(1).unwrap().contains("\"commercial, informational\""), "{csv}");
    // The edit form offers the whole set, so saving it loses none.
    let (_, html) = b.get_text(&format!("/planner/keywords/{}", kws["seo audit"]["id"])).await;
    assert!(html.contains("<option value=\"commercial, informational\" selected>"), "{html}");

    // The API takes the set as the list gives it, and refuses a word that is no intent.
    let r = b.api_post("/api/planner/keywords", json!({ "keyword": "seo company", "intents": ["navigational", "commercial"] })).await;
    assert_eq!(r.status(), 201);
    assert_eq!(strings(&r.json::<Value>().await.unwrap()["intents"]), ["navigational", "commercial"]);
    let r = b.api_post("/api/planner/keywords", json!({ "keyword": "seo firm", "intent": "commercial, bogus" })).await;
    assert_eq!(r.status(), 422);
    assert!(r.json::<Value>().await.unwrap()["error"]["fields"]["intent"].as_str().unwrap().contains("bogus"));
}

#[tokio::test(flavor = "multi_thread")]
async fn country_names_and_codes_become_iso_codes_and_an_unknown_country_keeps_the_row() {
    let app = app().await;
    let (b, _) = app.signup("Cor", "cor@example.com", "Cor Co").await;
    // Ahrefs' UTF-16 tab-separated export, countries written as people and tools write them.
    let ahrefs = "Keyword\tCountry\tDifficulty\tVolume\tCPC\tCPS\tParent Keyword\tIntents\n\
                  running shoes\tUSA\t40\t100\t1.2\t1.1\trunning shoes\tCommercial\n\
                  trainers\tuk\t30\t90\t1.0\t1.0\ttrainers\tCommercial\n\
                  football boots\tUnited Kingdom\t20\t80\t0.9\t1.0\tfootball boots\t\n\
                  laufschuhe\tDeutschland\t20\t70\t0.5\t1.0\tlaufschuhe\t\n\
                  zapatillas\tESP\t20\t60\t0.5\t1.0\tzapatillas\t\n\
                  magic shoes\tNarnia\t10\t50\t0.5\t1.0\tmagic shoes\t\n";
    let (done, rejects) = import(&b, "ahrefs.csv", utf16le(ahrefs), "skip").await;
    assert_eq!((done["status"].as_str(), done["inserted"].as_i64()), (Some("done"), Some(6)), "{done} {rejects:?}");
    let kws = keywords(&b).await;
    let country = |k: &str| kws[k]["country"].as_str().map(str::to_string);
    assert_eq!(country("running shoes").as_deref(), Some("US"));
    assert_eq!(country("trainers").as_deref(), Some("GB"));
    assert_eq!(country("football boots").as_deref(), Some("GB"));
    assert_eq!(country("laufschuhe").as_deref(), Some("DE"));
    assert_eq!(country("zapatillas").as_deref(), Some("ES"));
    assert_eq!(country("magic shoes"), None, "the unknown country is left out, the row kept");
    assert_eq!(kws["magic shoes"]["volume"], 50);
    let warning = rejects.iter().find(|r| r["kind"] == "warning").expect("a note for the unknown country");
    assert_eq!(warning["line"], 7);
    assert!(warning["reason"].as_str().unwrap().contains("Narnia"), "{warning}");
    // The filter understands the same names.
    assert_eq!(listed(&b, "country=United+Kingdom").await, ["football boots", "trainers"]);
    // The form takes names too, and says so when it cannot.
    let r = b.api_post("/api/planner/keywords", json!({ "keyword": "sneakers", "country": "united states" })).await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.json::<Value>().await.unwrap()["country"], "US");
    let r = b.api_post("/api/planner/keywords", json!({ "keyword": "boots", "country": "Atlantis" })).await;
    assert_eq!(r.status(), 422);
    assert!(r.json::<Value>().await.unwrap()["error"]["fields"]["country"].as_str().unwrap().contains("Atlantis"));
}

#[tokio::test(flavor = "multi_thread")]
async fn search_console_figures_are_kept_as_such_and_never_shown_as_volume() {
    let app = app().await;
    let (b, _) = app.signup("Gio", "gio@example.com", "Gio Co").await;
    let gsc = "Top queries,Clicks,Impressions,CTR,Position\n\
               keyword research tool,31,1840,1.68%,8.2\n\
               free keyword tool,120,950,12.63%,3.4\n\
               keyword density,2,4210,0.05%,21.7\n";
    let (done, rejects) = import(&b, "Queries.csv", gsc.as_bytes().to_vec(), "skip").await;
    assert_eq!((done["status"].as_str(), done["inserted"].as_i64()), (Some("done"), Some(3)), "{done} {rejects:?}");
    assert_eq!(done["source"], "Google Search Console");
    let kws = keywords(&b).await;
    let k = &kws["keyword research tool"];
    assert_eq!(k["volume"], Value::Null, "Search Console gives no volume");
    assert_eq!((k["clicks"].as_i64(), k["impressions"].as_i64()), (Some(31), Some(1840)));
    assert_eq!((k["ctr"].as_f64(), k["position"].as_f64()), (Some(1.68), Some(8.2)));

    // Sortable in the list and the API.
    let v: Value = b.get("/api/planner/keywords?sort=impressions&dir=desc").await.json().await.unwrap();
    let order: Vec<&str> = v["keywords"].as_array().unwrap().iter().map(|k| k["keyword"].as_str().unwrap()).collect();
    assert_eq!(order, ["keyword density", "keyword research tool", "free keyword tool"]);
    let v: Value = b.get("/api/planner/keywords?sort=clicks&dir=desc").await.json().await.unwrap();
    assert_eq!(v["keywords"][0]["keyword"], "free keyword tool");
    let v: Value = b.get("/api/planner/keywords?sort=position").await.json().await.unwrap();
    assert_eq!(v["keywords"][0]["keyword"], "free keyword tool", "best position first");

    let (status, html) = b.get_text("/planner/keywords?sort=impressions").await;
    assert_eq!(status, 200);
    for heading in ["sort=clicks", "sort=impressions", "sort=ctr", "sort=position"] {
        assert!(html.contains(heading), "a sortable {heading} column");
    }
    assert!(html.contains(">4,210<") && html.contains(">1.68%<") && html.contains(">8.2<"), "the figures in their columns");
    let csv = b.get("/api/planner/keywords/export?q=research").await.text().await.unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = |name: &str| row[header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("{name} in {header:?}"))];
    assert_eq!((at("Volume"), at("Clicks"), at("Impressions"), at("CTR"), at("Position")), ("", "31", "1840", "1.68%", "8.2"));
}

#[tokio::test(flavor = "multi_thread")]
async fn keyword_planner_competition_bids_and_volume_ranges_keep_their_meaning() {
    let app = app().await;
    let (b, _) = app.signup("Kip", "kip@example.com", "Kip Co").await;
    // Keyword Planner: UTF-16, tabs, two title lines; ranges where the account shows no exact volume.
    let planner = "Keyword Stats 2026-11-01 at 10_00_00\nNovember 1, 2025 - October 31, 2026\n\
                   Keyword\tCurrency\tAvg. monthly searches\tThree month change\tYoY change\tCompetition\tCompetition (indexed value)\tTop of page bid (low range)\tTop of page bid (high range)\n\
                   content marketing\tUSD\t1K – 10K\t0%\t0%\tLow\t18\t2.10\t9.75\n\
                   content strategy\tUSD\t10K – 100K\t0%\t0%\tHigh\t77\t3.05\t12.40\n\
                   content calendar\tUSD\t880\t0%\t0%\tMedium\t45\t\t\n";
    let (done, rejects) = import(&b, "Keyword Stats.csv", utf16le(planner), "skip").await;
    assert_eq!((done["status"].as_str(), done["inserted"].as_i64()), (Some("done"), Some(3)), "{done} {rejects:?}");
    let kws = keywords(&b).await;
    let k = &kws["content marketing"];
    assert_eq!((k["difficulty"].clone(), k["cpc"].clone()), (Value::Null, Value::Null), "competition is not KD, a bid is not CPC");
    assert_eq!((k["competition"].as_str(), k["competition_index"].as_i64()), (Some("low"), Some(18)));
    assert_eq!((k["bid_low"].as_f64(), k["bid_high"].as_f64()), (Some(2.1), Some(9.75)));
    assert_eq!((k["volume"].as_i64(), k["volume_high"].as_i64()), (Some(1000), Some(10_000)), "both bounds of the range");
    assert_eq!(
        (kws["content strategy"]["volume"].as_i64(), kws["content strategy"]["volume_high"].as_i64()),
        (Some(10_000), Some(100_000))
    );
    assert_eq!((kws["content calendar"]["volume"].as_i64(), kws["content calendar"]["volume_high"].clone()), (Some(880), Value::Null));

    let (_, html) = b.get_text("/planner/keywords?sort=volume").await;
    assert!(html.contains("1K–10K (est.)") && html.contains("10K–100K (est.)"), "ranges shown as estimates");
    assert!(html.contains("sort=competition") && html.contains("2.10–9.75"), "competition and bids in their own columns");
    let v: Value = b.get("/api/planner/keywords?sort=competition&dir=desc").await.json().await.unwrap();
    assert_eq!(v["keywords"][0]["keyword"], "content strategy");
    let csv = b.get("/api/planner/keywords/export?q=content+marketing").await.text().await.unwrap();
    assert!(csv.lines().next().unwrap().contains("Competition index,Top of page bid (low range),Top of page bid (high range)"), "{csv}");
    assert!(csv.lines().nth(1).unwrap().ends_with(",low,18,2.10,9.75"), "{csv}");
}

#[tokio::test(flavor = "multi_thread")]
async fn ahrefs_parent_keyword_is_kept_shown_filtered_and_exported() {
    let app = app().await;
    let (b, _) = app.signup("Par", "par@example.com", "Par Co").await;
    let ahrefs = "Keyword,Country,Difficulty,Volume,CPC,CPS,Parent Keyword,Last Update,SERP Features,Global volume,Traffic potential,Global traffic potential,First seen,Intents\n\
                  best running shoes,us,62,5400,1.5,1.1,running shoes,2026-10-01,,9800,4000,7000,2019-01-01,Commercial\n\
                  running shoes for women,us,50,3000,1.2,1.0,Running Shoes,2026-10-01,,6000,4000,7000,2019-01-01,Commercial\n\
                  trail shoes,us,30,900,0.9,1.0,trail running shoes,2026-10-01,,1500,800,1200,2019-01-01,Commercial\n";
    let (done, rejects) = import(&b, "ahrefs.csv", ahrefs.as_bytes().to_vec(), "skip").await;
    assert_eq!((done["status"].as_str(), done["inserted"].as_i64()), (Some("done"), Some(3)), "{done} {rejects:?}");
    let kws = keywords(&b).await;
    assert_eq!(kws["best running shoes"]["parent_keyword"], "running shoes");
    assert_eq!(listed(&b, "parent=running+shoes").await, ["best running shoes", "running shoes for women"], "whole, any case");
    assert_eq!(listed(&b, "parent=running").await, Vec::<String>::new(), "not a substring match");
    let (_, html) = b.get_text("/planner/keywords?q=trail").await;
    assert!(html.contains("parent: trail running shoes") && html.contains("parent=trail+running+shoes"), "shown and linked");
    let csv = b.get("/api/planner/keywords/export?parent=trail%20running%20shoes").await.text().await.unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.contains(",trail running shoes,"), "{csv}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_with_too_few_or_too_many_fields_are_rejected_as_malformed() {
    let app = app().await;
    let (b, _) = app.signup("Mal", "mal@example.com", "Mal Co").await;
    let csv = "Keyword,Volume,KD,CPC\n\
               seo tools,45\n\
               link building,1,200,5,0.5\n\
               good keyword,100,20,1.5\n\
               trailing empties,50,10,0.5,,\n";
    let (done, rejects) = import(&b, "short.csv", csv.as_bytes().to_vec(), "skip").await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!((done["inserted"].as_i64(), done["rejected_rows"].as_i64()), (Some(2), Some(2)), "{done} {rejects:?}");
    let reason = |line: i64| rejects.iter().find(|r| r["line"] == line).map(|r| r["reason"].as_str().unwrap().to_string()).unwrap();
    assert!(reason(2).contains("malformed") && reason(2).contains("2 fields"), "{}", reason(2));
    assert!(reason(3).contains("malformed") && reason(3).contains("5 fields"), "{}", reason(3));
    let kws = keywords(&b).await;
    assert!(!kws.contains_key("seo tools"), "never padded into volume 45, difficulty empty");
    assert_eq!((kws["trailing empties"]["volume"].as_i64(), kws["trailing empties"]["difficulty"].as_i64()), (Some(50), Some(10)));
    // A headerless one-column list still imports.
    let (done, _) = import(&b, "list.txt", b"seo audit\nseo report\n".to_vec(), "skip").await;
    assert_eq!(done["inserted"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn keywords_are_composed_and_stripped_of_invisible_characters_everywhere() {
    let app = app().await;
    let (b, _) = app.signup("Uni", "uni@example.com", "Uni Co").await;
    // Decomposed "café" (e + combining acute), the composed one, a zero-width space and bidi controls.
    let csv = "keyword,volume\n\
               cafe\u{301} au lait,10\n\
               caf\u{e9} au lait,20\n\
               seo\u{200b}tools\u{feff},30\n\
               \u{202e}link\u{202c} building\u{200e},40\n";
    let (done, rejects) = import(&b, "unicode.csv", csv.as_bytes().to_vec(), "skip").await;
    assert_eq!(done["inserted"], 3, "{done} {rejects:?}");
    let dup = rejects.iter().find(|r| r["line"] == 3).expect("the composed spelling repeats the decomposed one");
    assert_eq!(dup["kind"], "duplicate");
    let kws = keywords(&b).await;
    let mut names: Vec<&String> = kws.keys().collect();
    names.sort();
    assert_eq!(names, ["caf\u{e9} au lait", "link building", "seotools"]);
    assert_eq!(kws["caf\u{e9} au lait"]["volume"], 10);
    // The form and the API clean the same way: the decomposed spelling is the same keyword.
    let r = b.api_post("/api/planner/keywords", json!({ "keyword": "Cafe\u{301} au lait" })).await;
    assert_eq!(r.status(), 422);
    let r = b.post_form("/planner/keywords", &[("keyword", "link\u{2066} building\u{2069}")]).await;
    assert_eq!(r.status(), 422, "already there once the controls are gone");
    assert_eq!(app.count("keywords").await, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_export_imports_into_another_workspace_with_the_same_keywords_clusters_statuses_and_intents() {
    let app = app().await;
    let (a, _) = app.signup("Exa", "exa@example.com", "Exa Co").await;
    let (other, _) = app.signup("Imo", "imo@example.com", "Imo Co").await;
    let semrush = "Keyword;Intent;Volume;Keyword Difficulty;CPC (USD)\n\
                   seo audit;Commercial, Informational;5400;62;12.50\n\
                   seo audit tool;Transactional;880;40;20.10\n\
                   link building;Informational;2900;71;8.15\n\
                   =SUM(1+1);Navigational;10;5;0.10\n\
                   -minus keyword;;20;6;\n\
                   @handle;;30;7;\n\
                   +plus;;40;8;\n";
    let (done, _) = import(&a, "semrush.csv", semrush.as_bytes().to_vec(), "skip").await;
    assert_eq!(done["inserted"], 7, "{done}");
    let planner = "Keyword\tCurrency\tAvg. monthly searches\tThree month change\tYoY change\tCompetition\tCompetition (indexed value)\tTop of page bid (low range)\tTop of page bid (high range)\n\
                   content plan\tUSD\t1K – 10K\t0%\t0%\tLow\t18\t2.10\t9.75\n";
    let (done, _) = import(&a, "planner.csv", utf16le(planner), "skip").await;
    assert_eq!(done["inserted"], 1, "{done}");
    let kws = keywords(&a).await;
    let r = a.api_post("/api/planner/clusters", json!({ "name": "SEO, audits & \"tools\"" })).await;
    let audits = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = a.api_post("/api/planner/clusters", json!({ "name": "Links" })).await;
    let links = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let ids = |names: &[&str]| names.iter().map(|n| kws[*n]["id"].as_i64().unwrap()).collect::<Vec<_>>();
    for (cluster, names) in [(audits, vec!["seo audit", "seo audit tool"]), (links, vec!["link building"])] {
        let r = a
            .api_post("/api/planner/keywords/bulk", json!({ "action": "move", "ids": ids(&names), "cluster_id": cluster.to_string() }))
            .await;
        assert_eq!(r.status(), 200);
    }
    let r = a
        .api_post(
            "/api/planner/keywords/bulk",
            json!({ "action": "set_status", "status": "archived", "ids": ids(&["seo audit tool", "@handle"]) }),
        )
        .await;
    assert_eq!(r.status(), 200);

    let csv = a.get("/api/planner/keywords/export").await.text().await.unwrap();
    assert!(csv.contains("\"'=SUM(1+1)\"") || csv.contains("'=SUM(1+1)"), "the formula guard is written: {csv}");
    let (done, rejects) = import(&other, "keywords.csv", csv.clone().into_bytes(), "skip").await;
    assert_eq!((done["status"].as_str(), done["inserted"].as_i64()), (Some("done"), Some(8)), "{done} {rejects:?}");
    assert_eq!(done["source"], "Keyword export");

    // The same keywords with the same figures, intents, clusters (by name) and statuses.
    let shape = |k: &Value| {
        let mut k = k.clone();
        for field in ["id", "cluster_id", "created_at", "updated_at"] {
            k.as_object_mut().unwrap().remove(field);
        }
        k
    };
    let (before, after) = (keywords(&a).await, keywords(&other).await);
    let before: HashMap<&String, Value> = before.iter().map(|(n, k)| (n, shape(k))).collect();
    let after: HashMap<&String, Value> = after.iter().map(|(n, k)| (n, shape(k))).collect();
    assert_eq!(after, before);
    for name in ["=SUM(1+1)", "-minus keyword", "@handle", "+plus"] {
        assert!(after.contains_key(&name.to_string()), "{name} comes back without the guard");
    }
    let v: Value = other.get("/api/planner/clusters").await.json().await.unwrap();
    let mut clusters: Vec<(String, i64)> = v["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_string(), c["keyword_count"].as_i64().unwrap()))
        .collect();
    clusters.sort();
    assert_eq!(clusters, [("Links".to_string(), 1), ("SEO, audits & \"tools\"".to_string(), 2)]);
    assert_eq!(listed(&other, "status=archived").await, ["@handle", "seo audit tool"]);
    assert_eq!(listed(&other, "status=clustered").await, ["link building", "seo audit"]);

    // The same file again in update mode changes nothing: every row is an update to what it already says.
    let (done, _) = import(&other, "keywords-again.csv", csv.into_bytes(), "update").await;
    assert_eq!((done["inserted"].as_i64(), done["updated"].as_i64()), (Some(0), Some(8)), "{done}");
    let again = keywords(&other).await;
    let again: HashMap<&String, Value> = again.iter().map(|(n, k)| (n, shape(k))).collect();
    assert_eq!(again, before);
}
