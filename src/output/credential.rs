//! One credential for Graph and Azure storage: when no storage-specific credential is set,
//! results go to Azure Blob Storage / ADLS Gen2 signed in the way hunt signs in to Graph (a
//! secret, a certificate, workload identity, a managed identity, the Azure CLI or a `hunt
//! login`), with a token for the storage resource instead of Graph's. So an AKS pod with
//! workload identity, or a person after `az login`, needs nothing more for `--out az://…` than
//! a role on the container.
//!
//! The tokens come from hunt's own [`TokenSource`] (cached, renewed early, retried on transient
//! failures); the storage client asks for one per request and never sees the credential itself.

use crate::clock::Clock;
use crate::graph::Settings;
use crate::graph::auth::{AuthConfig, AuthKind, TokenSource};
use object_store::CredentialProvider;
use object_store::azure::AzureCredential;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The scope of Azure Storage tokens, the same in every cloud.
pub const STORAGE_SCOPE: &str = "https://storage.azure.com/.default";

/// How long one token request may take.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(60);

/// hunt's Graph credential, asking for storage tokens.
#[derive(Clone)]
pub struct SharedCredential {
    source: Arc<TokenSource>,
    kind: AuthKind,
}

impl SharedCredential {
    /// The credential of `settings`, for storage tokens, telling the time by `clock`.
    pub fn for_storage(
        settings: &Settings,
        clock: Arc<dyn Clock>,
    ) -> Result<SharedCredential, crate::graph::ConfigError> {
        let config = AuthConfig { scope: STORAGE_SCOPE.to_owned(), ..settings.auth.clone() };
        let http = crate::graph::http_client(TOKEN_TIMEOUT)?;
        let kind = config.credential.kind();
        Ok(SharedCredential { source: Arc::new(TokenSource::new(http, config, clock)), kind })
    }

    /// The way it signs in.
    pub fn kind(&self) -> AuthKind {
        self.kind
    }
}

impl fmt::Debug for SharedCredential {
    /// The source only: never a token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SharedCredential({})", self.kind.as_str())
    }
}

#[async_trait::async_trait]
impl CredentialProvider for SharedCredential {
    type Credential = AzureCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AzureCredential>> {
        let token = self.source.token().await.map_err(|e| object_store::Error::Generic {
            store: "MicrosoftAzure",
            source: format!("cannot sign in to storage ({}): {e}", self.kind.as_str()).into(),
        })?;
        Ok(Arc::new(AzureCredential::BearerToken(token.expose().to_owned())))
    }
}
