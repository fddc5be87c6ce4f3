//! Injected faults: error rates, latency and hangs per path pattern, offline nodes.

use std::time::Duration;

use super::config::FaultRule;

/// What to do with one request before it reaches its handler.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct FaultDecision {
    pub delay: Duration,
    pub hang: bool,
    /// Status and message of an injected error.
    pub error: Option<(u16, String)>,
}

/// The active rules and the generator deciding which requests fail.
#[derive(Debug)]
pub(crate) struct Faults {
    pub rules: Vec<FaultRule>,
    rng: SplitMix64,
}

impl Faults {
    pub fn new(rules: Vec<FaultRule>, seed: u64) -> Faults {
        Faults { rules, rng: SplitMix64(seed) }
    }

    /// Applies every matching rule: latencies add up, any rule may hang or fail.
    pub fn decide(&mut self, method: &str, path: &str) -> FaultDecision {
        let mut decision = FaultDecision::default();
        for rule in &self.rules {
            let method_matches = rule.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method));
            if !method_matches || !glob_match(&rule.path, path) {
                continue;
            }
            decision.delay += Duration::from_millis(rule.latency_ms);
            decision.hang |= rule.hang;
            if decision.error.is_none() && rule.error_rate > 0.0 && self.rng.next_f64() < rule.error_rate {
                decision.error = Some((rule.status, rule.message.clone()));
            }
        }
        decision
    }
}

/// `*` matches any run of characters (including `/`); everything else literally.
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return pattern == text;
    };
    if parts.len() == 1 {
        return pattern == text;
    }
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// A small deterministic generator; fault decisions need reproducibility, not quality.
#[derive(Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob() {
        assert!(glob_match("*", "/nodes/pve1/qemu"));
        assert!(glob_match("/nodes/*/qemu/*/clone", "/nodes/pve1/qemu/9000/clone"));
        assert!(!glob_match("/nodes/*/qemu/*/clone", "/nodes/pve1/qemu/9000/config"));
        assert!(glob_match("/version", "/version"));
        assert!(!glob_match("/version", "/versions"));
        assert!(glob_match("*/status/*", "/nodes/pve1/qemu/1/status/current"));
        assert!(!glob_match("a*a", "a"));
    }

    #[test]
    fn error_rate_is_roughly_honoured_and_reproducible() {
        let rule = FaultRule { path: "/cluster/*".into(), error_rate: 0.3, ..FaultRule::default() };
        let mut faults = Faults::new(vec![rule.clone()], 7);
        let failures = (0..1000).filter(|_| faults.decide("GET", "/cluster/resources").error.is_some()).count();
        assert!((200..400).contains(&failures), "{failures}");
        let mut again = Faults::new(vec![rule], 7);
        let replay = (0..1000).filter(|_| again.decide("GET", "/cluster/resources").error.is_some()).count();
        assert_eq!(failures, replay);
        assert_eq!(faults.decide("GET", "/version"), FaultDecision::default());
    }
}
