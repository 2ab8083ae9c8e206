//! The README's main command works as written: the shipped example queries run against the
//! built-in emulator and land Parquet.

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
