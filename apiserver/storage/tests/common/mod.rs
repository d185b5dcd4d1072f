//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::time::Duration;

use apiserver_storage::{
    AnyStore, Bytes, EmbeddedStore, Event, MemoryStore, StorageError, StoreOptions, WatchStream,
};
use tempfile::TempDir;

/// A store plus whatever must live as long as it (the temporary directory of a database file).
pub type Made<S> = (S, Option<TempDir>);

pub fn memory(opts: StoreOptions) -> Made<MemoryStore> {
    (MemoryStore::with_options(opts), None)
}

pub fn embedded(opts: StoreOptions) -> Made<EmbeddedStore> {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = EmbeddedStore::open_with_options(dir.path().join("store.redb"), opts)
        .expect("open embedded store");
    (store, Some(dir))
}

pub fn any_memory(opts: StoreOptions) -> Made<AnyStore> {
    let (s, d) = memory(opts);
    (s.into(), d)
}

pub fn any_embedded(opts: StoreOptions) -> Made<AnyStore> {
    let (s, d) = embedded(opts);
    (s.into(), d)
}

pub fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

/// The next watch item, failing the test after 5 s.
pub async fn next_item(w: &mut WatchStream) -> Option<Result<Event, StorageError>> {
    tokio::time::timeout(Duration::from_secs(5), w.recv())
        .await
        .expect("timed out waiting for a watch event")
}

/// The next watch event, which must be `Ok`.
pub async fn next_event(w: &mut WatchStream) -> Event {
    match next_item(w).await {
        Some(Ok(e)) => e,
        other => panic!("expected an event, got {other:?}"),
    }
}

/// Asserts nothing is buffered on the watch right now (after giving in-flight sends a moment).
pub async fn assert_quiet(w: &mut WatchStream) {
    tokio::time::sleep(Duration::from_millis(20)).await;
    if let Some(item) = w.try_recv() {
        panic!("unexpected watch item: {item:?}");
    }
}
