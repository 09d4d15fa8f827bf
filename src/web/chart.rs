//! A stacked bar chart per day, drawn as SVG on the server (no chart library, nothing to load in the browser):
//! one column per day, one coloured segment per series with a value above zero, a legend with each series' total
//! and a table of the same figures for screen readers and for copying. Every segment and table cell carries its
//! day, series and value as data attributes, so what the chart draws can be checked against its source.

use chrono::{Duration, NaiveDate};

/// Colours that stay apart from each other on light and dark backgrounds, in legend order.
const PALETTE: [&str; 8] = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2", "#65a30d", "#6b7280"];

const WIDTH: i64 = 720;
const HEIGHT: i64 = 220;
const LEFT: i64 = 44;
const RIGHT: i64 = 8;
const TOP: i64 = 10;
const BOTTOM: i64 = 26;

#[derive(Debug, Clone)]
pub struct Series {
    pub key: String,
    pub label: String,
    pub color: &'static str,
    pub total: i64,
}

#[derive(Debug, Clone)]
pub struct Segment {
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
    pub color: &'static str,
    pub day: NaiveDate,
    pub series: String,
    pub value: i64,
    pub title: String,
}

#[derive(Debug, Clone)]
pub struct Tick {
    pub y: i64,
    pub label: i64,
}

#[derive(Debug, Clone)]
pub struct DayLabel {
    pub x: i64,
    pub text: String,
}

/// One day's figures for the table: the value of each series (in legend order) and the day's total.
#[derive(Debug, Clone)]
pub struct DayRow {
    pub day: NaiveDate,
    pub values: Vec<(String, i64)>,
    pub total: i64,
}

#[derive(Debug, Clone)]
pub struct StackedBars {
    pub title: String,
    pub width: i64,
    pub height: i64,
    pub plot_left: i64,
    pub plot_right: i64,
    pub baseline: i64,
    pub series: Vec<Series>,
    pub segments: Vec<Segment>,
    pub ticks: Vec<Tick>,
    pub labels: Vec<DayLabel>,
    pub rows: Vec<DayRow>,
    pub total: i64,
}

impl DayRow {
    /// Anything moved that day (a refund that cancels a spend elsewhere still shows).
    pub fn moved(&self) -> bool {
        self.values.iter().any(|(_, v)| *v != 0)
    }
}

impl StackedBars {
    /// `points` are (day, series key, value); days outside `from..from + days` are ignored. `label` names a series.
    pub fn new(
        title: &str,
        from: NaiveDate,
        days: i64,
        points: &[(NaiveDate, String, i64)],
        label: impl Fn(&str) -> String,
    ) -> StackedBars {
        let days = days.max(1);
        let day_list: Vec<NaiveDate> = (0..days).map(|i| from + Duration::days(i)).collect();
        let in_window: Vec<&(NaiveDate, String, i64)> = points.iter().filter(|(d, _, v)| day_list.contains(d) && *v != 0).collect();

        // Series in order of their total, largest first (the legend reads as a ranking).
        let mut series: Vec<Series> = Vec::new();
        for (_, key, v) in &in_window {
            match series.iter_mut().find(|s| &s.key == key) {
                Some(s) => s.total += v,
                None => series.push(Series { key: key.clone(), label: label(key), color: "", total: *v }),
            }
        }
        series.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.key.cmp(&b.key)));
        for (i, s) in series.iter_mut().enumerate() {
            s.color = PALETTE[i.min(PALETTE.len() - 1)];
        }

        let value =
            |day: NaiveDate, key: &str| -> i64 { in_window.iter().filter(|(d, k, _)| *d == day && k == key).map(|(_, _, v)| *v).sum() };
        let rows: Vec<DayRow> = day_list
            .iter()
            .map(|&day| {
                let values: Vec<(String, i64)> = series.iter().map(|s| (s.key.clone(), value(day, &s.key))).collect();
                let total = values.iter().map(|(_, v)| v).sum();
                DayRow { day, values, total }
            })
            .collect();

        let stack_max = rows.iter().map(|r| r.values.iter().map(|(_, v)| (*v).max(0)).sum::<i64>()).max().unwrap_or(0);
        let top = nice_ceiling(stack_max);
        let plot_h = HEIGHT - TOP - BOTTOM;
        let baseline = HEIGHT - BOTTOM;
        let slot = (WIDTH - LEFT - RIGHT) / days;
        let bar_w = (slot * 7 / 10).max(1);
        let scale = |v: i64| if top == 0 { 0 } else { v * plot_h / top };

        let mut segments = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let x = LEFT + i as i64 * slot + (slot - bar_w) / 2;
            let mut stacked = 0;
            for ((key, v), s) in row.values.iter().zip(&series) {
                if *v <= 0 {
                    continue;
                }
                let y0 = baseline - scale(stacked);
                stacked += v;
                let y1 = baseline - scale(stacked);
                segments.push(Segment {
                    x,
                    y: y1,
                    w: bar_w,
                    h: (y0 - y1).max(1),
                    color: s.color,
                    day: row.day,
                    series: key.clone(),
                    value: *v,
                    title: format!("{} · {}: {}", row.day.format("%b %-d"), s.label, v),
                });
            }
        }
        let steps = tick_steps(top);
        let ticks = (0..=steps).map(|i| Tick { y: baseline - scale(top * i / steps.max(1)), label: top * i / steps.max(1) }).collect();
        // Up to about eight date labels, counted back from the last day (today) so they never crowd each other.
        let every = (days + 7) / 8;
        let labels = day_list
            .iter()
            .enumerate()
            .filter(|(i, _)| (days - 1 - *i as i64) % every == 0)
            .map(|(i, d)| DayLabel { x: LEFT + i as i64 * slot + slot / 2, text: d.format("%b %-d").to_string() })
            .collect();
        let total = series.iter().map(|s| s.total).sum();
        StackedBars {
            title: title.to_string(),
            width: WIDTH,
            height: HEIGHT,
            plot_left: LEFT,
            plot_right: WIDTH - RIGHT,
            baseline,
            series,
            segments,
            ticks,
            labels,
            rows,
            total,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }
}

/// How many equal steps the axis from 0 to `top` (a [`nice_ceiling`]) has, so every tick is a whole round number:
/// 20 → 0, 5, 10, 15, 20; 50 → steps of 10; 25 → steps of 5; up to 5 → steps of 1.
fn tick_steps(top: i64) -> i64 {
    if top <= 5 {
        return top;
    }
    let mut p = 1;
    while p * 10 <= top {
        p *= 10;
    }
    if top == 2 * p { 4 } else { 5 }
}

/// The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above `v` (so the axis reads in round numbers); 0 stays 0.
fn nice_ceiling(v: i64) -> i64 {
    if v <= 0 {
        return 0;
    }
    let mut base = 1;
    loop {
        for m in [10, 20, 25, 50] {
            if v * 10 <= base * m {
                return base * m / 10;
            }
        }
        base *= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    #[test]
    fn axis_tops_and_ticks_are_round() {
        assert_eq!([0, 1, 3, 7, 10, 11, 24, 26, 99, 101].map(nice_ceiling), [0, 1, 5, 10, 10, 20, 25, 50, 100, 200]);
        for top in [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000] {
            let steps = tick_steps(top);
            assert!(steps >= 1 && top % steps == 0, "{top} in {steps} whole steps");
        }
        assert_eq!([20, 50, 25, 200].map(|t| t / tick_steps(t)), [5, 10, 5, 50]);
    }

    #[test]
    fn date_labels_end_on_the_last_day_and_never_crowd() {
        for days in [1, 7, 14, 30, 31] {
            let c = StackedBars::new("t", day(1), days, &[], |k| k.to_string());
            let last = c.labels.last().unwrap();
            assert_eq!(last.text, (day(1) + Duration::days(days - 1)).format("%b %-d").to_string());
            assert!(c.labels.windows(2).all(|w| w[1].x - w[0].x >= (WIDTH - LEFT - RIGHT) / days * ((days + 7) / 8)));
        }
    }

    #[test]
    fn segments_stack_per_day_and_keep_their_figures() {
        let points = vec![
            (day(1), "a".to_string(), 6),
            (day(1), "b".to_string(), 4),
            (day(3), "a".to_string(), 2),
            (day(2), "b".to_string(), -1),
            (day(9), "a".to_string(), 50),
        ];
        let c = StackedBars::new("t", day(1), 3, &points, |k| k.to_uppercase());
        assert_eq!(c.series.iter().map(|s| (s.key.as_str(), s.total)).collect::<Vec<_>>(), [("a", 8), ("b", 3)], "day 9 is outside");
        assert_eq!(c.rows.iter().map(|r| r.total).collect::<Vec<_>>(), [10, -1, 2]);
        let day1: Vec<&Segment> = c.segments.iter().filter(|s| s.day == day(1)).collect();
        assert_eq!(day1.len(), 2);
        assert_eq!(day1[0].y + day1[0].h, c.baseline, "the first segment sits on the baseline");
        assert_eq!(day1[1].y + day1[1].h, day1[0].y, "the second sits on the first");
        assert!(c.segments.iter().all(|s| s.value > 0), "a net refund draws nothing");
        assert_eq!(c.ticks.last().unwrap().label, 10);
        assert_eq!(day1[0].y + day1[0].h - day1[1].y, c.baseline - c.ticks.last().unwrap().y, "10 of 10 fills the plot");
    }
}
