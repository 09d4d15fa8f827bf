//! Outbound URL safety (SSRF): AI base URLs and WordPress sites must resolve to public addresses,
//! unless IGNY8_ALLOW_PRIVATE_TARGETS is on (development, tests, self-hosted models on a LAN).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

pub async fn check_url(url: &str, allow_private: bool) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|_| format!("'{url}' is not a valid URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("Use an http:// or https:// URL".into());
    }
    let host = parsed.host_str().ok_or("The URL has no host")?.to_string();
    if allow_private {
        return Ok(parsed);
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addrs: Vec<IpAddr> = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|_| format!("The host '{host}' could not be resolved"))?
        .map(|a| a.ip())
        .collect();
    if addrs.is_empty() {
        return Err(format!("The host '{host}' could not be resolved"));
    }
    if let Some(ip) = addrs.iter().find(|ip| !is_public(ip)) {
        return Err(format!("'{host}' resolves to {ip}, a private or local address; outbound calls there are not allowed"));
    }
    Ok(parsed)
}

/// The resolver of every outbound client: the addresses a connection actually uses are checked, so a name that
/// resolved to a public address when the URL was checked cannot switch to a private one for the call itself
/// (DNS rebinding). IP literals never reach a resolver; `check_url` covers them.
pub struct PublicOnly {
    pub allow_private: bool,
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let (host, allow) = (name.as_str().to_string(), self.allow_private);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let usable: Vec<SocketAddr> = addrs.into_iter().filter(|a| allow || is_public(&a.ip())).collect();
            if usable.is_empty() {
                return Err(format!("'{host}' has no public address; outbound calls to private or local addresses are not allowed").into());
            }
            Ok(Box::new(usable.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

pub fn resolver(allow_private: bool) -> Arc<PublicOnly> {
    Arc::new(PublicOnly { allow_private })
}

pub enum ReadError {
    TooLarge(String),
    Transport(reqwest::Error),
}

/// Reads an answer's body chunk by chunk, refusing it past `limit` bytes (a misbehaving or hostile server
/// cannot make us buffer gigabytes).
pub async fn read_limited(mut res: reqwest::Response, limit: usize) -> Result<Vec<u8>, ReadError> {
    let too_large = || ReadError::TooLarge(format!("the answer is larger than {} MB", limit / (1024 * 1024)));
    if res.content_length().is_some_and(|n| n as usize > limit) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(ReadError::Transport)? {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub fn is_public(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1])) // carrier-grade NAT
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return is_public(&IpAddr::V4(v4));
            }
            let seg = v6.segments();
            if seg[0] == 0x64 && seg[1] == 0xff9b && seg[2] == 1 {
                return false; // local-use NAT64 (64:ff9b:1::/48): translates into the operator's own network
            }
            !(v6.is_loopback() || v6.is_unspecified() || v6.is_multicast() || (seg[0] & 0xfe00) == 0xfc00 || (seg[0] & 0xffc0) == 0xfe80)
        }
    }
}

/// The IPv4 address an IPv6 address carries to reach an IPv4 host — mapped (`::ffff:a.b.c.d`), IPv4-compatible
/// (`::a.b.c.d`), NAT64 (`64:ff9b::/96`) or 6to4 (`2002:AABB:CCDD::/48`) — so it is judged like that IPv4 address.
fn embedded_v4(v6: &std::net::Ipv6Addr) -> Option<std::net::Ipv4Addr> {
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let seg = v6.segments();
    let o = v6.octets();
    let last = std::net::Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    if seg[..6].iter().all(|&s| s == 0) && !v6.is_loopback() && !v6.is_unspecified() {
        return Some(last); // IPv4-compatible (deprecated, still routed by some stacks)
    }
    if seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6].iter().all(|&s| s == 0) {
        return Some(last);
    }
    if seg[0] == 0x2002 {
        return Some(std::net::Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server on loopback that answers every connection with `head` and then `body_len` bytes.
    async fn serve_once(head: String, body_len: usize) -> String {
        use tokio::io::AsyncWriteExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = [0u8; 1024];
                let _ = tokio::io::AsyncReadExt::read(&mut s, &mut buf).await;
                let _ = s.write_all(head.as_bytes()).await;
                let _ = s.write_all(&vec![b'x'; body_len]).await;
            }
        });
        format!("http://{addr}/")
    }

    #[tokio::test]
    async fn answers_past_the_limit_are_refused_whether_announced_or_not() {
        let limit = 1024 * 1024;
        let client = reqwest::Client::new();
        // Announced too large: refused before reading.
        let url = serve_once(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", limit + 1), 10).await;
        let res = client.get(&url).send().await.unwrap();
        assert!(matches!(read_limited(res, limit).await, Err(ReadError::TooLarge(_))));
        // Not announced (read to the end of the connection): refused once past the limit.
        let url = serve_once("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".into(), limit + 10).await;
        let res = client.get(&url).send().await.unwrap();
        assert!(matches!(read_limited(res, limit).await, Err(ReadError::TooLarge(_))));
        // Within the limit: the whole body.
        let url = serve_once("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n".into(), 100).await;
        let res = client.get(&url).send().await.unwrap();
        assert!(matches!(read_limited(res, limit).await, Ok(b) if b.len() == 100));
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_of_private_addresses_unless_allowed() {
        use reqwest::dns::Resolve;
        let name = |h: &str| h.parse::<reqwest::dns::Name>().unwrap();
        // "localhost" resolves from /etc/hosts (no DNS needed) to loopback only.
        assert!(PublicOnly { allow_private: false }.resolve(name("localhost")).await.is_err());
        let allowed: Vec<SocketAddr> = PublicOnly { allow_private: true }.resolve(name("localhost")).await.unwrap().collect();
        assert!(!allowed.is_empty() && allowed.iter().all(|a| a.ip().is_loopback()));
    }

    #[tokio::test]
    async fn refuses_private_and_loopback_targets() {
        for url in
            ["http://127.0.0.1:8080/v1", "http://10.1.2.3/", "http://192.168.0.10", "http://[::1]:80/", "http://169.254.169.254/latest"]
        {
            assert!(check_url(url, false).await.is_err(), "{url}");
            assert!(check_url(url, true).await.is_ok(), "{url} allowed when private targets are on");
        }
        assert!(check_url("ftp://example.com", true).await.is_err());
        assert!(check_url("not a url", true).await.is_err());
        assert!(is_public(&"8.8.8.8".parse().unwrap()));
        assert!(!is_public(&"::ffff:127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn ipv6_forms_that_carry_a_private_ipv4_are_refused_like_it() {
        for ip in [
            "64:ff9b::7f00:1",    // NAT64 of 127.0.0.1
            "64:ff9b::a00:1",     // NAT64 of 10.0.0.1
            "64:ff9b::a9fe:a9fe", // NAT64 of 169.254.169.254
            "64:ff9b:1::a00:1",   // local-use NAT64
            "2002:7f00:1::1",     // 6to4 of 127.0.0.1
            "2002:a00:1::",       // 6to4 of 10.0.0.1
            "::127.0.0.1",        // IPv4-compatible
            "::10.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(&ip.parse().unwrap()), "{ip}");
        }
        // The same forms carrying a public address stay public, and so does ordinary global IPv6.
        for ip in ["64:ff9b::808:808", "2002:808:808::1", "2606:4700:4700::1111"] {
            assert!(is_public(&ip.parse().unwrap()), "{ip}");
        }
    }
}
