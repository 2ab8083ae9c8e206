//! Tenants: the `[[tenant]]` tables of `hunt.toml` that let one hunt serve many tenants (an
//! MSSP's customers), each with its own credentials, endpoints, output location and quota.
//!
//! * this module: the tables as written ([`TenantConfig`]) and their checks at load time, with
//!   the line of each problem;
//! * [`credentials`]: turning a table into sign-in [`Settings`](crate::graph::Settings),
//!   reading the environment variables it names;
//! * [`select`]: `--tenant NAME` and `--shard I/N` (rendezvous hashing, so machines share
//!   tenants with no coordination).
//!
//! ```toml
//! [[tenant]]
//! name = "contoso"                       # the tenant=<name>/ level of the output
//! tenant_id = "00000000-0000-0000-0000-000000000001"   # or tenant_id_env = "CONTOSO_TENANT_ID"
//! client_id_env = "CONTOSO_CLIENT_ID"    # or client_id = "..."
//! client_secret_env = "CONTOSO_SECRET"   # or certificate = "/etc/hunt/contoso.pem", certificate_env
//!                                        # or auth = "workload-identity" (federated_token_file),
//!                                        # "managed-identity", "azure-cli", "device-code"
//! out = "s3://contoso-lake/hunt"         # a folder or object-store URL; default: the command's
//! [tenant.quota]                         # default: the top-level [quota]
//! calls_per_minute = 30
//! ```
//!
//! Without `[[tenant]]` tables hunt serves the one tenant of the `AZURE_*` environment.

pub mod credentials;
pub mod select;

use crate::graph::auth::AuthKind;
use crate::quota::Limits;
use serde::{Deserialize, Deserializer};
use std::path::PathBuf;
use std::time::Duration;
use toml::Spanned;

/// Longest tenant name.
pub const NAME_MAX: usize = 64;

/// One `[[tenant]]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// The tenant's name: a safe path component, unique in the file.
    pub name: Spanned<String>,
    /// Directory (tenant) id or domain.
    pub tenant_id: Option<Spanned<String>>,
    /// Environment variable holding the tenant id.
    pub tenant_id_env: Option<Spanned<String>>,
    /// Application (client) id.
    pub client_id: Option<Spanned<String>>,
    /// Environment variable holding the client id.
    pub client_id_env: Option<Spanned<String>>,
    /// Environment variable holding the client secret.
    pub client_secret_env: Option<Spanned<String>>,
    /// The client secret itself: refused unless `allow_inline_secret`.
    pub client_secret: Option<Spanned<InlineSecret>>,
    /// The user insists on `client_secret` in the file.
    #[serde(default)]
    pub allow_inline_secret: bool,
    /// PEM file with the RSA private key and its certificate.
    pub certificate: Option<Spanned<PathBuf>>,
    /// Environment variable holding the path of that PEM file.
    pub certificate_env: Option<Spanned<String>>,
    /// How the tenant signs in: `secret` or `certificate` (the default: whichever of the keys
    /// above is given), `workload-identity`, `managed-identity`, `azure-cli` or `device-code`.
    pub auth: Option<Spanned<AuthKind>>,
    /// With `auth = "workload-identity"`: the federated token file (default:
    /// `AZURE_FEDERATED_TOKEN_FILE`).
    pub federated_token_file: Option<Spanned<PathBuf>>,
    /// Token authority, e.g. `https://login.microsoftonline.us`.
    pub authority_host: Option<Spanned<String>>,
    /// Graph root without version, e.g. `https://graph.microsoft.us`.
    pub graph_url: Option<Spanned<String>>,
    /// Output location: a folder or an object-store URL (`az://…`, `s3://…`, …); default: the
    /// command's (`--out`, else `[output] out`).
    pub out: Option<Spanned<String>>,
    /// `[tenant.quota]`: limits that differ from the top-level `[quota]`.
    #[serde(default)]
    pub quota: QuotaOverrides,
    /// The limits in force: `[tenant.quota]` over `[quota]` (filled in by [`check`]).
    #[serde(skip)]
    pub limits: Limits,
}

impl TenantConfig {
    /// The name.
    pub fn name(&self) -> &str {
        self.name.get_ref()
    }
}

/// A client secret written in the file. Never printed (`Debug` shows `<redacted>`).
#[derive(Clone)]
pub struct InlineSecret(pub crate::graph::auth::Secret);

impl std::fmt::Debug for InlineSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InlineSecret(<redacted>)")
    }
}

impl<'de> Deserialize<'de> for InlineSecret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| InlineSecret(crate::graph::auth::Secret::new(s)))
    }
}

/// `[tenant.quota]`: the keys of `[quota]`, each optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuotaOverrides {
    /// Calls per sliding minute.
    pub calls_per_minute: Option<u32>,
    /// Calls per sliding hour.
    pub calls_per_hour: Option<u32>,
    /// Execution time per sliding hour, e.g. `"10m"`.
    #[serde(deserialize_with = "some_duration")]
    pub exec_per_hour: Option<Duration>,
    /// Execution time per sliding day, e.g. `"3h"`.
    #[serde(deserialize_with = "some_duration")]
    pub exec_per_day: Option<Duration>,
    /// Rows per result.
    pub max_rows: Option<u64>,
    /// Bytes per result.
    pub max_result_bytes: Option<u64>,
}

fn some_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(d)?;
    crate::timespan::parse_duration(&text)
        .map_err(serde::de::Error::custom)?
        .to_std()
        .map(Some)
        .map_err(serde::de::Error::custom)
}

impl QuotaOverrides {
    /// `base` with these keys replaced.
    pub fn over(&self, base: &Limits) -> Limits {
        Limits {
            calls_per_minute: self.calls_per_minute.unwrap_or(base.calls_per_minute),
            calls_per_hour: self.calls_per_hour.unwrap_or(base.calls_per_hour),
            exec_per_hour: self.exec_per_hour.unwrap_or(base.exec_per_hour),
            exec_per_day: self.exec_per_day.unwrap_or(base.exec_per_day),
            max_rows: self.max_rows.unwrap_or(base.max_rows),
            max_result_bytes: self.max_result_bytes.unwrap_or(base.max_result_bytes),
        }
    }
}

/// Whether `name` may name a tenant: 1 to 64 ASCII letters, digits, `.`, `_` or `-`, starting
/// with a letter or digit (so it is a safe folder name on every system, and `tenant=<name>`
/// needs no escaping in a Hive partition).
pub fn check_name(name: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if name.is_empty() || name.len() > NAME_MAX {
        return Err(format!("tenant name {name:?} must be 1 to {NAME_MAX} characters"));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) || !name.chars().all(ok_char) {
        return Err(format!(
            "tenant name {name:?} must be letters, digits, '.', '_' or '-', starting with a \
             letter or digit (it becomes the tenant=<name>/ folder of the output)"
        ));
    }
    Ok(())
}

/// Checks the tables of one file and fills in each tenant's `limits` from `base`: names,
/// duplicates, one source per value, no inline secret unless allowed, usable URLs and quotas.
/// `locate` turns a byte offset of the file into `line:col`; errors start with it.
pub fn check(
    tenants: &mut [TenantConfig],
    base: &Limits,
    locate: &dyn Fn(usize) -> String,
) -> Result<(), String> {
    let place = |at: usize, e: String| format!("{}: {e}", locate(at));
    let mut seen: Vec<(String, usize)> = Vec::new();
    for t in tenants.iter_mut() {
        let name = t.name.get_ref().clone();
        let at = t.name.span().start;
        check_name(&name).map_err(|e| place(at, e))?;
        let folded = name.to_ascii_lowercase();
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == folded) {
            let first = locate(*first);
            return Err(place(at, format!("tenant {name:?} is defined twice (first at {first})")));
        }
        seen.push((folded, at));
        check_sources(t, &name).map_err(|(at, e)| place(at, e))?;
        if let Some(out) = &t.out
            && let Err(e) = crate::output::Target::parse(out.get_ref())
        {
            return Err(place(out.span().start, format!("tenant {name:?}: out: {}", e.reason)));
        }
        for (key, url) in [("authority_host", &t.authority_host), ("graph_url", &t.graph_url)] {
            if let Some(u) = url {
                crate::graph::checked_root(&format!("tenant {name:?}: {key}"), u.get_ref())
                    .map_err(|e| place(u.span().start, e.to_string()))?;
            }
        }
        t.limits = t.quota.over(base);
        t.limits.validate().map_err(|e| {
            place(at, e.replacen("[quota]", &format!("tenant {name:?}: [tenant.quota]"), 1))
        })?;
    }
    Ok(())
}

/// Where a key of a table starts, if it is there.
fn at<T>(value: &Option<Spanned<T>>) -> Option<usize> {
    value.as_ref().map(|v| v.span().start)
}

/// Keys that give the same value, and where each starts if it is there.
type Keys<'a> = Vec<(&'a str, Option<usize>)>;

/// One place for each value, and the inline-secret rule; errors carry their byte offset.
fn check_sources(t: &TenantConfig, name: &str) -> Result<(), (usize, String)> {
    let groups: [(&str, Keys); 3] = [
        (
            "tenant id",
            vec![("tenant_id", at(&t.tenant_id)), ("tenant_id_env", at(&t.tenant_id_env))],
        ),
        (
            "client id",
            vec![("client_id", at(&t.client_id)), ("client_id_env", at(&t.client_id_env))],
        ),
        (
            "credential",
            vec![
                ("client_secret_env", at(&t.client_secret_env)),
                ("client_secret", at(&t.client_secret)),
                ("certificate", at(&t.certificate)),
                ("certificate_env", at(&t.certificate_env)),
            ],
        ),
    ];
    for (what, keys) in groups {
        let given: Vec<(&str, usize)> =
            keys.into_iter().filter_map(|(k, s)| s.map(|s| (k, s))).collect();
        if let [_, (_, second), ..] = given[..] {
            let names: Vec<&str> = given.iter().map(|(k, _)| *k).collect();
            let message =
                format!("tenant {name:?}: give its {what} once, not as {}", names.join(" and "));
            return Err((second, message));
        }
    }
    let kind = t.auth.as_ref().map(|a| (*a.get_ref(), a.span().start));
    if let Some((kind, _)) =
        kind.filter(|(k, _)| !matches!(k, AuthKind::Secret | AuthKind::Certificate))
        && let Some((key, start)) = [
            ("client_secret_env", at(&t.client_secret_env)),
            ("client_secret", at(&t.client_secret)),
            ("certificate", at(&t.certificate)),
            ("certificate_env", at(&t.certificate_env)),
        ]
        .into_iter()
        .find_map(|(k, s)| Some((k, s?)))
    {
        return Err((
            start,
            format!(
                "tenant {name:?}: auth = \"{}\" signs in without a secret or certificate: remove {key}",
                kind.as_str()
            ),
        ));
    }
    if let Some(file) = &t.federated_token_file
        && !matches!(kind, Some((AuthKind::WorkloadIdentity, _)))
    {
        return Err((
            file.span().start,
            format!(
                "tenant {name:?}: federated_token_file is for auth = \"workload-identity\"; add \
                 that to this tenant or remove the key"
            ),
        ));
    }
    if let Some(s) = &t.client_secret
        && !t.allow_inline_secret
    {
        return Err((
            s.span().start,
            format!(
                "tenant {name:?}: a client_secret written in hunt.toml is refused: put it in an \
                 environment variable and name it with client_secret_env = \"VAR\" (or use a \
                 certificate); if you must keep it in the file, add allow_inline_secret = true \
                 to this tenant and chmod 600 the file"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
