//! Inventory and vulnerability-management values: DeviceInfo's device facts, and the TVM
//! tables' configurations, software and CVEs, drawn from shared pools so that joins on
//! `ConfigurationId`, `SoftwareName` and `CveId` between the assessment, inventory and
//! knowledge-base tables find matches. Knowledge-base rows walk their pool by row index (every
//! entry is present); assessment rows pick from it.

use serde_json::json;

use super::{Cell, R, s};

type Gen = Box<dyn Fn(&R) -> Cell + Send + Sync>;

/// `(ConfigurationId, category, subcategory, name, impact)`.
const CONFIGS: &[(&str, &str, &str, &str, f64)] = &[
    (
        "scid-91",
        "Security controls",
        "Antivirus",
        "Turn on Microsoft Defender Antivirus behavior monitoring",
        8.0,
    ),
    (
        "scid-2000",
        "Security controls",
        "EDR",
        "Turn on Microsoft Defender for Endpoint sensor",
        10.0,
    ),
    (
        "scid-2001",
        "Security controls",
        "EDR",
        "Fix Microsoft Defender for Endpoint sensor data collection",
        10.0,
    ),
    (
        "scid-2002",
        "Security controls",
        "EDR",
        "Fix Microsoft Defender for Endpoint impaired communications",
        10.0,
    ),
    ("scid-2003", "Security controls", "EDR", "Turn on Tamper Protection", 9.0),
    ("scid-2010", "Security controls", "Antivirus", "Turn on Microsoft Defender Antivirus", 10.0),
    (
        "scid-2011",
        "Security controls",
        "Antivirus",
        "Update Microsoft Defender Antivirus definitions",
        9.0,
    ),
    ("scid-2012", "Security controls", "Antivirus", "Turn on real-time protection", 9.0),
    ("scid-2013", "Security controls", "Antivirus", "Turn on PUA protection in block mode", 6.0),
    (
        "scid-2014",
        "Security controls",
        "Antivirus",
        "Fix Microsoft Defender Antivirus cloud service connectivity",
        7.0,
    ),
    ("scid-2016", "Security controls", "Antivirus", "Turn on cloud-delivered protection", 8.0),
    (
        "scid-2030",
        "Security controls",
        "EDR",
        "Update Microsoft Defender for Endpoint core components",
        5.0,
    ),
    ("scid-2090", "Security controls", "Bitlocker", "Encrypt all BitLocker-supported drives", 8.0),
    (
        "scid-2500",
        "Security controls",
        "Attack Surface Reduction",
        "Block credential stealing from the Windows local security authority subsystem (lsass.exe)",
        7.0,
    ),
    (
        "scid-2501",
        "Security controls",
        "Attack Surface Reduction",
        "Block Office applications from creating child processes",
        7.0,
    ),
    (
        "scid-2502",
        "Security controls",
        "Attack Surface Reduction",
        "Block executable content from email client and webmail",
        7.0,
    ),
    (
        "scid-2503",
        "Security controls",
        "Attack Surface Reduction",
        "Block execution of potentially obfuscated scripts",
        6.0,
    ),
    (
        "scid-2504",
        "Security controls",
        "Attack Surface Reduction",
        "Block process creations originating from PSExec and WMI commands",
        6.0,
    ),
    ("scid-2070", "Security controls", "Firewall", "Turn on Microsoft Defender Firewall", 8.0),
    (
        "scid-64",
        "Accounts",
        "User Account Control",
        "Set User Account Control (UAC) to automatically deny elevation requests",
        6.0,
    ),
    ("scid-44", "Network", "SMB", "Disable SMBv1 client driver", 8.0),
    (
        "scid-48",
        "Network",
        "Remote access",
        "Disable Remote Desktop Protocol (RDP) or require Network Level Authentication",
        7.0,
    ),
    ("scid-10", "OS", "Autoplay", "Disable 'Autoplay' for all drives", 5.0),
    ("scid-5090", "Security controls", "Antivirus", "Turn on real-time protection", 9.0),
    ("scid-6090", "Security controls", "Antivirus", "Turn on real-time protection", 9.0),
];

/// `(vendor, name, version, end of support)`.
const SOFTWARE: &[(&str, &str, &str, &str)] = &[
    ("microsoft", "windows_10", "10.0.19045.5131", ""),
    ("microsoft", "windows_11", "10.0.22631.4460", ""),
    ("microsoft", "windows_server_2019", "10.0.17763.6532", ""),
    ("microsoft", "windows_server_2022", "10.0.20348.2849", ""),
    ("microsoft", "office", "16.0.17928.20156", ""),
    ("microsoft", "edge_chromium-based", "131.0.2903.86", ""),
    ("microsoft", "exchange_server", "15.2.1118.7", ""),
    ("microsoft", ".net_framework", "4.8.9277.0", ""),
    ("google", "chrome", "131.0.6778.86", ""),
    ("mozilla", "firefox", "133.0.0.0", ""),
    ("oracle", "jre", "8.0.3810.9", "EOS Version"),
    ("apache", "log4j", "2.14.1.0", "EOS Version"),
    ("7-zip", "7-zip", "23.1.0.0", ""),
    ("rarlab", "winrar", "6.22.0.0", "Upcoming EOS Version"),
    ("adobe", "acrobat_reader_dc", "24.4.20272.0", ""),
    ("openssl", "openssl", "3.0.7.0", "EOS Version"),
    ("simon_tatham", "putty", "0.80.0.0", ""),
    ("anydesk", "anydesk", "8.1.0.0", ""),
    ("teamviewer", "teamviewer", "15.60.3.0", ""),
    ("notepad++", "notepad++", "8.6.2.0", ""),
    ("python", "python", "3.12.7.0", ""),
    ("zoom", "zoom", "6.2.11.57410", ""),
];

/// `(CveId, severity, CVSS, exploit available, index into SOFTWARE, description)`.
const CVES: &[(&str, &str, &str, bool, usize, &str)] = &[
    (
        "CVE-2021-44228",
        "Critical",
        "10",
        true,
        11,
        "Apache Log4j2 JNDI features do not protect against attacker controlled LDAP and other JNDI related endpoints.",
    ),
    (
        "CVE-2021-45046",
        "Critical",
        "9",
        true,
        11,
        "The fix to address CVE-2021-44228 in Apache Log4j 2.15.0 was incomplete in certain non-default configurations.",
    ),
    (
        "CVE-2023-23397",
        "Critical",
        "9.8",
        true,
        4,
        "Microsoft Outlook Elevation of Privilege Vulnerability",
    ),
    (
        "CVE-2024-21413",
        "Critical",
        "9.8",
        true,
        4,
        "Microsoft Outlook Remote Code Execution Vulnerability",
    ),
    (
        "CVE-2023-36884",
        "High",
        "8.8",
        true,
        4,
        "Office and Windows HTML Remote Code Execution Vulnerability",
    ),
    (
        "CVE-2022-30190",
        "High",
        "7.8",
        true,
        0,
        "Microsoft Windows Support Diagnostic Tool (MSDT) Remote Code Execution Vulnerability",
    ),
    (
        "CVE-2024-21412",
        "High",
        "8.1",
        true,
        1,
        "Internet Shortcut Files Security Feature Bypass Vulnerability",
    ),
    (
        "CVE-2021-34527",
        "High",
        "8.8",
        true,
        2,
        "Windows Print Spooler Remote Code Execution Vulnerability",
    ),
    (
        "CVE-2024-38063",
        "Critical",
        "9.8",
        false,
        3,
        "Windows TCP/IP Remote Code Execution Vulnerability",
    ),
    (
        "CVE-2021-26855",
        "Critical",
        "9.8",
        true,
        6,
        "Microsoft Exchange Server Remote Code Execution Vulnerability",
    ),
    (
        "CVE-2021-34473",
        "Critical",
        "9.8",
        true,
        6,
        "Microsoft Exchange Server Remote Code Execution Vulnerability",
    ),
    (
        "CVE-2024-7971",
        "High",
        "8.8",
        true,
        8,
        "Type confusion in V8 in Google Chrome allowed a remote attacker to exploit heap corruption via a crafted HTML page.",
    ),
    (
        "CVE-2023-4863",
        "High",
        "8.8",
        true,
        9,
        "Heap buffer overflow in libwebp allowed a remote attacker to perform an out of bounds memory write via a crafted HTML page.",
    ),
    (
        "CVE-2023-38831",
        "High",
        "7.8",
        true,
        13,
        "RARLAB WinRAR allows attackers to execute arbitrary code when a user attempts to view a benign file within a ZIP archive.",
    ),
    (
        "CVE-2022-3602",
        "High",
        "7.5",
        false,
        15,
        "A buffer overrun can be triggered in X.509 certificate verification, specifically in name constraint checking.",
    ),
    (
        "CVE-2024-31497",
        "Medium",
        "5.9",
        false,
        16,
        "PuTTY NIST P-521 client keys are recoverable from biased ECDSA nonces.",
    ),
    (
        "CVE-2023-44487",
        "High",
        "7.5",
        true,
        7,
        "The HTTP/2 protocol allows a denial of service (server resource consumption) because request cancellation can reset many streams quickly.",
    ),
    ("CVE-2024-30088", "High", "7", true, 0, "Windows Kernel Elevation of Privilege Vulnerability"),
    (
        "CVE-2023-21768",
        "High",
        "7.8",
        true,
        1,
        "Windows Ancillary Function Driver for WinSock Elevation of Privilege Vulnerability",
    ),
    (
        "CVE-2023-40031",
        "High",
        "7.8",
        false,
        19,
        "Notepad++ heap buffer overflow in the UTF-16 to UTF-8 conversion.",
    ),
];

fn config(
    r: &R,
    kb: bool,
) -> &'static (&'static str, &'static str, &'static str, &'static str, f64) {
    by_row_or_pick(r, kb, 301, CONFIGS)
}

/// Knowledge-base tables walk their pool (every entry present); others pick.
fn by_row_or_pick<T>(r: &R, kb: bool, salt: u64, pool: &'static [T]) -> &'static T {
    let i = if kb {
        r.k.rem_euclid(pool.len() as i64) as usize
    } else {
        (r.h(salt) % pool.len() as u64) as usize
    };
    &pool[i]
}

fn cve(
    r: &R,
    kb: bool,
) -> &'static (&'static str, &'static str, &'static str, bool, usize, &'static str) {
    by_row_or_pick(r, kb, 302, CVES)
}

/// Software of a row: the vulnerable software of its CVE in the vulnerability table.
fn software(
    table: &str,
    r: &R,
) -> &'static (&'static str, &'static str, &'static str, &'static str) {
    if table == "DeviceTvmSoftwareVulnerabilities" {
        &SOFTWARE[cve(r, true).4]
    } else {
        by_row_or_pick(r, table == "DeviceTvmSoftwareInventory", 303, SOFTWARE)
    }
}

/// Generators of the inventory tables' columns, `None` for the generic ones.
pub(super) fn own(table: &'static str, col: &str, ty: &str) -> Option<Gen> {
    let tvm = table.starts_with("DeviceTvm");
    // Knowledge bases and the snapshot inventories walk their pools, so every configuration,
    // CVE and piece of software is present and joins between them match.
    let kb = table.ends_with("KB")
        || table == "DeviceTvmSoftwareInventory"
        || table == "DeviceTvmSoftwareVulnerabilities";
    let g: Gen = match (col, ty) {
        ("ConfigurationId", "String") if tvm => Box::new(move |r| s(config(r, kb).0)),
        ("ConfigurationCategory", "String") if tvm => Box::new(move |r| s(config(r, kb).1)),
        ("ConfigurationSubcategory", "String") if tvm => Box::new(move |r| s(config(r, kb).2)),
        ("ConfigurationName", "String") if tvm => Box::new(move |r| s(config(r, kb).3)),
        ("ConfigurationDescription", "String") if tvm => {
            Box::new(move |r| Cell::Str(format!("{}.", config(r, kb).3)))
        }
        ("RiskDescription", "String") if tvm => Box::new(move |r| {
            Cell::Str(format!(
                "Devices that do not {} are more exposed to attacks.",
                config(r, kb).3.to_lowercase()
            ))
        }),
        ("ConfigurationImpact", "Double") if tvm => Box::new(move |r| Cell::Real(config(r, kb).4)),
        ("IsCompliant", "Boolean") if tvm => Box::new(move |r| {
            // Definitions are compliant when under a week old.
            let outdated = config(r, kb).0 == "scid-2011" && signature_age_days(r) >= 7;
            Cell::Bool(!outdated && !r.h(304).is_multiple_of(4))
        }),
        ("IsApplicable", "Boolean") if tvm => {
            Box::new(move |r| Cell::Bool(!r.h(305).is_multiple_of(10)))
        }
        ("Context", "Dynamic") if tvm => Box::new(move |r| {
            Cell::Dyn(if config(r, kb).0 == "scid-2011" {
                // Signature version, engine, last update (days before the row), product.
                let at = r.ts / super::TICKS_PER_SECOND - signature_age_days(r) * 86_400;
                let when = chrono::DateTime::from_timestamp(at, 0)
                    .map(|d| d.format("%m/%d/%Y %H:%M:%S").to_string())
                    .unwrap_or_default();
                json!([["1.421.1234.0", "1.1.24090.11", when, "4.18.24090.11"]])
            } else {
                json!([])
            })
        }),
        ("SoftwareVendor", "String") if tvm => Box::new(move |r| s(software(table, r).0)),
        ("SoftwareName", "String") if tvm => Box::new(move |r| s(software(table, r).1)),
        ("SoftwareVersion", "String") if tvm => Box::new(move |r| s(software(table, r).2)),
        ("EndOfSupportStatus", "String") if tvm => Box::new(move |r| s(software(table, r).3)),
        ("ProductCodeCpe", "String") if tvm => Box::new(move |r| {
            let (v, n, ver, _) = software(table, r);
            Cell::Str(format!("cpe:2.3:a:{v}:{n}:{ver}:*:*:*:*:*:*:*"))
        }),
        ("CveId", "String") if tvm => Box::new(move |r| s(cve(r, kb).0)),
        ("VulnerabilitySeverityLevel", "String") if tvm => Box::new(move |r| s(cve(r, kb).1)),
        ("CvssScore", "String") if tvm => Box::new(move |r| s(cve(r, kb).2)),
        ("IsExploitAvailable", "Boolean") if tvm => Box::new(move |r| Cell::Bool(cve(r, kb).3)),
        ("VulnerabilityDescription", "String") if tvm => Box::new(move |r| s(cve(r, kb).5)),
        ("AffectedSoftware", "Dynamic") if tvm => Box::new(move |r| {
            let (v, n, ver, _) = SOFTWARE[cve(r, kb).4];
            Cell::Dyn(json!([format!("{v} {n} {ver}")]))
        }),
        ("RecommendedSecurityUpdate", "String") if tvm => Box::new(move |r| {
            Cell::Str(format!("Security update for {}", SOFTWARE[cve(r, kb).4].1))
        }),
        ("RecommendedSecurityUpdateId", "String") if tvm => Box::new(move |r| {
            Cell::Str(format!("KB50{:05}", super::str_seed(cve(r, kb).0) % 100_000))
        }),
        ("CveTags", "Dynamic") if tvm => Box::new(move |r| {
            Cell::Dyn(if cve(r, kb).3 { json!(["ExploitAvailable"]) } else { json!([]) })
        }),
        _ if table == "DeviceInfo" => return device_info(col, ty),
        _ => return None,
    };
    Some(g)
}

/// How many days old a device's antivirus definitions are (mostly fresh, some stale).
fn signature_age_days(r: &R) -> i64 {
    [0, 0, 0, 1, 1, 2, 3, 8, 15, 30][(r.h(306) % 10) as usize]
}

fn device_info(col: &str, ty: &str) -> Option<Gen> {
    let server = |r: &R| r.device().os.starts_with("WindowsServer");
    let g: Gen = match (col, ty) {
        ("OnboardingStatus", "String") => Box::new(|r| {
            s(r.pick(
                310,
                &[
                    "Onboarded",
                    "Onboarded",
                    "Onboarded",
                    "Onboarded",
                    "Onboarded",
                    "Onboarded",
                    "Can be onboarded",
                    "Unsupported",
                    "Insufficient info",
                ],
            ))
        }),
        ("ClientVersion", "String") => Box::new(|r| {
            // Down-level servers still run the MMA-based agent on some devices.
            let old_os = matches!(r.device().os, "WindowsServer2012R2" | "WindowsServer2016");
            if old_os && r.h(318).is_multiple_of(2) {
                return s("10.3720.16299.2107");
            }
            s(r.pick(
                311,
                &[
                    "10.8760.19041.5131",
                    "10.8750.22621.4317",
                    "10.8735.20348.2700",
                    "10.8760.26100.2314",
                ],
            ))
        }),
        ("SensorHealthState", "String") => Box::new(|r| {
            s(r.pick(
                312,
                &[
                    "Active",
                    "Active",
                    "Active",
                    "Active",
                    "Inactive",
                    "Impaired communications",
                    "No sensor data",
                ],
            ))
        }),
        ("DeviceType", "String") => {
            Box::new(move |r| s(if server(r) { "Server" } else { "Workstation" }))
        }
        ("DeviceCategory", "String") => Box::new(|_| s("Endpoint")),
        ("OSArchitecture", "String") => Box::new(|_| s("64-bit")),
        ("OSDistribution", "String") => Box::new(|r| {
            s(if r.device().os.starts_with("Windows") { "Windows" } else { r.device().os })
        }),
        ("OSVersion", "String") => {
            Box::new(|r| s(if r.device().os.starts_with("Windows1") { "22H2" } else { "1809" }))
        }
        ("OSVersionInfo", "String") => {
            Box::new(|r| s(if r.device().os.starts_with("Windows1") { "22H2" } else { "" }))
        }
        ("OSBuild", "Int64") => Box::new(|r| {
            Cell::Int(match r.device().os {
                "Windows10" => 19045,
                "Windows11" => 22631,
                "WindowsServer2019" => 17763,
                "WindowsServer2016" => 14393,
                "WindowsServer2012R2" => 9600,
                _ => 20348,
            })
        }),
        ("IsAzureADJoined", "Boolean") => Box::new(move |r| Cell::Bool(!server(r))),
        ("JoinType", "String") => {
            Box::new(move |r| s(if server(r) { "Domain Joined" } else { "Hybrid Azure AD Join" }))
        }
        ("PublicIP", "String") => {
            Box::new(|r| s(r.pick(313, &["20.84.12.7", "203.0.113.20", "198.51.100.30"])))
        }
        ("MachineGroup", "String") => {
            Box::new(move |r| s(if server(r) { "Servers" } else { "Workstations" }))
        }
        ("Model", "String") => Box::new(move |r| {
            s(if server(r) {
                "Virtual Machine"
            } else {
                r.pick(
                    314,
                    &[
                        "Latitude 7440",
                        "ThinkPad T14 Gen 4",
                        "Surface Laptop 5",
                        "EliteBook 840 G10",
                    ],
                )
            })
        }),
        ("Vendor", "String") => Box::new(move |r| {
            s(if server(r) {
                "Microsoft Corporation"
            } else {
                r.pick(314, &["Dell Inc.", "LENOVO", "Microsoft Corporation", "HP"])
            })
        }),
        ("ExposureLevel", "String") => {
            Box::new(|r| s(r.pick(315, &["Low", "Medium", "Medium", "High", "None"])))
        }
        ("AssetValue", "String") => Box::new(move |r| s(if server(r) { "High" } else { "Normal" })),
        ("IsInternetFacing", "Boolean") => Box::new(|r| Cell::Bool(r.h(316).is_multiple_of(9))),
        ("IsExcluded", "Boolean") => Box::new(|_| Cell::Bool(false)),
        ("ExclusionReason", "String")
        | ("MergedToDeviceId", "String")
        | ("HostDeviceId", "String") => Box::new(|_| s("")),
        ("ConnectivityType", "String") => Box::new(|_| s("Streamlined")),
        ("DeviceSubtype", "String") => Box::new(|_| s("")),
        ("LoggedOnUsers", "String") => {
            Box::new(|r| {
                Cell::Str(json!([{"UserName": r.acct.name, "DomainName": r.acct.domain, "Sid": r.ids.sid}]).to_string())
            })
        }
        ("DeviceDynamicTags", "String")
        | ("DeviceManualTags", "String")
        | ("RegistryDeviceTag", "String") => {
            Box::new(|r| s(r.pick(317, &["", "", "[\"Finance\"]", "[\"VIP\"]"])))
        }
        _ => return None,
    };
    Some(g)
}
