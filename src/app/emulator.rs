//! `hunt emulator`: the stand-in service in the foreground until Ctrl-C, for one tenant or,
//! with `--tenants N`, for many (`tenant-001`…, with the `[[tenant]]` tables that reach them).

use crate::cli::EmulatorArgs;
use crate::emulator::{Emulator, EmulatorConfig, EmulatorTenant};
use anyhow::Context as _;
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

/// `config` with what hunt.toml's `[emulator]` says the emulator models (its `externaldata`
/// files must be readable).
pub(super) fn modelled(
    mut config: EmulatorConfig,
    file: &crate::config::Config,
) -> anyhow::Result<EmulatorConfig> {
    config.sentinel_streamed |= file.emulator.sentinel_streamed;
    for (url, path) in &file.emulator.externaldata {
        add_externaldata(&mut config, url, path, "[emulator] externaldata")?;
    }
    Ok(config)
}

/// Maps `url` to the local file `path` (named by `source` if it cannot be read).
fn add_externaldata(
    config: &mut EmulatorConfig,
    url: &str,
    path: &std::path::Path,
    source: &str,
) -> anyhow::Result<()> {
    std::fs::metadata(path)
        .with_context(|| format!("cannot read {} ({source} for {url})", path.display()))?;
    config.externaldata.insert(url.to_owned(), path.to_owned());
    Ok(())
}

pub(super) async fn serve_emulator(
    args: EmulatorArgs,
    file: &crate::config::Config,
) -> anyhow::Result<ExitCode> {
    let config = EmulatorConfig {
        events_per_hour: args.events_per_hour,
        token_lifetime: Duration::from_secs(args.token_lifetime),
        chaos: args.chaos,
        chaos_seed: args.chaos_seed,
        canned_response: args.serve_file.clone(),
        retention: Some(super::retention()),
        sentinel_streamed: args.sentinel_streamed,
        ..EmulatorConfig::default()
    };
    // hunt.toml's `[emulator]` first; a flag's file for the same URL wins.
    let mut config = modelled(config, file)?;
    if let Some(step) = &args.den_lifecycle {
        let step = crate::timespan::parse_duration(step).context("--den-lifecycle")?.to_std()?;
        config.den_script = Some(crate::emulator::den_script::DenScript::every(step));
    }
    let names: Vec<String> = (1..=args.tenants).map(|i| format!("tenant-{i:03}")).collect();
    let extra: Vec<EmulatorTenant> =
        names.iter().map(|n| EmulatorTenant::fabricated(n, config.limits.clone())).collect();
    config.tenants = extra.clone();
    if let Some(path) = &args.client_cert {
        use rustls_pki_types::pem::PemObject as _;
        let der = rustls_pki_types::CertificateDer::from_pem_file(path)
            .with_context(|| format!("cannot read a certificate from {}", path.display()))?;
        config.client_cert_der = Some(der.to_vec());
    }
    if let Some(path) = &args.serve_file {
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    }
    for (url, path) in &args.externaldata {
        add_externaldata(&mut config, url, path, "--externaldata")?;
    }
    let addr: SocketAddr = (Ipv4Addr::LOCALHOST, args.port).into();
    let emu =
        Emulator::start(config, addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "hunt emulator listening on {}", emu.url())?;
    if let Some(path) = &args.serve_file {
        writeln!(out, "answering every hunting query with {}", path.display())?;
    }
    writeln!(out, "point hunt at it with:")?;
    for (k, v) in emu.env() {
        writeln!(out, "  export {k}={v}")?;
    }
    if !names.is_empty() {
        let tables = tenant_tables(&emu.url(), &names, &extra);
        match &args.hunt_toml {
            Some(path) => {
                write_private(path, &tables)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                writeln!(
                    out,
                    "or, for its {} tenants, with: hunt --config {} run …",
                    names.len(),
                    path.display()
                )?;
            }
            None => {
                writeln!(
                    out,
                    "or, for its {} tenants, with these hunt.toml tables:\n",
                    names.len()
                )?;
                write!(out, "{tables}")?;
            }
        }
    }
    out.flush()?;
    drop(out);
    tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")?;
    Ok(ExitCode::SUCCESS)
}

/// The `[[tenant]]` tables that reach the emulator's extra tenants. Their secrets are the
/// emulator's made-up test values, hence inline (and allowed as such).
fn tenant_tables(url: &str, names: &[String], tenants: &[EmulatorTenant]) -> String {
    let mut text = String::from(
        "# hunt emulator tenants: made-up test credentials, never a real tenant's secret\n",
    );
    for (name, t) in names.iter().zip(tenants) {
        text.push_str(&format!(
            "\n[[tenant]]\nname = \"{name}\"\ntenant_id = \"{}\"\nclient_id = \"{}\"\n\
             client_secret = \"{}\"\nallow_inline_secret = true\nauthority_host = \"{url}\"\n\
             graph_url = \"{url}\"\n",
            t.tenant_id, t.client_id, t.client_secret
        ));
    }
    text
}

/// Writes `text` to `path`, readable by its owner only (it holds secrets, if made-up ones).
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.sync_all()
}
