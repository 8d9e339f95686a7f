//! A file streamed into the store in multipart parts, a bounded number in
//! flight: memory stays at `part size × parts in flight` for any file size.
//! Each part is retried by object_store (a refused part, a connection cut
//! midway: up to four more times, within a minute). A failure, or the
//! future being dropped, aborts the multipart upload: no parts are left.

use bytes::BytesMut;
use object_store::path::Path;
use object_store::{MultipartUpload, ObjectStoreExt, PutPayload};
use tokio::io::AsyncReadExt;
use tokio::task::JoinSet;

use super::file::LocalImage;
use super::{StagingStore, staging_error};
use crate::values::error::Error;

/// S3's limit on the parts of one upload.
const MAX_PARTS: u64 = 10_000;
/// S3's smallest part (all but the last).
pub(crate) const MIN_PART_SIZE: usize = 5 * 1024 * 1024;

/// S3's largest part.
pub(crate) const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;

/// The most parts sent at once that a caller may ask for.
pub(crate) const MAX_PARTS_IN_FLIGHT: usize = 64;

/// Refuses, before anything is sent, a file that would need more than S3's
/// 10,000 parts even at the largest part size, naming its size.
pub(crate) fn check_part_count(file: &LocalImage) -> Result<(), Error> {
    if file.size.div_ceil(MAX_PART_SIZE) > MAX_PARTS {
        return Err(Error::InvalidRequest(format!(
            "upload: `{}` has {} bytes, more than S3's 10,000 parts of at most 5 GiB hold",
            file.path.display(),
            file.size
        )));
    }
    Ok(())
}

/// The part size for a file of `size` bytes: `preferred`, raised (to whole
/// MiB) when the file would otherwise need more than S3's 10,000 parts,
/// never below S3's 5 MiB nor above its 5 GiB.
pub(crate) fn part_size(size: u64, preferred: usize) -> usize {
    const MIB: u64 = 1024 * 1024;
    let needed = size.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB;
    let preferred = u64::try_from(preferred.max(MIN_PART_SIZE)).unwrap_or(u64::MAX);
    usize::try_from(needed.max(preferred).min(MAX_PART_SIZE)).unwrap_or(usize::MAX)
}

/// A multipart upload that is aborted unless completed: dropped midway, it
/// spawns the abort.
struct Upload {
    inner: Option<Box<dyn MultipartUpload>>,
}

impl Upload {
    fn get(&mut self) -> &mut Box<dyn MultipartUpload> {
        self.inner
            .as_mut()
            .expect("an upload is used only until it is completed or aborted")
    }

    async fn complete(mut self) -> object_store::Result<()> {
        let mut upload = self.inner.take().expect("completed once");
        match upload.complete().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let _ = upload.abort().await;
                Err(e)
            }
        }
    }

    async fn abort(mut self) {
        if let Some(mut upload) = self.inner.take()
            && let Err(e) = upload.abort().await
        {
            tracing::warn!(error = %e, "the failed upload's parts were not removed");
        }
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        let Some(mut upload) = self.inner.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(e) = upload.abort().await {
                        tracing::warn!(error = %e, "the parts of a dropped upload were not removed");
                    }
                });
            }
            Err(_) => tracing::warn!("the parts of a dropped upload are left: no runtime to remove them on"),
        }
    }
}

/// Sends `file` to `key`, calling `progress(sent, total)` as parts are
/// stored. A file whose length changes while it is read is an error.
pub(crate) async fn put_file(
    store: &StagingStore,
    key: &Path,
    file: &LocalImage,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<(), Error> {
    let total = file.size;
    let part = part_size(total, store.part_size);
    let mut source = tokio::fs::File::open(&file.path)
        .await
        .map_err(|e| read_error(file, e))?;
    let upload = store
        .inner
        .put_multipart(key)
        .await
        .map_err(|e| staging_error(format!("put {key}"), e))?;
    let mut upload = Upload { inner: Some(upload) };
    progress(0, total);
    match send_parts(store, key, file, part, &mut source, &mut upload, progress).await {
        Ok(()) => match upload.complete().await {
            Ok(()) => Ok(()),
            Err(e) => {
                // The store may have completed it and its answer been lost:
                // then the abort found no upload and the object is there.
                if let Err(e) = store.inner.delete(key).await {
                    tracing::warn!(key = %key, error = %e, "the staged object of a failed completion may be left: delete it yourself");
                }
                Err(staging_error(format!("put {key} (completing it)"), e))
            }
        },
        Err(e) => {
            upload.abort().await;
            Err(e)
        }
    }
}

/// Reads the file part by part and sends each, at most `parts_in_flight`
/// at once.
async fn send_parts(
    store: &StagingStore,
    key: &Path,
    file: &LocalImage,
    part: usize,
    source: &mut tokio::fs::File,
    upload: &mut Upload,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<(), Error> {
    let total = file.size;
    let mut in_flight: JoinSet<Result<u64, Error>> = JoinSet::new();
    let (mut read, mut sent) = (0u64, 0u64);
    loop {
        while in_flight.len() >= store.parts_in_flight {
            sent += joined(in_flight.join_next().await)?;
            progress(sent, total);
        }
        let chunk = read_part(source, part).await.map_err(|e| read_error(file, e))?;
        if chunk.is_empty() {
            break;
        }
        read += chunk.len() as u64;
        if read > total {
            break;
        }
        let len = chunk.len() as u64;
        let sending = upload.get().put_part(PutPayload::from(chunk.freeze()));
        let key = key.clone();
        in_flight.spawn(async move {
            sending
                .await
                .map(|()| len)
                .map_err(|e| staging_error(format!("put {key} (a part of {len} bytes)"), e))
        });
    }
    while let Some(done) = in_flight.join_next().await {
        sent += joined(Some(done))?;
        progress(sent, total);
    }
    if read != total {
        return Err(Error::InvalidRequest(format!(
            "upload: `{}` changed while it was sent: it had {total} bytes, then {read}{}",
            crate::values::text::for_display(&file.path.display().to_string()),
            if read > total { " or more" } else { "" }
        )));
    }
    Ok(())
}

fn joined(done: Option<Result<Result<u64, Error>, tokio::task::JoinError>>) -> Result<u64, Error> {
    match done {
        Some(Ok(result)) => result,
        Some(Err(e)) => Err(staging_error("put (a part's task)".into(), e)),
        None => Ok(0),
    }
}

/// Up to `size` bytes: fewer only at the end of the file.
async fn read_part(source: &mut tokio::fs::File, size: usize) -> std::io::Result<BytesMut> {
    let mut buffer = BytesMut::with_capacity(size);
    while buffer.len() < size {
        if source.read_buf(&mut buffer).await? == 0 {
            break;
        }
    }
    Ok(buffer)
}

fn read_error(file: &LocalImage, e: std::io::Error) -> Error {
    Error::InvalidRequest(format!("upload: cannot read `{}`: {e}", file.path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_grow_only_when_a_file_needs_more_than_ten_thousand() {
        const MIB: usize = 1024 * 1024;
        assert_eq!(part_size(0, 8 * MIB), 8 * MIB);
        assert_eq!(part_size(1 << 30, 8 * MIB), 8 * MIB);
        assert_eq!(part_size(1 << 30, MIB), 5 * MIB, "never below S3's minimum");
        // 100 GiB in 10,000 parts: 10.24 MiB, so 11 MiB.
        assert_eq!(part_size(100 << 30, 8 * MIB), 11 * MIB);
        assert!(part_size(100 << 30, 8 * MIB) as u64 * MAX_PARTS >= 100 << 30);
        assert_eq!(
            part_size(1 << 30, usize::MAX) as u64,
            MAX_PART_SIZE,
            "never above S3's maximum"
        );
    }
}
