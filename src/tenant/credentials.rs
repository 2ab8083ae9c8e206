//! From a `[[tenant]]` table to sign-in [`Settings`]: plain values or the environment variables
//! the table names, the secret or certificate, and the endpoints. Problems name the tenant and
//! the variable; a secret's value never appears in them.

use super::TenantConfig;
use crate::graph::auth::{AuthKind, Certificate, Credential, Secret};
use crate::graph::{DEFAULT_AUTHORITY_HOST, DEFAULT_GRAPH_URL, Settings, checked_root};
use std::path::Path;

/// Why a tenant cannot sign in with what it was given (the other tenants still can).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// A key names an environment variable that is not set (or empty).
    #[error("tenant {tenant:?}: {key} names the environment variable {var}, which is not set")]
    MissingVariable {
        /// The tenant.
        tenant: String,
        /// The key, e.g. `client_secret_env`.
        key: &'static str,
        /// The variable.
        var: String,
    },
    /// Neither the value nor a variable for it is given.
    #[error("tenant {tenant:?} has no {what}: add {keys} to its [[tenant]] table")]
    Missing {
        /// The tenant.
        tenant: String,
        /// What is missing.
        what: &'static str,
        /// The keys that can give it.
        keys: &'static str,
    },
    /// A value that cannot be used.
    #[error("tenant {tenant:?}: {message}")]
    Invalid {
        /// The tenant.
        tenant: String,
        /// What is wrong.
        message: String,
    },
}

impl TenantConfig {
    /// A value given in the file (`plain`) or in the variable `env` names.
    fn value(
        &self,
        plain: Option<&str>,
        env: (&'static str, Option<&str>),
        var: &impl Fn(&str) -> Option<String>,
    ) -> Result<Option<String>, CredentialError> {
        let read = |v: &str| var(v).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        match (plain, env.1) {
            (Some(p), _) => Ok(Some(p.trim().to_owned()).filter(|s| !s.is_empty())),
            (None, Some(name)) => {
                read(name).map(Some).ok_or_else(|| CredentialError::MissingVariable {
                    tenant: self.name().to_owned(),
                    key: env.0,
                    var: name.to_owned(),
                })
            }
            (None, None) => Ok(None),
        }
    }

    /// The tenant id (GUID or domain), from the file or its variable.
    pub fn tenant_id(
        &self,
        var: &impl Fn(&str) -> Option<String>,
    ) -> Result<String, CredentialError> {
        let id = self
            .value(
                self.tenant_id.as_ref().map(|s| s.get_ref().as_str()),
                ("tenant_id_env", self.tenant_id_env.as_ref().map(|s| s.get_ref().as_str())),
                var,
            )?
            .ok_or_else(|| self.missing("tenant id", "tenant_id or tenant_id_env"))?;
        if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
            return Err(self.invalid(format!("{id:?} is not a tenant id (a GUID) or domain name")));
        }
        Ok(id)
    }

    /// Where and as whom this tenant signs in. `var` reads the environment; `file` is the
    /// `hunt.toml` the table came from (an inline secret in a file others can read is warned
    /// about). Endpoints not in the table come from `AZURE_AUTHORITY_HOST` and `HUNT_GRAPH_URL`,
    /// else the public cloud's.
    pub fn settings(
        &self,
        var: &impl Fn(&str) -> Option<String>,
        file: Option<&Path>,
    ) -> Result<Settings, CredentialError> {
        let tenant_id = self.tenant_id(var)?;
        if let Some(kind) = self.auth.as_ref().map(|a| *a.get_ref())
            && !matches!(kind, AuthKind::Secret | AuthKind::Certificate)
        {
            return self.platform_settings(kind, tenant_id, var);
        }
        let client_id = self
            .value(
                self.client_id.as_ref().map(|s| s.get_ref().as_str()),
                ("client_id_env", self.client_id_env.as_ref().map(|s| s.get_ref().as_str())),
                var,
            )?
            .ok_or_else(|| self.missing("client id", "client_id or client_id_env"))?;
        let mut warnings = Vec::new();
        let name = self.name();
        let credential = if let Some(s) = &self.client_secret {
            if let Some(w) = file.and_then(|f| {
                // One wording for every tenant, so that the file is warned about once.
                crate::graph::loose_permissions(f, "hunt.toml (it holds a client_secret)")
            }) {
                warnings.push(w);
            }
            Credential::Secret(s.get_ref().0.clone())
        } else if let Some(env) = &self.client_secret_env {
            let secret = self.value(None, ("client_secret_env", Some(env.get_ref())), var)?;
            Credential::Secret(Secret::new(secret.unwrap_or_default()))
        } else {
            let path = self.value(
                self.certificate.as_ref().and_then(|p| p.get_ref().to_str()),
                ("certificate_env", self.certificate_env.as_ref().map(|s| s.get_ref().as_str())),
                var,
            )?;
            let Some(path) = path else {
                return Err(self.missing(
                    "credential",
                    "client_secret_env = \"VAR\", certificate = \"PATH\" or certificate_env",
                ));
            };
            let path = Path::new(&path);
            let cert = Certificate::from_pem_file(path).map_err(|e| self.invalid(e.to_string()))?;
            warnings.extend(crate::graph::loose_permissions(
                path,
                &format!("the certificate of tenant {name:?}"),
            ));
            Credential::Certificate(cert)
        };
        let endpoint = |key: &str, given: Option<&str>, env: &str, default: &str| {
            let value = given.map(str::to_owned).or_else(|| var(env)).filter(|v| !v.is_empty());
            checked_root(key, value.as_deref().unwrap_or(default))
                .map_err(|e| self.invalid(e.to_string()))
        };
        let graph_url = endpoint(
            "graph_url",
            self.graph_url.as_ref().map(|s| s.get_ref().as_str()),
            "HUNT_GRAPH_URL",
            DEFAULT_GRAPH_URL,
        )?;
        let authority_host = endpoint(
            "authority_host",
            self.authority_host.as_ref().map(|s| s.get_ref().as_str()),
            "AZURE_AUTHORITY_HOST",
            DEFAULT_AUTHORITY_HOST,
        )?;
        Ok(Settings::new(graph_url, authority_host, tenant_id, client_id, credential, warnings))
    }

    /// Settings of a tenant that signs in without a secret or certificate of its own (workload
    /// identity, managed identity, the Azure CLI, a `hunt login`): read as the environment's
    /// tenant is (one code path for every source), with the table's tenant, client id, token
    /// file and endpoints in place of the variables, and no secret or certificate from them.
    fn platform_settings(
        &self,
        kind: AuthKind,
        tenant_id: String,
        var: &impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, CredentialError> {
        let client_id = self.value(
            self.client_id.as_ref().map(|s| s.get_ref().as_str()),
            ("client_id_env", self.client_id_env.as_ref().map(|s| s.get_ref().as_str())),
            var,
        )?;
        if kind == AuthKind::WorkloadIdentity && client_id.is_none() {
            return Err(self.missing("client id", "client_id or client_id_env"));
        }
        let given = |v: &Option<toml::Spanned<String>>| v.as_ref().map(|s| s.get_ref().clone());
        let token_file = self
            .federated_token_file
            .as_ref()
            .and_then(|p| p.get_ref().to_str().map(str::to_owned));
        let overlay = |k: &str| -> Option<String> {
            match k {
                "HUNT_AUTH" => Some(kind.as_str().to_owned()),
                "AZURE_TENANT_ID" => Some(tenant_id.clone()),
                "AZURE_CLIENT_ID" => client_id.clone(),
                "AZURE_CLIENT_SECRET" | "AZURE_CLIENT_CERTIFICATE_PATH" => None,
                "AZURE_FEDERATED_TOKEN_FILE" => token_file.clone().or_else(|| var(k)),
                "AZURE_AUTHORITY_HOST" => given(&self.authority_host).or_else(|| var(k)),
                "HUNT_GRAPH_URL" => given(&self.graph_url).or_else(|| var(k)),
                _ => var(k),
            }
        };
        Settings::from_env(overlay)
            .map_err(|e| self.invalid(format!("auth = \"{}\": {e}", kind.as_str())))
    }

    fn missing(&self, what: &'static str, keys: &'static str) -> CredentialError {
        CredentialError::Missing { tenant: self.name().to_owned(), what, keys }
    }

    fn invalid(&self, message: String) -> CredentialError {
        CredentialError::Invalid { tenant: self.name().to_owned(), message }
    }
}
