//! Which notifiers a query names, and which URLs hunt sends to.

use super::*;
use crate::query::Query;

fn configs() -> Vec<NotifierConfig> {
    let c = |name: &str, default| NotifierConfig {
        name: name.into(),
        url_env: format!("{}_URL", name.to_ascii_uppercase().replace('-', "_")),
        format: NotifyFormat::Json,
        min_rows: 1,
        sample_rows: 10,
        default,
        den_events: Vec::new(),
    };
    vec![c("soc", true), c("ops", false)]
}

fn query(front: &str) -> (tempfile::TempDir, Query) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.kql");
    let text = format!("// ---\n// id: q\n{front}// ---\nAlertInfo\n");
    std::fs::write(&path, &text).unwrap();
    let q = crate::library::parse_kql_file(&text, &path).unwrap();
    (dir, q)
}

#[test]
fn a_query_names_its_notifiers_or_gets_the_defaults() {
    let names = |front: &str| names_of(&query(front).1, &configs());
    assert_eq!(names("").unwrap(), ["soc"]);
    assert_eq!(names("// notify: ops\n").unwrap(), ["ops"]);
    assert_eq!(names("// notify: [ops, soc, ops]\n").unwrap(), ["ops", "soc"]);
    assert_eq!(names("// notify: ops, soc\n").unwrap(), ["ops", "soc"]);
    assert!(names("// notify: []\n").unwrap().is_empty());
    assert!(names("// notify:\n").unwrap().is_empty());
}

#[test]
fn an_unknown_notifier_is_an_error_at_its_place() {
    let (_d, q) = query("// lookback: 1h\n// notify: [soc, sco]\n");
    let e = names_of(&q, &configs()).unwrap_err().to_string();
    assert!(
        e.ends_with(
            "q.kql:4:12: notify: no [[notify]] table named \"sco\" in hunt.toml (known: soc, ops)"
        ),
        "{e}"
    );
    let (_d, q) = query("// notify: {a: b}\n");
    let e = names_of(&q, &configs()).unwrap_err().to_string();
    assert!(e.contains("q.kql:3:12: notify: must be a notifier's name"), "{e}");
    let e = names_of(&query("// notify: x\n").1, &[]).unwrap_err().to_string();
    assert!(e.contains("hunt.toml has no [[notify]] tables"), "{e}");
}

#[test]
fn only_the_notifiers_in_use_need_their_variable() {
    let (_d, q) = query("// notify: ops\n");
    let env = |v: &str| {
        (v == "OPS_URL").then(|| "https://hooks.example.com/services/T0/B0/SECRETKEY123".to_owned())
    };
    let n = Notifiers::resolve(&configs(), &[&q], &env).unwrap();
    assert!(n.get("ops").is_some() && n.get("soc").is_none() && n.configured("soc"));
    assert_eq!(n.sample_rows(&q), 10);
    // the default one is used by a query without notify: and has no variable
    let (_d, plain) = query("");
    let e = Notifiers::resolve(&configs(), &[&q, &plain], &env).unwrap_err().to_string();
    assert_eq!(
        e,
        "notifier \"soc\": the environment variable SOC_URL (its url_env) is not set: set it to the webhook URL"
    );
    // one no query uses is still usable when its variable is good (a query may name it later)
    let none = Notifiers::resolve(&configs(), &[], &env).unwrap();
    assert!(none.get("ops").is_some() && !none.used_by(&[&plain]) && none.used_by(&[&q]));
    let bad = |_: &str| Some("http://hooks.example.com/x".to_owned());
    assert!(Notifiers::resolve(&configs(), &[], &bad).unwrap().is_empty());
    assert!(Notifiers::resolve(&configs(), &[&q], &bad).is_err());
}

#[test]
fn plain_http_is_refused_except_to_loopback_and_the_url_is_never_shown() {
    let secret = "http://hooks.example.com/workflows/abc/SECRETSIG?sig=VERYSECRETSIGNATURE";
    let e = WebhookUrl::parse("soc", "SOC_URL", secret).unwrap_err().to_string();
    assert!(e.contains("notifier \"soc\": the webhook URL in SOC_URL uses plain http://"), "{e}");
    assert!(!e.contains("hooks.example.com") && !e.contains("SECRET"), "{e}");
    for ok in
        ["http://127.0.0.1:9/x", "http://localhost/x", "http://[::1]:8/", "https://h.example/x"]
    {
        WebhookUrl::parse("soc", "SOC_URL", ok).unwrap();
    }
    for bad in ["ftp://h/x", "not a url", "file:///etc/passwd"] {
        let e = WebhookUrl::parse("soc", "SOC_URL", bad).unwrap_err().to_string();
        assert!(!e.contains(bad), "{e}");
    }
    let url = WebhookUrl::parse("soc", "SOC_URL", &secret.replace("http:", "https:")).unwrap();
    assert_eq!(format!("{url:?}"), "WebhookUrl(<hidden>)");
    let echoed = format!("bad request to {} (sig VERYSECRETSIGNATURE, path SECRETSIG)", url.url());
    let clean = url.masks().clean(&echoed);
    assert!(!clean.contains("SECRET") && !clean.contains("hooks.example"), "{clean}");
}

#[test]
fn den_events_are_checked_by_name() {
    #[derive(serde::Deserialize)]
    struct File {
        notify: Vec<config::FileNotifier>,
    }
    let check = |text: &str| {
        let file: File = toml::from_str(text).unwrap();
        config::check(file.notify, &|at| format!("at {at}"))
    };
    let ok = check(
        "[[notify]]\nname = \"itsm\"\nurl_env = \"ITSM\"\nden_events = [\"den_new\", \"den_resolved\", \"den_new\"]\n",
    )
    .unwrap();
    use crate::den::lifecycle::DenEvent;
    assert_eq!(ok[0].den_events, [DenEvent::DenNew, DenEvent::DenResolved]);
    let none = check("[[notify]]\nname = \"a\"\nurl_env = \"A\"\n").unwrap();
    assert!(none[0].den_events.is_empty());
    let e = check("[[notify]]\nname = \"a\"\nurl_env = \"A\"\nden_events = [\"den_closed\"]\n")
        .unwrap_err();
    assert!(e.contains("den_closed") && e.contains("den_action_needed"), "{e}");
}
