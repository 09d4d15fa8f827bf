//! PHP's `serialize()` format, as WordPress stores arrays in options (`a:2:{s:4:"name";s:3:"Ann";…}`).
//! Only data is read: arrays, strings, numbers, booleans, null. Objects are refused (they could name PHP
//! classes), as is anything malformed — the option is then skipped with the reason.

#[derive(Debug, Clone, PartialEq)]
pub enum Php {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Bytes as stored (the length prefix counts bytes).
    Str(Vec<u8>),
    Array(Vec<(Php, Php)>),
}

impl Php {
    /// The value as text (numbers and booleans too), for fields that want text.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Php::Str(b) => Some(String::from_utf8_lossy(b).into_owned()),
            Php::Int(n) => Some(n.to_string()),
            Php::Float(f) => Some(f.to_string()),
            Php::Bool(b) => Some(if *b { "1".into() } else { "0".into() }),
            Php::Null | Php::Array(_) => None,
        }
    }

    /// A string key's value in an array.
    pub fn get(&self, key: &str) -> Option<&Php> {
        match self {
            Php::Array(items) => items.iter().find(|(k, _)| k.as_text().as_deref() == Some(key)).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Does this text look like a serialized value (as WordPress's `is_serialized` asks)?
pub fn looks_serialized(s: &[u8]) -> bool {
    let s = s.trim_ascii();
    s == b"N;"
        || (s.len() >= 4
            && matches!(s[0], b'a' | b's' | b'i' | b'd' | b'b' | b'O')
            && s[1] == b':'
            && matches!(s[s.len() - 1], b';' | b'}'))
}

pub fn unserialize(input: &[u8]) -> Result<Php, String> {
    let mut p = Parser { s: input.trim_ascii(), at: 0, depth: 0 };
    let v = p.value()?;
    if p.at != p.s.len() {
        return Err(format!("unexpected text after the value at byte {}", p.at));
    }
    // WordPress sometimes serializes twice: a string that is itself a serialized value.
    if let Php::Str(inner) = &v
        && looks_serialized(inner)
        && let Ok(again) = unserialize(inner)
    {
        return Ok(again);
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("{what} at byte {}", self.at))
    }

    fn eat(&mut self, b: u8) -> Result<(), String> {
        if self.s.get(self.at) == Some(&b) {
            self.at += 1;
            Ok(())
        } else {
            self.err(&format!("expected “{}”", b as char))
        }
    }

    /// Text up to (not including) `end`, which is consumed.
    fn until(&mut self, end: u8) -> Result<&str, String> {
        let start = self.at;
        let len = self.s[start..].iter().position(|&c| c == end).ok_or_else(|| format!("unterminated value at byte {start}"))?;
        self.at = start + len + 1;
        std::str::from_utf8(&self.s[start..start + len]).map_err(|_| format!("bad number at byte {start}"))
    }

    fn value(&mut self) -> Result<Php, String> {
        let kind = *self.s.get(self.at).ok_or("unexpected end")?;
        self.at += 1;
        if kind == b'N' {
            self.eat(b';')?;
            return Ok(Php::Null);
        }
        self.eat(b':')?;
        match kind {
            b'b' => match self.until(b';')? {
                "0" => Ok(Php::Bool(false)),
                "1" => Ok(Php::Bool(true)),
                _ => self.err("bad boolean"),
            },
            b'i' => self.until(b';')?.parse().map(Php::Int).map_err(|_| format!("bad integer before byte {}", self.at)),
            b'd' => self.until(b';')?.parse().map(Php::Float).map_err(|_| format!("bad float before byte {}", self.at)),
            b's' => {
                let len: usize = self.until(b':')?.parse().map_err(|_| format!("bad string length before byte {}", self.at))?;
                self.eat(b'"')?;
                let end = self.at + len;
                if end > self.s.len() || self.s.get(end) != Some(&b'"') {
                    return self.err(&format!("string length {len} does not match its text (changed by a charset conversion?)"));
                }
                let v = self.s[self.at..end].to_vec();
                self.at = end + 1;
                self.eat(b';')?;
                Ok(Php::Str(v))
            }
            b'a' => {
                let n: usize = self.until(b':')?.parse().map_err(|_| format!("bad array size before byte {}", self.at))?;
                self.depth += 1;
                if self.depth > 32 || n > 100_000 {
                    return self.err("array too deep or too large");
                }
                self.eat(b'{')?;
                let mut items = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    let k = self.value()?;
                    if !matches!(k, Php::Int(_) | Php::Str(_)) {
                        return self.err("array key is not an integer or string");
                    }
                    let v = self.value()?;
                    items.push((k, v));
                }
                self.eat(b'}')?;
                self.depth -= 1;
                Ok(Php::Array(items))
            }
            b'O' | b'C' => self.err("PHP objects are not read"),
            _ => self.err("unknown value type"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_of_profiles_with_multibyte_text() {
        let s = r#"a:2:{i:0;a:3:{s:4:"name";s:6:"Zoë M";s:4:"tone";s:8:"friendly";s:6:"active";b:1;}i:1;a:2:{s:4:"name";s:3:"Bob";s:5:"score";d:1.5;}}"#;
        let v = unserialize(s.as_bytes()).unwrap();
        let Php::Array(items) = &v else { panic!() };
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].1.get("name").unwrap().as_text().unwrap(), "Zoë M");
        assert_eq!(items[0].1.get("active"), Some(&Php::Bool(true)));
        assert_eq!(items[1].1.get("score"), Some(&Php::Float(1.5)));
    }

    #[test]
    fn double_serialized_and_scalars() {
        assert_eq!(unserialize(br#"s:12:"a:1:{i:0;N;}";"#).unwrap(), Php::Array(vec![(Php::Int(0), Php::Null)]));
        assert_eq!(unserialize(b"i:-42;").unwrap(), Php::Int(-42));
        assert!(looks_serialized(b"a:0:{}") && !looks_serialized(b"hello"));
    }

    #[test]
    fn broken_values_are_refused_with_a_reason() {
        // The length says 5 bytes but the text has 6 (a charset conversion changed it).
        assert!(unserialize(r#"a:1:{i:0;s:5:"Zoë M";}"#.as_bytes()).unwrap_err().contains("does not match"));
        assert!(unserialize(br#"O:8:"stdClass":0:{}"#).unwrap_err().contains("objects"));
        assert!(unserialize(b"a:2:{i:0;").is_err());
        assert!(unserialize(b"x:1;").is_err());
    }
}
