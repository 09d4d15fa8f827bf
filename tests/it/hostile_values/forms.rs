//! A small HTML form reader: each `<form>` with its action, method and the fields a browser would send by
//! default (inputs, the first or selected option of a select, textareas, a named submit button).

/// Name and value pairs, in page order.
pub type Fields = Vec<(String, String)>;

#[derive(Debug, Clone)]
pub struct Form {
    pub action: String,
    pub method: String,
    pub multipart: bool,
    pub fields: Fields,
    /// Names of file inputs (sent as a file part when the form is multipart).
    pub files: Vec<String>,
}

pub fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&#39;", "'").replace("&#x27;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// Tag name and attributes of the tag starting at `html[at]` (`<`), and where it ends.
fn tag(html: &str, at: usize) -> Option<(String, Fields, usize)> {
    let bytes = html.as_bytes();
    let mut i = at + 1;
    let start = i;
    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
        i += 1;
    }
    let name = html.get(start..i)?.trim_end_matches('/').to_ascii_lowercase();
    let mut attrs = vec![];
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        if i >= bytes.len() {
            return None;
        }
        if bytes[i] == b'>' {
            return Some((name, attrs, i + 1));
        }
        let a = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !b"=>".contains(&bytes[i]) {
            i += 1;
        }
        let attr = html.get(a..i)?.to_ascii_lowercase();
        let mut value = String::new();
        if bytes.get(i) == Some(&b'=') {
            i += 1;
            let quote = *bytes.get(i)?;
            if quote == b'"' || quote == b'\'' {
                let end = html.get(i + 1..)?.find(quote as char)? + i + 1;
                value = unescape(html.get(i + 1..end)?);
                i = end + 1;
            } else {
                let v = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                    i += 1;
                }
                value = unescape(html.get(v..i)?);
            }
        }
        attrs.push((attr, value));
    }
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

pub fn forms(html: &str, page: &str) -> Vec<Form> {
    let mut out = vec![];
    let mut current: Option<Form> = None;
    let mut select: Option<(String, Option<String>)> = None;
    let mut at = 0;
    while let Some(found) = html.get(at..).and_then(|h| h.find('<')) {
        let start = at + found;
        let Some((name, attrs, end)) = tag(html, start) else { break };
        at = end;
        match name.as_str() {
            "form" => {
                let action = attr(&attrs, "action").or(attr(&attrs, "hx-post")).filter(|a| !a.is_empty()).unwrap_or(page);
                let method = if attr(&attrs, "hx-post").is_some() { "post" } else { attr(&attrs, "method").unwrap_or("get") };
                current = Some(Form {
                    action: action.to_string(),
                    method: method.to_ascii_uppercase(),
                    multipart: attr(&attrs, "enctype") == Some("multipart/form-data"),
                    fields: vec![],
                    files: vec![],
                });
            }
            "/form" => out.extend(current.take()),
            _ if current.is_none() => {}
            "input" => {
                let form = current.as_mut().unwrap();
                let Some(n) = attr(&attrs, "name") else { continue };
                let kind = attr(&attrs, "type").unwrap_or("text").to_ascii_lowercase();
                let value = attr(&attrs, "value").unwrap_or(if kind == "checkbox" { "on" } else { "" }).to_string();
                match kind.as_str() {
                    "file" => form.files.push(n.to_string()),
                    "submit" | "button" | "image" | "reset" => {}
                    "radio" | "checkbox" if form.fields.iter().any(|(f, _)| f == n) => {}
                    _ => form.fields.push((n.to_string(), value)),
                }
            }
            "button" => {
                let form = current.as_mut().unwrap();
                if let Some(n) = attr(&attrs, "name")
                    && !form.fields.iter().any(|(f, _)| f == n)
                {
                    form.fields.push((n.to_string(), attr(&attrs, "value").unwrap_or_default().to_string()));
                }
            }
            "textarea" => {
                let text_end = html.get(at..).and_then(|h| h.find("</textarea")).map_or(at, |e| at + e);
                if let Some(n) = attr(&attrs, "name") {
                    current.as_mut().unwrap().fields.push((n.to_string(), unescape(&html[at..text_end])));
                }
                at = text_end;
            }
            "select" => select = attr(&attrs, "name").map(|n| (n.to_string(), None)),
            "option" => {
                if let Some((_, chosen)) = select.as_mut() {
                    let value = attr(&attrs, "value").unwrap_or_default().to_string();
                    if chosen.is_none() || attrs.iter().any(|(n, _)| n == "selected") {
                        *chosen = Some(value);
                    }
                }
            }
            "/select" => {
                if let Some((n, chosen)) = select.take() {
                    current.as_mut().unwrap().fields.push((n, chosen.unwrap_or_default()));
                }
            }
            _ => {}
        }
    }
    out
}
