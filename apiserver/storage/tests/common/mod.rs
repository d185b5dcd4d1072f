//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::time::Duration;

use apiserver_storage::{
    AnyStore, Bytes, Cacher, EmbeddedStore, EtcdOptions, EtcdStore, Event, EventType, MemoryStore,
    Revision, Storage, StorageError, StoreOptions, WatchStream,
};

pub mod etcd;

/// A store plus whatever must live as long as it (a database file's directory, an etcd process).
pub type Made<S> = (S, Option<Box<dyn std::any::Any + Send>>);

pub fn memory(opts: StoreOptions) -> Made<MemoryStore> {
    (MemoryStore::with_options(opts), None)
}

pub fn embedded(opts: StoreOptions) -> Made<EmbeddedStore> {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = EmbeddedStore::open_with_options(dir.path().join("store.redb"), opts)
        .expect("open embedded store");
    (store, Some(Box::new(dir)))
}

/// A fresh single-member etcd (a real `etcd` process on loopback ports) and a store on it.
/// Needs a multi-threaded Tokio runtime (the suite's tests use one).
pub fn etcd(opts: StoreOptions) -> Made<EtcdStore> {
    let server = etcd::Etcd::start();
    let endpoints = vec![server.client_url()];
    let store = tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current().block_on(async {
            let options = EtcdOptions {
                store: opts,
                ..EtcdOptions::default()
            };
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            loop {
                match EtcdStore::connect(&endpoints, options.clone()).await {
                    Ok(s) if s.revision().await.is_ok() => return s,
                    _ if std::time::Instant::now() > deadline => {
                        panic!(
                            "etcd at {endpoints:?} did not become ready{}",
                            server.log_tail()
                        )
                    }
                    _ => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        })
    });
    (store, Some(Box::new(server)))
}

/// `store` behind a watch cache of every key, once the cache follows it (so that the suite's
/// watches and recent lists are served by the cache, not by the store as while it is built).
pub fn cached<S: Storage + Clone>(store: S, opts: StoreOptions) -> Cacher<S> {
    let cacher = Cacher::new(store, opts);
    cacher.cache("/");
    tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current().block_on(async {
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            while cacher.cached_revision("/").is_none() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the watch cache did not start"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    });
    cacher
}

pub fn cached_memory(opts: StoreOptions) -> Made<Cacher<MemoryStore>> {
    let (s, d) = memory(opts.clone());
    (cached(s, opts), d)
}

pub fn cached_etcd(opts: StoreOptions) -> Made<Cacher<EtcdStore>> {
    let (s, d) = etcd(opts.clone());
    (cached(s, opts), d)
}

/// etcd behind a watch cache, as `AnyStore` (the API server's etcd store), once the cache
/// follows etcd: the suite tests a running server's cache, not one being built (the cacher
/// tests cover its start).
pub fn any_cached_etcd(opts: StoreOptions) -> Made<AnyStore> {
    let (s, d) = etcd(opts.clone());
    (AnyStore::Cached(Box::new(cached(s, opts))), d)
}

pub fn any_etcd(opts: StoreOptions) -> Made<AnyStore> {
    let (s, d) = etcd(opts);
    (s.into(), d)
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

/// The next watch item that is not a progress event (etcd in these tests sends them on its
/// own, every 200 ms), failing the test after 5 s.
pub async fn next_item(w: &mut WatchStream) -> Option<Result<Event, StorageError>> {
    let wait = async {
        loop {
            match w.recv().await {
                Some(Ok(e)) if e.kind == EventType::Progress => continue,
                other => return other,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), wait)
        .await
        .expect("timed out waiting for a watch event")
        .map(|item| item.map(std::sync::Arc::unwrap_or_clone))
}

/// The next progress event; changes before it must be none.
pub async fn next_progress(w: &mut WatchStream) -> Revision {
    match tokio::time::timeout(Duration::from_secs(5), w.recv()).await {
        Ok(Some(Ok(e))) if e.kind == EventType::Progress => e.revision,
        other => panic!("expected a progress event, got {other:?}"),
    }
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
    while let Some(item) = w.try_recv() {
        if !matches!(&item, Ok(e) if e.kind == EventType::Progress) {
            panic!("unexpected watch item: {item:?}");
        }
    }
}
