//! Login rate limiting, in memory and bounded: failed attempts are counted per user name and
//! per client address in fixed windows; a key with too many is refused until its window ends.
//!
//! An attempt counts from the moment it starts (so a burst of parallel guesses cannot all
//! slip through before the first failure is recorded) and is taken back when it succeeds.
//! The table holds at most `capacity` keys: when it is full, expired windows are dropped
//! first, then the oldest window, so a flood of made-up user names costs bounded memory.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Limits: at most `max_failures` per key within `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginLimits {
    /// Failed attempts allowed per key and window.
    pub max_failures: u32,
    /// Length of a window.
    pub window: Duration,
    /// Most keys remembered at once.
    pub capacity: usize,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            max_failures: 10,
            window: Duration::from_secs(5 * 60),
            capacity: 10_000,
        }
    }
}

/// What attempts are counted under.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LimitKey {
    /// A user name, case-folded (the same key as the database's uniqueness).
    User(String),
    /// A client address; IPv6 by its /64 network, which one client typically holds whole.
    Addr(IpAddr),
}

impl LimitKey {
    /// The key of a user name as typed at login.
    pub fn user(name: &str) -> Self {
        // Bounded: a long name is not a longer key.
        let bounded: String = name.chars().take(128).collect();
        LimitKey::User(inventory_core::name_key(&bounded))
    }

    /// The key of a client address.
    pub fn addr(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(_) => LimitKey::Addr(ip),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => LimitKey::Addr(IpAddr::V4(v4)),
                None => {
                    let network = u128::from(v6) & !((1u128 << 64) - 1);
                    LimitKey::Addr(IpAddr::V6(network.into()))
                }
            },
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Window {
    started: Instant,
    count: u32,
}

/// The login rate limiter (shared by all requests of a process).
#[derive(Debug)]
pub struct LoginLimiter {
    limits: LoginLimits,
    windows: Mutex<HashMap<LimitKey, Window>>,
}

impl LoginLimiter {
    /// An empty limiter.
    pub fn new(limits: LoginLimits) -> Self {
        LoginLimiter {
            limits,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Starts an attempt under `keys`: counted at once, or refused with the seconds to wait
    /// when any key is at its limit.
    pub fn begin(&self, keys: &[LimitKey]) -> Result<(), Duration> {
        self.begin_at(keys, Instant::now())
    }

    fn begin_at(&self, keys: &[LimitKey], now: Instant) -> Result<(), Duration> {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let window = self.limits.window;
        let wait = keys
            .iter()
            .filter_map(|key| windows.get(key))
            .filter(|w| now < w.started + window && w.count >= self.limits.max_failures)
            .map(|w| w.started + window - now)
            .max();
        if let Some(wait) = wait {
            return Err(wait);
        }
        for key in keys {
            match windows.get_mut(key) {
                Some(w) if now < w.started + window => w.count += 1,
                Some(w) => {
                    *w = Window {
                        started: now,
                        count: 1,
                    }
                }
                None => {
                    if windows.len() >= self.limits.capacity {
                        make_room(&mut windows, now, &self.limits);
                    }
                    windows.insert(
                        key.clone(),
                        Window {
                            started: now,
                            count: 1,
                        },
                    );
                }
            }
        }
        Ok(())
    }

    /// The attempt under `keys` succeeded: it does not count.
    pub fn succeeded(&self, keys: &[LimitKey]) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        for key in keys {
            if let Some(w) = windows.get_mut(key) {
                w.count = w.count.saturating_sub(1);
                if w.count == 0 {
                    windows.remove(key);
                }
            }
        }
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.windows.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Frees one slot: expired windows first, else the oldest.
fn make_room(windows: &mut HashMap<LimitKey, Window>, now: Instant, limits: &LoginLimits) {
    windows.retain(|_, w| now < w.started + limits.window);
    if windows.len() >= limits.capacity {
        let oldest = windows
            .iter()
            .min_by_key(|(_, w)| w.started)
            .map(|(k, _)| k.clone());
        if let Some(oldest) = oldest {
            windows.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(max_failures: u32, capacity: usize) -> LoginLimiter {
        LoginLimiter::new(LoginLimits {
            max_failures,
            window: Duration::from_secs(300),
            capacity,
        })
    }

    #[test]
    fn the_attempt_after_the_limit_waits_for_the_window_to_end() {
        let l = limiter(3, 100);
        let keys = [LimitKey::user("ann")];
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.begin_at(&keys, t0).is_ok());
        }
        let wait = l
            .begin_at(&keys, t0 + Duration::from_secs(100))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(200));
        assert!(l.begin_at(&keys, t0 + Duration::from_secs(300)).is_ok());
    }

    #[test]
    fn a_successful_attempt_does_not_count() {
        let l = limiter(2, 100);
        let keys = [LimitKey::user("ann"), LimitKey::addr([10, 0, 0, 1].into())];
        let t0 = Instant::now();
        for _ in 0..10 {
            assert!(l.begin_at(&keys, t0).is_ok());
            l.succeeded(&keys);
        }
        assert!(l.is_empty());
    }

    #[test]
    fn user_names_are_counted_case_insensitively() {
        let l = limiter(1, 100);
        let t0 = Instant::now();
        assert!(l.begin_at(&[LimitKey::user("Ann")], t0).is_ok());
        assert!(l.begin_at(&[LimitKey::user(" ANN ")], t0).is_err());
    }

    #[test]
    fn one_address_is_limited_across_user_names() {
        let l = limiter(2, 100);
        let addr = LimitKey::addr("2001:db8::1".parse().unwrap());
        let t0 = Instant::now();
        assert!(l.begin_at(&[LimitKey::user("a"), addr.clone()], t0).is_ok());
        assert!(l.begin_at(&[LimitKey::user("b"), addr.clone()], t0).is_ok());
        let same_network = LimitKey::addr("2001:db8::ffff".parse().unwrap());
        assert!(l
            .begin_at(&[LimitKey::user("c"), same_network], t0)
            .is_err());
    }

    #[test]
    fn a_flood_of_distinct_names_stays_within_capacity() {
        let l = limiter(10, 1000);
        let t0 = Instant::now();
        for i in 0..20_000 {
            let _ = l.begin_at(&[LimitKey::user(&format!("user{i}"))], t0);
        }
        assert!(l.len() <= 1000);
        let long = "x".repeat(1_000_000);
        let _ = l.begin_at(&[LimitKey::user(&long)], t0);
        assert!(l.len() <= 1000);
    }
}
