//! Exports users already have import as they are: Ahrefs, Semrush (semicolons, BOM), Search Console,
//! Keyword Planner (UTF-16, tabs, title lines), and a plain list; uploaded through the page's form too.

use serde_json::Value;

use super::support::{app, import, keywords, settle};

fn utf16le(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn ahrefs_semrush_gsc_and_keyword_planner_exports_import_correctly() {
    let app = app().await;
    let (b, _) = app.signup("Fay", "fay@example.com", "Fay Co").await;

    let ahrefs = "Keyword,Country,Difficulty,Volume,CPC,CPS,Parent Keyword,Last Update,SERP Features,Global volume,Traffic potential,Global traffic potential,First seen,Intents\n\
                  seo audit,us,62,5400,12.5,1.1,seo audit,2026-10-01,,9800,4000,7000,2019-01-01,\"Informational, Commercial\"\n";
    let (done, rejects) = import(&b, "ahrefs.csv", ahrefs.as_bytes().to_vec(), "skip").await;
    assert_eq!(done["status"], "done", "{done} {rejects:?}");
    assert_eq!(done["source"], "Ahrefs");

    let mut semrush = vec![0xEF, 0xBB, 0xBF];
    semrush.extend_from_slice(
        "Keyword;Intent;Volume;Trend;Keyword Difficulty;CPC (USD);Competitive Density;SERP Features;Number of Results\n\
         link building;commercial;2900;0.81,0.67,1.00;71;8.15;0.31;Reviews;120000000\n"
            .as_bytes(),
    );
    let (done, rejects) = import(&b, "semrush.csv", semrush, "skip").await;
    assert_eq!(done["status"], "done", "{done} {rejects:?}");
    assert_eq!((done["source"].as_str(), done["delimiter"].as_str()), (Some("Semrush"), Some("semicolon")));

    let gsc = "Top queries,Clicks,Impressions,CTR,Position\nkeyword research tool,31,1840,1.68%,8.2\n";
    let (done, _) = import(&b, "Queries.csv", gsc.as_bytes().to_vec(), "skip").await;
    assert_eq!(done["source"], "Google Search Console");

    let planner = "Keyword Stats 2026-11-01 at 10_00_00\nNovember 1, 2025 - October 31, 2026\n\
                   Keyword\tCurrency\tAvg. monthly searches\tThree month change\tYoY change\tCompetition\tCompetition (indexed value)\tTop of page bid (low range)\tTop of page bid (high range)\n\
                   content marketing\tUSD\t14800\t0%\t0%\tLow\t18\t2.10\t9.75\n";
    let (done, rejects) = import(&b, "Keyword Stats.csv", utf16le(planner), "skip").await;
    assert_eq!(done["status"], "done", "{done} {rejects:?}");
    assert_eq!((done["source"].as_str(), done["delimiter"].as_str()), (Some("Google Keyword Planner"), Some("tab")));

    let kws = keywords(&b).await;
    let k = |name: &str| kws.get(name).cloned().unwrap_or(Value::Null);
    assert_eq!((k("seo audit")["volume"].as_i64(), k("seo audit")["difficulty"].as_i64()), (Some(5400), Some(62)));
    assert_eq!((k("seo audit")["country"].as_str(), k("seo audit")["intent"].as_str()), (Some("US"), Some("informational")));
    assert_eq!(k("seo audit")["cpc"], 12.5);
    assert_eq!((k("link building")["volume"].as_i64(), k("link building")["difficulty"].as_i64()), (Some(2900), Some(71)));
    assert_eq!(k("link building")["cpc"], 8.15);
    assert_eq!(k("keyword research tool")["volume"], Value::Null, "GSC has no volume");
    assert_eq!(k("keyword research tool")["impressions"], 1840, "GSC impressions are kept as impressions");
    assert_eq!((k("content marketing")["volume"].as_i64(), k("content marketing")["competition_index"].as_i64()), (Some(14800), Some(18)));
    assert_eq!(k("content marketing")["bid_high"], 9.75, "the high-range bid is kept as the bid, not the CPC");
    assert_eq!(kws.len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_form_uploads_multipart_and_shows_preview_and_rejects() {
    let app = app().await;
    let (b, _) = app.signup("Gus", "gus@example.com", "Gus Co").await;
    let token = b.csrf().await;
    let boundary = "----igny8testboundary";
    let csv = "keyword,volume\n\"quoted, keyword\",10\nplain keyword,x\n<script>alert(1)</script>,5\n";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"list.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    let r = b
        .client
        .post(b.url(&format!("/planner/imports?csrf_token={token}")))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let id: i64 = location.rsplit('/').next().unwrap().parse().expect("redirect to the import page");
    let (analysed, rejects) = settle(&b, id).await;
    assert_eq!(analysed["status"], "ready");
    assert_eq!(rejects.len(), 1);
    let (status, html) = b.get_text(&location).await;
    assert_eq!(status, 200);
    assert!(html.contains("quoted, keyword") && html.contains("Import 2 new keywords"), "preview and the go-ahead button");
    assert!(html.contains("not a number") && html.contains(">3<"), "the rejected row with its line");
    assert!(html.contains("alert(1)") && !html.contains("<script>alert"), "cells are escaped");
    let r = b.post_form(&format!("/planner/imports/{id}/confirm"), &[("on_existing", "skip")]).await;
    assert_eq!(r.status(), 303);
    let (done, _) = settle(&b, id).await;
    assert_eq!(done["inserted"], 2);
    // Without the CSRF token the multipart form is refused.
    let r = b
        .client
        .post(b.url("/planner/imports"))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(format!("--{boundary}--\r\n"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_headers_ask_for_the_columns_and_a_wrong_guess_can_be_corrected() {
    use serde_json::json;
    let app = app().await;
    let (b, _) = app.signup("Col", "col@example.com", "Col Co").await;
    let (status, body) =
        super::support::upload(&b, "phrases.csv", b"Phrase,Monthly,Hardness\nblue widgets,1200,35\nred widgets,900,20\n".to_vec()).await;
    assert_eq!(status, 202);
    let id = body["id"].as_i64().unwrap();
    let (analysed, _) = settle(&b, id).await;
    assert_eq!(analysed["status"], "mapping", "no column looks like keywords: the user is asked");
    assert!(analysed["error"].as_str().unwrap().contains("Phrase"), "{analysed}");
    assert_eq!(analysed["headers"], json!(["Phrase", "Monthly", "Hardness"]));
    let (_, html) = b.get_text(&format!("/planner/imports/{id}")).await;
    assert!(html.contains("Choose the columns") && html.contains(">Hardness</option>"));

    // A column chosen twice, or no keyword column, is refused.
    let r = b.api_post(&format!("/api/planner/imports/{id}/columns"), json!({ "keyword": 0, "volume": 0 })).await;
    assert_eq!(r.status(), 422);
    let r = b.api_post(&format!("/api/planner/imports/{id}/columns"), json!({ "volume": 1 })).await;
    assert_eq!(r.status(), 422);
    // The form's choice: keyword = Phrase, volume = Hardness (a mistake), difficulty = Monthly.
    let r = b.post_form(&format!("/planner/imports/{id}/columns"), &[("keyword", "0"), ("volume", "2"), ("difficulty", "1")]).await;
    assert_eq!(r.status(), 303);
    let (again, rejects) = settle(&b, id).await;
    assert_eq!(again["status"], "ready");
    assert_eq!(rejects.len(), 2, "difficulty 1200 and 900 are out of range");
    // Corrected through the API, then imported.
    let r = b.api_post(&format!("/api/planner/imports/{id}/columns"), json!({ "keyword": 0, "volume": 1, "difficulty": 2 })).await;
    assert_eq!(r.status(), 202);
    let (again, rejects) = settle(&b, id).await;
    assert_eq!((again["status"].as_str(), again["good_rows"].as_i64(), rejects.len()), (Some("ready"), Some(2), 0));
    let r = b.api_post(&format!("/api/planner/imports/{id}/confirm"), json!({ "on_existing": "skip" })).await;
    assert_eq!(r.status(), 202);
    let (done, _) = settle(&b, id).await;
    assert_eq!(done["inserted"], 2);
    let kws = keywords(&b).await;
    assert_eq!((kws["blue widgets"]["volume"].as_i64(), kws["blue widgets"]["difficulty"].as_i64()), (Some(1200), Some(35)));
}
