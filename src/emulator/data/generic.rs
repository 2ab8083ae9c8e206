//! The tables of the shipped Defender XDR schema (`schema.tsv`, from the documentation's
//! table pages) that have no hand-written generator: real column names and types, with values
//! drawn from the same entities as the hand-written tables (devices, accounts, processes,
//! IPs), so that joins on `DeviceId`, `DeviceName`, `AccountSid`, `SHA256`, … find matches, and
//! `ActionType` from each table's real enumeration where hunting queries filter on it.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::json;

use super::{
    Cell, Col, R, REMOTE_IPS, REMOTE_URLS, SENDERS, TICKS_PER_HOUR, TableSpec, guid, init_cmd,
    init_created, init_id, object_id, parent_file, parent_id, report_id, s, str_seed, upn,
};

/// `table \t column \t type` for every table of the schema.
const SCHEMA: &str = include_str!("schema.tsv");

/// Real `ActionType` values of the tables hunting queries filter on.
fn action_types(table: &str) -> &'static [&'static str] {
    match table {
        "DeviceEvents" => &[
            "AntivirusDetection",
            "ProcessPrimaryTokenModified",
            "ScreenshotTaken",
            "UserAccountCreated",
            "PowerShellCommand",
            "ScheduledTaskCreated",
            "NamedPipeEvent",
            "LdapSearch",
            "UsbDriveMounted",
            "ProcessCreatedUsingWmiQuery",
            "AsrLsassCredentialTheftBlocked",
            "UserAccountAddedToLocalGroup",
            "OpenProcessApiCall",
            "DnsQueryResponse",
            "BrowserLaunchedToOpenUrl",
            "AntivirusScanCompleted",
            "TamperingAttempt",
            "ExploitGuardNonMicrosoftSignedBlocked",
        ],
        "DeviceFileEvents" => &["FileCreated", "FileModified", "FileRenamed", "FileDeleted"],
        "DeviceRegistryEvents" => &[
            "RegistryValueSet",
            "RegistryKeyCreated",
            "RegistryKeyDeleted",
            "RegistryValueDeleted",
        ],
        "DeviceImageLoadEvents" => &["ImageLoaded"],
        "CloudAppEvents" => &[
            "FileDownloaded",
            "FileUploaded",
            "New-InboxRule",
            "Set-InboxRule",
            "MailItemsAccessed",
            "FileSyncDownloadedFull",
            "FileAccessed",
            "Add member to role.",
            "Consent to application.",
        ],
        "IdentityDirectoryEvents" => &[
            "Group Membership changed",
            "Account Password changed",
            "Directory Services replication",
            "SAM Account Name changed",
        ],
        "IdentityQueryEvents" => &["LDAP query", "SAMR query", "DNS query"],
        "EmailPostDeliveryEvents" => &["Phish ZAP", "Malware ZAP", "Moved to quarantine"],
        "UrlClickEvents" => &["ClickAllowed", "ClickBlocked", "UrlScanInProgress"],
        "DeviceNetworkInfo" => &["NetworkConfigurationChanged"],
        _ => &["Unknown"],
    }
}

const CVES: &[&str] =
    &["CVE-2021-44228", "CVE-2023-23397", "CVE-2024-21412", "CVE-2022-30190", "CVE-2021-34527"];
const SOFTWARE: &[(&str, &str, &str)] = &[
    ("microsoft", "exchange_server", "15.2.1118.7"),
    ("google", "chrome", "131.0.6778.86"),
    ("microsoft", "windows_10", "10.0.19045.3930"),
    ("oracle", "jre", "8.0.3810.9"),
    ("7-zip", "7-zip", "23.1.0.0"),
];
const COUNTRIES: &[(&str, &str)] =
    &[("US", "Seattle"), ("GB", "London"), ("DE", "Berlin"), ("JP", "Tokyo"), ("NL", "Amsterdam")];
const APPS: &[&str] =
    &["Microsoft Exchange Online", "Microsoft SharePoint Online", "Microsoft Teams", "Office 365"];
const URLS: &[&str] = &[
    "https://contoso.sharepoint.com/sites/finance/Shared%20Documents/Q3.xlsx",
    "http://198.51.100.7/payload.bin",
    "https://login.microsoftonline-secure.com/oauth2/authorize",
    "https://raw.githubusercontent.com/example/tools/main/run.ps1",
    "file://10.1.4.42/share/Invoice%204521.lnk",
];

type Gen = Box<dyn Fn(&R) -> Cell + Send + Sync>;

/// A column generator of a hand-written table, shared by the tables that borrow it.
type Shared = Arc<dyn Fn(&R) -> Cell + Send + Sync>;

/// The hand-written tables whose rows a schema table's rows line up with (row `k` of the
/// table takes these columns from row `k` of its anchor, so `AlertEvidence.AlertId` joins
/// `AlertInfo.AlertId` and `EmailUrlInfo.NetworkMessageId` joins `EmailEvents`).
fn anchors(table: &str) -> &'static [&'static str] {
    if table.starts_with("Email") || table.starts_with("UrlClick") {
        &["EmailEvents"]
    } else if table.starts_with("Alert") {
        &["AlertInfo", "DeviceProcessEvents"]
    } else if table.starts_with("Device") {
        &["DeviceProcessEvents", "DeviceNetworkEvents", "DeviceLogonEvents"]
    } else if table.starts_with("Identity")
        || table.starts_with("AAD")
        || table.starts_with("EntraId")
    {
        &["IdentityLogonEvents"]
    } else {
        &[]
    }
}

/// Specs of the schema's tables not in `known`.
pub(super) fn specs(known: &[&str]) -> Vec<TableSpec> {
    // The hand-written tables again, their generators shared by name.
    let mut borrowed: HashMap<(&'static str, &'static str), (&'static str, Shared)> =
        HashMap::new();
    for spec in super::hand_written() {
        for col in spec.cols {
            borrowed.insert((spec.name, col.name), (col.ty, Arc::from(col.f)));
        }
    }
    let mut out: Vec<TableSpec> = Vec::new();
    for line in SCHEMA.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let mut fields = line.split('\t');
        let (Some(table), Some(col), Some(ty)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if known.contains(&table) {
            continue;
        }
        if out.last().is_none_or(|t| t.name != table) {
            out.push(TableSpec { name: table, cols: Vec::new() });
        }
        let anchored = anchors(table).iter().find_map(|a| {
            borrowed.get(&(*a, col)).filter(|(t, _)| *t == ty).map(|(_, f)| (*a, Arc::clone(f)))
        });
        let f: Gen = match (own(table, col, ty), anchored) {
            (Some(f), _) => f,
            // Timestamps and actions stay the table's own.
            (None, Some((anchor, f))) if col != "Timestamp" && col != "ActionType" => {
                let seed = super::table_seed(anchor);
                Box::new(move |r: &R| f(&R::new(r.w, seed ^ r.w.salt, r.k, r.ts)))
            }
            _ => generator(table, col, ty),
        };
        if let Some(spec) = out.last_mut() {
            spec.cols.push(Col { name: col, ty, f });
        }
    }
    out
}

/// Files that file events touch: documents (some in folders named as sensitive), archives,
/// scripts and a control-panel item.
const FILES: &[&str] = &[
    "Q3 report.docx",
    "budget 2027.xlsx",
    "Invoice 4521.pdf",
    "board deck.pptx",
    "customers.zip",
    "update.ps1",
    "evil.cpl",
    "notes.txt",
    "Program.cs",
];
const FOLDERS: &[&str] =
    &["Documents\\Confidential", "Documents\\Projects", "Desktop\\Restricted", "Downloads"];
const DLLS: &[&str] = &["comsvcs.dll", "amsi.dll", "evil.cpl", "kernel32.dll", "dbghelp.dll"];

/// Generators that belong to one table only (file events touch files, not executables).
fn own(table: &str, col: &str, ty: &str) -> Option<Gen> {
    if (table, col, ty) == ("IdentityDirectoryEvents", "AdditionalFields", "Dynamic") {
        // Group membership changes name the group added to or removed from, and the target.
        return Some(Box::new(|r| {
            let group = r.pick(
                100,
                &["Domain Admins", "Enterprise Admins", "Backup Operators", "Finance Team"],
            );
            let key = if r.h(101).is_multiple_of(2) { "TO.GROUP" } else { "FROM.GROUP" };
            Cell::Dyn(json!({ key: group, "TARGET_OBJECT.USER": r.iacct.name }))
        }));
    }
    if ty != "String" {
        return None;
    }
    let g: Gen = match (table, col) {
        ("DeviceFileEvents", "FileName") => Box::new(|r| s(r.pick(97, FILES))),
        ("DeviceFileEvents", "FolderPath") => Box::new(|r| {
            let user = r.acct.name;
            Cell::Str(format!("C:\\Users\\{user}\\{}\\{}", r.pick(98, FOLDERS), r.pick(97, FILES)))
        }),
        // Archivers and sync clients write files too, not only the usual parents.
        ("DeviceFileEvents", "InitiatingProcessFileName") => Box::new(|r| {
            s(r.pick(
                102,
                &[
                    "explorer.exe",
                    "7z.exe",
                    "WinRAR.exe",
                    "OneDrive.exe",
                    "chrome.exe",
                    "powershell.exe",
                ],
            ))
        }),
        ("DeviceImageLoadEvents", "FileName") => Box::new(|r| s(r.pick(99, DLLS))),
        ("DeviceImageLoadEvents", "FolderPath") => {
            Box::new(|r| Cell::Str(format!("C:\\Windows\\System32\\{}", r.pick(99, DLLS))))
        }
        _ => return None,
    };
    Some(g)
}

/// The generator of `table.col` of type `ty`.
fn generator(table: &'static str, col: &'static str, ty: &'static str) -> Gen {
    let salt = str_seed(col);
    if let Some(g) = by_name(table, col, ty) {
        return g;
    }
    match ty {
        "DateTime" => {
            Box::new(move |r| Cell::Time(r.ts - (r.h(salt) % (24 * TICKS_PER_HOUR as u64)) as i64))
        }
        "Int64" | "Int32" => Box::new(move |r| Cell::Int((r.h(salt) % 100) as i64)),
        "Boolean" => Box::new(move |r| Cell::Bool(r.h(salt).is_multiple_of(4))),
        "Double" => Box::new(move |r| Cell::Real((r.h(salt) % 1000) as f64 / 10.0)),
        "Dynamic" => Box::new(|_| Cell::Dyn(json!({}))),
        _ if col.ends_with("Id") => {
            // A small pool per column, so values repeat and joins on them match.
            Box::new(move |r| Cell::Str(guid(salt ^ (r.h(salt) % 16))))
        }
        _ => Box::new(move |r| Cell::Str(format!("{col}{}", r.h(salt) % 8))),
    }
}

fn by_name(table: &'static str, col: &str, ty: &'static str) -> Option<Gen> {
    let string = ty == "String";
    let int = matches!(ty, "Int32" | "Int64");
    let g: Gen = match col {
        "Timestamp" if ty == "DateTime" => Box::new(|r| Cell::Time(r.ts)),
        "DeviceId" if string => Box::new(|r| s(r.dev_id)),
        "DeviceName" | "TargetDeviceName" | "DestinationDeviceName" if string => {
            Box::new(|r| s(r.device().name))
        }
        "OSPlatform" if string => Box::new(|r| s(r.device().os)),
        "LocalIP" | "IPAddress" | "DeviceIp" if string => Box::new(|r| s(r.device().ip)),
        "RemoteIP" | "DestinationIPAddress" | "FileOriginIP" if string => {
            Box::new(|r| s(r.pick(70, REMOTE_IPS)))
        }
        "RemoteUrl" if string => Box::new(|r| s(r.pick(71, REMOTE_URLS))),
        "Url" | "FileOriginUrl" | "UrlLocation" if string => Box::new(|r| s(r.pick(72, URLS))),
        "UrlDomain" if string => Box::new(|r| {
            let url = r.pick(72, URLS);
            s(url.split('/').nth(2).unwrap_or(url))
        }),
        "ActionType" if string => {
            let actions = action_types(table);
            Box::new(move |r| s(r.pick(73, actions)))
        }
        "AccountName" | "TargetAccountDisplayName" if string => Box::new(|r| s(r.acct.name)),
        "AccountDomain" if string => Box::new(|r| s(r.acct.domain)),
        "AccountSid" if string => Box::new(|r| Cell::Str(r.ids.sid.clone())),
        "AccountUpn" | "RecipientEmailAddress" | "UserId" if string => Box::new(|r| upn(r.acct)),
        "AccountObjectId" if string => Box::new(|r| object_id(r.ids)),
        "AccountDisplayName" if string => Box::new(|r| s(r.acct.display)),
        "FileName" if string => Box::new(|r| s(r.p.file)),
        "FolderPath" if string => Box::new(|r| Cell::Str(r.hp.path.clone())),
        "SHA1" if string => Box::new(|r| Cell::Str(r.hp.sha1.clone())),
        "SHA256" if string => Box::new(|r| Cell::Str(r.hp.sha256.clone())),
        "MD5" if string => Box::new(|r| Cell::Str(r.hp.md5.clone())),
        "FileSize" if int => Box::new(|r| Cell::Int(r.p.size)),
        // Risk levels of sign-ins: 0 (not set), 1 (none), 10 (low), 50 (medium), 100 (high).
        "RiskLevelAggregated" | "RiskLevelDuringSignIn" if int => {
            let salt = str_seed(col);
            Box::new(move |r| Cell::Int([0, 1, 1, 1, 10, 10, 50, 100][(r.h(salt) % 8) as usize]))
        }
        "ProcessCommandLine" if string => Box::new(|r| s(r.pick(12, r.p.cmds))),
        "InitiatingProcessFileName" if string => Box::new(|r| s(r.ip.file)),
        "InitiatingProcessFolderPath" if string => Box::new(|r| Cell::Str(r.hip.path.clone())),
        "InitiatingProcessCommandLine" if string => Box::new(init_cmd),
        "InitiatingProcessSHA1" if string => Box::new(|r| Cell::Str(r.hip.sha1.clone())),
        "InitiatingProcessSHA256" if string => Box::new(|r| Cell::Str(r.hip.sha256.clone())),
        "InitiatingProcessMD5" if string => Box::new(|r| Cell::Str(r.hip.md5.clone())),
        "InitiatingProcessAccountName" if string => Box::new(|r| s(r.iacct.name)),
        "InitiatingProcessAccountDomain" if string => Box::new(|r| s(r.iacct.domain)),
        "InitiatingProcessAccountSid" if string => Box::new(|r| Cell::Str(r.iids.sid.clone())),
        "InitiatingProcessAccountUpn" if string => Box::new(|r| upn(r.iacct)),
        "InitiatingProcessAccountObjectId" if string => Box::new(|r| object_id(r.iids)),
        "InitiatingProcessId" if int => Box::new(init_id),
        "InitiatingProcessParentId" if int => Box::new(parent_id),
        "InitiatingProcessParentFileName" if string => Box::new(parent_file),
        "InitiatingProcessCreationTime" if ty == "DateTime" => Box::new(init_created),
        "ReportId" if int => Box::new(report_id),
        "SenderFromAddress" | "SenderMailFromAddress" if string => {
            Box::new(|r| s(r.pick(62, SENDERS).0))
        }
        "NetworkMessageId" if string => Box::new(|r| Cell::Str(guid(r.h(60) % 32))),
        "Country" | "CountryCode" if string => Box::new(|r| s(r.pick(74, COUNTRIES).0)),
        "City" if string => Box::new(|r| s(r.pick(74, COUNTRIES).1)),
        "Application" if string => Box::new(|r| s(r.pick(75, APPS))),
        "CveId" if string => Box::new(|r| s(r.pick(76, CVES))),
        "VulnerabilitySeverityLevel" if string => {
            Box::new(|r| s(r.pick(77, &["Critical", "High", "Medium", "Low"])))
        }
        "SoftwareVendor" if string => Box::new(|r| s(r.pick(78, SOFTWARE).0)),
        "SoftwareName" if string => Box::new(|r| s(r.pick(78, SOFTWARE).1)),
        "SoftwareVersion" if string => Box::new(|r| s(r.pick(78, SOFTWARE).2)),
        "OnPremSid" if string => Box::new(|r| Cell::Str(r.ids.sid.clone())),
        "Department" if string => {
            Box::new(|r| s(r.pick(84, &["Finance", "HR", "Engineering", "Service Desk", "Sales"])))
        }
        "JobTitle" if string => {
            Box::new(|r| s(r.pick(85, &["Analyst", "Engineer", "Manager", "Administrator"])))
        }
        "EntityType" if string => Box::new(|r| {
            s(r.pick(
                86,
                &["User", "Machine", "File", "Process", "Ip", "Url", "Mailbox", "MailMessage"],
            ))
        }),
        "ActivityType" if string => {
            Box::new(|r| s(r.pick(88, &["Added Account", "Removed Account", "Password change"])))
        }
        "ScanStatus" if string => {
            Box::new(|r| s(r.pick(89, &["Completed", "Cancelled", "Failed"])))
        }
        "AccessRights" if int => {
            Box::new(|r| Cell::Int(r.pick(90, &[0x1f_ffff_i64, 0x1010, 0x1410])))
        }
        "ConfigurationSubcategory" if string => {
            Box::new(|r| s(r.pick(91, &["Antivirus", "Firewall", "BitLocker", "Accounts"])))
        }
        "ConfigurationCategory" if string => {
            Box::new(|r| s(r.pick(92, &["Security controls", "Accounts", "Network", "OS"])))
        }
        "ConfigurationName" if string => Box::new(|r| {
            s(r.pick(
                93,
                &[
                    "Turn on real-time protection",
                    "Update Microsoft Defender Antivirus definitions",
                    "Turn on Windows Firewall",
                ],
            ))
        }),
        "RawEventData" => Box::new(move |r| {
            let app = r.pick(
                94,
                &["00000003-0000-0000-c000-000000000000", "d3590ed6-52b3-4102-aeff-aad2292ab01c"],
            );
            let v = json!({"AppId": app, "ClientIP": r.device().ip, "UserId": r.acct.upn});
            if ty == "Dynamic" { Cell::Dyn(v) } else { Cell::Str(v.to_string()) }
        }),
        "ActivityObjects" => Box::new(move |r| {
            let rule = r.pick(95, &["...", "Move to RSS", "Forward to external", "."]);
            let v = json!([{"Name": "Name", "Value": rule}, {"Name": "MoveToFolder", "Value": "RSS Feeds"}]);
            if ty == "Dynamic" { Cell::Dyn(v) } else { Cell::Str(v.to_string()) }
        }),
        "DeliveryAction" if string => {
            Box::new(|r| s(r.pick(96, &["Delivered", "Junked", "Blocked"])))
        }
        "EvidenceRole" if string => Box::new(|r| s(r.pick(87, &["Impacted", "Related"]))),
        "AccountType" if string => Box::new(|r| s(r.pick(79, &["Regular", "Admin", "Guest"]))),
        "LogonType" if string => {
            Box::new(|r| s(r.pick(80, &["Interactive", "Network", "RemoteInteractive"])))
        }
        "Protocol" if string => Box::new(|r| s(r.pick(81, &["Tcp", "Udp", "Kerberos", "Ntlm"]))),
        "RemotePort" | "LocalPort" | "DestinationPort" if int => {
            Box::new(|r| Cell::Int(r.pick(82, &[443i64, 80, 445, 3389, 53, 135])))
        }
        "IsExternalUser" | "IsCompliant" | "IsManaged" | "ErrorCode" if int => {
            Box::new(|r| Cell::Int(i64::from(r.h(83).is_multiple_of(5))))
        }
        _ => return None,
    };
    Some(g)
}
