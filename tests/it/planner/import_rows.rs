//! An import of a messy file writes exactly the good rows and reports every other row with its line
//! number and reason; "update" refreshes existing keywords instead of skipping them.

use super::support::{add_keyword, app, import, keywords};

const MIXED: &str = "Keyword,Volume,KD,CPC,Intent\n\
running shoes,1200,45,1.20,commercial\n\
best trail shoes,abc,30,,\n\
,500,10,,\n\
Running Shoes,900,20,,\n\
hiking boots,100,150,,\n\
Already Here,300,10,,\n\
cheap shoes,\"1,500\",12,$0.80,transactional\n\
\n\
shoe laces,40,-3,,\n";

#[tokio::test(flavor = "multi_thread")]
async fn good_rows_are_imported_and_each_bad_row_is_reported_with_line_and_reason() {
    let app = app().await;
    let (b, _) = app.signup("Ida", "ida@example.com", "Ida Co").await;
    add_keyword(&b, "already here", 50).await;

    let (done, rejects) = import(&b, "mixed.csv", MIXED.as_bytes().to_vec(), "skip").await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!((done["total_rows"].as_i64(), done["good_rows"].as_i64()), (Some(8), Some(2)), "{done}");
    assert_eq!((done["rejected_rows"].as_i64(), done["existing_rows"].as_i64()), (Some(5), Some(1)), "{done}");
    assert_eq!((done["inserted"].as_i64(), done["skipped"].as_i64(), done["updated"].as_i64()), (Some(2), Some(1), Some(0)), "{done}");

    let by_line: Vec<(i64, String, String)> = rejects
        .iter()
        .map(|r| (r["line"].as_i64().unwrap(), r["kind"].as_str().unwrap().to_string(), r["reason"].as_str().unwrap().to_string()))
        .collect();
    let lines: Vec<i64> = by_line.iter().map(|r| r.0).collect();
    assert_eq!(lines, vec![3, 4, 5, 6, 7, 10], "every bad row, by line (blank line 9 is not a row): {by_line:?}");
    let reason = |line: i64| by_line.iter().find(|r| r.0 == line).map(|r| (r.1.clone(), r.2.clone())).unwrap();
    assert!(reason(3).1.contains("volume") && reason(3).1.contains("not a number"), "{:?}", reason(3));
    assert!(reason(4).1.contains("empty"), "{:?}", reason(4));
    assert_eq!(reason(5).0, "duplicate");
    assert!(reason(5).1.contains("line 2"), "{:?}", reason(5));
    assert!(reason(6).1.contains("out of range"), "{:?}", reason(6));
    assert_eq!(reason(7).0, "existing");
    assert!(reason(10).1.contains("difficulty"), "{:?}", reason(10));

    let kws = keywords(&b).await;
    let mut names: Vec<&String> = kws.keys().collect();
    names.sort();
    assert_eq!(names, vec!["already here", "cheap shoes", "running shoes"], "exactly the good rows plus the one that was there");
    assert_eq!(kws["running shoes"]["volume"], 1200);
    assert_eq!(kws["running shoes"]["difficulty"], 45);
    assert_eq!(kws["running shoes"]["intent"], "commercial");
    assert_eq!(kws["cheap shoes"]["volume"], 1500);
    assert_eq!(kws["cheap shoes"]["cpc"], 0.8);
    assert_eq!(kws["already here"]["volume"], 50, "skip leaves the existing keyword as it was");
    assert_eq!(app.count("keyword_import_chunks").await, 0, "the stored file is dropped once imported");

    // The same file again with "update": the existing keywords take the file's figures, nothing is added.
    let (again, _) = import(&b, "mixed-again.csv", MIXED.as_bytes().to_vec(), "update").await;
    assert_eq!(again["status"], "done");
    assert_eq!((again["inserted"].as_i64(), again["updated"].as_i64()), (Some(0), Some(3)), "{again}");
    let kws = keywords(&b).await;
    assert_eq!(kws.len(), 3);
    assert_eq!(kws["already here"]["volume"], 300, "update mode takes the file's volume");
    assert_eq!(kws["running shoes"]["volume"], 1200, "first occurrence wins over the in-file duplicate");
}
