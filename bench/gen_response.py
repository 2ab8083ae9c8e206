#!/usr/bin/env python3
"""Generates a realistic, deterministic `runHuntingQuery` response for the benchmark.

    python3 bench/gen_response.py OUT.json [--rows 99999] [--seed 6]

The body has the service's shape: `@odata.context`, `schema` as `{name, type}` entries with the
.NET type names Graph sends, and `results` as one JSON object per row keyed by column name. The
columns are DeviceProcessEvents' real columns (the fact sheet's section 9, plus the session columns
the live table carries), in table order: the wide table as a hunter projects it. All of them at
99,999 rows would be ~330 MB, over the service's 124 MB cap, so the body holds the columns a
typical `project` keeps (see COLUMNS; unused generated values are simply not emitted); the
result is ~120 MB, which is what a full answer near the 124 MB cap looks like.

What makes it realistic (and hard): DateTime with 7 fractional digits; command lines of 200-600
characters full of backslashes and quotes; `AdditionalFields` as a `Dynamic` column holding nested
objects and arrays (sometimes null, sometimes a JSON string, as the service does for some tables);
nulls in many columns; `"<col>@odata.type":"#Int64"` annotations on some Int64 cells; raw UTF-8
(accented, CJK, emoji) and `\\u` escapes. Standard library only; the same seed gives the same bytes.
"""

import argparse
import json
import random
import sys

# (name, Graph type string). Int64 = KQL long, Dynamic = KQL dynamic.
COLUMNS = [
    ("Timestamp", "DateTime"),
    ("DeviceId", "String"),
    ("DeviceName", "String"),
    ("ActionType", "String"),
    ("FileName", "String"),
    ("SHA1", "String"),
    ("FileSize", "Int64"),
    ("ProcessId", "Int64"),
    ("ProcessCommandLine", "String"),
    ("ProcessCreationTime", "DateTime"),
    ("AccountName", "String"),
    ("InitiatingProcessFileName", "String"),
    ("InitiatingProcessId", "Int64"),
    ("InitiatingProcessCommandLine", "String"),
    ("ReportId", "Int64"),
    ("IsInitiatingProcessRemoteSession", "Boolean"),
    ("AdditionalFields", "Dynamic"),
]

# Int64 columns whose cells carry the OData annotation (as the service does for some rows).
ANNOTATED = {"ProcessId", "InitiatingProcessId", "ReportId", "FileSize"}

DAY = "2026-05-01"  # every row's day: one Parquet partition

EXES = [
    ("powershell.exe", r"C:\Windows\System32\WindowsPowerShell\v1.0", "Microsoft Corporation"),
    ("cmd.exe", r"C:\Windows\System32", "Microsoft Corporation"),
    ("rundll32.exe", r"C:\Windows\System32", "Microsoft Corporation"),
    ("msedge.exe", r"C:\Program Files (x86)\Microsoft\Edge\Application", "Microsoft Corporation"),
    ("python.exe", r"C:\Users\jürgen.müller\AppData\Local\Programs\Python\Python312", "Python Software Foundation"),
    ("svchost.exe", r"C:\Windows\System32", "Microsoft Corporation"),
    ("wmic.exe", r"C:\Windows\System32\wbem", "Microsoft Corporation"),
    ("schtasks.exe", r"C:\Windows\System32", "Microsoft Corporation"),
    ("7z.exe", r"C:\Program Files\7-Zip", "Igor Pavlov"),
    ("計算機.exe", r"C:\Users\田中太郎\Desktop", None),
]
ACTIONS = ["ProcessCreated", "ProcessCreated", "ProcessCreated", "OpenProcessApiCall"]
LEVELS = ["Medium", "High", "System", "Low", None]
DOMAINS = ["CONTOSO", "NT AUTHORITY", "FABRIKAM", "contoso-dev"]
USERS = ["alice", "bob", "jürgen.müller", "田中太郎", "zoë", "svc_backup", "SYSTEM", "o'brien", "admin 🦀"]
WORDS = [
    "-NoProfile", "-ExecutionPolicy", "Bypass", "-EncodedCommand", "/c", "/q", "--type=renderer",
    "Invoke-WebRequest", "-Uri", "-OutFile", "Get-ChildItem", "-Recurse", "|", "Out-File", "&&",
    "Start-Process", "/create", "/tn", "/tr", "/sc", "onlogon", "process", "call", "create",
    "-Command", "Set-MpPreference", "-DisableRealtimeMonitoring", "$true", "échec", "données",
]
PATHS = [
    r"C:\Windows\Temp\{0}.ps1", r"C:\Users\{1}\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup\{0}.lnk",
    r"\\fileserver01\share$\tools\{0}.exe", r"C:\ProgramData\{0}\config.json", r"D:\Données\rapport {0}.xlsx",
    r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\{0}",
]


def ts(r, day=DAY, base_s=0, spread_s=86399):
    """A DateTime with 7 fractional digits, within `day`."""
    s = base_s + r.randrange(spread_s)
    return f"{day}T{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}.{r.randrange(10**7):07d}Z"


def command_line(r, exe, folder, user):
    """A 200-600 character command line with backslashes, quotes and unicode."""
    target = r.randrange(200, 601)
    parts = [f'"{folder}\\{exe}"']
    n = 0
    while sum(len(p) + 1 for p in parts) < target:
        n += 1
        k = r.randrange(6)
        if k == 0:
            parts.append(f'"{r.choice(PATHS).format(r.randrange(10**6), user)}"')
        elif k == 1:
            parts.append(f"-Command \"& {{Write-Host 'run {n}'; $x = \\\"{r.randrange(10**9)}\\\"}}\"")
        elif k == 2:
            parts.append(r.choice(WORDS))
        elif k == 3:
            parts.append("".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") for _ in range(r.randrange(8, 48))) + "==")
        elif k == 4:
            parts.append(f"/p:\"{r.choice(USERS)}\\{r.choice(['Desktop', 'Документы', 'ドキュメント'])}\"")
        else:
            parts.append(f"--url=https://example.com/a?b={r.randrange(10**6)}&c=%22{n}%22")
    return " ".join(parts)[:target]


def additional_fields(r, i):
    """Nested dynamic value: objects and arrays, sometimes null or a JSON string."""
    k = r.randrange(10)
    if k == 0:
        return None
    if k == 1:
        return json.dumps({"Count": r.randrange(100)})  # a string, as some tables send
    return {
        "ProcessStartKey": r.randrange(1 << 62),
        "Parents": [{"Name": r.choice(EXES)[0], "Pid": r.randrange(65536)} for _ in range(r.randrange(0, 2))],
        "Tags": [r.choice(["lolbin", "démarrage", "横向移動", "🔥"]) for _ in range(r.randrange(0, 3))],
        "Context": {"Elevated": r.random() < 0.3, "Note": None if r.random() < 0.7 else f"row {i}"},
    }


def row(r, i):
    exe, folder, company = r.choice(EXES)
    pexe, pfolder, _ = r.choice(EXES)
    user = r.choice(USERS)
    dev = r.randrange(500)
    maybe = lambda p, v: None if r.random() < p else v  # noqa: E731
    values = {
        "Timestamp": ts(r),
        "DeviceId": f"{dev * 7919 % 10**9:040x}"[-40:],
        "DeviceName": f"wks-{dev:04d}.contoso.com",
        "ActionType": r.choice(ACTIONS),
        "FileName": exe,
        "FolderPath": f"{folder}\\{exe}",
        "SHA1": f"{r.getrandbits(160):040x}",
        "FileSize": maybe(0.1, r.randrange(10_000, 80_000_000)),
        "ProcessVersionInfoCompanyName": company,
        "ProcessId": r.randrange(4, 65536),
        "ProcessCommandLine": command_line(r, exe, folder, user),
        "ProcessIntegrityLevel": r.choice(LEVELS),
        "ProcessCreationTime": ts(r),
        "AccountDomain": r.choice(DOMAINS),
        "AccountName": user,
        "AccountSid": f"S-1-5-21-{r.randrange(10**9)}-{r.randrange(10**9)}-{r.randrange(10**9)}-{r.randrange(500, 5000)}",
        "LogonId": maybe(0.2, r.randrange(1 << 40)),
        "InitiatingProcessFileName": pexe,
        "InitiatingProcessId": r.randrange(4, 65536),
        "InitiatingProcessCommandLine": maybe(0.92, command_line(r, pexe, pfolder, user)),
        "InitiatingProcessParentFileName": maybe(0.1, r.choice(EXES)[0]),
        "InitiatingProcessParentCreationTime": maybe(0.15, ts(r)),
        "ReportId": r.randrange(1 << 50),
        "IsInitiatingProcessRemoteSession": maybe(0.05, r.random() < 0.1),
        "AdditionalFields": additional_fields(r, i),
    }
    out = []
    for name, ty in COLUMNS:
        v = values[name]
        if ty == "Int64" and name in ANNOTATED and v is not None and r.random() < 0.5:
            out.append(f'"{name}@odata.type":"#Int64"')
        # Mostly raw UTF-8 as Graph sends it; every 8th row \u-escaped, to exercise both.
        out.append(f'"{name}":' + json.dumps(v, ensure_ascii=i % 8 == 0, separators=(",", ":")))
    return "{" + ",".join(out) + "}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--rows", type=int, default=99_999)
    ap.add_argument("--seed", type=int, default=6)
    a = ap.parse_args()
    r = random.Random(a.seed)
    schema = json.dumps([{"name": n, "type": t} for n, t in COLUMNS], separators=(",", ":"))
    with open(a.out, "w", encoding="utf-8", newline="") as f:
        f.write('{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.security.huntingQueryResults",')
        f.write(f'"schema":{schema},"results":[')
        for i in range(a.rows):
            if i:
                f.write(",")
            f.write(row(r, i))
        f.write("]}")
    print(f"wrote {a.out}: {a.rows} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
