//! `[[tenant]]` values: names that are safe folder names, quota overrides over `[quota]`.
//! Loading and refusing whole tables in hunt.toml is tested with the configuration
//! (`config/tenant_tests.rs`).

use super::*;

#[test]
fn every_quota_key_can_be_overridden_per_tenant() {
    // The keys of [quota], as it serialises, are exactly the keys [tenant.quota] takes.
    let custom = Limits {
        calls_per_minute: 1,
        calls_per_hour: 2,
        exec_per_hour: Duration::from_secs(3),
        exec_per_day: Duration::from_secs(4),
        max_rows: 5,
        max_result_bytes: 6000,
    };
    let table: String = serde_json::to_value(&custom)
        .unwrap()
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| format!("{k} = {v}\n"))
        .collect();
    let overrides: QuotaOverrides = toml::from_str(&table).unwrap();
    assert_eq!(overrides.over(&Limits::default()), custom);
    assert_eq!(QuotaOverrides::default().over(&custom), custom);
}

#[test]
fn names_are_safe_folder_names() {
    for ok in ["a", "Contoso", "tenant-001", "fabrikam.eu_2", &"x".repeat(64)] {
        assert_eq!(check_name(ok), Ok(()), "{ok}");
    }
    for bad in ["", ".", "..", "-a", "_a", "a/b", "a\\b", "a:b", "a=b", "ä", "a\n", &"x".repeat(65)]
    {
        assert!(check_name(bad).is_err(), "{bad:?}");
    }
}
