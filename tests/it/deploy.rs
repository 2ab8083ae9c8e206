//! The deployment files users copy (`deploy/hunt.service`, `deploy/Dockerfile`,
//! `deploy/hunt.toml`): the unit passes `systemd-analyze verify`; both command lines parse with
//! hunt's own CLI and name folders the files provide; the unit's command runs as written (paths
//! moved into a temporary folder, against the emulator) and stops cleanly on SIGTERM. No Docker
//! daemon is available here, so the image is not built: the Dockerfile is checked for a non-root
//! user, its sources existing in the repository, state and output on its volume, and a Rust
//! image no older than `rust-version`.

use crate::util::{hunt_cmd, sigterm, wait_until};
use clap::Parser;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap()
}

/// The value of the unit's `key=` lines.
fn unit_values<'a>(unit: &'a str, key: &str) -> Vec<&'a str> {
    unit.lines().filter_map(|l| l.strip_prefix(key)?.strip_prefix('=')).collect()
}

/// A Dockerfile instruction's JSON array (`ENTRYPOINT [...]`, `CMD [...]`, `VOLUME [...]`).
fn docker_array(dockerfile: &str, instruction: &str) -> Vec<String> {
    let line = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix(instruction)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {instruction} in the Dockerfile"));
    serde_json::from_str(line).unwrap()
}

#[test]
fn the_systemd_unit_verifies_and_its_command_parses() {
    let unit = read("deploy/hunt.service");
    let exec = unit_values(&unit, "ExecStart");
    assert_eq!(exec.len(), 1, "{unit}");
    let args: Vec<&str> = exec[0].split_whitespace().collect();
    assert_eq!(args[0], "/usr/local/bin/hunt");
    hunt::cli::Cli::try_parse_from(&args).unwrap_or_else(|e| panic!("{}: {e}", exec[0]));
    // State and output live in the unit's StateDirectory.
    assert_eq!(unit_values(&unit, "StateDirectory"), ["hunt"]);
    assert!(exec[0].contains("--out /var/lib/hunt/output"), "{unit}");
    assert_eq!(unit_values(&unit, "Environment"), ["HUNT_STATE_DIR=/var/lib/hunt/state"]);
    assert_eq!(unit_values(&unit, "User"), ["hunt"]);
    assert_eq!(unit_values(&unit, "KillSignal"), ["SIGTERM"]);

    // systemd's own check, on the unit with this build's binary in place of the installed one.
    // It warns on stderr (and still exits 0) for a bad value: both must be clean.
    let dir = tempfile::tempdir().unwrap();
    let verify = |text: &str| {
        let path = dir.path().join("hunt.service");
        std::fs::write(&path, text).unwrap();
        let out = std::process::Command::new("systemd-analyze")
            .args(["verify", path.to_str().unwrap()])
            .output()
            .expect("systemd-analyze (systemd) is needed to check the unit");
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let here = unit.replace("/usr/local/bin/hunt", env!("CARGO_BIN_EXE_hunt"));
    let (ok, stderr) = verify(&here);
    assert!(ok && stderr.trim().is_empty(), "systemd-analyze verify: {stderr}");
    // The check can fail: a bad value is reported.
    let (_, stderr) = verify(&here.replace("Restart=on-failure", "Restart=sometimes"));
    assert!(stderr.contains("sometimes"), "systemd-analyze missed a bad value: {stderr}");
}

#[test]
fn the_units_command_runs_as_written_and_stops_cleanly() {
    let unit = read("deploy/hunt.service");
    let exec = unit_values(&unit, "ExecStart")[0];
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().display().to_string();
    // /etc/hunt and /var/lib/hunt moved into the temporary folder; the repository's queries as
    // /etc/hunt/queries, deploy/hunt.toml as /etc/hunt/hunt.toml.
    std::fs::create_dir_all(dir.path().join("etc/hunt")).unwrap();
    let toml = read("deploy/hunt.toml").replace("/var/lib/hunt", &format!("{root}/var/lib/hunt"));
    std::fs::write(dir.path().join("etc/hunt/hunt.toml"), toml).unwrap();
    std::os::unix::fs::symlink(repo("queries"), dir.path().join("etc/hunt/queries")).unwrap();
    let moved = exec
        .replace("/etc/hunt", &format!("{root}/etc/hunt"))
        .replace("/var/lib/hunt", &format!("{root}/var/lib/hunt"));
    let args: Vec<&str> = moved.split_whitespace().skip(1).collect();
    let mut daemon = hunt_cmd()
        .args(&args)
        .arg("--emulator")
        .env("HUNT_STATE_DIR", format!("{root}/var/lib/hunt/state"))
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let output = dir.path().join("var/lib/hunt/output");
    let queries = std::fs::read_dir(repo("queries"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "kql"))
        .count();
    let landed = || std::fs::read_dir(&output).map(|d| d.count()).unwrap_or(0);
    wait_until("every example query's first window", Duration::from_secs(60), || {
        landed() >= queries
    });
    assert_eq!(sigterm(&mut daemon), 0, "SIGTERM (systemctl stop) ends hunt with 0");
    assert!(dir.path().join("var/lib/hunt/state").read_dir().unwrap().count() > 0);
}

#[test]
fn the_dockerfile_runs_hunt_as_a_user_with_its_data_on_a_volume() {
    let docker = read("deploy/Dockerfile");
    // A non-root user, by number (so Kubernetes' runAsNonRoot can check it).
    let user = docker.lines().find_map(|l| l.strip_prefix("USER ")).expect("a USER");
    let uid: u32 = user.split(':').next().unwrap().parse().unwrap();
    assert!(uid >= 1000, "{user}");
    // ENTRYPOINT + CMD parse with hunt's CLI; state and output are on the volume.
    let mut args = docker_array(&docker, "ENTRYPOINT");
    assert_eq!(args, ["/usr/local/bin/hunt"]);
    args.extend(docker_array(&docker, "CMD"));
    hunt::cli::Cli::try_parse_from(&args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
    let volumes = docker_array(&docker, "VOLUME");
    let on_volume = |p: &str| volumes.iter().any(|v| p.starts_with(v.as_str()));
    let out = args.iter().position(|a| a == "--out").map(|i| args[i + 1].clone()).unwrap();
    assert!(on_volume(&out), "{out} is not on a volume: {volumes:?}");
    let state = docker.lines().find_map(|l| l.strip_prefix("ENV HUNT_STATE_DIR=")).unwrap();
    assert!(on_volume(state), "{state} is not on a volume: {volumes:?}");
    // What it copies from the build context exists; the target folder is not sent.
    for line in docker.lines().filter(|l| l.starts_with("COPY ") && !l.contains("--from")) {
        let src = line.split_whitespace().nth(1).unwrap();
        assert!(repo(src).exists(), "{line}: {src} is not in the repository");
    }
    assert!(read(".dockerignore").lines().any(|l| l.trim() == "target/"));
    // The build image is no older than the crate's rust-version.
    let image = docker.lines().find_map(|l| l.strip_prefix("FROM rust:")).unwrap();
    let version = |v: &str| -> (u32, u32) {
        let mut parts = v.split(['.', '-', ' ']).map(|p| p.parse().unwrap_or(0));
        (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
    };
    let manifest = read("Cargo.toml");
    let wanted = manifest.lines().find_map(|l| l.strip_prefix("rust-version = ")).unwrap();
    assert!(version(image) >= version(wanted.trim_matches('"')), "{image} < {wanted}");
    // The config it ships loads.
    hunt::config::Config::load(&repo("deploy/hunt.toml"), true).unwrap();
}
