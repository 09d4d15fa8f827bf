//! The pipeline as a funnel: one centred bar per stage, its width the stage's count against the widest stage,
//! each a link to the list behind it. Drawn as SVG on the server.

use super::Pipeline;

const WIDTH: i64 = 560;
const ROW: i64 = 34;
const LABEL_W: i64 = 200;
const BAR_MAX: i64 = WIDTH - LABEL_W - 8;

pub struct Stage {
    pub label: &'static str,
    pub count: i64,
    pub href: &'static str,
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub text_y: i64,
}

pub struct Funnel {
    pub width: i64,
    pub height: i64,
    pub stages: Vec<Stage>,
}

impl Funnel {
    pub fn new(p: &Pipeline) -> Funnel {
        let raw: [(&'static str, i64, &'static str); 7] = [
            ("Keywords", p.keywords, "/planner/keywords"),
            ("Clustered keywords", p.keywords - p.unclustered, "/planner/clusters"),
            ("Content ideas", p.ideas, "/planner/ideas"),
            ("Writer tasks", p.tasks, "/writer/tasks"),
            ("Articles written", p.articles + p.published, "/writer/tasks"),
            ("Images ready", p.images, "/writer/images"),
            ("Published", p.published, "/writer/tasks?status=published"),
        ];
        let max = raw.iter().map(|(_, n, _)| *n).max().unwrap_or(0).max(1);
        let stages = raw
            .iter()
            .enumerate()
            .map(|(i, &(label, count, href))| {
                // Any stage with something in it stays visible, however small next to the widest.
                let w = if count == 0 { 0 } else { (count * BAR_MAX / max).max(3) };
                let y = i as i64 * ROW;
                Stage { label, count, href, x: LABEL_W + (BAR_MAX - w) / 2, y: y + 4, w, text_y: y + ROW / 2 + 5 }
            })
            .collect();
        Funnel { width: WIDTH, height: raw.len() as i64 * ROW, stages }
    }
}
