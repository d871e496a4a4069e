//! Group commit for ingest: one writer task turns every request waiting at that moment into one
//! transaction, so concurrent single-ad requests share one fsync instead of queueing for one each.
//!
//! Each caller gets its own results only after the shared transaction committed. If a shared
//! transaction fails, every request in it is retried alone, so one bad request cannot fail its
//! neighbours.

use tokio::sync::{mpsc, oneshot};

use crate::backend::Backend;
use crate::ingest::{IngestItem, IngestResult, Stored};
use crate::{Result, StoreError};

/// Upper bound of ads in one shared transaction.
const MAX_GROUP_ADS: usize = 5000;

struct Job {
    items: Vec<IngestItem>,
    reply: oneshot::Sender<Result<Vec<IngestResult>>>,
}

#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    pub(crate) fn spawn(backend: Backend) -> Writer {
        let (jobs, rx) = mpsc::channel(4096);
        tokio::spawn(run(backend, rx));
        Writer { jobs }
    }

    pub(crate) async fn submit(&self, items: Vec<IngestItem>) -> Result<Vec<IngestResult>> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { items, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

async fn run(backend: Backend, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut total = first.items.len();
        let mut jobs = vec![first];
        while total < MAX_GROUP_ADS {
            match rx.try_recv() {
                Ok(job) => {
                    total += job.items.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let now = crate::now_ms();
        let batches: Vec<&[IngestItem]> = jobs.iter().map(|j| j.items.as_slice()).collect();
        match commit(&backend, &batches, now).await {
            Ok(results) => {
                for (job, stored) in jobs.into_iter().zip(results) {
                    let _ = job.reply.send(Ok(answer(job.items, stored)));
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
                    let result = commit(&backend, &[job.items.as_slice()], now)
                        .await
                        .and_then(|mut r| r.pop().ok_or(StoreError::Closed));
                    let _ = job
                        .reply
                        .send(result.map(|stored| answer(job.items, stored)));
                }
            }
        }
    }
}

/// One request's results, in its order; the analyses move out of its items (no copy).
fn answer(items: Vec<IngestItem>, stored: Vec<Stored>) -> Vec<IngestResult> {
    items
        .into_iter()
        .zip(stored)
        .map(|(item, s)| s.into_result(item))
        .collect()
}

async fn commit(
    backend: &Backend,
    batches: &[&[IngestItem]],
    now: i64,
) -> Result<Vec<Vec<Stored>>> {
    // Requests whose ids do not collide are stored as one batch (a handful of multi-row
    // statements for the whole group); a request that shares an id with an earlier one in the
    // group is stored after it, in order, so "created" then "unchanged" stays exact.
    let mut seen = std::collections::HashSet::new();
    let disjoint = batches
        .iter()
        .all(|b| b.iter().all(|i| seen.insert(i.ad.id.as_str())));
    on_write!(backend, |pool, dialect| {
        let mut tx = pool.begin_with(dialect.begin()).await?;
        let mut out = Vec::with_capacity(batches.len());
        if disjoint && batches.len() > 1 {
            let all: Vec<&IngestItem> = batches.iter().flat_map(|b| b.iter()).collect();
            let mut results = ingest_in_tx!(tx, &all, now).into_iter();
            for b in batches {
                out.push(results.by_ref().take(b.len()).collect());
            }
        } else {
            for items in batches {
                let items: Vec<&IngestItem> = items.iter().collect();
                out.push(ingest_in_tx!(tx, &items, now));
            }
        }
        tx.commit().await?;
        Ok(out)
    })
}
