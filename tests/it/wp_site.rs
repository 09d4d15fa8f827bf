//! The loopback test WordPress (started by `scripts/wordpress-up.sh`) and small helpers shared by the
//! WordPress tests and the publishing benchmark.

use std::collections::HashMap;

pub struct WpSite {
    pub url: String,
    pub plain_url: String,
    pub blocked_url: String,
    pub nopretty_url: String,
    pub user: String,
    pub password: String,
    /// A subscriber: can sign in, can neither publish nor upload.
    pub reader: String,
    pub reader_password: String,
    pub secret: String,
}

/// The test WordPress, from IGNY8_TEST_WP_* or the env file the script writes.
pub fn wp_site() -> WpSite {
    let file = std::env::var("IGNY8_TEST_WP_ENV").unwrap_or_else(|_| "/tmp/igny8-wp/env".into());
    let text = std::fs::read_to_string(&file).unwrap_or_else(|_| {
        panic!("the test WordPress is not running: start it with scripts/wordpress-up.sh (the test command does), or set IGNY8_TEST_WP_ENV")
    });
    let vars: HashMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
    let get = |k: &str| vars.get(k).map(|v| v.to_string()).unwrap_or_else(|| panic!("{k} missing from {file}"));
    WpSite {
        url: get("WP_URL"),
        plain_url: get("WP_PLAIN_URL"),
        blocked_url: get("WP_BLOCKED_URL"),
        nopretty_url: get("WP_NOPRETTY_URL"),
        user: get("WP_USER"),
        password: get("WP_APP_PASSWORD"),
        reader: get("WP_READER"),
        reader_password: get("WP_READER_APP_PASSWORD"),
        secret: get("WP_PLUGIN_SECRET"),
    }
}

pub fn unique(tag: &str) -> String {
    format!("{tag}-{}", igny8::crypto::secrets::random_token(6).to_lowercase().replace(['-', '_'], "x"))
}

/// A PNG that WordPress accepts (it checks the bytes, not only the name): `n` makes each one different.
pub fn png(n: u8) -> Vec<u8> {
    fn crc(data: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for b in data {
            c ^= *b as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            }
        }
        !c
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend(data);
        out.extend(&body);
        out.extend(crc(&body).to_be_bytes());
    }
    // 1×1 RGB, stored (uncompressed) deflate block: zlib header, final block, len, !len, filter byte + pixel, adler32.
    let raw = [0u8, n, 255 - n, 7];
    let adler = {
        let (mut a, mut b) = (1u32, 0u32);
        for x in raw {
            a = (a + x as u32) % 65521;
            b = (b + a) % 65521;
        }
        (b << 16) | a
    };
    let mut idat = vec![0x78, 0x01, 0x01, 4, 0, 0xFB, 0xFF];
    idat.extend(raw);
    idat.extend(adler.to_be_bytes());
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    chunk(&mut out, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// A ready PNG image of a task, as the writer's image job stores it.
pub async fn add_png(conn: &mut diesel_async::AsyncPgConnection, tenant_id: i64, task_id: i64, position: i32, alt: &str, n: u8) {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use igny8::db::schema::images;
    let data = png(n);
    diesel::insert_into(images::table)
        .values((
            images::tenant_id.eq(tenant_id),
            images::task_id.eq(task_id),
            images::kind.eq(if position == 0 { "featured" } else { "in_article" }),
            images::position.eq(position),
            images::prompt.eq("p"),
            images::alt.eq(alt),
            images::status.eq("ready"),
            images::content_type.eq("image/png"),
            images::size_bytes.eq(data.len() as i32),
            images::sha256.eq(igny8::crypto::secrets::sha256_hex(&data)),
            images::data.eq(Some(data)),
        ))
        .execute(conn)
        .await
        .expect("image row");
}
