//! Parallel map that keeps input order and bounded memory.
//!
//! One thread reads and batches, `threads` workers map, and the caller's thread receives results
//! in input order. A fixed number of batches may be in flight at once (reading waits for the
//! writer), so memory does not grow with the input, however large.

use std::collections::BTreeMap;

use crossbeam_channel::bounded;

/// Maps `f` over `input` on `threads` workers, in batches of `batch`, calling `sink` with every
/// result in input order. `sink` may stop everything by returning `Err`.
pub fn ordered_map<T, U, E, I, F, S>(
    input: I,
    threads: usize,
    batch: usize,
    f: F,
    mut sink: S,
) -> Result<(), E>
where
    T: Send,
    U: Send,
    I: Iterator<Item = T> + Send,
    F: Fn(T) -> U + Sync,
    S: FnMut(U) -> Result<(), E>,
{
    let threads = threads.max(1);
    let batch = batch.max(1);
    let in_flight = threads * 4;
    let (work_tx, work_rx) = bounded::<(u64, Vec<T>)>(threads * 2);
    // a worker's panic travels to the caller's thread, which stops everyone and re-raises it
    // (a lost batch would otherwise leave the writer waiting for it for ever)
    let (done_tx, done_rx) = bounded::<(u64, std::thread::Result<Vec<U>>)>(in_flight);
    // A permit per batch in flight: the reader takes one, the writer gives it back.
    let (permit_tx, permit_rx) = bounded::<()>(in_flight);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut seq = 0u64;
            let mut items = input.peekable();
            while items.peek().is_some() {
                if permit_tx.send(()).is_err() {
                    return; // the writer stopped
                }
                let chunk: Vec<T> = items.by_ref().take(batch).collect();
                if work_tx.send((seq, chunk)).is_err() {
                    return;
                }
                seq += 1;
            }
        });
        for _ in 0..threads {
            let (work_rx, done_tx, f) = (work_rx.clone(), done_tx.clone(), &f);
            scope.spawn(move || {
                for (seq, chunk) in work_rx {
                    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        chunk.into_iter().map(f).collect::<Vec<U>>()
                    }));
                    let failed = out.is_err();
                    if done_tx.send((seq, out)).is_err() || failed {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        drop(work_rx);
        let mut pending: BTreeMap<u64, Vec<U>> = BTreeMap::new();
        let mut next = 0u64;
        let mut panicked = None;
        let result = (|| {
            for (seq, out) in &done_rx {
                let out = match out {
                    Ok(out) => out,
                    Err(payload) => {
                        panicked = Some(payload);
                        return Ok(());
                    }
                };
                pending.insert(seq, out);
                while let Some(out) = pending.remove(&next) {
                    for u in out {
                        sink(u)?;
                    }
                    next += 1;
                    let _ = permit_rx.recv();
                }
            }
            Ok(())
        })();
        // On error, unblock everyone: dropping the receivers makes every send fail.
        drop(done_rx);
        drop(permit_rx);
        if let Some(payload) = panicked {
            std::panic::resume_unwind(payload);
        }
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_panic_reaches_the_caller_instead_of_hanging() {
        // run on a thread of its own so that a hang fails the test instead of stalling it
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let caught = std::panic::catch_unwind(|| {
                ordered_map(
                    0..10_000u64,
                    2,
                    7,
                    |x| {
                        assert!(x != 5_000, "boom");
                        x
                    },
                    |_| Ok::<_, ()>(()),
                )
            });
            let _ = tx.send(caught.is_err());
        });
        let panicked = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("ordered_map hung after a worker panicked");
        assert!(panicked);
    }

    #[test]
    fn keeps_order_across_threads() {
        let mut got = Vec::new();
        ordered_map(
            0..10_000u64,
            4,
            7,
            |x| {
                if x % 97 == 0 {
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
                x * 2
            },
            |y| {
                got.push(y);
                Ok::<_, ()>(())
            },
        )
        .unwrap();
        assert_eq!(got, (0..10_000u64).map(|x| x * 2).collect::<Vec<_>>());
    }

    #[test]
    fn sink_error_stops_without_deadlock() {
        let mut n = 0;
        let r = ordered_map(
            0..1_000_000u64,
            2,
            3,
            |x| x,
            |_| {
                n += 1;
                if n == 50 { Err("stop") } else { Ok(()) }
            },
        );
        assert_eq!(r, Err("stop"));
    }
}
