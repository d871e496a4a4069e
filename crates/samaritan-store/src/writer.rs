//! Group commit for ingest: one writer task turns every request waiting at that moment into one
//! transaction, so concurrent single-ad requests share one fsync instead of queueing for one each.
//!
//! Each caller gets its own results only after the shared transaction committed. If a shared
//! transaction fails, every request in it is retried alone, so one bad request cannot fail its
//! neighbours.
//!
//! A request may carry the linker's network changes made after its ads were linked: they are
//! written in the same transaction, after every ad of the group and in the order the requests
//! were queued (which is the order the changes were made), so one fsync covers both and the
//! latest state of the linker is the one left in the store.

use tokio::sync::{mpsc, oneshot};

use crate::backend::Backend;
use crate::ingest::{IngestItem, IngestResult, Stored};
use crate::networks::NetworkChanges;
use crate::{Result, StoreError};

/// Upper bound of ads in one shared transaction.
const MAX_GROUP_ADS: usize = 5000;

struct Job {
    /// Ads and the network changes made after them, applied in this order; a job commits
    /// whole or not at all (a failed group is retried job by job, never step by step).
    steps: Vec<(Vec<IngestItem>, NetworkChanges)>,
    reply: oneshot::Sender<Result<Vec<IngestResult>>>,
}

impl Job {
    fn ads(&self) -> usize {
        self.steps.iter().map(|(items, _)| items.len()).sum()
    }

    fn batches(&self) -> impl Iterator<Item = (&[IngestItem], &NetworkChanges)> {
        self.steps.iter().map(|(i, n)| (i.as_slice(), n))
    }

    /// Answers with what each step stored, in order.
    fn answer(self, stored: Vec<Vec<Stored>>) {
        let results = self
            .steps
            .into_iter()
            .zip(stored)
            .flat_map(|((items, _), stored)| answer(items, stored))
            .collect();
        let _ = self.reply.send(Ok(results));
    }
}

/// A request queued for the next group commit; [`Queued::committed`] waits for its results.
pub struct Queued {
    answer: oneshot::Receiver<Result<Vec<IngestResult>>>,
}

impl Queued {
    /// A request with nothing to write: answered at once.
    pub(crate) fn done(results: Vec<IngestResult>) -> Queued {
        let (reply, answer) = oneshot::channel();
        let _ = reply.send(Ok(results));
        Queued { answer }
    }

    /// The request's results, once its transaction committed.
    pub async fn committed(self) -> Result<Vec<IngestResult>> {
        self.answer.await.map_err(|_| StoreError::Closed)?
    }
}

#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    pub(crate) fn spawn(backend: Backend, audit: crate::audit_sample::AuditRate) -> Writer {
        let (jobs, rx) = mpsc::channel(4096);
        tokio::spawn(run(backend, rx, audit));
        Writer { jobs }
    }

    /// Queues a request: jobs are committed in the order they were queued.
    pub(crate) async fn queue(
        &self,
        items: Vec<IngestItem>,
        networks: NetworkChanges,
    ) -> Result<Queued> {
        self.queue_steps(vec![(items, networks)]).await
    }

    /// Queues several steps (ads, then the network changes made after them) that commit
    /// together or not at all.
    pub(crate) async fn queue_steps(
        &self,
        steps: Vec<(Vec<IngestItem>, NetworkChanges)>,
    ) -> Result<Queued> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { steps, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        Ok(Queued { answer })
    }
}

async fn run(backend: Backend, mut rx: mpsc::Receiver<Job>, audit: crate::audit_sample::AuditRate) {
    while let Some(first) = rx.recv().await {
        let mut total = first.ads();
        let mut jobs = vec![first];
        while total < MAX_GROUP_ADS {
            match rx.try_recv() {
                Ok(job) => {
                    total += job.ads();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let now = crate::now_ms();
        let batches: Vec<(&[IngestItem], &NetworkChanges)> =
            jobs.iter().flat_map(Job::batches).collect();
        match commit(&backend, &batches, now, audit.ppm()).await {
            Ok(results) => {
                let mut results = results.into_iter();
                for job in jobs {
                    let stored: Vec<Vec<Stored>> = results.by_ref().take(job.steps.len()).collect();
                    job.answer(stored);
                }
            }
            Err(e) if jobs.len() == 1 => {
                if let Some(job) = jobs.into_iter().next() {
                    let _ = job.reply.send(Err(e));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, requests = jobs.len(), "group commit failed; retrying each request alone");
                for job in jobs {
                    let batches: Vec<(&[IngestItem], &NetworkChanges)> = job.batches().collect();
                    match commit(&backend, &batches, now, audit.ppm()).await {
                        Ok(stored) => job.answer(stored),
                        Err(e) => {
                            let _ = job.reply.send(Err(e));
                        }
                    }
                }
            }
        }
    }
}

fn answer(items: Vec<IngestItem>, stored: Vec<Stored>) -> Vec<IngestResult> {
    items
        .into_iter()
        .zip(stored)
        .map(|(item, s)| s.into_result(item))
        .collect()
}

async fn commit(
    backend: &Backend,
    batches: &[(&[IngestItem], &NetworkChanges)],
    now: i64,
    audit_ppm: u64,
) -> Result<Vec<Vec<Stored>>> {
    // Requests whose ids do not collide are stored as one batch (a handful of multi-row
    // statements for the whole group); a request that shares an id with an earlier one in the
    // group is stored after it, in order, so "created" then "unchanged" stays exact.
    let mut seen = std::collections::HashSet::new();
    let disjoint = batches
        .iter()
        .all(|(b, _)| b.iter().all(|i| seen.insert(i.ad.id.as_str())));
    on_write!(backend, |pool, dialect| {
        let mut tx = pool.begin_with(dialect.begin()).await?;
        let mut out = Vec::with_capacity(batches.len());
        if disjoint && batches.len() > 1 {
            let all: Vec<&IngestItem> = batches.iter().flat_map(|(b, _)| b.iter()).collect();
            let mut results = ingest_in_tx!(tx, &all, now, audit_ppm).into_iter();
            for (b, _) in batches {
                out.push(results.by_ref().take(b.len()).collect());
            }
        } else {
            for (items, _) in batches {
                let items: Vec<&IngestItem> = items.iter().collect();
                out.push(ingest_in_tx!(tx, &items, now, audit_ppm));
            }
        }
        // After every ad (the ads' own network references are older than these changes).
        for (_, networks) in batches {
            if !networks.is_empty() {
                apply_network_changes_in_tx!(tx, networks, now);
            }
        }
        tx.commit().await?;
        Ok(out)
    })
}
