//! The README's main command works as written: the shipped example queries run against the
//! built-in emulator and land Parquet; and every other example runs as written (`examples`).

mod examples;

use crate::util::{hunt_cmd, parquet_files};

#[test]
fn shipped_queries_run_against_the_built_in_emulator() {
    let repo = env!("CARGO_MANIFEST_DIR");
    let out = tempfile::tempdir().unwrap();
    let run = hunt_cmd()
        .current_dir(repo)
        .args(["run", "queries/", "--emulator", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    let (stdout, stderr) =
        (String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert_eq!(run.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains(" 0 failed;"), "{stdout}");
    assert!(!parquet_files(out.path()).is_empty(), "{stdout}");
}

/// The README's "Reading your results" example runs as written, in a folder where "Try it"
/// landed its output, and DuckDB's `filename = true` clashes with `FileName` as it says.
#[test]
fn reading_results_as_the_readme_shows() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme.split("### Reading your results").nth(1).expect("the section");
    let script = section
        .split("python3 - <<'PY'\n")
        .nth(1)
        .and_then(|s| s.split("\nPY\n").next())
        .expect("the section's Python example");
    let dir = tempfile::tempdir().unwrap();
    let queries = concat!(env!("CARGO_MANIFEST_DIR"), "/queries/");
    let run =
        hunt_cmd().current_dir(dir.path()).args(["run", queries, "--emulator"]).output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{run:?}");
    let python = |script: &str| {
        std::process::Command::new(crate::tools::python())
            .current_dir(dir.path())
            .args(["-c", script])
            .output()
            .unwrap()
    };
    let out = python(script);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("DeviceName") && stdout.contains("ProcessCommandLine"), "{stdout}");

    // The warning's claim, on a result that has Defender's FileName column.
    let run = hunt_cmd()
        .current_dir(dir.path())
        .args(["run", "-e", "DeviceProcessEvents | take 5", "--emulator", "--out", "files"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{run:?}");
    let read = |option: &str| {
        python(&format!(
            "import duckdb; print(duckdb.sql(\"SELECT count(*) FROM read_parquet('files/**/*.parquet', {option})\").fetchone()[0])"
        ))
    };
    let clash = read("filename = true");
    assert!(!clash.status.success());
    let stderr = String::from_utf8_lossy(&clash.stderr);
    assert!(
        stderr.contains(
            "Binder Error: table \"read_parquet\" has duplicate column name \"filename\""
        ),
        "{stderr}"
    );
    let named = read("filename = 'source_file'");
    assert!(named.status.success(), "{}", String::from_utf8_lossy(&named.stderr));
    assert_eq!(String::from_utf8_lossy(&named.stdout).trim(), "5");
}
