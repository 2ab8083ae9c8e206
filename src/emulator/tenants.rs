//! The tenants the emulator serves: the default one (the config's `tenant_id`, `client_id`,
//! `client_secret` and `limits`) and any others listed, each with its own credentials and its
//! own account in the quota judge. A token remembers the tenant it was issued to, so every call
//! is charged to that tenant.

use super::CallRecord;
use super::quota::ServiceQuota;
use crate::quota::Limits;
use std::sync::Mutex;

/// A tenant registered in the emulator.
#[derive(Clone, Debug, PartialEq)]
pub struct EmulatorTenant {
    /// Tenant id accepted in the token URL.
    pub tenant_id: String,
    /// Client id accepted for it.
    pub client_id: String,
    /// Client secret accepted for it.
    pub client_secret: String,
    /// Its service budgets and result caps (None: unlimited).
    pub limits: Option<Limits>,
}

impl EmulatorTenant {
    /// Credentials made up from `name`: stable for a name and distinct between names (GUIDs
    /// from a SHA-256 of it), with a secret that says what it is.
    pub fn fabricated(name: &str, limits: Option<Limits>) -> EmulatorTenant {
        let guid = |kind: &str| {
            let d =
                ring::digest::digest(&ring::digest::SHA256, format!("{kind}\0{name}").as_bytes());
            let mut b = [0u8; 16];
            b.copy_from_slice(&d.as_ref()[..16]);
            uuid::Uuid::from_bytes(b).to_string()
        };
        EmulatorTenant {
            tenant_id: guid("hunt-emulator-tenant"),
            client_id: guid("hunt-emulator-client"),
            client_secret: format!("hunt-emulator-secret-{name}"),
            limits,
        }
    }

    /// The environment that points hunt at an emulator at `url` as this tenant.
    pub fn env(&self, url: &str) -> Vec<(&'static str, String)> {
        vec![
            ("AZURE_TENANT_ID", self.tenant_id.clone()),
            ("AZURE_CLIENT_ID", self.client_id.clone()),
            ("AZURE_CLIENT_SECRET", self.client_secret.clone()),
            ("AZURE_AUTHORITY_HOST", url.to_owned()),
            ("HUNT_GRAPH_URL", url.to_owned()),
        ]
    }
}

/// A tenant as the running emulator keeps it: credentials, data seed, quota account and call
/// log.
pub(crate) struct Account {
    pub(crate) tenant: EmulatorTenant,
    /// The seed of its data (`data::tenant_seed`): 0 for the default tenant, whose data is
    /// the emulator's original.
    pub(crate) seed: u64,
    pub(crate) quota: Mutex<ServiceQuota>,
    pub(crate) log: Mutex<Vec<CallRecord>>,
}

impl Account {
    fn new(tenant: EmulatorTenant, seed: u64) -> Account {
        Account {
            tenant,
            seed,
            quota: Mutex::new(ServiceQuota::default()),
            log: Mutex::new(Vec::new()),
        }
    }
}

/// The accounts of a config: the default tenant first, then the listed ones (a listed tenant
/// with the default's id replaces it; later duplicates replace earlier ones).
pub(crate) fn accounts(config: &super::EmulatorConfig) -> Vec<Account> {
    let default = EmulatorTenant {
        tenant_id: config.tenant_id.clone(),
        client_id: config.client_id.clone(),
        client_secret: config.client_secret.clone(),
        limits: config.limits.clone(),
    };
    let mut list: Vec<EmulatorTenant> = vec![default];
    for t in &config.tenants {
        match list.iter_mut().find(|a| a.tenant_id == t.tenant_id) {
            Some(a) => *a = t.clone(),
            None => list.push(t.clone()),
        }
    }
    // The default tenant keeps the original data; the others have their own.
    list.into_iter()
        .enumerate()
        .map(|(i, t)| {
            let seed = if i == 0 { 0 } else { super::data::tenant_seed(&t.tenant_id) };
            Account::new(t, seed)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fabricated_credentials_are_stable_and_distinct() {
        let a = EmulatorTenant::fabricated("contoso", None);
        assert_eq!(a, EmulatorTenant::fabricated("contoso", None));
        let b = EmulatorTenant::fabricated("fabrikam", None);
        assert_ne!(a.tenant_id, b.tenant_id);
        assert_ne!(a.client_id, b.client_id);
        assert_ne!(a.tenant_id, a.client_id);
        assert_eq!(a.tenant_id.len(), 36);
        let env = a.env("http://127.0.0.1:1");
        assert!(env.contains(&("AZURE_TENANT_ID", a.tenant_id.clone())));
        assert!(env.contains(&("HUNT_GRAPH_URL", "http://127.0.0.1:1".to_owned())));
    }

    #[test]
    fn listed_tenants_come_after_the_default_and_replace_it_by_id() {
        let mut config = super::super::EmulatorConfig::default();
        let other = EmulatorTenant::fabricated("x", None);
        let same =
            EmulatorTenant { client_secret: "s".into(), ..EmulatorTenant::fabricated("y", None) };
        config.tenants =
            vec![other.clone(), EmulatorTenant { tenant_id: config.tenant_id.clone(), ..same }];
        let accounts = accounts(&config);
        assert_eq!(accounts.len(), 2);
        assert_eq!(accounts[0].tenant.client_secret, "s");
        assert_eq!(accounts[1].tenant, other);
        assert_eq!(accounts[0].seed, 0, "the default tenant keeps the original data");
        assert_eq!(accounts[1].seed, crate::emulator::data::tenant_seed(&other.tenant_id));
        assert_ne!(accounts[1].seed, 0);
    }
}
