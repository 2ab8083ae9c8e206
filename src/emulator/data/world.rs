//! The devices and accounts of each emulated tenant. The default tenant (seed 0) has the
//! hand-written entities of `data`; every other tenant gets its own, drawn from its seed: an
//! organisation and domain, 4 to 16 devices with their own names, addresses and ids, and the
//! built-in accounts moved to its domain (its own SIDs and object ids) plus up to 7 people of
//! its own. A tenant's entities are made once and kept for the life of the process (a few KB
//! each), so rows can borrow them as they borrow the default's constants.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use super::{ACCOUNTS, Account, DEVICES, Device, Ids, guid, hex, mix, sid, str_seed};

/// The entities of one tenant, with the values derived from them once.
pub(super) struct World {
    /// The tenant's seed, mixed into every table's (0: the default tenant).
    pub(super) salt: u64,
    pub(super) devices: Vec<Device>,
    pub(super) accounts: Vec<Account>,
    /// `DeviceId` of each device.
    pub(super) device_ids: Vec<String>,
    /// SID and object id of each account.
    pub(super) ids: Vec<Ids>,
}

/// The default tenant's domain SID.
const DEFAULT_DOMAIN_SID: &str = "S-1-5-21-1004336348-1177238915-682003330";

const ORGS: &[&str] = &[
    "fabrikam",
    "northwind",
    "adatum",
    "tailspin",
    "woodgrove",
    "litware",
    "proseware",
    "wingtip",
    "alpineski",
    "fourthcoffee",
    "wideworld",
    "lucerne",
    "treyresearch",
    "cohowinery",
    "relecloud",
    "margiestravel",
];

const HOSTS: &[(&str, &str)] = &[
    ("ws-fin", "Windows10"),
    ("ws-hr", "Windows11"),
    ("dc", "WindowsServer2022"),
    ("sql-prod", "WindowsServer2019"),
    ("laptop", "Windows11"),
    ("build-agent", "WindowsServer2022"),
    ("exch", "WindowsServer2019"),
    ("kiosk", "Windows10"),
    ("ws-eng", "Windows11"),
    ("web", "WindowsServer2022"),
    ("ws-ops", "Windows10"),
    ("vdi", "Windows11"),
];

const GIVEN: &[&str] = &[
    "amira", "bogdan", "chen", "dagny", "emeka", "farah", "goran", "hana", "inès", "jonas",
    "kalani", "luca", "mei", "nadia", "oskar", "priya",
];

const FAMILY: &[&str] = &[
    "kovacs", "santos", "okafor", "nair", "ivanova", "berg", "haddad", "tanaka", "novak", "silva",
    "murphy", "schmidt",
];

/// The entities of the tenant seeded `tenant`.
pub(super) fn world(tenant: u64) -> &'static World {
    static DEFAULT: OnceLock<World> = OnceLock::new();
    static OTHERS: OnceLock<Mutex<HashMap<u64, &'static World>>> = OnceLock::new();
    if tenant == 0 {
        return DEFAULT
            .get_or_init(|| made(0, DEVICES.to_vec(), ACCOUNTS.to_vec(), DEFAULT_DOMAIN_SID));
    }
    let others = OTHERS.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = others.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    map.entry(tenant).or_insert_with(|| Box::leak(Box::new(drawn(tenant))))
}

/// A world with its derived ids.
fn made(salt: u64, devices: Vec<Device>, accounts: Vec<Account>, domain_sid: &str) -> World {
    let device_ids = devices.iter().map(|d| hex(str_seed(d.name) ^ salt, 40)).collect();
    let ids = accounts
        .iter()
        .map(|a| Ids {
            sid: sid(a, domain_sid),
            object_id: a.upn.is_some().then(|| guid(str_seed(a.name) ^ salt)),
        })
        .collect();
    World { salt, devices, accounts, device_ids, ids }
}

/// Kept for the life of the process: a tenant's world is made once.
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// The entities of a tenant other than the default one, drawn from its seed.
fn drawn(t: u64) -> World {
    let h = |salt: u64| mix(t ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let pick = |salt: u64, n: usize| (h(salt) % n as u64) as usize;
    let org = ORGS[pick(1, ORGS.len())];
    let n = h(2) % 100;
    let domain = format!("{org}{n:02}.com");
    let netbios = leak(format!("{}{n:02}", org.to_uppercase()));
    let devices = (0..4 + pick(3, 13) as u64)
        .map(|i| {
            let (host, os) = HOSTS[pick(100 + i, HOSTS.len())];
            Device {
                name: leak(format!("{host}-{:04}.{domain}", h(200 + i) % 10_000)),
                ip: leak(format!(
                    "10.{}.{}.{}",
                    h(300 + i) % 256,
                    h(400 + i) % 256,
                    1 + h(500 + i) % 254
                )),
                os,
            }
        })
        .collect();
    let moved = ACCOUNTS.iter().map(|a| {
        if a.domain == "NT AUTHORITY" {
            return *a;
        }
        let local = a.upn.and_then(|u| u.split_once('@')).map(|(l, _)| l);
        Account { domain: netbios, upn: local.map(|l| leak(format!("{l}@{domain}"))), ..*a }
    });
    let people = (0..pick(4, 8) as u64).map(|i| {
        let (g, f) = (GIVEN[pick(600 + i, GIVEN.len())], FAMILY[pick(700 + i, FAMILY.len())]);
        let cap = |w: &str| {
            let mut c = w.chars();
            c.next().map_or(String::new(), |first| first.to_uppercase().chain(c).collect())
        };
        Account {
            name: leak(format!("{g}.{f}")),
            domain: netbios,
            upn: Some(leak(format!("{g}.{f}@{domain}"))),
            display: leak(format!("{} {}", cap(g), cap(f))),
            rid: 1100 + (h(800 + i) % 8000) as u32,
        }
    });
    let accounts = moved.chain(people).collect();
    let domain_sid = format!(
        "S-1-5-21-{}-{}-{}",
        h(5) % 4_000_000_000,
        h(6) % 4_000_000_000,
        h(7) % 4_000_000_000
    );
    made(t, devices, accounts, &domain_sid)
}

#[cfg(test)]
mod tests {
    use super::super::{Cell, TICKS_PER_HOUR, rows, table, tenant_events_per_hour, tenant_rows};
    use super::*;
    use std::collections::BTreeSet;

    const T0: i64 = 1_795_000_000 * 10_000_000;

    /// The distinct values of `column` in a day of `table` for the tenant seeded `tenant`.
    fn values(table_name: &str, column: &str, tenant: u64) -> BTreeSet<String> {
        let i = table(table_name).unwrap().columns.iter().position(|c| c.0 == column).unwrap();
        tenant_rows(table_name, T0, T0 + 24 * TICKS_PER_HOUR, 60, tenant)
            .unwrap()
            .filter_map(|r| match &r[i] {
                Cell::Str(s) => Some(s.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_default_tenant_keeps_the_original_data() {
        let a: Vec<_> = rows("DeviceLogonEvents", T0, T0 + TICKS_PER_HOUR, 360).unwrap().collect();
        let b: Vec<_> =
            tenant_rows("DeviceLogonEvents", T0, T0 + TICKS_PER_HOUR, 360, 0).unwrap().collect();
        assert_eq!(a, b);
        assert!(values("DeviceProcessEvents", "DeviceName", 0).contains("ws-fin-0042.contoso.com"));
        assert_eq!(world(0).devices.len(), DEVICES.len());
    }

    #[test]
    fn tenants_have_their_own_devices_accounts_and_volumes() {
        let (a, b) =
            (crate::emulator::data::tenant_seed("t-a"), crate::emulator::data::tenant_seed("t-b"));
        assert!(a != 0 && b != 0 && a != b);
        // Devices and people are the tenant's own; SIDs and domains differ (the built-in
        // NT AUTHORITY accounts are everyone's).
        for column in ["DeviceName", "DeviceId", "AccountUpn", "AccountSid", "AccountDomain"] {
            let (va, vb, v0) = (
                values("DeviceProcessEvents", column, a),
                values("DeviceProcessEvents", column, b),
                values("DeviceProcessEvents", column, 0),
            );
            assert!(!va.is_empty() && !vb.is_empty(), "{column}");
            assert!(va != vb && va != v0, "{column}: {va:?} {vb:?}");
            if ["DeviceName", "DeviceId", "AccountUpn"].contains(&column) {
                assert!(va.is_disjoint(&vb) && va.is_disjoint(&v0), "{column}: {va:?} {vb:?}");
            }
        }
        // The same tenant, the same rows; devices named in the tenant's own domain.
        let again: Vec<_> =
            tenant_rows("AlertInfo", T0, T0 + TICKS_PER_HOUR, 360, a).unwrap().collect();
        assert_eq!(
            again,
            tenant_rows("AlertInfo", T0, T0 + TICKS_PER_HOUR, 360, a).unwrap().collect::<Vec<_>>()
        );
        let w = world(a);
        let domain = w.devices[0].name.split_once('.').unwrap().1;
        assert!(w.devices.iter().all(|d| d.name.ends_with(domain)), "{domain}");
        assert!((4..=16).contains(&w.devices.len()));
        assert!(w.accounts.len() >= ACCOUNTS.len());
        // Volumes: half to twice the configured density, stable per tenant.
        let counts: BTreeSet<u32> = (1..40)
            .map(|i| {
                tenant_events_per_hour(360, crate::emulator::data::tenant_seed(&format!("t{i}")))
            })
            .collect();
        assert!(counts.len() > 10, "{counts:?}");
        assert!(counts.iter().all(|c| (180..=720).contains(c)), "{counts:?}");
        assert_eq!(tenant_events_per_hour(360, 0), 360);
        assert_eq!(tenant_events_per_hour(0, a), 0);
        assert_eq!(tenant_events_per_hour(1, a), tenant_events_per_hour(1, a).max(1));
    }
}
