//! Which process holds a call in the shared ledger, and whether it still lives: the pid and the
//! kernel's start time of that pid, read from `/proc`, so a pid reused by another program is
//! not taken for the caller. Where `/proc` is missing, no owner is recorded and dead callers'
//! calls are reaped by age alone, as before.

use super::ledger::Owner;
use std::sync::OnceLock;

/// This process, read once.
pub fn this_process() -> Option<Owner> {
    static ME: OnceLock<Option<Owner>> = OnceLock::new();
    *ME.get_or_init(|| {
        let pid = std::process::id();
        start_time(pid).map(|started| Owner { pid, started })
    })
}

/// Whether `owner` is still running: a process with its pid exists and started when it did.
/// When that cannot be told (no `/proc`), it is taken as alive.
pub fn is_alive(owner: &Owner) -> bool {
    // This process needs no look: the ledger holds its own calls on every access.
    if this_process() == Some(*owner) || !std::path::Path::new("/proc/self/stat").exists() {
        return true;
    }
    start_time(owner.pid) == Some(owner.started)
}

/// Field 22 of `/proc/<pid>/stat`: when the process started, in clock ticks since boot.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_time(&stat)
}

/// The command name (field 2) is in parentheses and may hold spaces or `)`: fields are counted
/// from the last `)`, where field 3 begins.
fn parse_start_time(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_ascii_whitespace().nth(22 - 3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_is_field_22_even_with_odd_command_names() {
        let stat = "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 \
                    10000 200 18446744073709551615";
        assert_eq!(parse_start_time(stat), Some(987_654));
        assert_eq!(parse_start_time("1 (x) S 1"), None);
        assert_eq!(parse_start_time("garbage"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_is_alive_and_a_changed_start_time_is_not() {
        let me = this_process().expect("/proc/self/stat is readable on Linux");
        assert!(is_alive(&me));
        assert!(!is_alive(&Owner { started: me.started + 1, ..me }));
        assert!(!is_alive(&Owner { pid: u32::MAX, ..me }));
    }
}
