//! A Defender Experts Notification whose lifecycle the emulator plays over time, as the
//! service's incident moves: new → assigned to Defender Experts → assigned to the Customer and
//! awaiting the customer's action → resolved with a classification and determination. Each
//! step is reached a set time after the emulator starts; tests move the emulator's DEN time on
//! ([`crate::emulator::Emulator::advance_den_time`]) instead of waiting.

use super::incidents::{DenKind, Incident};
use std::time::Duration;

/// The scripted DEN.
#[derive(Debug, Clone, PartialEq)]
pub struct DenScript {
    /// Its incident id.
    pub id: u64,
    /// When each step is reached, after the emulator starts: new, assigned to Defender
    /// Experts, awaiting the customer's action, resolved.
    pub steps: [Duration; 4],
}

impl DenScript {
    /// Id 9100, new at once and one step every `step`.
    pub fn every(step: Duration) -> DenScript {
        DenScript { id: 9100, steps: [Duration::ZERO, step, step * 2, step * 3] }
    }

    /// The recommended hunting query it carries.
    pub const QUERY: &'static str = "DeviceProcessEvents\n| where ProcessCommandLine has \"-enc\"\n| project Timestamp, DeviceName, ProcessCommandLine";

    /// The incident at `now_ms`, the emulator having started at `start_ms`; None before its
    /// first step.
    pub fn at(&self, start_ms: i64, now_ms: i64) -> Option<Incident> {
        let ms = |d: Duration| start_ms + i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4);
        let step = self.steps.iter().rposition(|d| ms(*d) <= now_ms)?;
        let (status, assigned_to, verdict) = match step {
            0 => ("active", None, ("unknown", "unknown")),
            1 => ("inProgress", Some("Defender Experts"), ("unknown", "unknown")),
            2 => ("awaitingAction", Some("Customer"), ("unknown", "unknown")),
            _ => ("resolved", Some("Customer"), ("truePositive", "malware")),
        };
        Some(Incident {
            id: self.id,
            title: "Defender Experts: Raspberry Robin worm on device-900".into(),
            created_ms: ms(self.steps[0]),
            updated_ms: ms(self.steps[step]),
            severity: "high",
            status,
            den: Some(DenKind::Title),
            assigned_to,
            verdict,
            queries: vec![DenScript::QUERY.into()],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_steps_follow_time() {
        let s = DenScript::every(Duration::from_secs(60));
        assert_eq!(s.at(1_000, 999), None);
        let steps: Vec<_> = [1_000, 61_000, 121_000, 181_000, 999_999]
            .iter()
            .map(|t| {
                let i = s.at(1_000, *t).unwrap();
                (i.status, i.assigned_to, i.updated_ms)
            })
            .collect();
        assert_eq!(
            steps,
            [
                ("active", None, 1_000),
                ("inProgress", Some("Defender Experts"), 61_000),
                ("awaitingAction", Some("Customer"), 121_000),
                ("resolved", Some("Customer"), 181_000),
                ("resolved", Some("Customer"), 181_000),
            ]
        );
        assert_eq!(s.at(1_000, 181_000).unwrap().verdict, ("truePositive", "malware"));
    }
}
