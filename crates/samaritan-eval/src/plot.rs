//! The review loop's figure (issue 25, point 6) as a standalone SVG: recall of labels 1 and 2 and
//! the benign rate against decisions made, one colour per run; solid lines at the deployed
//! threshold, dashed at the threshold that raises exactly the target share of benign ads.
//!
//! Written by hand because it is three panels of polylines: a plotting crate would need a font
//! backend to lay out its labels, this needs none (the viewer lays the text out).

use std::fmt::Write as _;

use crate::review_loop::{Checkpoint, Rates};

/// One run to draw: its name (the legend) and its checkpoints.
pub struct Run<'a> {
    pub name: &'a str,
    pub checkpoints: &'a [Checkpoint],
}

const COLOURS: [&str; 6] = [
    "#1f5fa8", "#c2410c", "#15803d", "#7e22ce", "#111111", "#a16207",
];
const PANEL_W: f64 = 300.0;
const PANEL_H: f64 = 220.0;
const LEFT: f64 = 52.0;
const TOP: f64 = 48.0;
const GAP: f64 = 70.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The SVG of `runs`, titled `title`; `target` is the share of benign ads granted to the model.
/// The benign panel's axis reaches past the highest rate drawn, with a guide at the policy's own
/// benign rate plus `target`.
pub fn review_loop_svg(runs: &[Run], title: &str, target: f64) -> String {
    let first = runs.iter().find_map(|r| r.checkpoints.first());
    let guide = first.map_or(0.0, |c| c.policy.benign_rate) + target;
    let highest = runs
        .iter()
        .flat_map(|r| r.checkpoints.iter().map(|c| c.deployed.benign_rate))
        .fold(guide, f64::max);
    let benign_max = ((highest * 1.25) * 50.0).ceil() / 50.0;
    let x_max = runs
        .iter()
        .flat_map(|r| r.checkpoints.iter().map(|c| c.decisions))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let width = LEFT + 3.0 * PANEL_W + 2.0 * GAP + 30.0;
    let legend_h = 18.0 * runs.len() as f64 + 46.0;
    let height = TOP + PANEL_H + 50.0 + legend_h;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        s,
        r#"<rect width="{width}" height="{height}" fill="white"/><text x="{LEFT}" y="22" font-size="15" font-weight="bold">{}</text>"#,
        esc(title)
    );
    type Pick = fn(&Rates) -> f64;
    let panels: [(&str, Pick, f64); 3] = [
        ("label 1 (commercial sex) raised", |r| r.recall_label1, 1.0),
        (
            "label 2 (trafficking, minors) raised",
            |r| r.recall_label2,
            1.0,
        ),
        ("benign raised", |r| r.benign_rate, benign_max),
    ];
    for (p, (name, pick, y_max)) in panels.iter().enumerate() {
        let x0 = LEFT + p as f64 * (PANEL_W + GAP);
        let y0 = TOP;
        let px = |d: f64| x0 + d / x_max * PANEL_W;
        let py = |v: f64| y0 + PANEL_H - (v.clamp(0.0, *y_max) / y_max) * PANEL_H;
        let _ = writeln!(
            s,
            r##"<rect x="{x0}" y="{y0}" width="{PANEL_W}" height="{PANEL_H}" fill="none" stroke="#888"/><text x="{x0}" y="{}" font-weight="bold">{}</text>"##,
            y0 - 8.0,
            esc(name)
        );
        for k in 0..=4 {
            let v = y_max * f64::from(k) / 4.0;
            let y = py(v);
            let label = if *y_max < 0.5 {
                format!("{:.1}%", v * 100.0)
            } else {
                format!("{v:.2}")
            };
            let _ = writeln!(
                s,
                r##"<line x1="{x0}" x2="{}" y1="{y}" y2="{y}" stroke="#eee"/><text x="{}" y="{}" text-anchor="end">{label}</text>"##,
                x0 + PANEL_W,
                x0 - 4.0,
                y + 4.0
            );
        }
        for k in 0..=4 {
            let d = x_max * f64::from(k) / 4.0;
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
                px(d),
                y0 + PANEL_H + 16.0,
                d.round()
            );
        }
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">decisions made</text>"#,
            x0 + PANEL_W / 2.0,
            y0 + PANEL_H + 32.0
        );
        if p == 2 {
            let y = py(guide);
            let _ = writeln!(
                s,
                r##"<line x1="{x0}" x2="{}" y1="{y}" y2="{y}" stroke="#b91c1c" stroke-dasharray="2 3"/>"##,
                x0 + PANEL_W
            );
        }
        for (r, run) in runs.iter().enumerate() {
            let colour = COLOURS[r % COLOURS.len()];
            let line = |f: &dyn Fn(&Checkpoint) -> f64| -> String {
                run.checkpoints
                    .iter()
                    .map(|c| format!("{:.1},{:.1}", px(c.decisions as f64), py(f(c))))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let _ = writeln!(
                s,
                r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
                line(&|c| pick(&c.deployed))
            );
            if p < 2 {
                let _ = writeln!(
                    s,
                    r#"<polyline fill="none" stroke="{colour}" stroke-width="1.5" stroke-dasharray="5 4" points="{}"/>"#,
                    line(&|c| pick(&c.oracle))
                );
            }
        }
    }
    let ly = TOP + PANEL_H + 56.0;
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="{ly}">solid: at the deployed threshold (fitted on audited decisions); dashed: where the model adds exactly {:.1}% of held-out benign ads to the policy's (oracle)</text>"#,
        target * 100.0
    );
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="{}">red dots: the policy's own benign rate plus that share (the model never lowers a verdict)</text>"#,
        ly + 16.0
    );
    let ly = ly + 16.0;
    for (r, run) in runs.iter().enumerate() {
        let y = ly + 18.0 * (r as f64 + 1.0);
        let colour = COLOURS[r % COLOURS.len()];
        let _ = writeln!(
            s,
            r#"<line x1="{LEFT}" x2="{}" y1="{}" y2="{}" stroke="{colour}" stroke-width="3"/><text x="{}" y="{y}">{}</text>"#,
            LEFT + 24.0,
            y - 4.0,
            y - 4.0,
            LEFT + 30.0,
            esc(run.name)
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_every_run_and_escapes_names() {
        let cps = vec![
            Checkpoint::default(),
            Checkpoint {
                decisions: 100,
                deployed: Rates {
                    benign_rate: 0.01,
                    recall_label1: 0.5,
                    recall_label2: 0.7,
                },
                ..Checkpoint::default()
            },
        ];
        let runs = [
            Run {
                name: "a <b>",
                checkpoints: &cps,
            },
            Run {
                name: "c",
                checkpoints: &cps,
            },
        ];
        let svg = review_loop_svg(&runs, "t & u", 0.01);
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("a &lt;b&gt;") && svg.contains("t &amp; u"));
        // 3 panels x 2 runs solid + 2 panels x 2 runs dashed.
        assert_eq!(svg.matches("<polyline").count(), 10);
    }
}
