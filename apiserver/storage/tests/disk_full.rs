//! EmbeddedStore on a full disk: a write that cannot be stored fails with an I/O error, reads
//! keep working, and writes work again once there is room, without reopening the store by hand
//! (redb refuses every write after an I/O error until its file is opened again; the store does
//! that itself). Nothing acknowledged is lost.
//!
//! The disk fills by this process's file-size limit (`RLIMIT_FSIZE`, which makes writes past it
//! fail as a full disk makes them fail): its own test binary, so no other test shares the limit.

mod fsize;

use apiserver_storage::{Bytes, EmbeddedStore, ListOptions, Storage, StorageError};
use fsize::limit_file_size;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_resume_once_the_disk_has_room_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let store = EmbeddedStore::open(&path).unwrap();
    let value = Bytes::from(vec![b'x'; 200_000]);
    store
        .create("/registry/g/r/ns/first", value.clone())
        .await
        .unwrap();

    let size = std::fs::metadata(&path).unwrap().len();
    limit_file_size(size + 1_000_000);
    let mut stored = vec!["/registry/g/r/ns/first".to_string()];
    let mut failure = None;
    for i in 0..100 {
        let key = format!("/registry/g/r/ns/k{i:03}");
        match store.create(&key, value.clone()).await {
            Ok(_) => stored.push(key),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let failure = failure.expect("the file-size limit stops the writes");
    assert!(matches!(failure, StorageError::Io(_)), "{failure:?}");
    // Later writes fail too while there is no room, and reads keep answering.
    let again = store.create("/registry/g/r/ns/again", value.clone()).await;
    assert!(matches!(again, Err(StorageError::Io(_))), "{again:?}");
    let list = store
        .list("/registry/", ListOptions::default())
        .await
        .unwrap();
    assert_eq!(list.items.len(), stored.len());

    // Room again: the store writes again by itself.
    limit_file_size(libc::RLIM_INFINITY);
    store
        .create("/registry/g/r/ns/after", Bytes::from_static(b"after"))
        .await
        .expect("writes resume once there is room");
    stored.push("/registry/g/r/ns/after".to_string());
    let list = store
        .list("/registry/", ListOptions::default())
        .await
        .unwrap();
    let keys: Vec<&str> = list.items.iter().map(|kv| kv.key.as_str()).collect();
    let mut expected: Vec<&str> = stored.iter().map(String::as_str).collect();
    expected.sort();
    assert_eq!(keys, expected);

    // Closed and opened again: everything acknowledged is there, and the file needs no repair.
    drop(store);
    let reopened = EmbeddedStore::open(&path).unwrap();
    let list = reopened
        .list("/registry/", ListOptions::default())
        .await
        .unwrap();
    assert_eq!(list.items.len(), stored.len());
    assert_eq!(
        reopened
            .get("/registry/g/r/ns/after")
            .await
            .unwrap()
            .unwrap()
            .value,
        Bytes::from_static(b"after")
    );

    // A file removed meanwhile is not replaced by an empty one when the store reopens it: the
    // store refuses to go on rather than serve revisions from 1 again.
    let size = std::fs::metadata(&path).unwrap().len();
    limit_file_size(size + 100_000);
    let mut failed = false;
    for i in 0..20 {
        let key = format!("/registry/g/r/ns/late{i:02}");
        if reopened.create(&key, value.clone()).await.is_err() {
            failed = true;
            break;
        }
    }
    assert!(failed, "the limit stops a write");
    std::fs::remove_file(&path).unwrap();
    limit_file_size(libc::RLIM_INFINITY);
    let after_removal = reopened
        .create("/registry/g/r/ns/gone", Bytes::from_static(b"x"))
        .await;
    assert!(after_removal.is_err(), "{after_removal:?}");
    assert!(
        !path.exists(),
        "no new, empty database in the removed one's place"
    );
}
