//! Files that are not usable CSV get a clear message and leave nothing behind: empty, binary, too large,
//! invalid UTF-8, no keyword column, giant cells.

use super::support::{app, import, upload};

#[tokio::test(flavor = "multi_thread")]
async fn bad_files_get_a_clear_message_and_nothing_is_half_imported() {
    let app = app().await;
    let (b, _) = app.signup("Bo", "bo@example.com", "Bo Co").await;

    let (status, body) = upload(&b, "empty.csv", vec![]).await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"].as_str().unwrap().contains("empty"), "{body}");

    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    png.extend(std::iter::repeat_n(0u8, 2000));
    let (status, body) = upload(&b, "photo.csv", png).await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"].as_str().unwrap().contains("PNG"), "{body}");

    let (status, body) = upload(&b, "random.bin", (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect()).await;
    assert_eq!(status, 400, "{body}");

    // 50 MB: refused once past the limit, with the limit in the message.
    let big = "keyword,volume\n".to_string() + &"some keyword phrase,100\n".repeat(50 * 1024 * 1024 / 24);
    let (status, body) = upload(&b, "huge.csv", big.into_bytes()).await;
    assert_eq!(status, 413);
    assert!(body["error"]["message"].as_str().unwrap().contains("larger than 20 MB"), "{body}");
    assert_eq!(app.count("keyword_imports").await, 0, "refused uploads leave no import behind");
    assert_eq!(app.count("keyword_import_chunks").await, 0);

    // Invalid UTF-8 on line 3: the analysis stops with the line, nothing is imported.
    let mut bad = b"keyword,volume\ngood one,10\n".to_vec();
    bad.extend_from_slice(b"caf\xE9 latte,20\n");
    let (done, _) = import(&b, "latin1.csv", bad, "skip").await;
    assert_eq!(done["status"], "failed");
    let err = done["error"].as_str().unwrap();
    assert!(err.contains("UTF-8") && err.contains("line 3"), "{err}");

    // 10,000-character cells: the row is refused with a reason, the rest imports.
    let long = "x".repeat(10_000);
    let file = format!("keyword,sector\n{long},a\nfine keyword,{long}\nok keyword,b\n");
    let (done, rejects) = import(&b, "long.csv", file.into_bytes(), "skip").await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["inserted"], 1);
    assert_eq!(rejects.len(), 2);
    assert!(rejects[0]["reason"].as_str().unwrap().contains("255"), "{:?}", rejects[0]);
    assert!(rejects[1]["reason"].as_str().unwrap().contains("1,000"), "{:?}", rejects[1]);

    assert_eq!(app.count("keywords").await, 1, "only the one good row of all these files");
    assert_eq!(app.count("keyword_import_chunks").await, 0, "failed imports drop their stored file too");
}
