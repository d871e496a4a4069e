//! The network drawn as SVG on the server: ads on the left, the identifiers they share on the
//! right, a line for each use; and a timeline of each shared phone's posts across cities.
//! Nothing runs in the browser; every label is escaped here (the SVG goes into the page as is).

use std::fmt::Write as _;

/// An ad in the drawing.
pub(crate) struct AdNode {
    pub id: String,
    pub label: String,
    pub verdict: String,
    pub href: String,
}

/// A shared identifier in the drawing.
pub(crate) struct IdNode {
    pub kind: String,
    pub value: String,
    pub href: Option<String>,
}

/// One post of a phone, for the timeline.
pub(crate) struct Post {
    pub ad: usize,
    /// Seconds since the epoch.
    pub at: i64,
    pub city: String,
}

/// Escapes text for XML content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if c.is_control() => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

fn cut(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

const ROW: usize = 22;

/// Kind → line colour (the same families as the signal categories).
fn colour(kind: &str) -> &'static str {
    match kind {
        "phone" => "#1f5f8b",
        "email" => "#5b3f8c",
        "handle" => "#1e6b5c",
        "payment" => "#7a4a00",
        "account" => "#4a5560",
        "template" => "#8a1c1c",
        "image" => "#b3261e",
        _ => "#6b7280",
    }
}

fn verdict_fill(v: &str) -> &'static str {
    match v {
        "block" => "#8a1c1c",
        "review" => "#c58a00",
        _ => "#1e6b3a",
    }
}

/// The bipartite drawing. `edges` are (ad index, identifier index).
pub(crate) fn graph(ads: &[AdNode], ids: &[IdNode], edges: &[(usize, usize)]) -> String {
    let rows = ads.len().max(ids.len()).max(1);
    let h = rows * ROW + 30;
    let (w, ax, ix) = (940, 300, 640);
    let y_ad = |i: usize| 20 + i * ROW * rows.max(1) / ads.len().max(1) + ROW / 2;
    let y_id = |i: usize| 20 + i * ROW * rows.max(1) / ids.len().max(1) + ROW / 2;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="graph" viewBox="0 0 {w} {h}" width="100%" role="img" aria-labelledby="graph-title"><title id="graph-title">{} ads and the {} identifiers they share</title>"#,
        ads.len(),
        ids.len()
    );
    for &(a, i) in edges {
        if a < ads.len() && i < ids.len() {
            let _ = write!(
                s,
                r#"<line x1="{ax}" y1="{}" x2="{ix}" y2="{}" stroke="{}" stroke-width="1.4" stroke-opacity="0.55"/>"#,
                y_ad(a),
                y_id(i),
                colour(&ids[i].kind)
            );
        }
    }
    for (n, a) in ads.iter().enumerate() {
        let y = y_ad(n);
        let _ = write!(
            s,
            r#"<a href="{}"><title>{} · {} · {}</title><circle cx="{ax}" cy="{y}" r="6" fill="{}"/><text x="{}" y="{}" text-anchor="end" font-size="12">{}</text></a>"#,
            esc(&a.href),
            esc(&a.id),
            esc(&a.label),
            esc(&a.verdict),
            verdict_fill(&a.verdict),
            ax - 12,
            y + 4,
            esc(&cut(&format!("{} · {}", a.id, a.label), 40))
        );
    }
    for (n, i) in ids.iter().enumerate() {
        let y = y_id(n);
        let label = esc(&cut(&format!("{} {}", i.kind, i.value), 40));
        let node = format!(
            r#"<title>{} {}</title><rect x="{}" y="{}" width="12" height="12" fill="{}"/><text x="{}" y="{}" font-size="12">{label}</text>"#,
            esc(&i.kind),
            esc(&i.value),
            ix - 6,
            y - 6,
            colour(&i.kind),
            ix + 12,
            y + 4
        );
        match &i.href {
            Some(h) => {
                let _ = write!(s, r#"<a href="{}">{node}</a>"#, esc(h));
            }
            None => s.push_str(&node),
        }
    }
    s.push_str("</svg>");
    s
}

/// One row per phone, its posts placed by time; the city written where it changes.
pub(crate) fn timeline(lanes: &[(String, Vec<Post>)], ads: &[AdNode]) -> String {
    let all: Vec<i64> = lanes
        .iter()
        .flat_map(|(_, p)| p.iter().map(|x| x.at))
        .collect();
    let (Some(&lo), Some(&hi)) = (all.iter().min(), all.iter().max()) else {
        return String::new();
    };
    let span = (hi - lo).max(1) as f64;
    let (w, x0, x1, lane) = (940.0, 150.0, 900.0, 44usize);
    let h = lanes.len() * lane + 40;
    let x = |t: i64| x0 + (x1 - x0) * ((t - lo) as f64 / span);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="timeline" viewBox="0 0 {w} {h}" width="100%" role="img" aria-labelledby="tl-title"><title id="tl-title">Posts per phone over time, {} to {}</title>"#,
        day(lo),
        day(hi)
    );
    let _ = write!(
        s,
        r#"<text x="{x0}" y="{}" font-size="11">{}</text><text x="{x1}" y="{}" font-size="11" text-anchor="end">{}</text>"#,
        h - 8,
        day(lo),
        h - 8,
        day(hi)
    );
    for (r, (phone, posts)) in lanes.iter().enumerate() {
        let y = 20 + r * lane + 12;
        let _ = write!(
            s,
            r#"<text x="0" y="{}" font-size="12">{}</text><line x1="{x0}" y1="{y}" x2="{x1}" y2="{y}" stroke="rgb(201,206,211)"/>"#,
            y + 4,
            esc(phone)
        );
        let mut last_city = "";
        for p in posts {
            let px = x(p.at);
            let ad = ads.get(p.ad);
            let href = ad.map_or(String::new(), |a| esc(&a.href));
            let _ = write!(
                s,
                r#"<a href="{href}"><title>{} · {} · {}</title><circle cx="{px:.1}" cy="{y}" r="5" fill="{}"/></a>"#,
                esc(ad.map_or("", |a| a.id.as_str())),
                esc(&p.city),
                day(p.at),
                ad.map_or("#6b7280", |a| verdict_fill(&a.verdict))
            );
            if p.city != last_city {
                let _ = write!(
                    s,
                    r#"<text x="{px:.1}" y="{}" font-size="11" text-anchor="middle">{}</text>"#,
                    y + 18,
                    esc(&cut(&p.city, 16))
                );
                last_city = &p.city;
            }
        }
    }
    s.push_str("</svg>");
    s
}

/// `YYYY-MM-DD` of seconds since the epoch.
pub(crate) fn day(secs: i64) -> String {
    let s = samaritan_store::queue::rfc3339_ms(secs.saturating_mul(1000));
    s.get(..10).unwrap_or(&s).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        let ads = [AdNode {
            id: "<a>".into(),
            label: "x\"y".into(),
            verdict: "block".into(),
            href: "/ads/%3Ca%3E".into(),
        }];
        let ids = [IdNode {
            kind: "phone".into(),
            value: "<script>".into(),
            href: None,
        }];
        let svg = graph(&ads, &ids, &[(0, 0)]);
        assert!(!svg.contains("<script>") && !svg.contains("<a>·"));
        assert!(svg.contains("&lt;script&gt;"));
        assert_eq!(svg.matches("<line").count(), 1);
    }

    #[test]
    fn the_timeline_marks_each_change_of_city() {
        let ads = [AdNode {
            id: "a".into(),
            label: String::new(),
            verdict: "review".into(),
            href: "/ads/a".into(),
        }];
        let posts = vec![
            Post {
                ad: 0,
                at: 0,
                city: "Reno".into(),
            },
            Post {
                ad: 0,
                at: 86_400,
                city: "Reno".into(),
            },
            Post {
                ad: 0,
                at: 172_800,
                city: "Sparks".into(),
            },
        ];
        let svg = timeline(&[("7025550143".into(), posts)], &ads);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert_eq!(svg.matches(">Reno<").count(), 1);
        assert_eq!(svg.matches(">Sparks<").count(), 1);
    }
}
