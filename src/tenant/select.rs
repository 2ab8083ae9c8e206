//! Which tenants a command serves: `--tenant NAME` (repeatable, comma-separated) and
//! `--shard I/N`, which splits the selected tenants among N machines with no coordination.
//!
//! Sharding is rendezvous (highest-random-weight) hashing: tenant `t` goes to the shard `i` in
//! `1..=N` with the largest weight `SHA-256(t ‖ 0x00 ‖ i as u32 big-endian)` (its first 8 bytes,
//! big-endian; ties to the lower `i`). Every machine computes the same answer from the name
//! alone, and going from N to N+1 machines moves only the tenants the new shard wins (about
//! 1/(N+1) of them) while the others stay where they were.

use super::TenantConfig;
use std::fmt;
use std::str::FromStr;

/// The most shards a tenant list can be split into.
pub const MAX_SHARDS: u32 = 10_000;

/// `--shard I/N`: the I-th (1-based) of N shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which share, 1 to `count`.
    pub index: u32,
    /// How many shares.
    pub count: u32,
}

impl Shard {
    /// The whole: one shard of one.
    pub const ALL: Shard = Shard { index: 1, count: 1 };
}

impl FromStr for Shard {
    type Err = String;

    /// `I/N`; an empty value (`HUNT_SHARD=` set but empty) is the whole, `1/1`.
    fn from_str(s: &str) -> Result<Shard, String> {
        if s.trim().is_empty() {
            return Ok(Shard::ALL);
        }
        let bad = || {
            format!(
                "{s:?} is not a shard: write I/N with 1 <= I <= N <= {MAX_SHARDS}, e.g. 2/3 \
                 (the second of three machines)"
            )
        };
        let (i, n) = s.trim().split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count || count > MAX_SHARDS {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The weight of `name` on shard `index`.
fn weight(name: &str, index: u32) -> u64 {
    let mut input = Vec::with_capacity(name.len() + 5);
    input.extend_from_slice(name.as_bytes());
    input.push(0);
    input.extend_from_slice(&index.to_be_bytes());
    let digest = ring::digest::digest(&ring::digest::SHA256, &input);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_ref()[..8]);
    u64::from_be_bytes(first)
}

/// The shard (1-based) of `name` among `count` shards.
pub fn shard_of(name: &str, count: u32) -> u32 {
    let mut best = (1, weight(name, 1));
    for i in 2..=count.max(1) {
        let w = weight(name, i);
        if w > best.1 {
            best = (i, w);
        }
    }
    best.0
}

/// A `--tenant` or `--shard` that cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    /// Names that are not in `hunt.toml`.
    #[error(
        "unknown tenant{} {}: hunt.toml names {}",
        if unknown.len() > 1 { "s" } else { "" },
        unknown.join(", "),
        if configured.is_empty() { "none".to_owned() } else { configured.join(", ") }
    )]
    Unknown {
        /// The names not found.
        unknown: Vec<String>,
        /// The names configured.
        configured: Vec<String>,
    },
    /// `--tenant` or `--shard` without `[[tenant]]` tables.
    #[error(
        "{flag} needs [[tenant]] tables in hunt.toml; without them hunt serves the one tenant \
         of AZURE_TENANT_ID"
    )]
    NoTenants {
        /// `--tenant` or `--shard`.
        flag: &'static str,
    },
}

/// The tenants a command serves, in the file's order.
#[derive(Debug)]
pub struct Selection<'a> {
    /// The tenants of this shard.
    pub tenants: Vec<&'a TenantConfig>,
    /// How many were selected by name before sharding.
    pub selected: usize,
}

/// Picks `names` (all when empty) from `all`, then the tenants of `shard`.
pub fn select<'a>(
    all: &'a [TenantConfig],
    names: &[String],
    shard: Option<Shard>,
) -> Result<Selection<'a>, SelectError> {
    if all.is_empty() {
        return match (names.is_empty(), shard) {
            (false, _) => Err(SelectError::NoTenants { flag: "--tenant" }),
            (true, Some(s)) if s != Shard::ALL => Err(SelectError::NoTenants { flag: "--shard" }),
            (true, _) => Ok(Selection { tenants: Vec::new(), selected: 0 }),
        };
    }
    let mut unknown: Vec<String> = Vec::new();
    for n in names.iter().filter(|n| !all.iter().any(|t| t.name() == n.as_str())) {
        let shown = format!("{n:?}");
        if !unknown.contains(&shown) {
            unknown.push(shown);
        }
    }
    if !unknown.is_empty() {
        let configured = all.iter().map(|t| t.name().to_owned()).collect();
        return Err(SelectError::Unknown { unknown, configured });
    }
    let chosen: Vec<&TenantConfig> =
        all.iter().filter(|t| names.is_empty() || names.iter().any(|n| n == t.name())).collect();
    let selected = chosen.len();
    let tenants = match shard {
        Some(s) => chosen.into_iter().filter(|t| shard_of(t.name(), s.count) == s.index).collect(),
        None => chosen,
    };
    Ok(Selection { tenants, selected })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_refuse_nonsense() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        assert_eq!(" 1 / 1 ".parse::<Shard>(), Ok(Shard { index: 1, count: 1 }));
        assert_eq!(Shard { index: 3, count: 7 }.to_string(), "3/7");
        assert_eq!("".parse::<Shard>(), Ok(Shard::ALL), "HUNT_SHARD set but empty");
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", "-1/3", "1/3/4", "/", "1/10001"] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(e.contains("I/N"), "{bad}: {e}");
        }
    }

    /// Fixed answers: a change of the hash or of its input would move tenants between machines
    /// that already share them, so it must be caught here.
    #[test]
    fn assignment_is_stable() {
        let names = ["contoso", "fabrikam", "northwind", "adatum", "woodgrove", "tailspin"];
        let by_3: Vec<u32> = names.iter().map(|n| shard_of(n, 3)).collect();
        let by_5: Vec<u32> = names.iter().map(|n| shard_of(n, 5)).collect();
        assert_eq!(by_3, EXPECTED_3);
        assert_eq!(by_5, EXPECTED_5);
        assert!(names.iter().all(|n| shard_of(n, 1) == 1));
        assert_eq!(weight("contoso", 1), EXPECTED_WEIGHT);
    }

    // Computed independently (Python's hashlib) from the definition in the module doc.
    const EXPECTED_3: [u32; 6] = [2, 3, 3, 2, 1, 1];
    const EXPECTED_5: [u32; 6] = [5, 3, 3, 2, 4, 5];
    const EXPECTED_WEIGHT: u64 = 1_351_072_752_677_663_143;

    fn names(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("tenant-{i:04}")).collect()
    }

    #[test]
    fn a_thousand_tenants_spread_evenly() {
        let all = names(1000);
        for count in [2u32, 3, 7, 10] {
            let mut per = vec![0usize; count as usize];
            for n in &all {
                let s = shard_of(n, count);
                assert!((1..=count).contains(&s));
                per[(s - 1) as usize] += 1;
            }
            let fair = 1000.0 / f64::from(count);
            for (i, &k) in per.iter().enumerate() {
                // Binomial spread: within 25% of a fair share at these sizes.
                assert!(
                    (k as f64 - fair).abs() < fair * 0.25,
                    "{count} shards: shard {} has {k}: {per:?}",
                    i + 1
                );
            }
        }
    }

    #[test]
    fn one_more_machine_moves_only_the_tenants_it_takes() {
        let all = names(1000);
        for count in [1u32, 2, 3, 9] {
            let mut moved = 0;
            for n in &all {
                let (before, after) = (shard_of(n, count), shard_of(n, count + 1));
                if before != after {
                    assert_eq!(after, count + 1, "{n} moved between old shards");
                    moved += 1;
                }
            }
            let expected = 1000.0 / f64::from(count + 1);
            assert!(
                (moved as f64 - expected).abs() < expected * 0.3,
                "{count}→{}: {moved} moved",
                count + 1
            );
        }
    }

    fn configs(names: &[String]) -> Vec<TenantConfig> {
        let text: String = names.iter().map(|n| format!("[[tenant]]\nname = \"{n}\"\n")).collect();
        #[derive(serde::Deserialize)]
        struct File {
            tenant: Vec<TenantConfig>,
        }
        toml::from_str::<File>(&text).unwrap().tenant
    }

    #[test]
    fn every_tenant_lands_in_exactly_one_shard() {
        let all = configs(&names(50));
        for count in [1u32, 3, 4, 50, 64] {
            let mut seen: Vec<&str> = Vec::new();
            for index in 1..=count {
                let sel = select(&all, &[], Some(Shard { index, count })).unwrap();
                assert_eq!(sel.selected, 50);
                seen.extend(sel.tenants.iter().map(|t| t.name()));
            }
            seen.sort_unstable();
            let mut want: Vec<&str> = all.iter().map(TenantConfig::name).collect();
            want.sort_unstable();
            assert_eq!(seen, want, "{count} shards");
        }
    }

    #[test]
    fn names_select_and_unknown_names_list_the_configured_ones() {
        let all = configs(&["a".into(), "b".into(), "c".into()]);
        let pick = |n: &[&str]| {
            let n: Vec<String> = n.iter().map(|s| (*s).to_owned()).collect();
            select(&all, &n, None)
                .map(|s| s.tenants.iter().map(|t| t.name().to_owned()).collect::<Vec<_>>())
        };
        assert_eq!(pick(&[]).unwrap(), ["a", "b", "c"]);
        assert_eq!(pick(&["c", "a", "c"]).unwrap(), ["a", "c"]);
        let e = pick(&["a", "zz", "A"]).unwrap_err().to_string();
        assert_eq!(e, "unknown tenants \"zz\", \"A\": hunt.toml names a, b, c");
        let e = select(&[], &["a".into()], None).unwrap_err();
        assert_eq!(e, SelectError::NoTenants { flag: "--tenant" });
        let e = select(&[], &[], Some(Shard { index: 1, count: 2 })).unwrap_err();
        assert!(e.to_string().starts_with("--shard needs [[tenant]] tables"), "{e}");
        assert!(select(&[], &[], None).unwrap().tenants.is_empty());
        assert!(select(&[], &[], Some(Shard::ALL)).unwrap().tenants.is_empty());
    }
}
