//! Tests of publishing and clean-up: an in-memory store (and one whose multipart uploads fail
//! part-way) stands in for a remote destination, a temporary folder for a local one.

use super::*;
use chrono::{TimeZone, Utc};
use futures_util::TryStreamExt as _;
use futures_util::stream::BoxStream;
use object_store::ObjectStore;
use object_store::memory::InMemory;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta,
    ObjectStoreExt as _, PutMultipartOptions, PutOptions, PutPayload, PutResult, UploadPart,
};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

fn utc(h: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).unwrap() + chrono::Duration::hours(i64::from(h))
}

fn window(h0: u32, h1: u32) -> Window {
    Window { start: utc(h0), end: utc(h1) }
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

/// A remote destination over `store`, spooling in `spool`.
fn remote(store: Arc<dyn ObjectStore>, spool: &Path, part_size: usize) -> Destination {
    let target = Target::parse("az://mem/lake").unwrap();
    let Target::Remote(remote) = target.clone() else { unreachable!() };
    Destination {
        target,
        format: Format::Parquet,
        timestamp_unit: Default::default(),
        store,
        prefix: ObjPath::from("lake"),
        staging: Staging::Spool(spool.to_owned()),
        place: destination::Place::Remote(remote),
        upload: UploadOptions { part_size, parts_in_flight: 2 },
    }
}

/// A staged file of `len` bytes (a recognisable pattern) for `rel`.
fn staged(staging: &Staging, rel: &str, len: usize, w: Window) -> (Staged, Vec<u8>) {
    let (dir, name) = rel.rsplit_once('/').unwrap();
    let (mut file, temp) = open_temp(&staging.temp_dir(dir), name).unwrap();
    let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    file.write_all(&data).unwrap();
    file.sync_all().unwrap();
    let s = Staged {
        temp,
        rel: rel.into(),
        date: day(),
        rows: 7,
        bytes: len as u64,
        window: w,
        complete: true,
        stats: None,
    };
    (s, data)
}

fn rel(w: Window) -> String {
    format!("q/date=2026-11-22/{}", layout::file_name(&w, false))
}

async fn keys(store: &dyn ObjectStore) -> Vec<String> {
    let mut k: Vec<String> =
        store.list(None).map_ok(|m| m.location.to_string()).try_collect().await.unwrap();
    k.sort();
    k
}

fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}

#[tokio::test]
async fn small_files_go_in_one_put_and_large_ones_in_parts_whole() {
    let spool = tempfile::tempdir().unwrap();
    let store = Arc::new(InMemory::new());
    let dest = remote(store.clone(), spool.path(), 1024);
    let (small, small_data) = staged(dest.staging(), &rel(window(10, 11)), 1000, window(10, 11));
    let (large, large_data) = staged(dest.staging(), &rel(window(11, 12)), 10_000, window(11, 12));
    assert_eq!(files_in(spool.path()), 2);
    let written = dest.publish(vec![small, large]).await.unwrap();
    assert_eq!(files_in(spool.path()), 0, "spool files are removed once uploaded");
    assert_eq!(written.len(), 2);
    for (w, data) in written.iter().zip([small_data, large_data]) {
        let got = store.get(&w.object).await.unwrap().bytes().await.unwrap();
        assert_eq!(got.as_ref(), data.as_slice(), "{}", w.location);
        assert_eq!(w.bytes, data.len() as u64);
        assert!(w.location.starts_with("az://mem/lake/q/date=2026-11-22/"), "{}", w.location);
        assert_eq!(w.location, format!("az://mem/{}", w.object));
        assert!(w.table_path().starts_with("date=2026-11-22/"), "{}", w.table_path());
    }
    assert_eq!(written[0].rel, rel(window(10, 11)));
    assert_eq!(dest.query_root("q").as_ref(), "lake/q");
    assert_eq!(dest.to_string(), "az://mem/lake");
    assert_eq!(keys(store.as_ref()).await.len(), 2);
}

/// An in-memory store whose multipart uploads fail at their third part.
#[derive(Debug, Default)]
struct FailingParts {
    inner: InMemory,
    aborted: Arc<AtomicBool>,
    parts: Arc<AtomicUsize>,
}

impl std::fmt::Display for FailingParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FailingParts")
    }
}

#[derive(Debug)]
struct FailingUpload {
    inner: Box<dyn MultipartUpload>,
    aborted: Arc<AtomicBool>,
    parts: Arc<AtomicUsize>,
}

#[async_trait::async_trait]
impl MultipartUpload for FailingUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        if self.parts.fetch_add(1, Ordering::SeqCst) == 2 {
            return Box::pin(async {
                Err(object_store::Error::Generic {
                    store: "FailingParts",
                    source: "connection reset by peer".into(),
                })
            });
        }
        self.inner.put_part(data)
    }

    async fn complete(&mut self) -> object_store::Result<PutResult> {
        self.inner.complete().await
    }

    async fn abort(&mut self) -> object_store::Result<()> {
        self.aborted.store(true, Ordering::SeqCst);
        self.inner.abort().await
    }
}

#[async_trait::async_trait]
impl ObjectStore for FailingParts {
    async fn put_opts(
        &self,
        location: &ObjPath,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &ObjPath,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        let inner = self.inner.put_multipart_opts(location, opts).await?;
        Ok(Box::new(FailingUpload {
            inner,
            aborted: Arc::clone(&self.aborted),
            parts: Arc::clone(&self.parts),
        }))
    }

    async fn get_opts(
        &self,
        location: &ObjPath,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<ObjPath>>,
    ) -> BoxStream<'static, object_store::Result<ObjPath>> {
        self.inner.delete_stream(locations)
    }

    fn list(
        &self,
        prefix: Option<&ObjPath>,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(
        &self,
        prefix: Option<&ObjPath>,
    ) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &ObjPath,
        to: &ObjPath,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}

#[tokio::test]
async fn a_failed_multipart_upload_is_aborted_and_leaves_no_object() {
    let spool = tempfile::tempdir().unwrap();
    let store = Arc::new(FailingParts::default());
    let dest = remote(store.clone(), spool.path(), 1024);
    let (large, _) = staged(dest.staging(), &rel(window(10, 11)), 10_000, window(10, 11));
    let err = dest.publish(vec![large]).await.unwrap_err().to_string();
    assert!(
        err.starts_with(
            "az://mem/lake/q/date=2026-11-22/20261122T100000Z_20261122T110000Z.parquet: "
        ),
        "the error names the object: {err}"
    );
    assert!(err.contains("connection reset by peer"), "{err}");
    assert!(store.aborted.load(Ordering::SeqCst), "the upload was aborted");
    assert!(keys(store.as_ref()).await.is_empty(), "no object under a final name");
    assert_eq!(files_in(spool.path()), 0, "the spool file is removed");
    // A file of one part is a single PUT, which this store lets through.
    let (small, _) = staged(dest.staging(), &rel(window(10, 11)), 1024, window(10, 11));
    assert_eq!(dest.publish(vec![small]).await.unwrap().len(), 1);
}

#[tokio::test]
async fn superseded_objects_are_removed_from_the_store_and_nothing_else() {
    let spool = tempfile::tempdir().unwrap();
    let store = Arc::new(InMemory::new());
    let dest = remote(store.clone(), spool.path(), 1 << 20);
    let name = |w: Window| layout::file_name(&w, false);
    // This run answers [22:00, 02:00) whole, across midnight.
    let whole = window(22, 26);
    let others = [
        // Another window of the query, overlapping or outside.
        format!("lake/q/date=2026-11-22/{}", name(window(21, 23))),
        format!("lake/q/date=2026-11-23/{}", name(window(26, 27))),
        // Another tenant's and another query's files of the same window.
        format!("lake/q/tenant=t/date=2026-11-22/{}", name(window(22, 23))),
        format!("lake/q2/date=2026-11-22/{}", name(window(22, 23))),
        // Not the layout: unique (Delta) names, the Delta log, notes, a nested folder.
        format!("lake/q/date=2026-11-22/{}", layout::file_name(&window(22, 23), true)),
        "lake/q/_delta_log/00000000000000000000.json".to_owned(),
        "lake/q/date=2026-11-22/notes.txt".to_owned(),
        format!("lake/q/date=2026-11-22/sub/{}", name(window(22, 23))),
        "lake/q/README".to_owned(),
        // A part of the window on a day the window does not touch (rows dated elsewhere): not
        // looked at (see `superseded::partitions`).
        format!("lake/q/date=2026-11-25/{}", name(window(22, 23))),
    ];
    let earlier = [
        format!("lake/q/date=2026-11-22/{}", name(window(22, 24))),
        format!("lake/q/date=2026-11-23/{}", name(window(24, 26))),
        format!("lake/q/date=2026-11-23/{}", name(window(22, 24))),
    ];
    for k in others.iter().chain(&earlier) {
        store.put(&ObjPath::from(k.as_str()), PutPayload::from_static(b"x")).await.unwrap();
    }
    let (s, _) = staged(dest.staging(), &rel(whole), 10, whole);
    let kept = dest.publish(vec![s]).await.unwrap();
    let removed = dest.remove_superseded("q", None, &whole, &kept).await.unwrap();
    let mut want: Vec<String> = earlier.iter().map(|k| format!("az://mem/{k}")).collect();
    want.sort();
    let mut removed = removed;
    removed.sort();
    assert_eq!(removed, want);
    let mut left: Vec<String> = others.to_vec();
    left.push(kept[0].object.to_string());
    left.sort();
    assert_eq!(keys(store.as_ref()).await, left);
    // Nothing to do the second time; a query never written is nothing to do either.
    assert!(dest.remove_superseded("q", None, &whole, &kept).await.unwrap().is_empty());
    assert!(dest.remove_superseded("new", None, &whole, &[]).await.unwrap().is_empty());
    // Unsafe names are refused, not listed.
    for bad in ["..", "a/b", ""] {
        assert!(dest.remove_superseded(bad, None, &window(10, 12), &[]).await.is_err(), "{bad:?}");
        assert!(dest.remove_superseded("q", Some(bad), &window(10, 12), &[]).await.is_err());
    }
}

#[tokio::test]
async fn a_local_folder_renames_into_place_and_removes_superseded_files() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("out");
    let dest = Destination::local(&out).unwrap();
    assert!(dest.is_local());
    let put = |w: Window, len: usize| {
        let (s, data) = staged(dest.staging(), &rel(w), len, w);
        let written = dest.publish_local(vec![s]).unwrap();
        (written, data)
    };
    // An earlier run answered [10, 12) in two halves; another window [12, 13) exists.
    put(window(10, 11), 5);
    put(window(11, 12), 5);
    let (other, _) = put(window(12, 13), 5);
    let (s, data) = staged(dest.staging(), &rel(window(10, 12)), 50, window(10, 12));
    let kept = dest.publish(vec![s]).await.unwrap();
    let path = PathBuf::from(&kept[0].location);
    assert_eq!(path, out.join(rel(window(10, 12))));
    assert_eq!(std::fs::read(&path).unwrap(), data);
    assert_eq!(kept[0].object, dest.object_of(&kept[0].rel));
    // The store sees the same file under the same path.
    let got = dest.store().get(&kept[0].object).await.unwrap().bytes().await.unwrap();
    assert_eq!(got.as_ref(), data.as_slice());
    let removed = dest.remove_superseded("q", None, &window(10, 12), &kept).await.unwrap();
    assert_eq!(removed.len(), 2, "{removed:?}");
    let day_dir = out.join("q/date=2026-11-22");
    let mut left: Vec<String> = std::fs::read_dir(&day_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [layout::file_name(&window(10, 12), false), layout::file_name(&window(12, 13), false)]
    );
    assert!(PathBuf::from(&other[0].location).exists());
    // Hostile ids never reach outside the folder.
    for bad in ["..", "../..", "/abs", "a\\b"] {
        assert!(dest.remove_superseded(bad, None, &window(0, 23), &[]).await.is_err(), "{bad:?}");
    }
}

#[test]
fn formats_parse_and_show() {
    assert_eq!("parquet".parse::<Format>().unwrap(), Format::Parquet);
    assert_eq!("DELTA".parse::<Format>().unwrap(), Format::Delta);
    assert!("csv".parse::<Format>().unwrap_err().contains("parquet or delta"));
    assert_eq!(Format::Delta.to_string(), "delta");
    assert_eq!(Format::default(), Format::Parquet);
}

#[test]
fn debug_shows_no_store_configuration() {
    let env = vec![
        ("AZURE_STORAGE_ACCOUNT_NAME".to_owned(), "acct".to_owned()),
        ("AZURE_STORAGE_ACCOUNT_KEY".to_owned(), "c2VjcmV0LWtleS12YWx1ZQ==".to_owned()),
    ];
    let spool = tempfile::tempdir().unwrap();
    let dest = Destination::open(
        Target::parse("az://lake/p").unwrap(),
        Format::Parquet,
        spool.path(),
        &env,
    )
    .unwrap();
    for text in [format!("{dest:?}"), dest.to_string()] {
        assert!(!text.contains("c2VjcmV0"), "{text}");
    }
    assert_eq!(dest.to_string(), "az://lake/p");
    let e = Destination::open(
        Target::parse("az://lake/p").unwrap(),
        Format::Parquet,
        spool.path(),
        &[(PART_SIZE_VAR.to_owned(), "12".to_owned())],
    )
    .unwrap_err();
    assert!(e.to_string().contains(PART_SIZE_VAR), "{e}");
}
