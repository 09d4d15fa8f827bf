//! The article as the site gets it: IGNY8's own image URLs (`/media/images/{id}/{token}`) replaced by the
//! site's copies, with WordPress's `wp-image-{id}` class so the editor knows the attachment.

use std::collections::HashMap;

const SRC: &str = "src=\"/media/images/";

/// `remote`: image id → (media id on the site, its URL). Images not in `remote` keep their source.
pub fn rewrite_images(html: &str, remote: &HashMap<i64, (i64, String)>) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find(SRC) {
        out.push_str(&rest[..at]);
        let after = &rest[at + SRC.len()..];
        let id_end = after.find('/').unwrap_or(0);
        let close = after.find('"');
        match (after[..id_end].parse::<i64>().ok().and_then(|id| remote.get(&id)), close) {
            (Some((media_id, url)), Some(close)) => {
                out.push_str(&format!("src=\"{}\" class=\"wp-image-{media_id}\"", attr(url)));
                rest = &after[close + 1..];
            }
            _ => {
                out.push_str(SRC);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn attr(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_known_images_only() {
        let html = "<h2>A</h2><figure><img src=\"/media/images/7/tok\" alt=\"x\"></figure><p>t</p><figure><img src=\"/media/images/8/tok\" alt=\"y\"></figure>";
        let remote = HashMap::from([(7, (41, "http://wp.test/wp-content/uploads/a.png".to_string()))]);
        assert_eq!(
            rewrite_images(html, &remote),
            "<h2>A</h2><figure><img src=\"http://wp.test/wp-content/uploads/a.png\" class=\"wp-image-41\" alt=\"x\"></figure><p>t</p><figure><img src=\"/media/images/8/tok\" alt=\"y\"></figure>"
        );
        assert_eq!(rewrite_images("<p>no images</p>", &remote), "<p>no images</p>");
        assert_eq!(rewrite_images("src=\"/media/images/", &remote), "src=\"/media/images/");
    }
}
