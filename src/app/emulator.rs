//! `hunt emulator`: the stand-in service in the foreground until Ctrl-C.

use crate::cli::EmulatorArgs;
use crate::emulator::{Emulator, EmulatorConfig};
use anyhow::Context as _;
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

pub(super) async fn serve_emulator(args: EmulatorArgs) -> anyhow::Result<ExitCode> {
    let mut config = EmulatorConfig {
        events_per_hour: args.events_per_hour,
        token_lifetime: Duration::from_secs(args.token_lifetime),
        chaos: args.chaos,
        chaos_seed: args.chaos_seed,
        canned_response: args.serve_file.clone(),
        ..EmulatorConfig::default()
    };
    if let Some(path) = &args.client_cert {
        use rustls_pki_types::pem::PemObject as _;
        let der = rustls_pki_types::CertificateDer::from_pem_file(path)
            .with_context(|| format!("cannot read a certificate from {}", path.display()))?;
        config.client_cert_der = Some(der.to_vec());
    }
    if let Some(path) = &args.serve_file {
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
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
    out.flush()?;
    drop(out);
    tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")?;
    Ok(ExitCode::SUCCESS)
}
