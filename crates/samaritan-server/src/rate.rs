//! Per-key request rate limiting: a token bucket for each key.
//!
//! Each key may make `burst` requests at once and `rate` per second sustained; past that it gets
//! 429 with `Retry-After`. Buckets live in memory, per server process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

pub(crate) struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    pub(crate) fn new(rate: f64, burst: f64) -> RateLimiter {
        RateLimiter {
            rate,
            burst: burst.max(1.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// `Ok` when `key` may make a request now, else the seconds to wait.
    pub(crate) fn check(&self, key: &str, now: Instant) -> Result<(), u64> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let mut buckets = match self.buckets.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let (tokens, last) = buckets.entry(key.to_owned()).or_insert((self.burst, now));
        let elapsed = now.saturating_duration_since(*last).as_secs_f64();
        *tokens = (*tokens + elapsed * self.rate).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / self.rate).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_rate_per_key() {
        let r = RateLimiter::new(2.0, 3.0);
        let t = Instant::now();
        for _ in 0..3 {
            assert!(r.check("a", t).is_ok());
        }
        assert_eq!(r.check("a", t), Err(1));
        assert!(r.check("b", t).is_ok(), "keys have their own buckets");
        assert!(r.check("a", t + Duration::from_millis(500)).is_ok());
        assert!(r.check("a", t + Duration::from_millis(500)).is_err());
        assert!(RateLimiter::new(0.0, 0.0).check("a", t).is_ok());
    }
}
