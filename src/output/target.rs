//! `--out` and `[output] out` as written: a local folder, or an object-store URL. Parsing is pure
//! (no environment, no network), so a bad value is a usage error before anything runs; opening
//! the store is [`super::Destination::open`]'s job.

use object_store::path::Path as ObjPath;
use std::fmt;
use std::path::PathBuf;

/// The forms `--out` accepts, for error messages and help.
pub const ACCEPTED_FORMS: &str = "a folder (e.g. output/ or /data/lake), file:///abs/path, \
    az://CONTAINER/PREFIX (also azure://, adl://), \
    abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PREFIX (also abfs://), \
    s3://BUCKET/PREFIX (also s3a://) or gs://BUCKET/PREFIX";

/// Which object store a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// Azure Blob Storage / ADLS Gen2.
    Azure,
    /// Amazon S3 (and S3-compatible stores, with `AWS_ENDPOINT`).
    S3,
    /// Google Cloud Storage.
    Gcs,
}

/// An object-store location: the store's URL without path (no password, no query string) and
/// the prefix inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    /// Which store.
    pub kind: StoreKind,
    /// `scheme://[container@]host`, as given (lower-case scheme).
    pub base: String,
    /// The prefix inside the container or bucket (may be empty).
    pub prefix: ObjPath,
}

impl RemoteUrl {
    /// The URL of `object` (a path in this store), for people: no credentials.
    pub fn url_of(&self, object: &ObjPath) -> String {
        format!("{}/{object}", self.base)
    }
}

/// Where results go, as written on the command line or in `hunt.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A local folder (a plain path, or `file:///abs/path`).
    Local(PathBuf),
    /// An object store.
    Remote(RemoteUrl),
}

/// Why an `--out` value was refused. The value is shown without any query string or password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--out {shown:?}: {reason}")]
pub struct TargetError {
    /// The value, with secrets cut out.
    pub shown: String,
    /// What is wrong.
    pub reason: String,
}

impl Target {
    /// Parses `--out`: a value without `://` is a local folder; a URL must use one of the
    /// schemes of [`ACCEPTED_FORMS`] and must not carry a password, a query string or a port.
    pub fn parse(value: &str) -> Result<Target, TargetError> {
        let err = |reason: String| TargetError { shown: shown(value), reason };
        if value.is_empty() {
            return Err(err("is empty".into()));
        }
        if !value.contains("://") {
            return Ok(Target::Local(PathBuf::from(value)));
        }
        let url = url::Url::parse(value).map_err(|e| err(format!("is not a valid URL: {e}")))?;
        // The URL parser resolves `.` and `..` away; a prefix that says them is refused instead.
        if value.split('/').skip(3).any(|seg| seg == "." || seg == "..") {
            return Err(err("its path is not a valid object prefix: `.` or `..` segment".into()));
        }
        if url.password().is_some() || url.query().is_some() || url.fragment().is_some() {
            return Err(err(
                "must not carry credentials or a query string: hunt reads storage credentials \
                 from the environment (e.g. AZURE_STORAGE_ACCOUNT_KEY, AZURE_STORAGE_SAS_TOKEN, \
                 AWS_ACCESS_KEY_ID, GOOGLE_SERVICE_ACCOUNT)"
                    .into(),
            ));
        }
        let scheme = url.scheme().to_ascii_lowercase();
        let kind = match scheme.as_str() {
            "file" => {
                if url.host_str().is_some_and(|h| !h.is_empty() && h != "localhost") {
                    return Err(err(
                        "file:// URLs must name a local path (file:///abs/path)".into()
                    ));
                }
                let path =
                    url.to_file_path().map_err(|()| err("is not an absolute local path".into()))?;
                return Ok(Target::Local(path));
            }
            "az" | "azure" | "adl" | "abfs" | "abfss" => StoreKind::Azure,
            "s3" | "s3a" => StoreKind::S3,
            "gs" => StoreKind::Gcs,
            other => {
                return Err(err(format!(
                    "unknown scheme {other}://; hunt writes to {ACCEPTED_FORMS}"
                )));
            }
        };
        let host = url.host_str().unwrap_or_default();
        if host.is_empty() {
            let what = if kind == StoreKind::Azure { "container" } else { "bucket" };
            return Err(err(format!("names no {what}: {ACCEPTED_FORMS}")));
        }
        if url.port().is_some() {
            return Err(err(
                "must not have a port (an emulator's address goes in the environment, e.g. \
                 AZURITE_BLOB_STORAGE_URL or AWS_ENDPOINT)"
                    .into(),
            ));
        }
        let user = url.username();
        if !user.is_empty() && !matches!(scheme.as_str(), "az" | "abfs" | "abfss") {
            return Err(err(format!("{scheme}:// takes no user name: {ACCEPTED_FORMS}")));
        }
        let prefix = ObjPath::from_url_path(url.path())
            .map_err(|e| err(format!("its path is not a valid object prefix: {e}")))?;
        let base = match user {
            "" => format!("{scheme}://{host}"),
            user => format!("{scheme}://{user}@{host}"),
        };
        Ok(Target::Remote(RemoteUrl { kind, base, prefix }))
    }
}

impl fmt::Display for Target {
    /// The folder, or the URL without credentials (`az://container/prefix`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Local(p) => write!(f, "{}", p.display()),
            Target::Remote(r) if r.prefix.as_ref().is_empty() => f.write_str(&r.base),
            Target::Remote(r) => write!(f, "{}/{}", r.base, r.prefix),
        }
    }
}

/// `value` with anything after `?` or `#` and any password cut out, for messages.
fn shown(value: &str) -> String {
    let cut = value.find(['?', '#']).map_or(value, |i| &value[..i]);
    match (cut.find("://"), cut.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let user = &cut[s + 3..at];
            match user.split_once(':') {
                Some((name, _)) => format!("{}{name}:***{}", &cut[..s + 3], &cut[at..]),
                None => cut.to_owned(),
            }
        }
        _ => cut.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(s: &str) -> RemoteUrl {
        match Target::parse(s) {
            Ok(Target::Remote(r)) => r,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn local_paths_and_file_urls() {
        assert_eq!(Target::parse("output").unwrap(), Target::Local("output".into()));
        assert_eq!(Target::parse("/data/lake/").unwrap(), Target::Local("/data/lake/".into()));
        assert_eq!(Target::parse("C:\\lake").unwrap(), Target::Local("C:\\lake".into()));
        assert_eq!(Target::parse("a:b").unwrap(), Target::Local("a:b".into()));
        assert_eq!(Target::parse("file:///data/lake").unwrap(), Target::Local("/data/lake".into()));
        assert_eq!(
            Target::parse("file:///data/my%20lake").unwrap(),
            Target::Local("/data/my lake".into())
        );
        assert_eq!(Target::parse("file://localhost/data").unwrap(), Target::Local("/data".into()));
        assert!(Target::parse("file://server/share").is_err());
        assert!(Target::parse("").is_err());
        assert_eq!(Target::parse("output").unwrap().to_string(), "output");
    }

    #[test]
    fn object_store_urls() {
        let r = remote("az://lake/hunt/raw");
        assert_eq!(
            (r.kind, r.base.as_str(), r.prefix.as_ref()),
            (StoreKind::Azure, "az://lake", "hunt/raw")
        );
        for s in ["azure://lake/p", "adl://lake/p", "abfs://lake/p", "AZ://lake/p"] {
            assert_eq!(remote(s).kind, StoreKind::Azure, "{s}");
        }
        let r = remote("abfss://lake@acct.dfs.core.windows.net/hunt/");
        assert_eq!(r.base, "abfss://lake@acct.dfs.core.windows.net");
        assert_eq!(r.prefix.as_ref(), "hunt");
        let r = remote("s3://bucket");
        assert_eq!((r.kind, r.prefix.as_ref()), (StoreKind::S3, ""));
        assert_eq!(Target::Remote(r).to_string(), "s3://bucket");
        assert_eq!(remote("s3a://b/x").kind, StoreKind::S3);
        let r = remote("gs://b/a/b/");
        assert_eq!((r.kind, r.prefix.as_ref()), (StoreKind::Gcs, "a/b"));
        assert_eq!(Target::Remote(r.clone()).to_string(), "gs://b/a/b");
        assert_eq!(r.url_of(&ObjPath::from("a/b/q/x.parquet")), "gs://b/a/b/q/x.parquet");
        // Percent-encoded prefixes are decoded once, as object_store does.
        assert_eq!(remote("s3://b/my%20lake").prefix.as_ref(), "my lake");
    }

    #[test]
    fn refused_urls_say_why_and_show_no_secret() {
        let cases = [
            ("ftp://host/x", "unknown scheme ftp://"),
            ("http://127.0.0.1:10000/x", "unknown scheme http://"),
            ("https://acct.blob.core.windows.net/c", "unknown scheme https://"),
            ("memory:///x", "unknown scheme memory://"),
            ("hdfs://nn/x", "unknown scheme hdfs://"),
            ("az:///prefix", "names no container"),
            ("s3:///prefix", "names no bucket"),
            ("az://c:10000/p", "port"),
            ("s3://me@bucket/p", "no user name"),
            ("s3://bucket/a//b", "not a valid object prefix"),
            ("s3://bucket/a/../b", "not a valid object prefix"),
        ];
        for (value, why) in cases {
            let e = Target::parse(value).unwrap_err();
            assert!(e.reason.contains(why), "{value}: {e}");
        }
        let e = Target::parse("ftp://x/y").unwrap_err();
        assert!(e.reason.contains("az://CONTAINER/PREFIX") && e.reason.contains("s3://"), "{e}");
        for secret in [
            "az://c/p?sv=2024&sig=SECRETSIG",
            "abfss://c:SECRETPW@acct.dfs.core.windows.net/p",
            "s3://bucket/p#SECRETFRAG",
        ] {
            let e = Target::parse(secret).unwrap_err().to_string();
            assert!(e.contains("credentials"), "{e}");
            assert!(!e.contains("SECRET"), "{e}");
        }
    }
}
