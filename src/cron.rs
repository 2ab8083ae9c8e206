//! Cron schedules of query front matter, evaluated in UTC.
//!
//! Accepted forms:
//!
//! * 5-field crontab `min hour day-of-month month day-of-week` (`*/15 * * * *`, `0 9 * * 1-5`),
//!   with crontab's day-of-week numbering: 0 and 7 are Sunday, 1 is Monday … 6 is Saturday,
//!   names `MON`…`SUN` and `JAN`…`DEC` too;
//! * 6 fields, seconds first (`30 */5 * * * *`);
//! * macros `@hourly`, `@daily`, `@midnight`, `@weekly`, `@monthly`, `@yearly`, `@annually`.
//!
//! As in crontab, when both day-of-month and day-of-week are restricted a day matching either
//! fires (`0 0 1 * 1`: the 1st of the month and every Monday).
//!
//! Evaluation is delegated to the `croner` crate, which implements exactly these crontab
//! semantics (no rewriting of the expression is needed, unlike the `cron` crate, whose weekdays
//! are numbered 1 = Sunday).

use chrono::{DateTime, Utc};
use std::fmt;

/// A cron expression that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cron {expr:?}: {reason}")]
pub struct CronError {
    /// The expression as written.
    pub expr: String,
    /// The field at fault (`minute`, `day-of-week`, …), when one is.
    pub field: Option<&'static str>,
    /// Why, naming the field and the accepted forms.
    pub reason: String,
}

/// The accepted forms, for error messages.
pub const CRON_FORMS: &str = "expected 5 fields `min hour day-of-month month day-of-week` \
     (e.g. \"*/15 * * * *\", \"0 9 * * 1-5\"), 6 fields with seconds first, or @hourly, @daily, \
     @midnight, @weekly, @monthly, @yearly, @annually";

/// A parsed schedule.
#[derive(Debug, Clone)]
pub struct Cron {
    expr: String,
    inner: croner::Cron,
}

impl PartialEq for Cron {
    fn eq(&self, other: &Self) -> bool {
        self.expr == other.expr
    }
}

impl fmt::Display for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expr)
    }
}

/// Names of the fields of the 6-field form, and their ranges.
const FIELDS: [(&str, u32, u32); 6] = [
    ("second", 0, 59),
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day-of-month", 1, 31),
    ("month", 1, 12),
    ("day-of-week", 0, 7),
];

fn parser() -> croner::parser::CronParser {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .year(croner::parser::Year::Disallowed)
        .build()
}

impl Cron {
    /// Parses `expr` (see the module documentation for the forms).
    pub fn parse(expr: &str) -> Result<Cron, CronError> {
        let err = |field: Option<&'static str>, reason: String| CronError {
            expr: expr.to_string(),
            field,
            reason,
        };
        let trimmed = expr.trim();
        if trimmed.is_empty() {
            return Err(err(None, format!("it is empty; {CRON_FORMS}")));
        }
        let six: Vec<String> = if let Some(name) = trimmed.strip_prefix('@') {
            let fields = match name.to_ascii_lowercase().as_str() {
                "hourly" => "0 0 * * * *",
                "daily" | "midnight" => "0 0 0 * * *",
                "weekly" => "0 0 0 * * 0",
                "monthly" => "0 0 0 1 * *",
                "yearly" | "annually" => "0 0 0 1 1 *",
                _ => return Err(err(None, format!("unknown macro @{name}; {CRON_FORMS}"))),
            };
            fields.split(' ').map(str::to_string).collect()
        } else {
            let parts: Vec<&str> = trimmed.split_whitespace().collect();
            match parts.len() {
                5 => std::iter::once("0").chain(parts).map(str::to_string).collect(),
                6 => parts.into_iter().map(str::to_string).collect(),
                n => return Err(err(None, format!("it has {n} fields; {CRON_FORMS}"))),
            }
        };
        // Each field alone first, so the error can name it.
        for (i, (name, min, max)) in FIELDS.iter().enumerate() {
            let value = &six[i];
            if let Some(reason) = step_problem(value, *min, *max) {
                return Err(err(Some(name), format!("{name} field {value:?}: {reason}")));
            }
            let mut probe = ["*"; 6];
            probe[i] = value;
            if let Err(e) = parser().parse(&probe.join(" ")) {
                return Err(err(
                    Some(name),
                    format!(
                        "{name} field {value:?} is not valid ({min}-{max}, *, lists a,b, ranges a-b, steps */n): {e}"
                    ),
                ));
            }
        }
        let inner =
            parser().parse(&six.join(" ")).map_err(|e| err(None, format!("{e}; {CRON_FORMS}")))?;
        Ok(Cron { expr: trimmed.to_string(), inner })
    }

    /// The expression as written (trimmed).
    pub fn as_str(&self) -> &str {
        &self.expr
    }

    /// The first time the schedule fires strictly after `t` (UTC), if there is one.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // Schedules have whole-second resolution: start from the second `t` falls in, and
        // step past it when `t` is exactly on it.
        let floor = t.with_nanosecond_zero();
        let next = self.inner.find_next_occurrence(&floor, false).ok()?;
        (next > t).then_some(next)
    }
}

trait NanoZero {
    fn with_nanosecond_zero(self) -> Self;
}

impl NanoZero for DateTime<Utc> {
    fn with_nanosecond_zero(self) -> Self {
        use chrono::Timelike;
        self.with_nanosecond(0).unwrap_or(self)
    }
}

/// A step larger than the field's span (`*/61` in minutes) never repeats: refuse it, as
/// crontab does, rather than silently run once.
fn step_problem(value: &str, min: u32, max: u32) -> Option<String> {
    for part in value.split(',') {
        if let Some((_, step)) = part.split_once('/') {
            // Day-of-week has 7 days although 7 is an alias of 0.
            let span = if max == 7 { 7 } else { max - min + 1 };
            match step.parse::<u32>() {
                Ok(0) => return Some("a step of 0 never advances".to_string()),
                Ok(n) if n > span => {
                    return Some(format!("step /{n} is larger than the field's range {min}-{max}"));
                }
                Ok(_) => {}
                Err(_) => return Some(format!("step /{step} is not a number")),
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, TimeZone, Timelike, Weekday};

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    fn next(expr: &str, t: DateTime<Utc>) -> DateTime<Utc> {
        Cron::parse(expr).unwrap().next_after(t).unwrap()
    }

    /// The next `n` firing times after `t`.
    fn firings(expr: &str, t: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let c = Cron::parse(expr).unwrap();
        let mut out = Vec::new();
        let mut t = t;
        for _ in 0..n {
            t = c.next_after(t).unwrap();
            out.push(t);
        }
        out
    }

    #[test]
    fn five_fields_every_fifteen_minutes_strictly_after() {
        assert_eq!(next("*/15 * * * *", at(2026, 11, 22, 10, 7, 0)), at(2026, 11, 22, 10, 15, 0));
        // Exactly on a firing time: the next one, not the same.
        assert_eq!(next("*/15 * * * *", at(2026, 11, 22, 10, 15, 0)), at(2026, 11, 22, 10, 30, 0));
        // A fraction of a second past: still the next one.
        let t = at(2026, 11, 22, 10, 14, 59) + chrono::Duration::milliseconds(500);
        assert_eq!(next("*/15 * * * *", t), at(2026, 11, 22, 10, 15, 0));
        let t = at(2026, 11, 22, 10, 15, 0) + chrono::Duration::nanoseconds(1);
        assert_eq!(next("*/15 * * * *", t), at(2026, 11, 22, 10, 30, 0));
        assert_eq!(next("*/15 * * * *", at(2026, 12, 31, 23, 59, 0)), at(2027, 1, 1, 0, 0, 0));
    }

    #[test]
    fn weekdays_are_numbered_as_in_crontab() {
        // 2026-11-22 is a Sunday.
        assert_eq!(at(2026, 11, 22, 0, 0, 0).weekday(), Weekday::Sun);
        // 1-5 = Monday to Friday: from Saturday night the next is Monday 09:00.
        assert_eq!(next("0 9 * * 1-5", at(2026, 11, 21, 23, 0, 0)), at(2026, 11, 23, 9, 0, 0));
        let two_weeks = firings("0 9 * * 1-5", at(2026, 11, 21, 0, 0, 0), 10);
        let days: Vec<Weekday> = two_weeks.iter().map(|t| t.weekday()).collect();
        use Weekday::*;
        assert_eq!(days, [Mon, Tue, Wed, Thu, Fri, Mon, Tue, Wed, Thu, Fri]);
        assert!(two_weeks.iter().all(|t| t.hour() == 9 && t.minute() == 0));
        // 0 and 7 are both Sunday.
        assert_eq!(next("0 0 * * 0", at(2026, 11, 23, 0, 0, 0)), at(2026, 11, 29, 0, 0, 0));
        assert_eq!(next("0 0 * * 7", at(2026, 11, 23, 0, 0, 0)), at(2026, 11, 29, 0, 0, 0));
        assert_eq!(next("0 0 * * SUN", at(2026, 11, 23, 0, 0, 0)), at(2026, 11, 29, 0, 0, 0));
        // 6 is Saturday, names work.
        assert_eq!(next("0 0 * * 6", at(2026, 11, 22, 0, 0, 0)).weekday(), Sat);
        assert_eq!(next("0 0 * * MON-FRI", at(2026, 11, 21, 0, 0, 0)), at(2026, 11, 23, 0, 0, 0));
        // Lists, steps, stepped ranges.
        let days = |e: &str| -> Vec<Weekday> {
            firings(e, at(2026, 11, 22, 12, 0, 0), 4).iter().map(|t| t.weekday()).collect()
        };
        assert_eq!(days("0 0 * * 1,3"), [Mon, Wed, Mon, Wed]);
        assert_eq!(days("0 0 * * */2"), [Tue, Thu, Sat, Sun]); // 0,2,4,6
        assert_eq!(days("0 0 * * 1-5/2"), [Mon, Wed, Fri, Mon]); // 1,3,5
        assert_eq!(days("0 0 * * 5-7"), [Fri, Sat, Sun, Fri]);
    }

    #[test]
    fn day_of_month_or_day_of_week_as_in_crontab() {
        // The 1st of the month OR a Monday.
        let f = firings("0 0 1 * 1", at(2026, 11, 22, 0, 0, 0), 3);
        assert_eq!(
            f,
            [at(2026, 11, 23, 0, 0, 0), at(2026, 11, 30, 0, 0, 0), at(2026, 12, 1, 0, 0, 0)]
        );
    }

    #[test]
    fn six_fields_have_seconds_first() {
        assert_eq!(
            next("30 */5 * * * *", at(2026, 11, 22, 10, 0, 30)),
            at(2026, 11, 22, 10, 5, 30)
        );
        assert_eq!(next("0 0 9 * * 1-5", at(2026, 11, 21, 0, 0, 0)), at(2026, 11, 23, 9, 0, 0));
    }

    #[test]
    fn macros() {
        let t = at(2026, 11, 22, 10, 7, 0); // a Sunday
        assert_eq!(next("@hourly", t), at(2026, 11, 22, 11, 0, 0));
        assert_eq!(next("@daily", t), at(2026, 11, 23, 0, 0, 0));
        assert_eq!(next("@midnight", t), at(2026, 11, 23, 0, 0, 0));
        assert_eq!(next("@weekly", t), at(2026, 11, 29, 0, 0, 0));
        assert_eq!(next("@monthly", t), at(2026, 12, 1, 0, 0, 0));
        assert_eq!(next("@yearly", t), at(2027, 1, 1, 0, 0, 0));
        assert_eq!(next("@annually", t), at(2027, 1, 1, 0, 0, 0));
        assert_eq!(next("@HOURLY", t), at(2026, 11, 22, 11, 0, 0));
    }

    #[test]
    fn as_written() {
        assert_eq!(Cron::parse(" */15 * * * * ").unwrap().as_str(), "*/15 * * * *");
        assert_eq!(Cron::parse("@daily").unwrap().to_string(), "@daily");
    }

    #[test]
    fn errors_name_the_field() {
        let field = |e: &str| Cron::parse(e).unwrap_err().field;
        assert_eq!(field("*/61 * * * *"), Some("minute"));
        assert_eq!(field("60 * * * *"), Some("minute"));
        assert_eq!(field("0 24 * * *"), Some("hour"));
        assert_eq!(field("0 0 32 * *"), Some("day-of-month"));
        assert_eq!(field("0 0 0 * *"), Some("day-of-month"));
        assert_eq!(field("0 0 * 13 *"), Some("month"));
        assert_eq!(field("0 0 * * 8"), Some("day-of-week"));
        assert_eq!(field("0 0 * * FOO"), Some("day-of-week"));
        assert_eq!(field("61 * * * * *"), Some("second"));
        assert_eq!(field("*/0 * * * *"), Some("minute"));
        let e = Cron::parse("*/61 * * * *").unwrap_err();
        assert!(e.to_string().contains("minute field \"*/61\""), "{e}");
        for bad in ["", "* * * *", "* * * * * * *", "@fortnightly", "every hour"] {
            let e = Cron::parse(bad).unwrap_err();
            assert!(e.to_string().contains("expected 5 fields") || e.field.is_some(), "{bad}: {e}");
        }
    }
}
