//! CPU time per ad per stage of the distributed mode's workers (issue 24, point 7): what a
//! capacity plan multiplies by the ads per second, which wall time on a shared machine is not.
//!
//! A stage adds the CPU time of the thread that ran it (`CLOCK_THREAD_CPUTIME_ID`), summed
//! over the threads that run it at once, as `samaritan networks --stages` sums its stages'
//! thread time; the engine tells where its own stages end ([`samaritan_engine::linked::LinkStage`]).
//! What no stage counted — the async runtime's work: stream fetches, publishes and
//! acknowledgements, the store's client, idle thread pools, images — is the process's CPU time
//! (`CLOCK_PROCESS_CPUTIME_ID`) since [`StageCpu::begin`] less the stages'.
//! `samaritan worker --stages` prints the summary when it stops.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A stage a worker's CPU is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuStage {
    /// A message read: the ad's JSON parsed, or a prepared result decoded.
    Decode,
    Normalize,
    Extract,
    /// The policy's phrases and patterns matched.
    Match,
    /// The text fingerprinted, the staged summary, the linker's input and policy contexts.
    Fingerprint,
    /// A prepare worker's result made and encoded as its message.
    Result,
    /// The linker's step 1: normalize to fingerprint in one when it prepares an ad itself
    /// (`--stage all`); in the fan-out layout only taking the worker's result in (the ad's link
    /// record as JSON).
    Prepare,
    /// Photo look-ups, linking, templates.
    Link,
    /// The networks of the ads linked, with their policy context shares.
    NetworkContext,
    /// Verdict, score and signals with the network's features: the analysis.
    Finish,
    /// The analysis and ad as the store's rows (JSON).
    AnalysisJson,
    /// The network memberships that changed, for the same transaction.
    NetworkChanges,
}

const STAGES: usize = 12;

impl CpuStage {
    pub fn name(self) -> &'static str {
        match self {
            CpuStage::Decode => "decode",
            CpuStage::Normalize => "normalize",
            CpuStage::Extract => "extract",
            CpuStage::Match => "match",
            CpuStage::Fingerprint => "fingerprint",
            CpuStage::Result => "result",
            CpuStage::Prepare => "prepare",
            CpuStage::Link => "link",
            CpuStage::NetworkContext => "network_context",
            CpuStage::Finish => "finish",
            CpuStage::AnalysisJson => "analysis_json",
            CpuStage::NetworkChanges => "network_changes",
        }
    }
}

/// The stages of a prepare worker, in order.
pub const PREPARE_STAGES: &[CpuStage] = &[
    CpuStage::Decode,
    CpuStage::Normalize,
    CpuStage::Extract,
    CpuStage::Match,
    CpuStage::Fingerprint,
    CpuStage::Result,
];

/// The stages of a linker (`--stage link`, or `all` with `prepare`), in order.
pub const LINK_STAGES: &[CpuStage] = &[
    CpuStage::Decode,
    CpuStage::Prepare,
    CpuStage::Link,
    CpuStage::NetworkContext,
    CpuStage::Finish,
    CpuStage::AnalysisJson,
    CpuStage::NetworkChanges,
];

#[cfg(unix)]
fn clock(id: rustix::time::ClockId) -> Option<Duration> {
    let t = rustix::time::clock_gettime(id);
    let secs = u64::try_from(t.tv_sec).ok()?;
    let nanos = u32::try_from(t.tv_nsec).ok()?;
    Some(Duration::new(secs, nanos))
}

/// The CPU time the calling thread has used; `None` where the platform has no such clock.
pub fn thread_cpu() -> Option<Duration> {
    #[cfg(unix)]
    {
        clock(rustix::time::ClockId::ThreadCPUTime)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The CPU time the whole process has used; `None` where the platform has no such clock.
pub fn process_cpu() -> Option<Duration> {
    #[cfg(unix)]
    {
        clock(rustix::time::ClockId::ProcessCPUTime)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// CPU time per stage, summed over threads, and the ads it was spent on.
#[derive(Debug)]
pub struct StageCpu {
    /// The stages reported, in order.
    stages: &'static [CpuStage],
    ns: [AtomicU64; STAGES],
    ads: AtomicU64,
    /// The process's CPU time at [`StageCpu::begin`].
    began: Mutex<Option<Duration>>,
}

impl StageCpu {
    /// Counting for a worker whose stages are `stages` ([`PREPARE_STAGES`], [`LINK_STAGES`]).
    pub fn new(stages: &'static [CpuStage]) -> StageCpu {
        StageCpu {
            stages,
            ns: std::array::from_fn(|_| AtomicU64::new(0)),
            ads: AtomicU64::new(0),
            began: Mutex::new(None),
        }
    }

    /// Starts (again) from zero: the worker begins its steady work (start-up, election and
    /// restore are not an ad's cost).
    pub fn begin(&self) {
        for n in &self.ns {
            n.store(0, Ordering::Relaxed);
        }
        self.ads.store(0, Ordering::Relaxed);
        *self.began.lock().unwrap_or_else(|p| p.into_inner()) = process_cpu();
    }

    pub fn add(&self, stage: CpuStage, cpu: Duration) {
        let ns = u64::try_from(cpu.as_nanos()).unwrap_or(u64::MAX);
        self.ns[stage as usize].fetch_add(ns, Ordering::Relaxed);
    }

    /// `n` more ads done (the denominator of every figure).
    pub fn add_ads(&self, n: u64) {
        self.ads.fetch_add(n, Ordering::Relaxed);
    }

    /// The figures so far: `None` before [`StageCpu::begin`], without ads, or without CPU clocks.
    pub fn summary(&self) -> Option<CpuSummary> {
        let began = (*self.began.lock().unwrap_or_else(|p| p.into_inner()))?;
        let process = process_cpu()?.saturating_sub(began);
        let ads = self.ads.load(Ordering::Relaxed);
        if ads == 0 {
            return None;
        }
        let per_ad = |ns: u64| ns as f64 / 1e3 / ads as f64;
        let stages: Vec<StageFigure> = self
            .stages
            .iter()
            .map(|&s| StageFigure {
                stage: s.name(),
                us_per_ad: per_ad(self.ns[s as usize].load(Ordering::Relaxed)),
            })
            .collect();
        let counted: u64 = self
            .stages
            .iter()
            .map(|&s| self.ns[s as usize].load(Ordering::Relaxed))
            .sum();
        let process_ns = u64::try_from(process.as_nanos()).unwrap_or(u64::MAX);
        Some(CpuSummary {
            ads,
            stages,
            outside_stages_us_per_ad: per_ad(process_ns.saturating_sub(counted)),
            process_us_per_ad: per_ad(process_ns),
        })
    }
}

/// One stage's CPU per ad.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StageFigure {
    pub stage: &'static str,
    pub us_per_ad: f64,
}

/// A worker's CPU per ad, by stage (µs of CPU time, summed over threads).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CpuSummary {
    pub ads: u64,
    pub stages: Vec<StageFigure>,
    /// The process's CPU not in a stage: stream fetches, publishes and acknowledgements, the
    /// store's client, the async runtime, idle thread pools, images.
    pub outside_stages_us_per_ad: f64,
    pub process_us_per_ad: f64,
}

impl std::fmt::Display for CpuSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CPU per ad over {} ads:", self.ads)?;
        for s in &self.stages {
            write!(f, " {} {:.1} µs,", s.stage, s.us_per_ad)?;
        }
        write!(
            f,
            " outside the stages (stream, store client, runtime) {:.1} µs; process {:.1} µs",
            self.outside_stages_us_per_ad, self.process_us_per_ad
        )
    }
}

/// Laps of one thread: each [`Laps::lap`] adds the thread's CPU time since the last lap (or
/// the start) to a stage. Does nothing when not counting.
pub struct Laps<'a> {
    cpu: Option<&'a StageCpu>,
    last: Option<Duration>,
}

impl<'a> Laps<'a> {
    pub fn start(cpu: Option<&'a StageCpu>) -> Laps<'a> {
        let last = cpu.and_then(|_| thread_cpu());
        Laps { cpu, last }
    }

    pub fn lap(&mut self, stage: CpuStage) {
        if let (Some(cpu), Some(last)) = (self.cpu, self.last) {
            let now = thread_cpu();
            if let Some(now) = now {
                cpu.add(stage, now.saturating_sub(last));
            }
            self.last = now;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)
    use super::*;

    #[test]
    fn stages_add_up_per_ad_and_the_rest_is_the_process_less_them() {
        let cpu = StageCpu::new(PREPARE_STAGES);
        assert!(cpu.summary().is_none(), "nothing before begin");
        cpu.begin();
        assert!(cpu.summary().is_none(), "nothing without ads");
        cpu.add(CpuStage::Normalize, Duration::from_micros(30));
        cpu.add(CpuStage::Normalize, Duration::from_micros(10));
        cpu.add(CpuStage::Match, Duration::from_micros(20));
        // Not a prepare stage: not reported, not subtracted.
        cpu.add(CpuStage::Link, Duration::from_secs(100));
        cpu.add_ads(4);
        let s = cpu.summary().unwrap();
        assert_eq!(s.ads, 4);
        let names: Vec<_> = s.stages.iter().map(|f| f.stage).collect();
        assert_eq!(
            names,
            [
                "decode",
                "normalize",
                "extract",
                "match",
                "fingerprint",
                "result"
            ]
        );
        let of = |n: &str| s.stages.iter().find(|f| f.stage == n).unwrap().us_per_ad;
        assert!((of("normalize") - 10.0).abs() < 1e-9);
        assert!((of("match") - 5.0).abs() < 1e-9);
        assert_eq!(of("extract"), 0.0);
        // The process less the prepare stages' 60 µs (15 per ad), never below zero.
        let rest = (s.process_us_per_ad - 15.0).max(0.0);
        assert!((s.outside_stages_us_per_ad - rest).abs() < 1e-6, "{s:?}");
        assert!(s.to_string().contains("normalize 10.0 µs"), "{s}");
        // `begin` starts again from zero.
        cpu.begin();
        assert!(cpu.summary().is_none());
    }

    #[test]
    fn laps_count_the_thread_s_own_cpu_only_when_counting() {
        let cpu = StageCpu::new(LINK_STAGES);
        cpu.begin();
        let mut laps = Laps::start(Some(&cpu));
        // Burn some CPU on this thread, then sleep (no CPU).
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        laps.lap(CpuStage::Link);
        std::thread::sleep(Duration::from_millis(50));
        laps.lap(CpuStage::Finish);
        cpu.add_ads(1);
        let s = cpu.summary().unwrap();
        let of = |n: &str| s.stages.iter().find(|f| f.stage == n).unwrap().us_per_ad;
        assert!(of("link") > 0.0, "{s:?}");
        assert!(of("finish") < 50_000.0, "a sleep is no CPU: {s:?}");
        // Not counting: laps do nothing.
        let mut idle = Laps::start(None);
        idle.lap(CpuStage::Link);
    }
}
