//! Uploading one finished file to an object store without ever exposing half of it: a file up
//! to one part goes in a single PUT (the store makes it visible whole or not at all); a larger
//! one goes as a multipart upload (S3 and GCS multipart, Azure blocks and a block list) read from
//! the file one part at a time, so memory stays at a few parts whatever the file's size. Parts
//! are invisible until the final commit; on failure the upload is aborted. Each request is
//! retried by the store's client (see `store`).

use super::UploadOptions;
use super::store::describe;
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreExt as _, PutPayload, WriteMultipart};
use std::path::Path;
use tokio::io::AsyncReadExt as _;

/// Uploads the file at `path` (`bytes` long) to `object`. Errors are one line, with no query
/// string.
pub(super) async fn upload_file(
    store: &dyn ObjectStore,
    path: &Path,
    bytes: u64,
    object: &ObjPath,
    opts: UploadOptions,
) -> Result<(), String> {
    let part_size = opts.part_size.max(1);
    let read_err = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let mut file = tokio::fs::File::open(path).await.map_err(read_err)?;
    if bytes <= part_size as u64 {
        let data = read_part(&mut file, part_size).await.map_err(read_err)?;
        store.put(object, PutPayload::from(data)).await.map_err(|e| describe(&e))?;
        return Ok(());
    }
    let upload = store.put_multipart(object).await.map_err(|e| describe(&e))?;
    let mut parts = WriteMultipart::new_with_chunk_size(upload, part_size);
    let sent: Result<(), String> = async {
        loop {
            parts.wait_for_capacity(opts.parts_in_flight.max(1)).await.map_err(|e| describe(&e))?;
            let data = read_part(&mut file, part_size).await.map_err(read_err)?;
            if data.is_empty() {
                return Ok(());
            }
            parts.put(data.into());
        }
    }
    .await;
    match sent {
        Ok(()) => parts.finish().await.map(drop).map_err(|e| describe(&e)),
        Err(e) => {
            if let Err(abort) = parts.abort().await {
                tracing::warn!(%object, "the failed upload could not be aborted: {}", describe(&abort));
            }
            Err(e)
        }
    }
}

/// The next `size` bytes of `file` (fewer at its end, none past it).
async fn read_part(file: &mut tokio::fs::File, size: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; size];
    let mut filled = 0;
    while filled < size {
        let n = file.read(&mut buf[filled..]).await?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    buf.truncate(filled);
    Ok(buf)
}
