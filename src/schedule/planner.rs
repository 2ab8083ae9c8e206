//! The scheduler's planning, pure: given a query's schedule, its covered-until watermark and
//! the time, what to do now. Windows tile time: each starts exactly where the previous ended
//! (`[watermark, T - delay)` at a fire time T), and a query never run starts with the lookback
//! before its schedule's latest fire; a missed stretch (process down, quota exhausted)
//! is caught up as one window from the watermark, never skipped; only what lies beyond the
//! service's retention can never be run, and it is reported as a gap.
//!
//! A first window's start ([`first_start`]) is where the daemon anchors a new query: it records
//! it as the query's watermark before any part of the window runs, so a first window cut short
//! (a crash, a failed part) runs again from the same instant, to a later or equal end, and its
//! landing replaces whatever parts the cut-short attempt left (see [`step`]).

use crate::cron::Cron;
use crate::timespan::Window;
use chrono::{DateTime, Duration, Utc};

/// What to do for one query now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A window is due.
    Run {
        /// The window to run.
        window: Window,
        /// The fire time it belongs to (the latest one passed).
        fire: DateTime<Utc>,
        /// A stretch before `window` older than the retention horizon: lost, to be reported.
        gap: Option<Window>,
    },
    /// Nothing to do before `next_fire`.
    Idle {
        /// The next fire time, if the schedule has one.
        next_fire: Option<DateTime<Utc>>,
    },
}

/// How far back a query never run looks for its schedule's latest fire.
const FIRST_FIRE_SEARCH: Duration = Duration::days(31);

/// How a query is scheduled.
#[derive(Debug, Clone, Copy)]
pub struct Timing<'a> {
    /// Its cron schedule.
    pub cron: &'a Cron,
    /// Length of its first window.
    pub lookback: Duration,
    /// How far behind a fire time its windows end.
    pub delay: Duration,
}

/// The latest fire time in `(after, now]`, if any.
pub fn latest_fire(cron: &Cron, after: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let first = cron.next_after(after).filter(|t| *t <= now)?;
    // Probe back from now in growing steps, so a long outage under a frequent schedule does not
    // walk every missed fire.
    let mut from = first;
    for back in [60, 3_600, 86_400, 31 * 86_400] {
        let probe = now - Duration::seconds(back);
        if probe > first && cron.next_after(probe).is_some_and(|t| t <= now) {
            from = probe;
            break;
        }
    }
    let mut latest = if from == first { first } else { cron.next_after(from)? };
    while let Some(t) = cron.next_after(latest).filter(|t| *t <= now) {
        latest = t;
    }
    Some(latest)
}

/// The first window of a query never run, at `now`, and the fire it belongs to: the lookback
/// before its schedule's latest fire (less the delay); `None` if the schedule has not fired in
/// the last 31 days.
fn first_window(timing: Timing<'_>, now: DateTime<Utc>) -> Option<(Window, DateTime<Utc>)> {
    let fire = latest_fire(timing.cron, now - FIRST_FIRE_SEARCH, now)?;
    let end = fire - timing.delay;
    Some((Window { start: end - timing.lookback, end }, fire))
}

/// Where the first window of a query never run starts, at `now` (`None`: its schedule has not
/// fired in the last 31 days, nothing is due). Recorded as the query's watermark before that
/// window runs, it plans the same window now (`step` from it equals `step` from no watermark)
/// and, later, a window from the same start to a later or equal end: a first window run again
/// after a crash or a failure contains every part its earlier attempt landed, so its landing
/// supersedes them instead of starting a few seconds later beside them.
pub fn first_start(timing: Timing<'_>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    first_window(timing, now).map(|(window, _)| window.start)
}

/// What to do for a query with `timing` whose windows are covered until `watermark`, at `now`,
/// when the service keeps `horizon` of data.
pub fn step(
    timing: Timing<'_>,
    watermark: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    horizon: Duration,
) -> Step {
    let Some(covered) = watermark else {
        // Never run: the first window is the lookback before the latest fire, run at once (a
        // query added to a running daemon starts at its schedule's most recent fire).
        return match first_window(timing, now) {
            Some((window, fire)) => Step::Run { window, fire, gap: None },
            None => Step::Idle { next_fire: timing.cron.next_after(now) },
        };
    };
    // Fires whose window would end after the watermark: T - delay > covered.
    let Some(fire) = latest_fire(timing.cron, covered + timing.delay, now) else {
        let next = timing.cron.next_after(now.max(covered + timing.delay));
        return Step::Idle { next_fire: next };
    };
    let end = fire - timing.delay;
    let oldest = now - horizon;
    let (start, gap) = if covered < oldest && oldest < end {
        (oldest, Some(Window { start: covered, end: oldest }))
    } else if covered < oldest {
        // Everything up to `end` is beyond reach.
        return Step::Run {
            window: Window { start: end, end },
            fire,
            gap: Some(Window { start: covered, end }),
        };
    } else {
        (covered, None)
    };
    Step::Run { window: Window { start, end }, fire, gap }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        crate::timespan::parse_datetime(s).unwrap()
    }

    fn timing(cron: &Cron) -> Timing<'_> {
        Timing { cron, lookback: Duration::hours(1), delay: Duration::minutes(5) }
    }

    const HORIZON: Duration = Duration::days(30);

    #[test]
    fn a_new_query_runs_the_lookback_before_its_latest_fire() {
        let cron = Cron::parse("*/15 * * * *").unwrap();
        let s = step(timing(&cron), None, t("2026-11-22T10:07:00Z"), HORIZON);
        let window = Window { start: t("2026-11-22T08:55:00Z"), end: t("2026-11-22T09:55:00Z") };
        assert_eq!(s, Step::Run { window, fire: t("2026-11-22T10:00:00Z"), gap: None });
        let yearly = Cron::parse("0 0 1 1 *").unwrap();
        let s = step(timing(&yearly), None, t("2026-11-22T10:07:00Z"), HORIZON);
        assert_eq!(s, Step::Idle { next_fire: Some(t("2027-01-01T00:00:00Z")) });
    }

    #[test]
    fn a_first_window_anchored_at_its_start_runs_again_from_there_to_a_later_end() {
        // A 3 h first window under a per-2-seconds schedule, started at 10:00:01.
        let cron = Cron::parse("*/2 * * * * *").unwrap();
        let timing = Timing { cron: &cron, lookback: Duration::hours(3), delay: Duration::zero() };
        let now = t("2026-11-22T10:00:01Z");
        let first = step(timing, None, now, HORIZON);
        let window = Window { start: t("2026-11-22T07:00:00Z"), end: t("2026-11-22T10:00:00Z") };
        assert_eq!(first, Step::Run { window, fire: t("2026-11-22T10:00:00Z"), gap: None });
        let anchor = first_start(timing, now).unwrap();
        assert_eq!(anchor, window.start);
        // Recorded before the window runs, the anchor plans the very same window.
        assert_eq!(step(timing, Some(anchor), now, HORIZON), first);
        // The attempt dies with only its first half landed; after a restart a few fires later
        // the window starts at the anchor and reaches further: the half lies inside it.
        let half = Window { start: window.start, end: t("2026-11-22T08:30:00Z") };
        for later in ["2026-11-22T10:00:01.9Z", "2026-11-22T10:00:05Z", "2026-11-22T11:00:00Z"] {
            let Step::Run { window: again, gap: None, .. } =
                step(timing, Some(anchor), t(later), HORIZON)
            else {
                panic!("{later}: nothing due");
            };
            assert_eq!(again.start, window.start, "{later}");
            assert!(again.end >= window.end && again.end >= half.end, "{later}: {again}");
        }
        // Without the anchor the window moves: the half would stick out before its start.
        let Step::Run { window: moved, .. } =
            step(timing, None, t("2026-11-22T10:00:05Z"), HORIZON)
        else {
            panic!("nothing due");
        };
        assert!(moved.start > half.start, "{moved}");
    }

    #[test]
    fn a_schedule_that_has_not_fired_has_no_first_start() {
        let yearly = Cron::parse("0 0 1 1 *").unwrap();
        let now = t("2026-11-22T10:07:00Z");
        assert_eq!(first_start(timing(&yearly), now), None);
        assert_eq!(
            step(timing(&yearly), None, now, HORIZON),
            Step::Idle { next_fire: Some(t("2027-01-01T00:00:00Z")) }
        );
        let cron = Cron::parse("*/15 * * * *").unwrap();
        assert_eq!(first_start(timing(&cron), now), Some(t("2026-11-22T08:55:00Z")));
    }

    #[test]
    fn windows_tile_from_the_watermark_to_the_latest_fire() {
        let cron = Cron::parse("*/15 * * * *").unwrap();
        let mut covered = t("2026-11-22T09:10:00Z"); // a first window ended here
        let mut windows = Vec::new();
        // Wake at odd moments, sometimes between fires, sometimes after several.
        for now in [
            "2026-11-22T10:14:59Z",
            "2026-11-22T10:15:00Z",
            "2026-11-22T10:16:30Z",
            "2026-11-22T11:02:00Z",
            "2026-11-22T11:15:00.5Z",
        ] {
            match step(timing(&cron), Some(covered), t(now), HORIZON) {
                Step::Run { window, gap: None, .. } => {
                    assert_eq!(window.start, covered);
                    covered = window.end;
                    windows.push(window.to_string());
                }
                Step::Idle { .. } => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            windows,
            [
                "2026-11-22T09:10:00Z/2026-11-22T09:55:00Z",
                "2026-11-22T09:55:00Z/2026-11-22T10:10:00Z",
                "2026-11-22T10:10:00Z/2026-11-22T10:55:00Z",
                "2026-11-22T10:55:00Z/2026-11-22T11:10:00Z",
            ]
        );
    }

    #[test]
    fn idle_until_the_next_fire() {
        let cron = Cron::parse("@hourly").unwrap();
        let s = step(
            timing(&cron),
            Some(t("2026-11-22T09:55:00Z")),
            t("2026-11-22T10:30:00Z"),
            HORIZON,
        );
        assert_eq!(s, Step::Idle { next_fire: Some(t("2026-11-22T11:00:00Z")) });
    }

    #[test]
    fn an_outage_is_caught_up_in_one_window_and_beyond_the_horizon_is_a_gap() {
        let cron = Cron::parse("* * * * *").unwrap();
        let covered = t("2026-10-01T00:00:00Z");
        let now = t("2026-11-22T10:00:30Z");
        match step(timing(&cron), Some(covered), now, HORIZON) {
            Step::Run { window, fire, gap: Some(gap) } => {
                assert_eq!(fire, t("2026-11-22T10:00:00Z"));
                assert_eq!(window.end, t("2026-11-22T09:55:00Z"));
                assert_eq!(window.start, now - HORIZON);
                assert_eq!(gap, Window { start: covered, end: now - HORIZON });
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // a bound on the real time the search takes
    fn latest_fire_after_a_long_outage_under_a_per_second_schedule_is_quick() {
        let cron = Cron::parse("* * * * * *").unwrap();
        let now = t("2026-11-22T10:00:00.5Z");
        let started = std::time::Instant::now();
        assert_eq!(
            latest_fire(&cron, t("2026-10-25T00:00:00Z"), now),
            Some(t("2026-11-22T10:00:00Z"))
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }
}
