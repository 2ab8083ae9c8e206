//! Tests that the synthetic world is realistic enough for typical hunting predicates: the
//! enumerations occur, fields line up within a row, process trees hold, and the inventory
//! tables join.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use super::procs::{PROCS, index, tree};

use super::{Cell, TICKS_PER_HOUR, actions, rows, table};

const T0: i64 = 1_795_000_000 * 10_000_000;
/// The default density of `hunt emulator`.
const EPH: u32 = 360;

/// A day of `table` as maps from column name to cell.
fn day(name: &str) -> Vec<HashMap<&'static str, Cell>> {
    let cols = &table(name).unwrap().columns;
    rows(name, T0, T0 + 24 * TICKS_PER_HOUR, EPH)
        .unwrap()
        .map(|r| cols.iter().map(|c| c.0).zip(r).collect())
        .collect()
}

fn text<'a>(row: &'a HashMap<&'static str, Cell>, col: &str) -> &'a str {
    match row.get(col) {
        Some(Cell::Str(v)) => v,
        _ => "",
    }
}

fn fields(row: &HashMap<&'static str, Cell>) -> Value {
    match row.get("AdditionalFields") {
        Some(Cell::Str(v)) => serde_json::from_str(v).unwrap_or(Value::Null),
        Some(Cell::Dyn(v)) => v.clone(),
        _ => Value::Null,
    }
}

#[test]
fn every_device_events_action_type_occurs_in_a_day_with_its_fields() {
    let rows = day("DeviceEvents");
    let seen: BTreeSet<&str> = rows.iter().map(|r| text(r, "ActionType")).collect();
    for a in actions::DEVICE_EVENTS {
        assert!(seen.contains(a), "{a} never occurs");
    }
    // The keys real events carry, in the same row as their action.
    for (action, key) in [
        ("AntivirusDetection", "ThreatName"),
        ("AntivirusDetection", "WasRemediated"),
        ("PowerShellCommand", "Command"),
        ("ScheduledTaskCreated", "TaskName"),
        ("ScheduledTaskCreated", "TaskContent"),
        ("UsbDriveMounted", "DriveLetter"),
        ("UsbDriveMounted", "SerialNumber"),
        ("ExploitGuardNetworkProtectionBlocked", "ResponseCategory"),
        ("LdapSearch", "SearchFilter"),
        ("SmartScreenUserOverride", "Experience"),
        ("NamedPipeEvent", "PipeName"),
    ] {
        let with: Vec<_> = rows.iter().filter(|r| text(r, "ActionType") == action).collect();
        assert!(!with.is_empty(), "{action}");
        assert!(with.iter().all(|r| fields(r).get(key).is_some()), "{action}: {key} missing");
    }
}

#[test]
fn network_events_carry_inspections_service_ports_and_typed_addresses() {
    let rows = day("DeviceNetworkEvents");
    let seen: BTreeSet<&str> = rows.iter().map(|r| text(r, "ActionType")).collect();
    for a in actions::NETWORK_EVENTS {
        assert!(seen.contains(a), "{a} never occurs");
    }
    let http: Vec<_> =
        rows.iter().filter(|r| text(r, "ActionType") == "HttpConnectionInspected").collect();
    assert!(http.iter().all(|r| fields(r).get("user_agent").is_some()));
    let ssl = rows.iter().find(|r| text(r, "ActionType") == "SslConnectionInspected").unwrap();
    assert!(fields(ssl).get("server_name").is_some() && fields(ssl).get("ja3").is_some());
    // Inbound connections arrive on a service port, e.g. RDP.
    assert!(rows.iter().any(|r| text(r, "ActionType") == "InboundConnectionAccepted"
        && r.get("LocalPort") == Some(&Cell::Int(3389))));
    for r in &rows {
        let ip = text(r, "RemoteIP");
        let ty = text(r, "RemoteIPType");
        if ip.starts_with("10.") || ip.starts_with("192.168.") {
            assert_eq!(ty, "Private", "{ip}");
        }
        if ip == "8.8.8.8" {
            assert_eq!(ty, "Public");
        }
    }
}

#[test]
fn processes_form_trees_and_carry_tradecraft() {
    let rows = day("DeviceProcessEvents");
    let t = tree();
    for r in &rows {
        let (child, parent, grand) = (
            text(r, "FileName"),
            text(r, "InitiatingProcessFileName"),
            text(r, "InitiatingProcessParentFileName"),
        );
        // Some images share a name (a masquerading copy): any of them may be the one.
        let starts = |parent: &str, child: &str| {
            let p = index(parent).unwrap();
            PROCS.iter().enumerate().any(|(i, c)| c.file == child && t.parents[i].contains(&p))
        };
        assert!(starts(parent, child), "{parent} does not start {child}");
        assert!(starts(grand, parent), "{grand} does not start {parent}");
        assert!(text(r, "FolderPath").ends_with(child));
    }
    let office = ["WINWORD.EXE", "EXCEL.EXE", "OUTLOOK.EXE"];
    assert!(
        rows.iter().any(|r| office.contains(&text(r, "InitiatingProcessFileName"))
            && text(r, "FileName") == "powershell.exe"
            && (text(r, "ProcessCommandLine").contains(" -enc ")
                || text(r, "ProcessCommandLine").contains("-EncodedCommand"))),
        "an Office macro runs encoded PowerShell"
    );
    let cmd = |needle: &str| rows.iter().any(|r| text(r, "ProcessCommandLine").contains(needle));
    for needle in [
        "-urlcache -split -f http",
        "comsvcs.dll, MiniDump",
        "vssadmin.exe delete shadows /all /quiet",
        "/i:http",
        "reg save hklm\\sam",
        "procdump64.exe -accepteula -ma lsass",
        "nltest /domain_trusts",
    ] {
        assert!(cmd(needle), "no command line with {needle}");
    }
    // Everyday software carries much of the weight, so tradecraft stays a minority.
    let everyday = [
        "svchost.exe",
        "msedge.exe",
        "chrome.exe",
        "conhost.exe",
        "OneDrive.exe",
        "WINWORD.EXE",
        "EXCEL.EXE",
        "OUTLOOK.EXE",
        "Teams.exe",
        "ms-teams.exe",
        "SearchProtocolHost.exe",
        "taskhostw.exe",
        "dllhost.exe",
        "backgroundTaskHost.exe",
        "firefox.exe",
    ];
    let benign = rows.iter().filter(|r| everyday.contains(&text(r, "FileName"))).count();
    assert!(benign * 10 > rows.len() * 3, "{benign} of {}", rows.len());
    assert!(PROCS.len() > 80);
}

#[test]
fn registry_and_file_events_touch_persistence_and_ransomware_paths() {
    let reg = day("DeviceRegistryEvents");
    assert!(reg.iter().any(|r| text(r, "RegistryKey").contains(r"Windows Defender\Exclusions")));
    assert!(reg.iter().any(|r| text(r, "RegistryKey").ends_with(r"CurrentVersion\Run")));
    assert!(reg.iter().all(|r| !text(r, "RegistryKey").starts_with("RegistryKey")));
    let files = day("DeviceFileEvents");
    let renamed = files.iter().find(|r| text(r, "FileName").ends_with(".lockbit")).unwrap();
    assert!(text(renamed, "FolderPath").ends_with(".lockbit"));
    assert!(text(renamed, "PreviousFileName").ends_with(".xlsx"));
}

/// The values of `col` over a table's rows.
fn column(name: &str, col: &str) -> BTreeSet<String> {
    let cols = &table(name).unwrap().columns;
    let i = cols.iter().position(|c| c.0 == col).unwrap();
    rows(name, T0, T0 + 24 * TICKS_PER_HOUR, EPH)
        .unwrap()
        .filter_map(|r| match &r[i] {
            Cell::Str(v) => Some(v.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn tvm_tables_join_on_their_ids() {
    let assessed = column("DeviceTvmSecureConfigurationAssessment", "ConfigurationId");
    let kb = column("DeviceTvmSecureConfigurationAssessmentKB", "ConfigurationId");
    assert!(assessed.contains("scid-2012") && assessed.is_subset(&kb), "{assessed:?} {kb:?}");
    let cves = column("DeviceTvmSoftwareVulnerabilities", "CveId");
    let cve_kb = column("DeviceTvmSoftwareVulnerabilitiesKB", "CveId");
    assert!(cves.contains("CVE-2021-44228") && cves.is_subset(&cve_kb));
    let vulnerable = column("DeviceTvmSoftwareVulnerabilities", "SoftwareName");
    let installed = column("DeviceTvmSoftwareInventory", "SoftwareName");
    assert!(vulnerable.is_subset(&installed), "{vulnerable:?} {installed:?}");
    let status = column("DeviceInfo", "OnboardingStatus");
    assert!(status.contains("Onboarded") && status.contains("Can be onboarded"));
}

#[test]
fn bursts_cross_brute_force_thresholds_and_mailbox_audits_carry_folders() {
    // Failed logons per account per 15 minutes: a burst crosses 20, quiet windows do not.
    let mut per: HashMap<(String, i64), u32> = HashMap::new();
    for r in day("IdentityLogonEvents") {
        if text(&r, "ActionType") == "LogonFailed" {
            let Some(Cell::Time(t)) = r.get("Timestamp") else { panic!() };
            let bin = t / (15 * 60 * 10_000_000);
            *per.entry((text(&r, "AccountUpn").to_owned(), bin)).or_default() += 1;
        }
    }
    let loud = per.values().filter(|&&n| n >= 20).count();
    assert!(loud > 0 && loud * 4 < per.len(), "{loud} of {}", per.len());
    let audits = day("CloudAppEvents");
    let mail: Vec<_> =
        audits.iter().filter(|r| text(r, "ActionType") == "MailItemsAccessed").collect();
    assert!(!mail.is_empty());
    for r in mail {
        let Some(Cell::Dyn(raw)) = r.get("RawEventData") else {
            panic!("{:?}", r.get("RawEventData"))
        };
        assert!(raw["Folders"][0]["Path"].is_string() && raw["MailboxOwnerUPN"].is_string());
    }
}
