//! The linker's reorder buffer in the fan-out layout: prepare workers finish ads in any order;
//! the linker must link them in the ads stream's order, so that its answers equal one process.
//!
//! Results are held by their ad's stream sequence and handed out only when the next sequence
//! the linker expects has arrived. JetStream gives every stored message the next sequence, so
//! the sequences of the ads stream are dense, and every ad on it comes back once prepared or as
//! a marker to park ([`super::prepare`]). A sequence can still be missing for good (a message
//! deleted by hand, or the first position of a linker that has none): [`Reorder::skip_to`]
//! moves past it only when the caller has proved that it is on neither stream.

use std::collections::BTreeMap;

/// Held results keyed by ad-stream sequence; within one sequence, by the sequence of the
/// result's own message (a result delivered twice is held once).
pub struct Reorder<T> {
    next: u64,
    held: BTreeMap<u64, BTreeMap<u64, T>>,
    count: usize,
}

impl<T> Reorder<T> {
    /// A buffer expecting `next` first (0: not known yet, see [`Reorder::skip_to`]).
    pub fn new(next: u64) -> Reorder<T> {
        Reorder {
            next,
            held: BTreeMap::new(),
            count: 0,
        }
    }

    /// The sequence expected next.
    pub fn next(&self) -> u64 {
        self.next
    }

    /// Messages held (distinct result messages).
    pub fn held(&self) -> usize {
        self.count
    }

    /// Every held item, in sequence order.
    pub fn held_items(&self) -> impl Iterator<Item = &T> {
        self.held.values().flat_map(|m| m.values())
    }

    /// Holds `item`, the result for ad-stream sequence `seq` carried by message `msg_seq`.
    /// Gives it back when `seq` was already handed out (the caller acknowledges it).
    pub fn insert(&mut self, seq: u64, msg_seq: u64, item: T) -> Option<T> {
        if seq < self.next {
            return Some(item);
        }
        if self
            .held
            .entry(seq)
            .or_default()
            .insert(msg_seq, item)
            .is_none()
        {
            self.count += 1;
        }
        None
    }

    /// The results of the expected sequence when they are here (every message carrying it; the
    /// first is the one to use), and the sequence moves on.
    pub fn pop_ready(&mut self) -> Option<(u64, Vec<T>)> {
        let (&first, _) = self.held.first_key_value()?;
        if first != self.next {
            return None;
        }
        let items: Vec<T> = self.held.remove(&first)?.into_values().collect();
        self.count -= items.len();
        self.next = first + 1;
        Some((first, items))
    }

    /// Moves the expected sequence up to the lowest one that may still come: the lowest held,
    /// or `unprepared`, the first sequence still on the ads stream (its last sequence + 1 when
    /// empty). Only sound when the caller read `unprepared` first, then the results stream's
    /// last sequence, and then saw every result up to it delivered and, unless acknowledged,
    /// held here: an ad below `unprepared` left the ads stream after its result was published. Returns the sequences
    /// skipped (`None`: nothing moved).
    pub fn skip_to(&mut self, unprepared: u64) -> Option<std::ops::Range<u64>> {
        let lowest = self
            .held
            .first_key_value()
            .map_or(unprepared, |(&s, _)| s.min(unprepared));
        if lowest <= self.next {
            return None;
        }
        let skipped = self.next..lowest;
        self.next = lowest;
        Some(skipped)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)
    use super::*;

    #[test]
    fn results_come_out_in_stream_order_whatever_order_they_arrive_in() {
        let mut r = Reorder::new(5);
        assert!(r.insert(7, 1, "seven").is_none());
        assert!(r.insert(6, 2, "six").is_none());
        assert!(r.pop_ready().is_none());
        assert!(r.insert(5, 3, "five").is_none());
        assert!(r.insert(6, 2, "six again").is_none()); // the same message redelivered
        assert_eq!(r.held(), 3);
        let order: Vec<u64> = std::iter::from_fn(|| r.pop_ready().map(|(s, _)| s)).collect();
        assert_eq!(order, vec![5, 6, 7]);
        assert_eq!(r.next(), 8);
        assert_eq!(r.held(), 0);
        // Already handed out: given back to be acknowledged.
        assert_eq!(r.insert(6, 9, "late copy"), Some("late copy"));
    }

    #[test]
    fn a_result_published_twice_is_held_twice_and_handed_out_together() {
        let mut r = Reorder::new(1);
        r.insert(1, 10, "a");
        r.insert(1, 11, "b");
        assert_eq!(r.held(), 2);
        assert_eq!(r.pop_ready(), Some((1, vec!["a", "b"])));
    }

    #[test]
    fn skipping_goes_to_the_lowest_sequence_that_may_still_come_and_never_back() {
        // Unknown start: the lowest of what is held and what waits on the ads stream.
        let mut r = Reorder::new(0);
        r.insert(12, 1, ());
        assert_eq!(r.skip_to(10), Some(0..10));
        assert!(r.pop_ready().is_none());
        assert_eq!(r.skip_to(10), None);
        // Sequences 10 and 11 are gone from the ads stream and were never prepared.
        assert_eq!(r.skip_to(20), Some(10..12));
        assert_eq!(r.pop_ready().map(|(s, _)| s), Some(12));
        assert_eq!(r.skip_to(3), None);
        assert_eq!(r.next(), 13);
    }
}
