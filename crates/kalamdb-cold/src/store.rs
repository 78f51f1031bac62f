//! [`ColdStore`]: an opened storage. It hides which object store is behind
//! it and gives the rest of the engine the few operations the cold tier
//! needs, with paths relative to the storage root and errors that name the
//! storage and the object.
//!
//! The one operation that differs by backend is the durable write. An S3
//! PUT is atomic and durable once acknowledged. A local file is not, so
//! `put_durable` writes it itself: a temporary file in the target
//! directory, `fsync`, rename over the target, `fsync` of the directory
//! (and of every directory it had to create). A crash at any point leaves
//! either the old state or the complete new file under its final name,
//! plus at worst a temporary file that `delete_prefix` removes.

use std::io::Write;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use kalamdb_types::StorageId;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use parquet::bloom_filter::Sbbf;

use crate::cache::{BLOOM_BYTES, BLOOM_ENTRIES, Cache, FOOTER_BYTES, FOOTER_ENTRIES, Footer};
use crate::error::ColdError;
use crate::storage::{StorageDef, StorageType};

/// Marks the temporary files of `put_durable` on local storages; they are
/// hidden from [`ColdStore::list`] but removed by `delete_prefix`.
const TEMP_SUFFIX: &str = ".kalamdb-tmp";

/// An opened storage: the object store plus the root prefix inside it.
/// Cheap to clone; clones share the footer cache.
#[derive(Clone)]
pub struct ColdStore {
    inner: Arc<Inner>,
}

struct Inner {
    id: StorageId,
    store: Arc<dyn ObjectStore>,
    /// Key prefix of this storage inside `store` (empty for local
    /// storages, whose `LocalFileSystem` is rooted at the directory).
    root: Path,
    /// Local storages: the same store, typed, for `put_durable`.
    local: Option<Arc<LocalFileSystem>>,
    /// Footers by path.
    footers: Cache<Footer>,
    /// Bloom filters by `path#row_group`.
    blooms: Cache<Arc<Sbbf>>,
}

impl std::fmt::Debug for ColdStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ColdStore")
            .field("storage_id", &self.inner.id.as_str())
            .field("store", &self.inner.store.to_string())
            .field("root", &self.inner.root.as_ref())
            .finish()
    }
}

impl ColdStore {
    /// Opens a storage. A filesystem storage's directory is created; an S3
    /// storage is only configured (no network I/O: a missing bucket or bad
    /// keys show up in [`Self::probe`] or the first operation).
    pub fn open(def: &StorageDef) -> Result<Self, ColdError> {
        def.validate()?;
        let id = def.storage_id.clone();
        match def.storage_type {
            StorageType::Filesystem => {
                let dir = std::path::absolute(def.base_directory.trim()).map_err(|e| {
                    ColdError::InvalidStorage(format!(
                        "Storage '{id}': invalid directory '{}': {e}",
                        def.base_directory
                    ))
                })?;
                std::fs::create_dir_all(&dir).map_err(|e| {
                    ColdError::NotWritable(format!(
                        "Storage '{id}' is not writable: cannot create directory '{}': {e}",
                        dir.display()
                    ))
                })?;
                let local = LocalFileSystem::new_with_prefix(&dir)
                    .map_err(|e| {
                        ColdError::NotWritable(format!("Storage '{id}' is not writable: {e}"))
                    })?
                    .with_automatic_cleanup(true);
                let local = Arc::new(local);
                Ok(Self::new(id, local.clone(), Path::default(), Some(local)))
            }
            StorageType::S3 => {
                let s = def.s3_settings()?;
                // Explicit keys are used alone: mixing them with a session
                // token or endpoint from the environment would sign
                // requests for the wrong identity.
                let mut b = match &s.keys {
                    Some(_) => object_store::aws::AmazonS3Builder::new(),
                    None => object_store::aws::AmazonS3Builder::from_env(),
                };
                b = b.with_bucket_name(&s.bucket).with_retry(retry_config());
                if let Some(r) = &s.region {
                    b = b.with_region(r);
                }
                if let Some(e) = &s.endpoint {
                    b = b.with_endpoint(e);
                }
                if let Some(a) = s.allow_http {
                    b = b.with_allow_http(a);
                }
                if let Some(v) = s.virtual_hosted_style {
                    b = b.with_virtual_hosted_style_request(v);
                }
                if let Some((key, secret, token)) = &s.keys {
                    b = b.with_access_key_id(key).with_secret_access_key(secret);
                    if let Some(t) = token {
                        b = b.with_token(t);
                    }
                }
                let store = b.build().map_err(|e| {
                    ColdError::InvalidStorage(format!("Storage '{id}' cannot be opened: {e}"))
                })?;
                let root = Path::parse(&s.prefix).map_err(|e| {
                    ColdError::InvalidStorage(format!("Storage '{id}': invalid key prefix: {e}"))
                })?;
                Ok(Self::new(id, Arc::new(store), root, None))
            }
            StorageType::Gcs | StorageType::Azure => Err(ColdError::InvalidStorage(format!(
                "Storage type '{}' is not supported yet",
                def.storage_type
            ))),
        }
    }

    fn new(
        id: StorageId,
        store: Arc<dyn ObjectStore>,
        root: Path,
        local: Option<Arc<LocalFileSystem>>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                id,
                store,
                root,
                local,
                footers: Cache::new(FOOTER_ENTRIES, FOOTER_BYTES),
                blooms: Cache::new(BLOOM_ENTRIES, BLOOM_BYTES),
            }),
        }
    }

    pub fn storage_id(&self) -> &StorageId {
        &self.inner.id
    }

    /// How many segment footers are cached (see `lookup_segment`).
    pub fn cached_footers(&self) -> usize {
        self.inner.footers.len()
    }

    /// How many row-group bloom filters are cached.
    pub fn cached_bloom_filters(&self) -> usize {
        self.inner.blooms.len()
    }

    pub(crate) fn object_store(&self) -> &Arc<dyn ObjectStore> {
        &self.inner.store
    }

    pub(crate) fn footers(&self) -> &Cache<Footer> {
        &self.inner.footers
    }

    pub(crate) fn blooms(&self) -> &Cache<Arc<Sbbf>> {
        &self.inner.blooms
    }

    /// Drops what is cached about the object at `path`.
    fn forget(&self, path: &str) {
        let key = path.trim_matches('/');
        self.inner.footers.invalidate(key);
        self.inner.blooms.invalidate_prefix(&format!("{key}#"));
    }

    /// The store location of `rel`, a relative `/`-separated path whose
    /// segments are non-empty and not `.` or `..` (it cannot leave the root).
    pub(crate) fn location(&self, rel: &str) -> Result<Path, ColdError> {
        let trimmed = rel.trim_matches('/');
        let p = Path::parse(trimmed).map_err(|e| {
            ColdError::Io(format!(
                "Storage '{}': invalid object path '{rel}': {e}",
                self.inner.id
            ))
        })?;
        Ok(self.inner.root.parts().chain(p.parts()).collect())
    }

    fn relative(&self, location: &Path) -> String {
        match location.prefix_match(&self.inner.root) {
            Some(parts) => parts
                .map(|p| p.as_ref().to_string())
                .collect::<Vec<_>>()
                .join("/"),
            None => location.to_string(),
        }
    }

    fn io(&self, what: &str, rel: &str, e: impl std::fmt::Display) -> ColdError {
        ColdError::Io(format!(
            "Storage '{}': cannot {what} '{rel}': {e}",
            self.inner.id
        ))
    }

    /// Writes, reads back and deletes a small object under `_probe/`, so a
    /// storage that cannot hold segments is refused when it is defined
    /// rather than at its first flush.
    pub async fn probe(&self) -> Result<(), ColdError> {
        let rel = format!("_probe/{}", uuid::Uuid::new_v4());
        let payload = Bytes::from(format!("kalamdb probe {rel}"));
        let not_writable = |e: ColdError| {
            let cause = e.to_string();
            let prefix = format!("Storage '{}': ", self.inner.id);
            ColdError::NotWritable(format!(
                "Storage '{}' is not writable: {}",
                self.inner.id,
                cause.strip_prefix(&prefix).unwrap_or(&cause)
            ))
        };
        self.put_durable(&rel, payload.clone())
            .await
            .map_err(not_writable)?;
        let read = self.get(&rel).await.map_err(not_writable)?;
        if read != payload {
            return Err(not_writable(self.io(
                "verify",
                &rel,
                "read back different bytes than were written",
            )));
        }
        self.delete(&rel).await.map_err(not_writable)?;
        Ok(())
    }

    /// Writes `bytes` so that the object appears atomically (never
    /// half-written under its name) and is durable before this returns.
    /// An existing object of that name is replaced.
    pub async fn put_durable(&self, path: &str, bytes: Bytes) -> Result<(), ColdError> {
        let location = self.location(path)?;
        let result = match &self.inner.local {
            Some(local) => {
                let target = local
                    .path_to_filesystem(&location)
                    .map_err(|e| self.io("write", path, e))?;
                tokio::task::spawn_blocking(move || write_file_durably(&target, &bytes))
                    .await
                    .map_err(|e| self.io("write", path, e))?
                    .map_err(|e| self.io("write", path, e))
            }
            None => self
                .inner
                .store
                .put(&location, PutPayload::from(bytes))
                .await
                .map(|_| ())
                .map_err(|e| self.io("write", path, e)),
        };
        // Also after a failure: the object may have been replaced.
        self.forget(path);
        result
    }

    /// The whole object.
    pub async fn get(&self, path: &str) -> Result<Bytes, ColdError> {
        let location = self.location(path)?;
        let result = match self.inner.store.get(&location).await {
            Ok(r) => r.bytes().await,
            Err(e) => Err(e),
        };
        result.map_err(|e| match e {
            object_store::Error::NotFound { .. } => ColdError::Missing(format!(
                "Storage '{}': object '{path}' not found",
                self.inner.id
            )),
            e => self.io("read", path, e),
        })
    }

    /// Deletes an object; a missing one is not an error.
    pub async fn delete(&self, path: &str) -> Result<(), ColdError> {
        let location = self.location(path)?;
        self.forget(path);
        match self.inner.store.delete(&location).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.io("delete", path, e)),
        }
    }

    /// Every object under `prefix` (whole path segments: `a/b` covers
    /// `a/b/x` but not `a/bc`), as (path relative to the root, size).
    pub async fn list(&self, prefix: &str) -> Result<Vec<(String, u64)>, ColdError> {
        let mut out = self.list_all(prefix).await?;
        out.retain(|(p, _)| !is_temp(p));
        Ok(out)
    }

    /// [`Self::list`] plus the temporary files of interrupted writes.
    pub async fn list_all(&self, prefix: &str) -> Result<Vec<(String, u64)>, ColdError> {
        let location = self.location(prefix)?;
        let what = if prefix.is_empty() { "/" } else { prefix };
        let metas: Vec<object_store::ObjectMeta> = self
            .inner
            .store
            .list(Some(&location))
            .try_collect()
            .await
            .map_err(|e| self.io("list", what, e))?;
        Ok(metas
            .iter()
            .map(|m| (self.relative(&m.location), m.size))
            .collect())
    }

    /// Deletes every object under `prefix` (as [`Self::list`] sees them,
    /// plus leftover temporary files); returns (files, bytes) deleted.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<(u64, u64), ColdError> {
        let objects = self.list_all(prefix).await?;
        let key = prefix.trim_matches('/');
        self.inner.footers.invalidate_prefix(key);
        self.inner.blooms.invalidate_prefix(key);
        let mut locations = Vec::with_capacity(objects.len());
        for (rel, _) in &objects {
            locations.push(self.location(rel)?);
        }
        let deleted = self
            .inner
            .store
            .delete_stream(futures::stream::iter(locations.into_iter().map(Ok)).boxed())
            .filter_map(|r| async move {
                match r {
                    Ok(_) | Err(object_store::Error::NotFound { .. }) => None,
                    Err(e) => Some(e),
                }
            })
            .collect::<Vec<_>>()
            .await;
        if let Some(e) = deleted.into_iter().next() {
            return Err(self.io("delete under", prefix, e));
        }
        let bytes = objects.iter().map(|(_, size)| size).sum();
        Ok((objects.len() as u64, bytes))
    }
}

fn retry_config() -> object_store::RetryConfig {
    // The default (10 retries over up to 3 minutes) would make CREATE
    // STORAGE against an unreachable endpoint hang for minutes.
    object_store::RetryConfig {
        max_retries: 3,
        retry_timeout: std::time::Duration::from_secs(30),
        ..Default::default()
    }
}

fn is_temp(rel: &str) -> bool {
    rel.rsplit('/')
        .next()
        .is_some_and(|name| name.starts_with('.') && name.ends_with(TEMP_SUFFIX))
}

/// The local half of `put_durable` (blocking; runs on the blocking pool).
fn write_file_durably(target: &FsPath, bytes: &[u8]) -> std::io::Result<()> {
    let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a file path",
        ));
    };
    let temp = dir.join(format!(
        ".{}.{}{TEMP_SUFFIX}",
        name.to_string_lossy(),
        uuid::Uuid::new_v4().simple()
    ));
    // A concurrent delete may remove a directory that has just become empty
    // (automatic cleanup) between creating it and creating the file in it.
    let mut attempts = 0;
    let mut file = loop {
        create_dirs_durably(dir)?;
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
        {
            Ok(f) => break f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && attempts < 3 => attempts += 1,
            Err(e) => return Err(e),
        }
    };
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            drop(file);
            std::fs::rename(&temp, target)
        });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    sync_dir(dir)
}

/// `create_dir_all`, then fsync the parent of each directory it created, so
/// the new directory entries survive a crash along with the file.
fn create_dirs_durably(dir: &FsPath) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut missing: Vec<PathBuf> = Vec::new();
    let mut cur = Some(dir);
    while let Some(d) = cur
        && !d.exists()
    {
        missing.push(d.to_path_buf());
        cur = d.parent();
    }
    std::fs::create_dir_all(dir)?;
    for d in missing.iter().rev() {
        if let Some(parent) = d.parent() {
            sync_dir(parent)?;
        }
    }
    Ok(())
}

fn sync_dir(dir: &FsPath) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn names_in(dir: &FsPath) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[tokio::test]
    async fn local_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = ColdStore::open(&StorageDef::local(&dir.path().join("st"), 0)).unwrap();
        assert!(dir.path().join("st").is_dir(), "open creates the directory");
        store.probe().await.unwrap();
        assert!(store.list("").await.unwrap().is_empty(), "probe cleans up");

        store
            .put_durable("a/b/one.parquet", Bytes::from_static(b"12345"))
            .await
            .unwrap();
        assert_eq!(store.get("a/b/one.parquet").await.unwrap(), &b"12345"[..]);
        assert_eq!(
            std::fs::read(dir.path().join("st/a/b/one.parquet")).unwrap(),
            b"12345"
        );
        // Replacing keeps one file, with the new content, and no temp file.
        store
            .put_durable("a/b/one.parquet", Bytes::from_static(b"xy"))
            .await
            .unwrap();
        assert_eq!(store.get("a/b/one.parquet").await.unwrap(), &b"xy"[..]);
        assert_eq!(names_in(&dir.path().join("st/a/b")), vec!["one.parquet"]);
        store.delete("a/b/one.parquet").await.unwrap();
        store.delete("a/b/one.parquet").await.unwrap();
        let err = store.get("a/b/one.parquet").await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "Storage 'local': object 'a/b/one.parquet' not found"
        );
        // Emptied directories go too.
        assert!(!dir.path().join("st/a").exists());
    }

    #[tokio::test]
    async fn paths_cannot_leave_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let store = ColdStore::open(&StorageDef::local(&dir.path().join("st"), 0)).unwrap();
        for bad in ["../x", "a/../../x", "a//b", "./x", "a/./b", ""] {
            let err = store
                .put_durable(bad, Bytes::from_static(b"1"))
                .await
                .unwrap_err();
            assert!(matches!(err, ColdError::Io(_)), "{bad}: {err}");
        }
        assert_eq!(names_in(dir.path()), vec!["st"]);
        assert!(names_in(&dir.path().join("st")).is_empty());
    }

    #[tokio::test]
    async fn temp_files_are_hidden_from_list_but_swept_by_delete_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("st");
        let store = ColdStore::open(&StorageDef::local(&root, 0)).unwrap();
        store
            .put_durable("t/seg.parquet", Bytes::from_static(b"abc"))
            .await
            .unwrap();
        // What a crash between create and rename leaves behind.
        std::fs::write(root.join("t/.seg2.parquet.0123.kalamdb-tmp"), b"par").unwrap();
        assert_eq!(
            store.list("t").await.unwrap(),
            vec![("t/seg.parquet".to_string(), 3)]
        );
        assert_eq!(store.delete_prefix("t/").await.unwrap(), (2, 6));
        assert!(!root.join("t").exists());
        assert!(root.is_dir(), "the storage root itself stays");
    }

    #[test]
    fn unsupported_types_and_bad_definitions_do_not_open() {
        let mut def = StorageDef::local(FsPath::new("/nonexistent-kalamdb"), 0);
        def.storage_type = StorageType::Gcs;
        def.base_directory = "gs://b".into();
        assert_eq!(
            ColdStore::open(&def).unwrap_err().to_string(),
            "Storage type 'gcs' is not supported yet"
        );
        def.storage_type = StorageType::Azure;
        assert_eq!(
            ColdStore::open(&def).unwrap_err().to_string(),
            "Storage type 'azure' is not supported yet"
        );
        def.storage_type = StorageType::Filesystem;
        def.base_directory = String::new();
        assert!(matches!(
            ColdStore::open(&def),
            Err(ColdError::InvalidStorage(_))
        ));
    }

    #[test]
    fn s3_opens_without_network() {
        // Port 9 (discard) on loopback: nothing answers, and nothing is asked.
        let def = StorageDef {
            storage_type: StorageType::S3,
            base_directory: "s3://bucket/pre/fix".into(),
            config_json: Some(r#"{"endpoint":"http://127.0.0.1:9","allow_http":true}"#.into()),
            credentials: Some(r#"{"access_key_id":"a","secret_access_key":"b"}"#.into()),
            ..StorageDef::local(FsPath::new("/unused"), 0)
        };
        let store = ColdStore::open(&def).unwrap();
        assert_eq!(
            store.location("x/y.parquet").unwrap().as_ref(),
            "pre/fix/x/y.parquet"
        );
        assert_eq!(store.relative(&Path::parse("pre/fix/x/y").unwrap()), "x/y");
        assert_eq!(store.location("").unwrap().as_ref(), "pre/fix");
    }

    #[tokio::test]
    async fn an_unwritable_directory_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the storage directory should be.
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"x").unwrap();
        let err = ColdStore::open(&StorageDef::local(&blocker.join("st"), 0)).unwrap_err();
        assert!(
            matches!(&err, ColdError::NotWritable(m) if m.starts_with("Storage 'local' is not writable: cannot create directory")),
            "{err}"
        );
    }
}
