//! Values of the file, registry and image-load tables: the registry keys persistence and
//! defence evasion touch (Run keys, Defender exclusions and policies, services, IFEO, LSA)
//! among everyday ones; files users and attackers write (documents, archives, scripts,
//! executables in Temp, Downloads, AppData and ProgramData, ransomware-renamed files); and the
//! DLLs hunting queries watch being loaded. Each registry row takes key, value name, data and
//! type from one entry, so they agree.

use super::{Cell, R, s};

type Gen = Box<dyn Fn(&R) -> Cell + Send + Sync>;

const HKLM: &str = r"HKEY_LOCAL_MACHINE";
const HKCU: &str = r"HKEY_CURRENT_USER\S-1-5-21-1004336348-1177238915-682003330-1104";

/// `(key under hive, hive is HKLM, value name, value data, value type)`.
#[rustfmt::skip]
const REGISTRY: &[(&str, bool, &str, &str, &str)] = &[
    (r"SOFTWARE\Microsoft\Windows\CurrentVersion\Run", true, "SecurityHealth", r"%windir%\system32\SecurityHealthSystray.exe", "ExpandString"),
    (r"SOFTWARE\Microsoft\Windows\CurrentVersion\Run", false, "OneDrive", r#""C:\Program Files\Microsoft OneDrive\OneDrive.exe" /background"#, "String"),
    (r"SOFTWARE\Microsoft\Windows\CurrentVersion\Run", false, "Updater", r"C:\Users\Public\upd.exe", "String"),
    (r"SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce", false, "Setup", r"powershell.exe -w hidden -enc SQBFAFgA", "String"),
    (r"SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce", true, "Install", r"C:\ProgramData\upd\svc.exe", "String"),
    (r"SOFTWARE\Microsoft\Windows Defender\Exclusions\Paths", true, r"C:\Users\Public\Downloads", "0", "Dword"),
    (r"SOFTWARE\Microsoft\Windows Defender\Exclusions\Extensions", true, ".exe", "0", "Dword"),
    (r"SOFTWARE\Microsoft\Windows Defender\Exclusions\Processes", true, "rclone.exe", "0", "Dword"),
    (r"SOFTWARE\Policies\Microsoft\Windows Defender", true, "DisableAntiSpyware", "1", "Dword"),
    (r"SOFTWARE\Policies\Microsoft\Windows Defender\Real-Time Protection", true, "DisableRealtimeMonitoring", "1", "Dword"),
    (r"SOFTWARE\Microsoft\Windows Defender\Features", true, "TamperProtection", "4", "Dword"),
    (r"SYSTEM\CurrentControlSet\Services\UpdaterSvc", true, "ImagePath", r"C:\ProgramData\upd\svc.exe", "ExpandString"),
    (r"SYSTEM\ControlSet001\Services\PSEXESVC", true, "ImagePath", r"%SystemRoot%\PSEXESVC.exe", "ExpandString"),
    (r"SYSTEM\ControlSet001\Services\WinDefend", true, "Start", "4", "Dword"),
    (r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\Image File Execution Options\sethc.exe", true, "Debugger", r"C:\Windows\System32\cmd.exe", "String"),
    (r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\Image File Execution Options\lsass.exe", true, "AuditLevel", "8", "Dword"),
    (r"SYSTEM\ControlSet001\Control\SecurityProviders\WDigest", true, "UseLogonCredential", "1", "Dword"),
    (r"SYSTEM\CurrentControlSet\Control\Terminal Server", true, "fDenyTSConnections", "0", "Dword"),
    (r"SYSTEM\ControlSet001\Control\Lsa", true, "DisableRestrictedAdmin", "0", "Dword"),
    (r"SYSTEM\ControlSet001\Control\Lsa", true, "RunAsPPL", "0", "Dword"),
    (r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon", true, "Userinit", r"C:\Windows\system32\userinit.exe,C:\ProgramData\upd\svc.exe", "String"),
    (r"SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System", true, "EnableLUA", "0", "Dword"),
    (r"SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System", true, "LocalAccountTokenFilterPolicy", "1", "Dword"),
    (r"Software\Classes\ms-settings\Shell\Open\command", false, "DelegateExecute", "", "String"),
    (r"Software\Microsoft\Office\16.0\Word\Security\Trusted Documents\TrustRecords", false, r"%USERPROFILE%/Downloads/Invoice%204521.docm", "7D4A0A2B1B3CDA01", "Binary"),
    (r"Software\Microsoft\Office\16.0\Excel\Security", false, "VBAWarnings", "1", "Dword"),
    (r"SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\Results\Install", true, "LastSuccessTime", "2026-11-30 02:14:07", "String"),
    (r"Software\Microsoft\Windows\CurrentVersion\Explorer\RecentDocs\.docx", false, "MRUListEx", "0200000001000000", "Binary"),
    (r"SYSTEM\ControlSet001\Services\bam\State\UserSettings\S-1-5-21-1004336348-1177238915-682003330-1104", true, r"\Device\HarddiskVolume3\Windows\System32\cmd.exe", "A0B1C2D3E4F50601", "Binary"),
    (r"SOFTWARE\Microsoft\Windows Defender\Signature Updates", true, "AVSignatureVersion", "1.421.1234.0", "String"),
    (r"SYSTEM\CurrentControlSet\Services\W32Time\Parameters", true, "NtpServer", "time.windows.com,0x9", "String"),
    (r"SOFTWARE\Microsoft\Windows\CurrentVersion\Explorer\Shell Folders", false, "Personal", r"C:\Users\jsmith\Documents", "String"),
    (r"SOFTWARE\Microsoft\Windows\CurrentVersion\Explorer\Advanced", false, "Hidden", "2", "Dword"),
    (r"SYSTEM\ControlSet001\Control\Session Manager\Memory Management\PrefetchParameters", true, "EnablePrefetcher", "3", "Dword"),
];

fn reg(r: &R) -> &'static (&'static str, bool, &'static str, &'static str, &'static str) {
    // Everyday keys (the last ones) carry as much weight as all the suspicious ones.
    let n = REGISTRY.len() as u64;
    let i = if r.h(320).is_multiple_of(2) { r.h(321) % n } else { n - 1 - r.h(321) % 8 };
    &REGISTRY[i as usize]
}

fn reg_key(r: &R) -> String {
    let (key, hklm, ..) = reg(r);
    format!("{}\\{key}", if *hklm { HKLM } else { HKCU })
}

/// Files users and attackers write: `(file name, folder template)`; `{u}` is the user.
#[rustfmt::skip]
const FILES: &[(&str, &str)] = &[
    ("Q3 report.docx", r"C:\Users\{u}\Documents\Confidential"),
    ("budget 2027.xlsx", r"C:\Users\{u}\Documents\Projects"),
    ("Invoice 4521.pdf", r"C:\Users\{u}\Downloads"),
    ("board deck.pptx", r"C:\Users\{u}\Desktop\Restricted"),
    ("customers.zip", r"C:\Users\{u}\Downloads"),
    ("Invoice 4521.docm", r"C:\Users\{u}\Downloads"),
    ("Payment_advice.xlsm", r"C:\Users\{u}\AppData\Local\Microsoft\Windows\INetCache\Content.Outlook\8XK2PL4Q"),
    ("update.ps1", r"C:\Users\{u}\AppData\Local\Temp"),
    ("run.ps1", r"C:\Users\{u}\AppData\Local\Temp"),
    ("invoice.vbs", r"C:\Users\{u}\Downloads"),
    ("update.js", r"C:\Users\Public"),
    ("readme.hta", r"C:\Users\{u}\Downloads"),
    ("logon.bat", r"C:\Scripts"),
    ("p.exe", r"C:\ProgramData"),
    ("svc.exe", r"C:\ProgramData\upd"),
    ("upd.exe", r"C:\Users\Public"),
    ("a.exe", r"C:\Users\{u}\AppData\Roaming"),
    ("x.dll", r"C:\Users\Public\Libraries"),
    ("setup.msi", r"C:\Users\{u}\Downloads"),
    ("lsass.dmp", r"C:\Windows\Temp"),
    ("sam.save", r"C:\Windows\Temp"),
    ("ntds.dit", r"C:\Windows\Temp\ifm\Active Directory"),
    ("out.zip", r"C:\Users\Public"),
    ("d.rar", r"C:\Users\Public"),
    ("evil.cpl", r"C:\Users\Public"),
    ("scan.iso", r"C:\Users\{u}\Downloads"),
    ("shortcut.lnk", r"C:\Users\{u}\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup"),
    ("budget 2027.xlsx.lockbit", r"C:\Users\{u}\Documents\Projects"),
    ("Q3 report.docx.encrypted", r"C:\Users\{u}\Documents\Confidential"),
    ("README_RESTORE_FILES.txt", r"C:\Users\{u}\Documents"),
    ("notes.txt", r"C:\Users\{u}\Documents"),
    ("Program.cs", r"C:\src\App"),
    ("report.csv", r"C:\Users\{u}\Documents"),
    ("photo.jpg", r"C:\Users\{u}\Pictures"),
    ("chrome_installer.exe", r"C:\Windows\Temp"),
    ("web.config", r"C:\inetpub\wwwroot"),
    ("shell.aspx", r"C:\inetpub\wwwroot\aspnet_client"),
    ("id_rsa", r"C:\Users\{u}\.ssh"),
];

fn file(r: &R) -> &'static (&'static str, &'static str) {
    &FILES[(r.h(97) % FILES.len() as u64) as usize]
}

fn folder(r: &R) -> String {
    let (name, dir) = file(r);
    let mut out = dir.replace("{u}", r.acct.name);
    out.push('\\');
    out.push_str(name);
    out
}

/// DLLs whose loads hunting queries watch: `(file, folder)`.
#[rustfmt::skip]
const DLLS: &[(&str, &str)] = &[
    ("comsvcs.dll", r"C:\Windows\System32"), ("amsi.dll", r"C:\Windows\System32"),
    ("kernel32.dll", r"C:\Windows\System32"), ("ntdll.dll", r"C:\Windows\System32"),
    ("dbghelp.dll", r"C:\Windows\System32"), ("dbgcore.dll", r"C:\Windows\System32"),
    ("clr.dll", r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319"),
    ("mscoree.dll", r"C:\Windows\System32"),
    ("System.Management.Automation.ni.dll", r"C:\Windows\assembly\NativeImages_v4.0.30319_64\System.Manaa57fc8cc#\a1b2c3d4"),
    ("System.Management.Automation.dll", r"C:\Windows\Microsoft.NET\assembly\GAC_MSIL\System.Management.Automation\v4.0_3.0.0.0__31bf3856ad364e35"),
    ("vaultcli.dll", r"C:\Windows\System32"), ("samlib.dll", r"C:\Windows\System32"),
    ("wininet.dll", r"C:\Windows\System32"), ("winhttp.dll", r"C:\Windows\System32"),
    ("urlmon.dll", r"C:\Windows\System32"), ("taskschd.dll", r"C:\Windows\System32"),
    ("wldp.dll", r"C:\Windows\System32"), ("mshtml.dll", r"C:\Windows\System32"),
    ("jscript9.dll", r"C:\Windows\System32"), ("vbscript.dll", r"C:\Windows\System32"),
    ("scrobj.dll", r"C:\Windows\System32"), ("wmiutils.dll", r"C:\Windows\System32\wbem"),
    ("VBE7.DLL", r"C:\Program Files\Microsoft Office\root\vfs\ProgramFilesCommonX64\Microsoft Shared\VBA\VBA7.1"),
    ("ntdsapi.dll", r"C:\Windows\System32"), ("cryptdll.dll", r"C:\Windows\System32"),
    ("winscard.dll", r"C:\Windows\System32"), ("bcrypt.dll", r"C:\Windows\System32"),
    ("evil.cpl", r"C:\Users\Public"), ("x.dll", r"C:\Users\Public\Libraries"),
    ("version.dll", r"C:\Users\Public\Downloads"), ("update.dll", r"C:\ProgramData"),
];

fn dll(r: &R) -> &'static (&'static str, &'static str) {
    &DLLS[(r.h(99) % DLLS.len() as u64) as usize]
}

/// Generators of the file, registry and image-load tables' own columns.
pub(super) fn own(table: &str, col: &str, ty: &str) -> Option<Gen> {
    if ty != "String" {
        return None;
    }
    let g: Gen =
        match (table, col) {
            ("DeviceRegistryEvents", "RegistryKey") => Box::new(|r| Cell::Str(reg_key(r))),
            ("DeviceRegistryEvents", "RegistryValueName") => Box::new(|r| s(reg(r).2)),
            ("DeviceRegistryEvents", "RegistryValueData") => Box::new(|r| s(reg(r).3)),
            ("DeviceRegistryEvents", "RegistryValueType") => Box::new(|r| s(reg(r).4)),
            ("DeviceRegistryEvents", "PreviousRegistryKey") => {
                Box::new(|r| if r.h(322).is_multiple_of(3) { Cell::Str(reg_key(r)) } else { s("") })
            }
            ("DeviceRegistryEvents", "PreviousRegistryValueName" | "PreviousRegistryValueData") => {
                Box::new(|_| s(""))
            }
            ("DeviceEvents", "RegistryKey") => {
                Box::new(|r| if r.h(323).is_multiple_of(4) { Cell::Str(reg_key(r)) } else { s("") })
            }
            ("DeviceEvents", "RegistryValueName" | "RegistryValueData") => Box::new(|_| s("")),
            ("DeviceFileEvents", "FileName") => Box::new(|r| s(file(r).0)),
            ("DeviceFileEvents", "FolderPath") => Box::new(|r| Cell::Str(folder(r))),
            ("DeviceFileEvents", "PreviousFileName") => Box::new(|r| {
                let name = file(r).0;
                let known = [".lockbit", ".encrypted"];
                match known.iter().find_map(|e| name.strip_suffix(e)) {
                    Some(was) => s(was),
                    None => s(""),
                }
            }),
            ("DeviceFileEvents", "PreviousFolderPath") => Box::new(|_| s("")),
            ("DeviceFileEvents", "ShareName") => {
                Box::new(|r| s(r.pick(324, &["", "", "", "C$", "ADMIN$", "finance$"])))
            }
            ("DeviceFileEvents", "RequestProtocol") => {
                Box::new(|r| s(r.pick(325, &["Local", "Local", "Smb"])))
            }
            ("DeviceFileEvents", "SensitivityLabel" | "SensitivitySubLabel") => Box::new(|r| {
                s(r.pick(326, &["", "", "Confidential", "General", "Highly Confidential"]))
            }),
            // Archivers, sync clients, browsers, mail and scripts write files too.
            ("DeviceFileEvents", "InitiatingProcessFileName") => Box::new(|r| {
                s(r.pick(
                    102,
                    &[
                        "explorer.exe",
                        "7z.exe",
                        "WinRAR.exe",
                        "OneDrive.exe",
                        "chrome.exe",
                        "msedge.exe",
                        "OUTLOOK.EXE",
                        "powershell.exe",
                        "WINWORD.EXE",
                        "cmd.exe",
                        "rundll32.exe",
                        "certutil.exe",
                        "curl.exe",
                        "svchost.exe",
                        "System",
                    ],
                ))
            }),
            ("DeviceImageLoadEvents", "FileName") => Box::new(|r| s(dll(r).0)),
            ("DeviceImageLoadEvents", "FolderPath") => {
                Box::new(|r| Cell::Str(format!("{}\\{}", dll(r).1, dll(r).0)))
            }
            _ => return None,
        };
    Some(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_entries_name_real_hives_and_types() {
        for (key, _, name, _, ty) in REGISTRY {
            assert!(!key.starts_with('\\') && !name.is_empty() || key.contains("ms-settings"));
            assert!(["String", "ExpandString", "Dword", "Binary"].contains(ty), "{ty}");
        }
        assert!(FILES.iter().any(|(f, _)| f.ends_with(".lockbit")));
        assert!(DLLS.iter().any(|(f, _)| *f == "comsvcs.dll"));
    }
}
