//! An etcd that stops answering without closing its connections (SIGSTOP: a frozen process, a
//! network dropping packets without a reset) is noticed by the HTTP/2 keep-alive: the watch on
//! it ends with an error, so that the watch cache re-lists once etcd answers again, instead of
//! staying open at a stale revision for as long as etcd is gone.

mod common;

use std::time::Duration;

use apiserver_storage::{EtcdOptions, EtcdStore, Storage, StorageError};
use common::b;
use common::etcd::Etcd;

/// A real etcd, and a store on it whose keep-alive pings every second.
async fn pinged_every_second() -> (Etcd, EtcdStore) {
    let etcd = Etcd::start();
    let options = EtcdOptions {
        connect_timeout: Duration::from_secs(10),
        keep_alive: Duration::from_secs(1),
        ..EtcdOptions::default()
    };
    let store = EtcdStore::connect(&[etcd.client_url()], options)
        .await
        .expect("connect");
    (etcd, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_on_a_frozen_etcd_ends_with_an_error() {
    let (etcd, store) = pinged_every_second().await;
    let first = store.create("/registry/g/r/ns/a", b("v")).await.unwrap();
    let mut watch = store
        .watch("/registry/g/r/", first.mod_revision)
        .await
        .unwrap();
    // The watch is live.
    store.create("/registry/g/r/ns/b", b("v")).await.unwrap();
    assert_eq!(
        common::next_event(&mut watch).await.kv.key,
        "/registry/g/r/ns/b"
    );
    etcd.freeze();
    // A ping every second, each answered within a second, or the connection ends: the watch
    // ends within a few seconds. Without keep-alive it waits for etcd for good; a minute is a
    // bound far beyond the pings, for a loaded machine.
    let ended = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match watch.recv().await {
                // etcd's own progress notifications may arrive before it froze.
                Some(Ok(e)) if e.kind == apiserver_storage::EventType::Progress => continue,
                other => return other,
            }
        }
    })
    .await;
    etcd.thaw();
    match ended {
        Ok(Some(Err(StorageError::Unavailable(_)))) | Ok(None) => {}
        Ok(other) => panic!("the watch went on after etcd froze: {other:?}"),
        Err(_) => panic!("the watch on a frozen etcd did not end"),
    }
}

/// A write under way when etcd stops answering may have been applied (etcd may have committed
/// it before it froze): the broken connection makes it a timeout (504, outcome unknown), as a
/// deadline does, never `Unavailable` (503, which says nothing was done).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_cut_off_by_a_frozen_etcd_has_an_unknown_outcome() {
    let (etcd, store) = pinged_every_second().await;
    store.create("/registry/g/r/ns/a", b("v")).await.unwrap();
    etcd.freeze();
    let cut = store.create("/registry/g/r/ns/b", b("v")).await;
    etcd.thaw();
    match cut {
        Err(StorageError::Timeout(why)) => assert!(why.contains("may have been applied"), "{why}"),
        other => panic!("a write cut off by a frozen etcd: {other:?}"),
    }
}
