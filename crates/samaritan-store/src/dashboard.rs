//! The figures a lead watches: queue depth by priority band, time to first decision, decisions
//! by action and reason, and report decisions. The console's dashboard and `/metrics` show the
//! same numbers from [`Store::dashboard`].

use serde::Serialize;

use crate::{Result, Store};

/// Priority bands, highest first: (name, lowest priority in the band).
pub const BANDS: [(&str, i64); 4] = [
    ("urgent", 90),
    ("high", 70),
    ("medium", 40),
    ("low", i64::MIN),
];

/// Items waiting in one band.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Depth {
    pub band: &'static str,
    /// Open and nobody holds them.
    pub open: i64,
    /// Open under a live lease.
    pub claimed: i64,
    pub escalated: i64,
}

/// One (action, reason) and how many decisions took it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionCount {
    pub action: String,
    pub reason: String,
    pub count: i64,
}

/// The dashboard's figures at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dashboard {
    pub depth: Vec<Depth>,
    /// Over the ads first decided in the window: from the ad's arrival to its first decision.
    pub first_decision_p50_secs: Option<f64>,
    pub first_decision_p90_secs: Option<f64>,
    pub first_decisions: i64,
    /// Window of the two figures above, in seconds.
    pub window_secs: i64,
    /// Every decision ever recorded, by action and reason.
    pub decisions: Vec<DecisionCount>,
    /// Ads whose latest decision is `report` (a CyberTipline report is to be filed for each;
    /// filing itself is not built yet).
    pub report_decisions: i64,
}

/// What the dashboard's queries return: depth rows (priority, state, claimed, all), first
/// decisions (arrived, decided), decision counts (action, reason, n), report decisions.
type Rows = (
    Vec<(i64, String, i64, i64)>,
    Vec<(i64, i64)>,
    Vec<(String, String, i64)>,
    i64,
);

fn band_of(priority: i64) -> usize {
    BANDS
        .iter()
        .position(|(_, low)| priority >= *low)
        .unwrap_or(BANDS.len() - 1)
}

/// The `q`-quantile of sorted `v` (nearest rank).
pub(crate) fn quantile(v: &[f64], q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let i = ((v.len() as f64 - 1.0) * q).round() as usize;
    v.get(i).copied()
}

impl Store {
    /// The dashboard at `now`; time to first decision over the last `window_secs`.
    pub async fn dashboard(&self, now: i64, window_secs: i64) -> Result<Dashboard> {
        let since = now.saturating_sub(window_secs.saturating_mul(1000));
        let (depth_rows, firsts, decisions, reports): Rows = on_read!(self, |pool| {
            let depth: Vec<(i64, String, i64, i64)> = sqlx::query_as(
                "SELECT priority, state, \
                 CAST(SUM(CASE WHEN claimed_by IS NOT NULL AND lease_until > $1 THEN 1 ELSE 0 END) AS BIGINT), \
                 COUNT(*) FROM queue WHERE state IN ('open', 'escalated') \
                 GROUP BY priority, state",
            )
            .bind(now)
            .fetch_all(pool)
            .await?;
            let firsts: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT a.received_at, f.first FROM \
                 (SELECT ad_id, MIN(created_at) AS first FROM decisions GROUP BY ad_id) f \
                 JOIN ads a ON a.id = f.ad_id WHERE f.first >= $1",
            )
            .bind(since)
            .fetch_all(pool)
            .await?;
            let decisions: Vec<(String, String, i64)> = sqlx::query_as(
                "SELECT action, reason, COUNT(*) FROM decisions GROUP BY action, reason \
                 ORDER BY action, reason",
            )
            .fetch_all(pool)
            .await?;
            let (reports,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM decisions d WHERE d.action = 'report' AND d.seq = \
                 (SELECT MAX(seq) FROM decisions l WHERE l.ad_id = d.ad_id)",
            )
            .fetch_one(pool)
            .await?;
            (depth, firsts, decisions, reports)
        });
        let mut depth: Vec<Depth> = BANDS
            .iter()
            .map(|(band, _)| Depth {
                band,
                ..Depth::default()
            })
            .collect();
        for (priority, state, claimed, n) in depth_rows {
            let d = &mut depth[band_of(priority)];
            if state == "escalated" {
                d.escalated += n;
            } else {
                d.claimed += claimed;
                d.open += n - claimed;
            }
        }
        let mut secs: Vec<f64> = firsts
            .iter()
            .map(|(arrived, first)| (first - arrived).max(0) as f64 / 1000.0)
            .collect();
        secs.sort_by(f64::total_cmp);
        Ok(Dashboard {
            depth,
            first_decision_p50_secs: quantile(&secs, 0.5),
            first_decision_p90_secs: quantile(&secs, 0.9),
            first_decisions: secs.len() as i64,
            window_secs,
            decisions: decisions
                .into_iter()
                .map(|(action, reason, count)| DecisionCount {
                    action,
                    reason,
                    count,
                })
                .collect(),
            report_decisions: reports,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_and_quantiles() {
        assert_eq!(BANDS[band_of(100)].0, "urgent");
        assert_eq!(BANDS[band_of(70)].0, "high");
        assert_eq!(BANDS[band_of(0)].0, "low");
        assert_eq!(BANDS[band_of(-5)].0, "low");
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.5), Some(3.0));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
