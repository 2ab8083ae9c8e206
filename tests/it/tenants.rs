//! Many tenants end to end: `[[tenant]]` tables in hunt.toml, tenants side by side under their
//! own quotas against one emulator serving them all, `--tenant` and `--shard`, configuration
//! errors, a tenant that cannot sign in, and the daemon, status, quota and DEN sync per tenant.

mod commands;

use crate::util::{Run, TestEnv, meta, parquet_files, read_parquet, ticks};
use arrow_array::RecordBatch;
use hunt::emulator::{EmulatorConfig, EmulatorTenant};
use hunt::quota::Limits;
use hunt::tenant::select::shard_of;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

const WINDOW: &str = "2026-11-20T00:00:00Z/2026-11-20T02:00:00Z";

pub(super) fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {run:?}"))
}

/// A tenant of the emulator with made-up credentials and `per_minute` calls a minute.
pub(super) fn tenant(name: &str, per_minute: u32) -> EmulatorTenant {
    let limits = Limits { calls_per_minute: per_minute, ..Limits::default() };
    EmulatorTenant::fabricated(name, Some(limits))
}

/// An emulator serving `tenants`.
pub(super) fn serving(tenants: &[EmulatorTenant]) -> TestEnv {
    TestEnv::with(EmulatorConfig { tenants: tenants.to_vec(), ..Default::default() })
}

/// The `[[tenant]]` table that reaches `t` on `env`'s emulator, its secret in `<NAME>_SECRET`.
pub(super) fn table(env: &TestEnv, name: &str, t: &EmulatorTenant, extra: &str) -> String {
    let url = env.emu.url();
    format!(
        "[[tenant]]\nname = \"{name}\"\ntenant_id = \"{}\"\nclient_id_env = \"{}_CLIENT\"\n\
         client_secret_env = \"{}_SECRET\"\nauthority_host = \"{url}\"\ngraph_url = \"{url}\"\n{extra}\n",
        t.tenant_id,
        name.to_uppercase(),
        name.to_uppercase()
    )
}

/// The variables those tables name.
pub(super) fn vars(tenants: &[(&str, &EmulatorTenant)]) -> Vec<(String, String)> {
    tenants
        .iter()
        .flat_map(|(n, t)| {
            let n = n.to_uppercase();
            [
                (format!("{n}_CLIENT"), t.client_id.clone()),
                (format!("{n}_SECRET"), t.client_secret.clone()),
            ]
        })
        .collect()
}

pub(super) fn hunt_with(env: &TestEnv, args: &[&str], vars: &[(String, String)]) -> Run {
    let extra: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    env.hunt(args, &extra)
}

/// Rows of the emulator's `table` in WINDOW for `t`, a tenant other than the emulator's default
/// (each has its own data and volume, seeded by its id).
pub(super) fn rows_in_window(table: &str, t: &EmulatorTenant) -> usize {
    let (start, end) = WINDOW.split_once('/').unwrap();
    let seed = hunt::emulator::data::tenant_seed(&t.tenant_id);
    hunt::emulator::data::tenant_rows(table, ticks(start), ticks(end), 360, seed).unwrap().count()
}

/// The tenant names the run's JSON lists, each with its status.
pub(super) fn tenant_statuses(v: &serde_json::Value) -> Vec<(String, String)> {
    v["tenants"]
        .as_array()
        .unwrap_or_else(|| panic!("no tenants: {v}"))
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_owned(), t["status"].as_str().unwrap().to_owned()))
        .collect()
}

/// The `tenant=<name>` folders under `out/<query>/`.
pub(super) fn tenant_dirs(out: &Path) -> BTreeSet<String> {
    parquet_files(out)
        .iter()
        .filter_map(|p| {
            p.components()
                .filter_map(|c| c.as_os_str().to_str()?.strip_prefix("tenant=").map(str::to_owned))
                .next()
        })
        .collect()
}

#[test]
fn two_tenants_run_side_by_side_each_within_its_own_quota_with_no_429() {
    // A may make 6 calls a minute, B 45; each has 9 queries. hunt must send A exactly 6 (the
    // 7th could only start a minute later, past the 20 s deadline, so hunt gives up on it
    // without calling), and all of B's at once: a shared or wrong quota would show as 429s,
    // as B's queries failing, or as B waiting.
    let (a, b) = (tenant("a", 6), tenant("b", 45));
    let env = serving(&[a.clone(), b.clone()]);
    let toml = format!(
        "[run]\nthrottle_deadline = \"20s\"\n\n{}{}",
        table(&env, "A", &a, "[tenant.quota]\ncalls_per_minute = 6\n"),
        table(&env, "B", &b, "")
    );
    std::fs::write(env.path("hunt.toml"), toml).unwrap();
    for i in 1..=9 {
        env.query(&format!("q{i}.kql"), "AlertInfo");
    }
    let started = std::time::Instant::now();
    let args =
        ["run", "queries", "--out", "out", "--timespan", WINDOW, "--json", "--concurrency", "3"];
    let run = hunt_with(&env, &args, &vars(&[("A", &a), ("B", &b)]));
    let took = started.elapsed();
    assert_eq!(run.code, 1, "A's last three did not run: {run:?}");
    assert!(took < Duration::from_secs(15), "{took:?}");
    assert_eq!(env.emu.stats().throttled, 0, "no 429: {run:?}");

    let v = json(&run);
    assert_eq!(tenant_statuses(&v), [("A".into(), "failed".into()), ("B".into(), "ok".into())]);
    assert_eq!(
        (v["tenants"][0]["ok"].as_u64(), v["tenants"][0]["failed"].as_u64()),
        (Some(6), Some(3))
    );
    assert_eq!(v["tenants"][1]["ok"], 9);
    for q in v["queries"].as_array().unwrap().iter().filter(|q| q["status"] != "ok") {
        assert_eq!(q["tenant"], "A", "{q}");
        assert!(q["error"].as_str().unwrap().contains("gave up waiting for quota"), "{q}");
    }
    assert!(run.stderr.contains("error: tenant A: query"), "{run:?}");

    let (calls_a, calls_b) =
        (env.emu.calls_of(&a.tenant_id).unwrap(), env.emu.calls_of(&b.tenant_id).unwrap());
    assert_eq!(calls_a.len(), 6);
    assert_eq!(calls_b.len(), 9);
    assert!(calls_a.iter().chain(&calls_b).all(|c| c.status == 200));
    // Side by side: each tenant's calls began before the other's ended, and B finished at
    // full speed.
    let span = |c: &[hunt::emulator::CallRecord]| {
        (
            c.iter().map(|c| c.arrived_ms).min().unwrap(),
            c.iter().map(|c| c.answered_ms).max().unwrap(),
        )
    };
    let ((a0, a1), (b0, b1)) = (span(&calls_a), span(&calls_b));
    assert!(a0 < b1 && b0 < a1, "A {a0}..{a1}, B {b0}..{b1}");
    assert!(b1 - b0 < 5_000, "B took {} ms", b1 - b0);

    // Every landed query: its tenant's partition, every row of the window, its tenant named.
    let files = parquet_files(&env.out());
    assert_eq!(tenant_dirs(&env.out()), BTreeSet::from(["A".to_owned(), "B".to_owned()]));
    // Each tenant has its own volume: their windows hold different numbers of rows.
    assert_ne!(rows_in_window("AlertInfo", &a), rows_in_window("AlertInfo", &b));
    for (name, queries, t) in [("A", 6, &a), ("B", 9, &b)] {
        let want = rows_in_window("AlertInfo", t);
        let mine: Vec<_> = files
            .iter()
            .filter(|p| p.to_string_lossy().contains(&format!("/tenant={name}/date=2026-11-20/")))
            .collect();
        assert_eq!(mine.len(), queries, "{name}: {files:?}");
        for f in mine {
            let (batches, kv) = read_parquet(f);
            assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), want, "{f:?}");
            assert_eq!(meta(&kv, "hunt.tenant"), name);
        }
    }
    assert_eq!(files.len(), 15, "{files:?}");
}

/// An env whose emulator serves `names`, with their tables and variables.
pub(super) fn many(names: &[&str]) -> (TestEnv, Vec<(String, String)>) {
    let tenants: Vec<EmulatorTenant> = names.iter().map(|n| tenant(n, 45)).collect();
    let env = serving(&tenants);
    let toml: String = names.iter().zip(&tenants).map(|(n, t)| table(&env, n, t, "")).collect();
    std::fs::write(env.path("hunt.toml"), toml).unwrap();
    env.query("alerts.kql", "AlertInfo | take 3");
    let pairs: Vec<(&str, &EmulatorTenant)> = names.iter().copied().zip(&tenants).collect();
    let vars = vars(&pairs);
    (env, vars)
}

#[test]
fn tenant_picks_some_and_an_unknown_name_is_a_usage_error() {
    let (env, vars) = many(&["a", "b", "c"]);
    let run = hunt_with(
        &env,
        &["run", "queries", "--timespan", WINDOW, "--json", "--tenant", "c,a"],
        &vars,
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        tenant_statuses(&json(&run)),
        [("a".into(), "ok".into()), ("c".into(), "ok".into())]
    );
    assert_eq!(tenant_dirs(&env.path("output")), BTreeSet::from(["a".to_owned(), "c".to_owned()]));
    let run = hunt_with(
        &env,
        &["run", "queries", "--tenant", "b", "--tenant", "b", "--timespan", WINDOW],
        &vars,
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("TENANT  QUERY"), "{run:?}");
    assert!(run.stdout.contains("\nb       alerts"), "{run:?}");

    let calls = env.emu.stats().hunting_calls;
    let run = hunt_with(&env, &["run", "queries", "--tenant", "a,zz", "--timespan", WINDOW], &vars);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("unknown tenant \"zz\": hunt.toml names a, b, c"), "{run:?}");
    for cmd in [
        &["quota", "--tenant", "zz"][..],
        &["status", "--tenant", "zz"],
        &["den", "sync", "--tenant", "zz"],
        &["schedule", "--tenant", "zz"],
    ] {
        let run = hunt_with(&env, cmd, &vars);
        assert_eq!(run.code, 2, "{cmd:?}: {run:?}");
        assert!(run.stderr.contains("hunt.toml names a, b, c"), "{cmd:?}: {run:?}");
    }
    assert_eq!(env.emu.stats().hunting_calls, calls, "nothing ran");

    // Without [[tenant]] tables there is nothing to pick.
    let single = TestEnv::new();
    single.query("q.kql", "AlertInfo | take 1");
    let run = single.hunt(&["run", "queries", "--tenant", "a", "--timespan", WINDOW], &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--tenant needs [[tenant]] tables"), "{run:?}");
}

#[test]
fn three_shards_share_ten_tenants_with_no_overlap() {
    let env = TestEnv::new();
    let names: Vec<String> = (1..=10).map(|i| format!("customer-{i:02}")).collect();
    let toml: String = names.iter().map(|n| format!("[[tenant]]\nname = \"{n}\"\n")).collect();
    std::fs::write(env.path("hunt.toml"), toml).unwrap();
    env.query("alerts.kql", "AlertInfo | take 2");
    let mut all = BTreeSet::new();
    for i in 1..=3u32 {
        let out = format!("out{i}");
        let mut args =
            vec!["run", "queries", "--emulator", "--json", "--out", &out, "--timespan", WINDOW];
        // The first machine takes its shard from HUNT_SHARD (a Kubernetes indexed job's way).
        let shard = format!("{i}/3");
        let run = if i == 1 {
            env.hunt(&args, &[("HUNT_SHARD", &shard)])
        } else {
            args.extend(["--shard", &shard]);
            env.hunt(&args, &[])
        };
        let want: BTreeSet<String> =
            names.iter().filter(|n| shard_of(n, 3) == i).cloned().collect();
        if want.is_empty() {
            assert_eq!(run.code, 0, "{run:?}");
            continue;
        }
        assert_eq!(run.code, 0, "{run:?}");
        let got: BTreeSet<String> =
            tenant_statuses(&json(&run)).into_iter().map(|(n, _)| n).collect();
        assert_eq!(got, want, "shard {i}");
        assert_eq!(tenant_dirs(&env.path(&out)), want, "shard {i}");
        assert!(all.is_disjoint(&got), "shard {i} overlaps: {got:?}");
        all.extend(got);
    }
    assert_eq!(all, names.iter().cloned().collect::<BTreeSet<_>>(), "every tenant ran once");
    assert!(all.len() == 10);

    // A shard with no tenant at all is fine: it says so and does nothing.
    std::fs::write(env.path("hunt.toml"), "[[tenant]]\nname = \"solo\"\n").unwrap();
    let empty = (1..=3).find(|&i| shard_of("solo", 3) != i).unwrap();
    let run = env.hunt(&["run", "queries", "--emulator", "--shard", &format!("{empty}/3")], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains(&format!("shard {empty}/3 has none of the 1 selected tenants")),
        "{run:?}"
    );
    let run = env.hunt(&["run", "queries", "--emulator", "--shard", "4/3"], &[]);
    assert_eq!(run.code, 2, "{run:?}");
}

#[test]
fn configuration_errors_name_their_place_and_stop_before_any_call() {
    let env = TestEnv::new();
    env.query("q.kql", "AlertInfo | take 1");
    let secret = "Inline~Secret.value-77";
    let cases = [
        (
            format!(
                "[[tenant]]\nname = \"a\"\ntenant_id = \"t\"\nclient_id = \"c\"\nclient_secret = \"{secret}\"\n"
            ),
            "hunt.toml: 5:17: tenant \"a\": a client_secret written in hunt.toml is refused",
        ),
        (
            "[[tenant]]\nname = \"a\"\nclient_secret_env = \"S\"\nsecret_env = \"S\"\n".into(),
            "hunt.toml: 4:1: unknown field `secret_env`",
        ),
        (
            "[[tenant]]\nname = \"a\"\n\n[[tenant]]\nname = \"a\"\n".into(),
            "hunt.toml: 5:8: tenant \"a\" is defined twice (first at 2:8)",
        ),
        (
            "[[tenant]]\nname = \"x/../y\"\n".into(),
            "hunt.toml: 2:8: tenant name \"x/../y\" must be",
        ),
    ];
    for (toml, want) in &cases {
        std::fs::write(env.path("hunt.toml"), toml).unwrap();
        let run = env.hunt(&["run", "queries", "--timespan", WINDOW], &[]);
        assert_eq!(run.code, 2, "{toml}: {run:?}");
        assert!(run.stderr.contains(want), "{toml}\nwant {want}\n{run:?}");
        assert!(!run.stderr.contains(secret), "{run:?}");
    }
    assert_eq!(env.emu.stats().tokens_issued, 0);

    // A variable the table names but the environment lacks: the tenant and the variable.
    let url = env.emu.url();
    std::fs::write(
        env.path("hunt.toml"),
        format!(
            "[[tenant]]\nname = \"lab\"\ntenant_id = \"{}\"\nclient_id = \"{}\"\n\
             client_secret_env = \"LAB_SECRET\"\nauthority_host = \"{url}\"\ngraph_url = \"{url}\"\n",
            hunt::emulator::TENANT_ID,
            hunt::emulator::CLIENT_ID
        ),
    )
    .unwrap();
    let run = env.hunt(&["run", "queries", "--timespan", WINDOW], &[]);
    assert_eq!(run.code, 2, "nothing could run: {run:?}");
    assert!(
        run.stderr.contains(
            "error: tenant lab: tenant \"lab\": client_secret_env names the environment variable \
             LAB_SECRET, which is not set"
        ),
        "{run:?}"
    );
    // With it, the same file works (and AZURE_CLIENT_SECRET, which the test sets, is not used).
    let run = env.hunt(
        &["run", "queries", "--timespan", WINDOW],
        &[("LAB_SECRET", hunt::emulator::CLIENT_SECRET), ("AZURE_CLIENT_SECRET", "")],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(tenant_dirs(&env.path("output")), BTreeSet::from(["lab".to_owned()]));
}

#[test]
fn a_tenant_with_a_wrong_secret_does_not_stop_the_others() {
    let (good, bad) = (tenant("good", 45), tenant("bad", 45));
    let env = serving(&[good.clone(), bad.clone()]);
    let toml = format!("{}{}", table(&env, "bad", &bad, ""), table(&env, "good", &good, ""));
    std::fs::write(env.path("hunt.toml"), toml).unwrap();
    env.query("alerts.kql", "AlertInfo");
    let wrong = "Wr0ng~Tenant.Secret-31";
    let mut vars = vars(&[("good", &good), ("bad", &bad)]);
    vars.retain(|(k, _)| k != "BAD_SECRET");
    vars.push(("BAD_SECRET".into(), wrong.into()));
    let run = hunt_with(&env, &["run", "queries", "--timespan", WINDOW, "--json", "-vv"], &vars);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("error: tenant bad: cannot sign in; nothing was run for this tenant"),
        "{run:?}"
    );
    assert!(run.stderr.contains("AADSTS7000215"), "{run:?}");
    assert!(!run.stderr.contains(wrong) && !run.stdout.contains(wrong), "{run:?}");
    assert!(!run.stderr.contains(&good.client_secret) && !run.stdout.contains(&good.client_secret));
    let v = json(&run);
    assert_eq!(
        tenant_statuses(&v),
        [("bad".into(), "not run".into()), ("good".into(), "ok".into())]
    );
    assert!(v["tenants"][0]["error"].as_str().unwrap().contains("AADSTS7000215"), "{v}");
    assert_eq!(v["totals"]["tenants_failed"], 1);
    assert_eq!(env.emu.calls_of(&bad.tenant_id).unwrap().len(), 0);
    let files = parquet_files(&env.path("output"));
    assert_eq!(files.len(), 1, "{files:?}");
    let rows: usize = read_parquet(&files[0]).0.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(rows, rows_in_window("AlertInfo", &good));
    assert_eq!(tenant_dirs(&env.path("output")), BTreeSet::from(["good".to_owned()]));

    // Nobody can sign in: nothing ran at all (exit 2).
    let run = hunt_with(&env, &["run", "queries", "--timespan", WINDOW, "--tenant", "bad"], &vars);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.contains("NOT RUN"), "{run:?}");
}

#[test]
fn a_tenant_with_its_own_out_lands_there_and_the_others_under_out() {
    let (a, b) = (tenant("a", 45), tenant("b", 45));
    let env = serving(&[a.clone(), b.clone()]);
    let toml = format!("{}{}", table(&env, "a", &a, "out = \"lake-a\""), table(&env, "b", &b, ""));
    std::fs::write(env.path("hunt.toml"), toml).unwrap();
    env.query("alerts.kql", "AlertInfo | take 2");
    let run = hunt_with(
        &env,
        &["run", "queries", "--out", "out", "--timespan", WINDOW],
        &vars(&[("a", &a), ("b", &b)]),
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(tenant_dirs(&env.path("lake-a")), BTreeSet::from(["a".to_owned()]));
    assert_eq!(tenant_dirs(&env.out()), BTreeSet::from(["b".to_owned()]));
}

#[test]
fn a_tenants_own_out_can_be_an_object_store() {
    use futures_util::TryStreamExt as _;
    let az = crate::tools::Azurite::get();
    let container = format!("tenants-{}", std::process::id());
    az.create_container(&container);
    let (a, b) = (tenant("a", 45), tenant("b", 45));
    let env = serving(&[a.clone(), b.clone()]);
    let out_a = format!("out = \"az://{container}/lake\"");
    let toml = format!("{}{}", table(&env, "a", &a, &out_a), table(&env, "b", &b, ""));
    std::fs::write(env.path("hunt.toml"), toml).unwrap();
    env.query("alerts.kql", "AlertInfo | take 2");
    let mut vars = vars(&[("a", &a), ("b", &b)]);
    vars.extend(az.env().into_iter().map(|(k, v)| (k.to_owned(), v)));
    let run =
        hunt_with(&env, &["run", "queries", "--out", "out", "--timespan", WINDOW, "--json"], &vars);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(tenant_dirs(&env.out()), BTreeSet::from(["b".to_owned()]));

    let pairs: Vec<(String, String)> =
        az.env().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    let spool = tempfile::tempdir().unwrap();
    let target = hunt::output::Target::parse(&format!("az://{container}")).unwrap();
    let dest = hunt::output::Destination::open(
        target,
        hunt::output::Format::Parquet,
        spool.path(),
        &pairs,
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let keys: Vec<String> = rt.block_on(async {
        let prefix = object_store::path::Path::from("lake");
        dest.store()
            .list(Some(&prefix))
            .map_ok(|m| m.location.to_string())
            .try_collect()
            .await
            .unwrap()
    });
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].starts_with("lake/alerts/tenant=a/date=2026-11-20/"), "{keys:?}");
}

/// A hunt.toml others can read that holds two tenants' inline secrets is warned about once, not
/// once per tenant.
#[cfg(unix)]
#[test]
fn a_readable_hunt_toml_is_warned_about_once_for_all_tenants() {
    use std::os::unix::fs::PermissionsExt as _;
    let (a, b) = (tenant("a", 45), tenant("b", 45));
    let env = serving(&[a.clone(), b.clone()]);
    let url = env.emu.url();
    let inline = |name: &str, t: &EmulatorTenant| {
        format!(
            "[[tenant]]\nname = \"{name}\"\ntenant_id = \"{}\"\nclient_id = \"{}\"\n\
             client_secret = \"{}\"\nallow_inline_secret = true\nauthority_host = \"{url}\"\n\
             graph_url = \"{url}\"\n",
            t.tenant_id, t.client_id, t.client_secret
        )
    };
    let toml = env.path("hunt.toml");
    std::fs::write(&toml, format!("{}{}", inline("a", &a), inline("b", &b))).unwrap();
    std::fs::set_permissions(&toml, std::fs::Permissions::from_mode(0o644)).unwrap();
    env.query("q.kql", "AlertInfo | take 1");
    let run = env.hunt(&["run", "queries", "--out", "out", "--timespan", WINDOW], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let warnings: Vec<&str> = run.stderr.lines().filter(|l| l.contains("chmod 600")).collect();
    assert_eq!(warnings.len(), 1, "{run:?}");
    assert!(!run.stderr.contains(&a.client_secret), "the secret is never printed: {run:?}");
}
