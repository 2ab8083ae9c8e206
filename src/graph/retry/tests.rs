//! Table tests: every status and failure classifies to one kind, and every kind gets the
//! decision each policy promises.

use super::*;
use crate::graph::error::EntraError;

fn service(status: u16, message: &str, retry_after: Option<u64>) -> ServiceError {
    ServiceError {
        status,
        code: String::new(),
        message: message.into(),
        request_id: None,
        client_request_id: None,
        date: None,
        retry_after: retry_after.map(Duration::from_secs),
    }
}

fn entra(status: u16, error: &str, codes: &[i64]) -> AuthError {
    AuthError::Refused {
        url: "https://login.example/t/oauth2/v2.0/token".into(),
        error: Box::new(EntraError {
            status,
            error: error.into(),
            description: String::new(),
            codes: codes.to_vec(),
            trace_id: None,
            correlation_id: None,
        }),
    }
}

fn transport(timed_out: bool) -> GraphError {
    GraphError::Transport {
        url: "https://graph.example".into(),
        message: "x".into(),
        timed_out,
        client_request_id: "c".into(),
    }
}

const S2: Option<Duration> = Some(Duration::from_secs(2));

#[test]
fn every_status_and_failure_has_one_kind() {
    let too_large = "Query execution has exceeded the allowed result size.";
    let timeout = "Query execution has exceeded the timeout";
    let table: Vec<(GraphError, Kind)> = vec![
        (GraphError::Service(service(400, "Syntax error", None)), Kind::Permanent),
        (GraphError::Service(service(400, too_large, None)), Kind::TooLarge),
        (GraphError::Service(service(400, "result size limit exceeded", None)), Kind::TooLarge),
        (GraphError::Service(service(400, timeout, None)), Kind::TimedOut),
        (GraphError::Service(service(401, "", None)), Kind::Permanent),
        (GraphError::Service(service(403, "Forbidden", None)), Kind::Permanent),
        (GraphError::Service(service(404, "", None)), Kind::Permanent),
        (GraphError::Service(service(408, "", None)), Kind::Transient { retry_after: None }),
        (GraphError::Service(service(429, "", Some(2))), Kind::Throttled { retry_after: S2 }),
        (GraphError::Service(service(429, "", None)), Kind::Throttled { retry_after: None }),
        (GraphError::Service(service(500, "", None)), Kind::Transient { retry_after: None }),
        (GraphError::Service(service(502, "", None)), Kind::Transient { retry_after: None }),
        (GraphError::Service(service(503, "", Some(2))), Kind::Transient { retry_after: S2 }),
        (GraphError::Service(service(504, "", None)), Kind::TimedOut),
        (GraphError::Service(service(500, "the query timed out", None)), Kind::TimedOut),
        (transport(false), Kind::Transient { retry_after: None }),
        (transport(true), Kind::TimedOut),
        (GraphError::TooLarge { limit: 10, client_request_id: "c".into() }, Kind::TooLarge),
        (GraphError::Refused { url: "u".into(), message: "redirect".into() }, Kind::Permanent),
        (GraphError::Auth(entra(503, "", &[])), Kind::Permanent),
    ];
    for (error, kind) in table {
        assert_eq!(error.kind(), kind, "{error}");
    }
}

#[test]
fn every_sign_in_failure_has_one_kind() {
    let url = || "https://login.example".to_owned();
    let table: Vec<(AuthError, Kind)> = vec![
        (entra(400, "invalid_client", &[7000215]), Kind::Permanent),
        (entra(401, "unauthorized_client", &[700016]), Kind::Permanent),
        (entra(400, "temporarily_unavailable", &[]), Kind::Transient { retry_after: None }),
        (entra(400, "invalid_request", &[90055]), Kind::Transient { retry_after: None }),
        (entra(400, "invalid_request", &[90024]), Kind::Transient { retry_after: None }),
        (entra(429, "", &[]), Kind::Throttled { retry_after: None }),
        (entra(500, "", &[]), Kind::Transient { retry_after: None }),
        (entra(503, "", &[]), Kind::Transient { retry_after: None }),
        (
            AuthError::Transport { url: url(), message: "refused".into(), certificate: false },
            Kind::Transient { retry_after: None },
        ),
        (
            AuthError::Transport { url: url(), message: "bad cert".into(), certificate: true },
            Kind::Permanent,
        ),
        (AuthError::Redirected { url: url(), message: "307".into() }, Kind::Permanent),
        (AuthError::BadResponse { url: url(), message: "no token".into() }, Kind::Permanent),
    ];
    for (error, kind) in table {
        assert_eq!(error.kind(), kind, "{error}");
    }
}

/// Runs `kinds` through `policy` from a fresh count, seeded.
fn decisions(policy: &Policy, kinds: &[Kind]) -> Vec<Decision> {
    let (mut attempts, mut jitter) = (Attempts::default(), Jitter::seeded(7));
    kinds.iter().map(|&k| policy.decide(k, &mut attempts, &mut jitter)).collect()
}

fn within(d: Decision, lo: f64, hi: f64) -> bool {
    matches!(d, Decision::Wait(w) if w.as_secs_f64() >= lo && w.as_secs_f64() <= hi)
}

#[test]
fn hunting_calls_split_what_is_too_much_and_retry_what_may_pass() {
    let p = Policy::hunting(4, Duration::from_secs(2), Duration::from_secs(120));
    for kind in [Kind::TooLarge, Kind::TimedOut] {
        assert_eq!(decisions(&p, &[kind]), [Decision::Split]);
    }
    assert_eq!(decisions(&p, &[Kind::Permanent]), [Decision::Fail]);
    // Transient: 2, 4, 8, 16 s steps jittered over their upper half, then the fifth fails.
    let t = Kind::Transient { retry_after: None };
    let d = decisions(&p, &[t; 5]);
    for (i, (lo, hi)) in [(1.0, 2.0), (2.0, 4.0), (4.0, 8.0), (8.0, 16.0)].iter().enumerate() {
        assert!(within(d[i], *lo, *hi), "attempt {}: {:?}", i + 1, d[i]);
    }
    assert_eq!(d[4], Decision::Fail);
    // A Retry-After on a 503 is honoured when longer than the step.
    let long = Kind::Transient { retry_after: Some(Duration::from_secs(30)) };
    assert_eq!(decisions(&p, &[long]), [Decision::Wait(Duration::from_secs(30))]);
    // 429s are waited out without a count (the executor's deadline bounds them), never less
    // than half a second, and their count is apart from transient failures.
    let zero = Kind::Throttled { retry_after: Some(Duration::ZERO) };
    assert_eq!(decisions(&p, &[zero]), [Decision::Wait(Duration::from_millis(500))]);
    let mut mixed = vec![Kind::Throttled { retry_after: S2 }; 100];
    mixed.extend([t; 4]);
    assert!(decisions(&p, &mixed).iter().all(|d| matches!(d, Decision::Wait(_))));
    // The cap holds however many attempts.
    let mut j = Jitter::seeded(1);
    assert!(p.backoff(40, &mut j) <= Duration::from_secs(120));
    assert!(p.backoff(40, &mut j) >= Duration::from_secs(60));
}

#[test]
fn listing_and_sign_in_never_split_and_give_up_after_their_counts() {
    for (p, retries, throttles) in [(Policy::LISTING, 4, 20), (Policy::SIGN_IN, 3, 3)] {
        assert_eq!(decisions(&p, &[Kind::TooLarge]), [Decision::Fail]);
        assert!(matches!(decisions(&p, &[Kind::TimedOut])[0], Decision::Wait(_)));
        let t = Kind::Transient { retry_after: None };
        let d = decisions(&p, &vec![t; retries as usize + 1]);
        assert!(d[..retries as usize].iter().all(|d| matches!(d, Decision::Wait(_))));
        assert_eq!(d[retries as usize], Decision::Fail);
        let th = Kind::Throttled { retry_after: None };
        let d = decisions(&p, &vec![th; throttles as usize + 1]);
        assert!(d[..throttles as usize].iter().all(|d| matches!(d, Decision::Wait(_))));
        assert_eq!(d[throttles as usize], Decision::Fail);
        assert_eq!(decisions(&p, &[Kind::Permanent]), [Decision::Fail]);
    }
}

#[test]
fn the_same_seed_gives_the_same_waits_and_jitter_spreads() {
    let p = Policy::LISTING;
    let t = Kind::Transient { retry_after: None };
    assert_eq!(decisions(&p, &[t; 4]), decisions(&p, &[t; 4]));
    let mut j = Jitter::seeded(42);
    let units: Vec<f64> = (0..1000).map(|_| j.unit()).collect();
    assert!(units.iter().all(|u| (0.0..=1.0).contains(u)));
    let mean = units.iter().sum::<f64>() / 1000.0;
    assert!((0.45..0.55).contains(&mean), "mean {mean}");
}
