//! `hunt auth`: who hunt signs in as, for each selected tenant: the sign-in source, the tenant,
//! the app or the person, the token's expiry, and the permissions it carries against what each
//! command needs, with the consent step for each one missing. The token itself is never shown.

use crate::cli::AuthArgs;
use crate::clock::{Clock, TokioClock};
use crate::config::Config;
use crate::graph::claims::{NEEDS, TokenFacts};
use serde_json::json;
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

pub(super) async fn auth(args: AuthArgs, config: Config) -> anyhow::Result<ExitCode> {
    let targets = super::tenants::targets(&args.select, args.emulator, &config).await?;
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::new());
    let mut out = std::io::stdout().lock();
    let (mut docs, mut missing_any, mut failed) = (Vec::new(), false, 0usize);
    for target in &targets.list {
        let signed = target
            .reported(async {
                let (client, tenant_id) = target.sign_in(false, Arc::clone(&clock)).await?;
                let token = client.access_token().await?;
                Ok((
                    client.settings().auth.credential.kind(),
                    tenant_id,
                    TokenFacts::read(token.expose()),
                ))
            })
            .await;
        let (kind, tenant_id, facts) = match signed {
            Ok(s) => s,
            Err(e) if targets.multi => {
                failed += 1;
                docs.push(json!({ "name": target.name, "error": format!("{e:#}") }));
                continue;
            }
            Err(e) => return Err(e),
        };
        let needs: Vec<_> = NEEDS
            .iter()
            .map(|(commands, permission)| {
                let has = facts.as_ref().map(|f| f.has(permission));
                (commands, permission, has)
            })
            .collect();
        missing_any |= needs.iter().any(|(_, _, has)| *has == Some(false));
        let delegated = facts.as_ref().is_some_and(TokenFacts::delegated);
        if args.json {
            docs.push(json!({
                "name": target.name,
                "source": kind.as_str(),
                "tenant": tenant_id,
                "token": facts,
                "delegated": delegated,
                "permissions": needs.iter().map(|(c, p, has)| json!({
                    "commands": c, "permission": p, "granted": has,
                })).collect::<Vec<_>>(),
            }));
            continue;
        }
        if let Some(name) = &target.name {
            writeln!(out, "tenant {name}")?;
        }
        writeln!(out, "source       {}", kind.as_str())?;
        writeln!(out, "tenant       {tenant_id}")?;
        match &facts {
            None => writeln!(out, "token        opaque (its permissions cannot be read here)")?,
            Some(f) => {
                let who = match (&f.user, &f.app) {
                    (Some(u), _) => format!("user {u} (delegated permissions)"),
                    (None, Some(a)) => format!("app {a} (application permissions)"),
                    (None, None) => "unknown".to_owned(),
                };
                writeln!(out, "identity     {who}")?;
                if let Some(exp) = f.expires {
                    let left = (exp - clock.now()).num_minutes();
                    writeln!(
                        out,
                        "token        expires {} (in {left} min)",
                        crate::timespan::format_datetime(exp)
                    )?;
                }
            }
        }
        writeln!(out, "permissions")?;
        for (commands, permission, has) in &needs {
            let state = match has {
                Some(true) => "ok".to_owned(),
                Some(false) if delegated => format!(
                    "MISSING: add the delegated permission {permission} to the app and consent; \
                     the person also needs a Defender XDR role that allows it"
                ),
                Some(false) => format!(
                    "MISSING: add the application permission {permission} (Microsoft Graph) to \
                     the app registration and grant admin consent"
                ),
                None => "unknown".to_owned(),
            };
            writeln!(out, "  {commands:<14} {permission:<26} {state}")?;
        }
    }
    if args.json {
        let v = if targets.multi { json!({ "tenants": docs }) } else { docs.remove(0) };
        writeln!(out, "{v}")?;
    }
    if failed > 0 || missing_any {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// `hunt login`: a person's device-code sign-in, kept in the state folder (mode 0600).
pub(super) async fn login() -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    let var =
        |k: &str| super::environment(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let tenant = var("AZURE_TENANT_ID")
        .context("AZURE_TENANT_ID is not set: hunt login signs you in to that tenant")?;
    let client = var("AZURE_CLIENT_ID").context(
        "AZURE_CLIENT_ID is not set: name an app registration that allows public client flows \
         and has the delegated permission ThreatHunting.Read.All",
    )?;
    let authority = crate::graph::checked_root(
        "AZURE_AUTHORITY_HOST",
        &var("AZURE_AUTHORITY_HOST").unwrap_or_else(|| crate::graph::DEFAULT_AUTHORITY_HOST.into()),
    )?;
    let graph = crate::graph::checked_root(
        "HUNT_GRAPH_URL",
        &var("HUNT_GRAPH_URL").unwrap_or_else(|| crate::graph::DEFAULT_GRAPH_URL.into()),
    )?;
    let path = crate::graph::login::cache_path(&super::state_dir(), &tenant);
    let http = crate::graph::http_client(std::time::Duration::from_secs(60))?;
    let user = crate::graph::login::device_code_login(
        &http,
        &authority,
        &tenant,
        &client,
        &format!("{graph}/.default"),
        &path,
        |message| eprintln!("{message}"),
    )
    .await?;
    println!(
        "signed in as {} (tenant {tenant}); kept in {} (mode 0600) until `hunt logout`",
        user.as_deref().unwrap_or("you"),
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `hunt logout`: removes the kept sign-in of AZURE_TENANT_ID, or every one.
pub(super) fn logout() -> anyhow::Result<ExitCode> {
    let dir = super::state_dir();
    let files: Vec<std::path::PathBuf> = match super::environment("AZURE_TENANT_ID") {
        Some(t) if !t.trim().is_empty() => vec![crate::graph::login::cache_path(&dir, t.trim())],
        _ => super::state_files("login-", ".json"),
    };
    let mut removed = 0;
    for f in files.iter().filter(|f| f.exists()) {
        std::fs::remove_file(f)?;
        println!("removed {}", f.display());
        removed += 1;
    }
    if removed == 0 {
        println!("no `hunt login` sign-in to remove in {}", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}
