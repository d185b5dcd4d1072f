//! EmbeddedStore: a compaction that fails on a full disk leaves redb refusing every later
//! operation on that handle ("Previous I/O error occurred"); the next operation, an update
//! included, reopens the file, so writes resume once there is room, as after a failed write.
//!
//! The disk fills by this process's file-size limit (`RLIMIT_FSIZE`): its own test binary, so
//! no other test shares the limit.

mod fsize;

use apiserver_storage::{Bytes, EmbeddedStore, Storage, StorageError};
use fsize::limit_file_size;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_resume_after_a_compaction_failed_on_a_full_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let store = EmbeddedStore::open(&path).unwrap();
    let key = "/registry/g/r/ns/a";
    let mut kv = store
        .create(key, Bytes::from(vec![b'0'; 20_000]))
        .await
        .unwrap();
    for i in 1..200u32 {
        let value = Bytes::from(format!("{i:020000}"));
        kv = store
            .update(key, value, Some(kv.mod_revision))
            .await
            .unwrap();
    }
    // No write past the file's first pages: the compaction, which rewrites the log's pages,
    // fails as on a disk with no room.
    limit_file_size(16 * 1024);
    let compacted = store.compact(kv.mod_revision).await;
    assert!(
        matches!(compacted, Err(StorageError::Io(_))),
        "{compacted:?}"
    );
    // Room again: an update (not a create) is the next write, and it is stored.
    limit_file_size(libc::RLIM_INFINITY);
    let updated = store
        .update(key, Bytes::from_static(b"after"), Some(kv.mod_revision))
        .await
        .expect("updates resume once there is room");
    assert_eq!(
        store.get(key).await.unwrap().unwrap().value,
        Bytes::from_static(b"after")
    );
    store.compact(updated.mod_revision).await.unwrap();
    drop(store);
    let reopened = EmbeddedStore::open(&path).unwrap();
    assert_eq!(
        reopened.get(key).await.unwrap().unwrap().mod_revision,
        updated.mod_revision
    );
}
