//! In-process request counters for /metrics: requests by route template, method and status, and latency
//! histograms by route template and method, filled by the outermost middleware. Also the small writer of the
//! Prometheus text format that /metrics uses for these and for the figures it reads from the database.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use actix_web::http::Method;

/// Latency buckets (seconds): pages take milliseconds, uploads and exports up to tens of seconds.
pub const BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// The label of requests that matched no route (so probing random URLs cannot grow the label set).
pub const UNMATCHED: &str = "unmatched";

#[derive(Default)]
pub struct Metrics {
    pub in_flight: AtomicU64,
    routes: Mutex<HashMap<(String, &'static str), RouteStats>>,
}

#[derive(Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    /// Cumulative counts per bucket of `BUCKETS` (a request counts in every bucket it fits).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_secs: f64,
}

/// Methods outside the usual set share one label.
pub fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

impl Metrics {
    pub fn record(&self, route: &str, method: &Method, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let stats = routes.entry((route.to_string(), method_label(method))).or_default();
        *stats.by_status.entry(status).or_default() += 1;
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                stats.buckets[i] += 1;
            }
        }
        stats.count += 1;
        stats.sum_secs += secs;
    }

    /// `igny8_http_requests_total` and `igny8_http_request_duration_seconds`, sorted for stable output.
    pub fn render_http(&self, out: &mut Text) {
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let mut keys: Vec<&(String, &'static str)> = routes.keys().collect();
        keys.sort();
        out.family("igny8_http_requests_total", "counter", "HTTP requests by route template, method and status.");
        for key in &keys {
            for (status, n) in &routes[*key].by_status {
                let status = status.to_string();
                out.sample("igny8_http_requests_total", &[("route", &key.0), ("method", key.1), ("status", &status)], *n as f64);
            }
        }
        out.family("igny8_http_request_duration_seconds", "histogram", "Time to the response head, by route template and method.");
        for key in &keys {
            let s = &routes[*key];
            let labels = [("route", key.0.as_str()), ("method", key.1)];
            for (i, le) in BUCKETS.iter().enumerate() {
                let le = le.to_string();
                out.sample("igny8_http_request_duration_seconds_bucket", &[labels[0], labels[1], ("le", &le)], s.buckets[i] as f64);
            }
            out.sample("igny8_http_request_duration_seconds_bucket", &[labels[0], labels[1], ("le", "+Inf")], s.count as f64);
            out.sample("igny8_http_request_duration_seconds_sum", &labels, s.sum_secs);
            out.sample("igny8_http_request_duration_seconds_count", &labels, s.count as f64);
        }
    }
}

/// Prometheus text exposition (format 0.0.4).
#[derive(Default)]
pub struct Text(pub String);

impl Text {
    pub fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{k}=\"{}\"", escape(v));
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_labels_escaped() {
        let m = Metrics::default();
        m.record("/a/{id}", &Method::GET, 200, Duration::from_millis(3));
        m.record("/a/{id}", &Method::GET, 404, Duration::from_millis(300));
        m.record("/a/{id}", &Method::from_bytes(b"PROPFIND").unwrap(), 405, Duration::from_millis(1));
        let mut t = Text::default();
        m.render_http(&mut t);
        let out = t.0;
        assert!(out.contains("igny8_http_requests_total{route=\"/a/{id}\",method=\"GET\",status=\"200\"} 1\n"), "{out}");
        assert!(out.contains("igny8_http_requests_total{route=\"/a/{id}\",method=\"OTHER\",status=\"405\"} 1\n"), "{out}");
        assert!(out.contains("igny8_http_request_duration_seconds_bucket{route=\"/a/{id}\",method=\"GET\",le=\"0.005\"} 1\n"), "{out}");
        assert!(out.contains("igny8_http_request_duration_seconds_bucket{route=\"/a/{id}\",method=\"GET\",le=\"0.5\"} 2\n"), "{out}");
        assert!(out.contains("igny8_http_request_duration_seconds_bucket{route=\"/a/{id}\",method=\"GET\",le=\"+Inf\"} 2\n"), "{out}");
        assert!(out.contains("igny8_http_request_duration_seconds_count{route=\"/a/{id}\",method=\"GET\"} 2\n"), "{out}");
        let mut t = Text::default();
        t.sample("x", &[("l", "a\"b\\c\nd")], 1.5);
        assert_eq!(t.0, "x{l=\"a\\\"b\\\\c\\nd\"} 1.5\n");
    }
}
