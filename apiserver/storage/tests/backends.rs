//! One test body per behaviour, run against every backend (and through `AnyStore`).

mod common;

use std::sync::Arc;
use std::time::Duration;

use apiserver_storage::{
    EventType, KeyValue, ListOptions, Revision, Storage, StorageError, StoreOptions,
};
use common::{Made, assert_quiet, b, next_event, next_item};

/// Waits for a progress event at exactly `revision` (asking for it when the backend answers
/// requests; etcd sends its own); no change may come first.
async fn progress_reaching(w: &mut apiserver_storage::WatchStream, revision: Revision) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(handle) = w.progress_handle() {
            handle.request();
        }
        let item = tokio::time::timeout_at(deadline, w.recv())
            .await
            .expect("no progress event reached the store's revision");
        match item {
            Some(Ok(e)) if e.kind == EventType::Progress => {
                assert!(e.revision <= revision, "progress beyond the store");
                assert!(e.kv.key.is_empty() && e.prev.is_none());
                if e.revision == revision {
                    return;
                }
            }
            other => panic!("expected a progress event, got {other:?}"),
        }
    }
}

type Mk<S> = fn(StoreOptions) -> Made<S>;

fn opts() -> StoreOptions {
    StoreOptions::default()
}

async fn crud<S: Storage>(mk: Mk<S>) {
    let (s, _g) = mk(StoreOptions {
        max_value_size: 64,
        ..opts()
    });
    let key = "/registry/g/r/ns/a";
    assert_eq!(s.get(key).await.unwrap(), None);

    let created = s.create(key, b("v1")).await.unwrap();
    assert_eq!(created.key, key);
    assert_eq!(created.value, "v1");
    assert_eq!(created.create_revision, created.mod_revision);
    assert_eq!(s.get(key).await.unwrap(), Some(created.clone()));
    assert_eq!(
        s.create(key, b("other")).await,
        Err(StorageError::AlreadyExists { key: key.into() })
    );

    let updated = s.update(key, b("v2"), None).await.unwrap();
    assert_eq!(updated.create_revision, created.create_revision);
    assert!(updated.mod_revision > created.mod_revision);
    assert_eq!(s.get(key).await.unwrap(), Some(updated.clone()));
    assert_eq!(
        s.update("/registry/g/r/ns/missing", b("x"), None).await,
        Err(StorageError::NotFound {
            key: "/registry/g/r/ns/missing".into()
        })
    );

    let deleted = s.delete(key, None).await.unwrap();
    assert_eq!(deleted.value, "v2");
    assert_eq!(deleted.create_revision, created.create_revision);
    assert_eq!(deleted.mod_revision, s.revision().await.unwrap());
    assert!(deleted.mod_revision > updated.mod_revision);
    assert_eq!(s.get(key).await.unwrap(), None);
    assert_eq!(
        s.delete(key, None).await,
        Err(StorageError::NotFound { key: key.into() })
    );

    // A re-created key starts a new life.
    let again = s.create(key, b("v3")).await.unwrap();
    assert!(again.create_revision > deleted.mod_revision);

    // Oversized values are refused without a write.
    let before = s.revision().await.unwrap();
    let big = apiserver_storage::Bytes::from(vec![b'x'; 65]);
    assert!(matches!(
        s.create("/registry/g/r/ns/big", big.clone()).await,
        Err(StorageError::TooLarge {
            size: 65,
            limit: 64,
            ..
        })
    ));
    assert!(matches!(
        s.update(key, big, None).await,
        Err(StorageError::TooLarge { .. })
    ));
    assert_eq!(s.revision().await.unwrap(), before);
    assert_eq!(s.get(key).await.unwrap().unwrap().value, "v3");
}

async fn cas_conflict<S: Storage>(mk: Mk<S>) {
    let (s, _g) = mk(opts());
    let key = "/registry/g/r/ns/cas";
    let v1 = s.create(key, b("1")).await.unwrap();
    let v2 = s.update(key, b("2"), Some(v1.mod_revision)).await.unwrap();
    let rev = s.revision().await.unwrap();

    // Stale precondition: 409 with the current revision, nothing written.
    assert_eq!(
        s.update(key, b("3"), Some(v1.mod_revision)).await,
        Err(StorageError::Conflict {
            key: key.into(),
            current: v2.mod_revision
        })
    );
    assert_eq!(
        s.delete(key, Some(v1.mod_revision)).await,
        Err(StorageError::Conflict {
            key: key.into(),
            current: v2.mod_revision
        })
    );
    assert_eq!(s.revision().await.unwrap(), rev);
    assert_eq!(s.get(key).await.unwrap(), Some(v2.clone()));

    // Fresh precondition succeeds.
    let v3 = s.update(key, b("3"), Some(v2.mod_revision)).await.unwrap();
    let gone = s.delete(key, Some(v3.mod_revision)).await.unwrap();
    assert_eq!(gone.value, "3");
    assert_eq!(
        s.delete(key, Some(v3.mod_revision)).await,
        Err(StorageError::NotFound { key: key.into() })
    );
}

async fn identical_update_is_noop<S: Storage>(mk: Mk<S>) {
    let (s, _g) = mk(opts());
    let key = "/registry/g/r/ns/same";
    let v1 = s.create(key, b("{\"a\":1}")).await.unwrap();
    let rev = s.revision().await.unwrap();
    let mut w = s.watch("/", rev).await.unwrap();

    assert_eq!(s.update(key, b("{\"a\":1}"), None).await.unwrap(), v1);
    assert_eq!(
        s.update(key, b("{\"a\":1}"), Some(v1.mod_revision))
            .await
            .unwrap(),
        v1
    );
    assert_eq!(s.revision().await.unwrap(), rev);
    // The precondition is still checked first.
    assert!(matches!(
        s.update(key, b("{\"a\":1}"), Some(v1.mod_revision + 100))
            .await,
        Err(StorageError::Conflict { .. })
    ));
    assert_quiet(&mut w).await;

    let v2 = s.update(key, b("{\"a\":2}"), None).await.unwrap();
    assert_eq!(v2.mod_revision, rev + 1);
    let e = next_event(&mut w).await;
    assert_eq!((e.kind, e.revision), (EventType::Modified, rev + 1));
}

async fn list_paging<S: Storage>(mk: Mk<S>) {
    let (s, _g) = mk(opts());
    let names = ["m", "c", "x", "a", "k", "b", "z"];
    for n in names {
        s.create(&format!("/registry/g/r/ns1/{n}"), b(n))
            .await
            .unwrap();
    }
    s.create("/registry/g/r/ns2/a", b("other ns"))
        .await
        .unwrap();
    s.create("/registry/g/rr/ns1/a", b("other resource"))
        .await
        .unwrap();
    s.create("/registry/g/r/ns0", b("sorts before"))
        .await
        .unwrap();
    let rev = s.revision().await.unwrap();

    let prefix = "/registry/g/r/ns1/";
    let all = s.list(prefix, ListOptions::default()).await.unwrap();
    let mut expected: Vec<String> = names.iter().map(|n| format!("{prefix}{n}")).collect();
    expected.sort();
    let keys: Vec<&str> = all.items.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys, expected);
    assert_eq!(all.revision, rev);
    assert!(!all.remaining);
    assert!(
        all.items
            .iter()
            .all(|kv| kv.value == kv.key[prefix.len()..])
    );

    // Paging with limit + start_after reproduces the full list.
    for limit in [1, 2, 3, 7, 100] {
        let mut paged: Vec<KeyValue> = Vec::new();
        let mut start_after = None;
        loop {
            let page = s
                .list(
                    prefix,
                    ListOptions {
                        start_after: start_after.clone(),
                        limit: Some(limit),
                        revision: None,
                        not_older_than: None,
                        skip_count: false,
                    },
                )
                .await
                .unwrap();
            assert!(page.items.len() <= limit);
            assert_eq!(page.revision, rev);
            paged.extend(page.items.iter().cloned());
            if !page.remaining {
                break;
            }
            assert_eq!(page.items.len(), limit, "a non-final page is full");
            start_after = page.items.last().map(|kv| kv.key.clone());
        }
        assert_eq!(paged, all.items, "limit {limit}");
    }

    // limit 0 = unlimited; start_after before the prefix starts at the prefix; an exact-limit
    // page reports no remainder.
    let zero = s
        .list(
            prefix,
            ListOptions {
                limit: Some(0),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(zero.items, all.items);
    let early = s
        .list(
            prefix,
            ListOptions {
                start_after: Some("/a".into()),
                limit: Some(7),
                revision: None,
                not_older_than: None,
                skip_count: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(early.items, all.items);
    assert!(!early.remaining);

    // The whole registry, and a prefix with no keys.
    let everything = s.list("/registry/", ListOptions::default()).await.unwrap();
    assert_eq!(everything.items.len(), names.len() + 3);
    assert!(everything.items.windows(2).all(|w| w[0].key < w[1].key));
    let none = s
        .list("/registry/nope/", ListOptions::default())
        .await
        .unwrap();
    assert!(none.items.is_empty() && !none.remaining);
    assert_eq!(none.revision, rev);

    // Revision of a later list moves with writes.
    s.delete("/registry/g/r/ns1/k", None).await.unwrap();
    let after = s.list(prefix, ListOptions::default()).await.unwrap();
    assert_eq!(after.revision, rev + 1);
    assert_eq!(after.items.len(), names.len() - 1);
}

async fn revisions_monotonic<S: Storage>(mk: Mk<S>) {
    let (s, _g) = mk(opts());
    let mut last: Revision = s.revision().await.unwrap();
    for i in 0..20 {
        let key = format!("/registry/g/r/ns/{}", i % 5);
        let kv = match i % 4 {
            0 | 1 => match s.create(&key, b(&i.to_string())).await {
                Ok(kv) => kv,
                Err(StorageError::AlreadyExists { .. }) => {
                    s.update(&key, b(&i.to_string()), None).await.unwrap()
                }
                Err(e) => panic!("{e}"),
            },
            2 => match s.update(&key, b(&i.to_string()), None).await {
                Ok(kv) => kv,
                Err(StorageError::NotFound { .. }) => {
                    s.create(&key, b(&i.to_string())).await.unwrap()
                }
                Err(e) => panic!("{e}"),
            },
            _ => match s.delete(&key, None).await {
                Ok(kv) => kv,
                Err(StorageError::NotFound { .. }) => {
                    s.create(&key, b(&i.to_string())).await.unwrap()
                }
                Err(e) => panic!("{e}"),
            },
        };
        // Every successful mutation is exactly one revision.
        assert_eq!(kv.mod_revision, last + 1, "op {i}");
        last = kv.mod_revision;
        assert_eq!(s.revision().await.unwrap(), last);
        assert_eq!(
            s.list("/registry/", ListOptions::default())
                .await
                .unwrap()
                .revision,
            last
        );
    }
    // Failed operations do not move the revision.
    let kept = s.create("/registry/kept", b("k")).await.unwrap();
    last = kept.mod_revision;
    assert!(s.create("/registry/kept", b("dup")).await.is_err());
    assert!(s.update("/registry/none", b("x"), None).await.is_err());
    assert!(s.delete("/registry/none", None).await.is_err());
    assert!(s.update("/registry/kept", b("x"), Some(1)).await.is_err());
    assert_eq!(s.revision().await.unwrap(), last);
}

async fn watch_replay_then_live<S: Storage>(mk: Mk<S>) {
    let (s, _g) = mk(opts());
    let a = s.create("/registry/g/r/ns/a", b("a1")).await.unwrap();
    let bb = s.create("/registry/g/r/ns/b", b("b1")).await.unwrap();
    let a2 = s.update("/registry/g/r/ns/a", b("a2"), None).await.unwrap();

    let mut w = s.watch("/registry/", a.mod_revision).await.unwrap();
    // Replay: everything after `from`.
    let e = next_event(&mut w).await;
    assert_eq!((e.kind, &e.kv), (EventType::Added, &bb));
    assert_eq!(e.prev, None);
    assert_eq!(e.revision, bb.mod_revision);
    let e = next_event(&mut w).await;
    assert_eq!((e.kind, &e.kv), (EventType::Modified, &a2));
    assert_eq!(e.prev.as_ref(), Some(&a));

    // Live (written from another task), in order, contiguous with the replay.
    let s = Arc::new(s);
    let (d, c) = {
        let s = Arc::clone(&s);
        tokio::spawn(async move {
            let d = s.delete("/registry/g/r/ns/b", None).await.unwrap();
            let c = s.create("/registry/g/r/ns/c", b("c1")).await.unwrap();
            (d, c)
        })
        .await
        .unwrap()
    };
    let e = next_event(&mut w).await;
    assert_eq!(e.kind, EventType::Deleted);
    assert_eq!(e.kv, d);
    assert_eq!(e.kv.value, "b1");
    assert_eq!(e.kv.mod_revision, e.revision);
    assert_eq!(e.prev.as_ref(), Some(&bb));
    assert_eq!(e.revision, a2.mod_revision + 1);
    let e = next_event(&mut w).await;
    assert_eq!((e.kind, &e.kv), (EventType::Added, &c));
    assert_eq!(e.revision, d.mod_revision + 1);
    assert_quiet(&mut w).await;

    // Every retained event since revision 1 (from = 1 replays revisions 2..).
    let mut w = s.watch("/", 1).await.unwrap();
    for rev in 2..=s.revision().await.unwrap() {
        assert_eq!(next_event(&mut w).await.revision, rev);
    }
    assert_quiet(&mut w).await;

    // A watch from a future revision skips events up to it.
    let now = s.revision().await.unwrap();
    let mut w = s.watch("/", now + 1).await.unwrap();
    s.create("/registry/g/r/ns/d", b("d")).await.unwrap();
    s.create("/registry/g/r/ns/e", b("e")).await.unwrap();
    let e = next_event(&mut w).await;
    assert_eq!(
        (e.kv.key.as_str(), e.revision),
        ("/registry/g/r/ns/e", now + 2)
    );
}

/// A read larger than a gRPC client's default 4 MiB limit (a big collection listed in one call, a
/// watch replaying it) is answered whole, not refused (tonic calls that `OutOfRange`, which is
/// not a compacted revision).
async fn big_reads_in_one_answer<S: Storage>(mk: Mk<S>) {
    let (s, _g) = mk(opts());
    // Watched from here: a revision, not "now" (0).
    let before = s
        .create("/registry/before", b("x"))
        .await
        .unwrap()
        .mod_revision;
    let value = vec![b'v'; 120 * 1024];
    let n = 48; // 5.6 MiB
    for i in 0..n {
        s.create(
            &format!("/registry/big/{i:03}"),
            bytes::Bytes::from(value.clone()),
        )
        .await
        .unwrap();
    }
    let list = s
        .list("/registry/big/", ListOptions::default())
        .await
        .unwrap();
    assert_eq!(list.items.len(), n);
    assert!(list.items.iter().all(|kv| kv.value.len() == value.len()));
    assert!(!list.remaining);

    let mut w = s.watch("/registry/big/", before).await.unwrap();
    for i in 0..n {
        let e = next_event(&mut w).await;
        assert_eq!(e.kind, EventType::Added);
        assert_eq!(e.kv.key, format!("/registry/big/{i:03}"));
        assert_eq!(e.kv.value.len(), value.len());
    }
}

async fn watch_from_now_and_concurrent_writers<S: Storage>(mk: Mk<S>) {
    let (s, _g) = mk(opts());
    let old = s.create("/registry/x", b("old")).await.unwrap();
    let s = Arc::new(s);
    let mut w = s.watch("/registry/", 0).await.unwrap();
    // Writers race with the watcher; events still arrive in strict revision order, none missing.
    let mut tasks = Vec::new();
    for t in 0..4 {
        let s = Arc::clone(&s);
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                s.create(&format!("/registry/t{t}/{i}"), b("v"))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut last = old.mod_revision;
    for _ in 0..40 {
        let e = next_event(&mut w).await;
        assert_eq!(e.revision, last + 1);
        last = e.revision;
    }
    assert_quiet(&mut w).await;
}

async fn watch_prefix_filter<S: Storage>(mk: Mk<S>) {
    let (s, _g) = mk(opts());
    // Backends start at different revisions (etcd at 1): everything is relative to the start.
    let base = s.revision().await.unwrap();
    let first = s.create("/registry/g/r/ns1/a", b("1")).await.unwrap();
    s.create("/registry/g/r/ns2/a", b("2")).await.unwrap();
    let mut w = s
        .watch("/registry/g/r/ns1/", first.mod_revision)
        .await
        .unwrap();
    let mut all = s.watch("/registry/g/r/", 0).await.unwrap();
    s.create("/registry/g/r/ns1/b", b("3")).await.unwrap();
    s.create("/registry/g/r/ns10/a", b("4")).await.unwrap();
    s.update("/registry/g/r/ns2/a", b("5"), None).await.unwrap();
    s.delete("/registry/g/r/ns1/a", None).await.unwrap();

    // The replay of revision 2 (ns2) is filtered out too.
    let e = next_event(&mut w).await;
    assert_eq!(
        (e.kind, e.kv.key.as_str()),
        (EventType::Added, "/registry/g/r/ns1/b")
    );
    let e = next_event(&mut w).await;
    assert_eq!(
        (e.kind, e.kv.key.as_str()),
        (EventType::Deleted, "/registry/g/r/ns1/a")
    );
    assert_quiet(&mut w).await;

    let revs: Vec<Revision> = [
        next_event(&mut all).await,
        next_event(&mut all).await,
        next_event(&mut all).await,
        next_event(&mut all).await,
    ]
    .iter()
    .map(|e| e.revision - base)
    .collect();
    assert_eq!(revs, vec![3, 4, 5, 6]);
}

async fn expired_when_history_exceeded<S: Storage>(mk: Mk<S>) {
    let (s, _g) = mk(StoreOptions {
        history_capacity: 5,
        ..opts()
    });
    for i in 0..10 {
        s.create(&format!("/registry/k{i}"), b("v")).await.unwrap();
    }
    // History holds revisions 6..=10: from 5 is the oldest complete start.
    assert_eq!(
        s.watch("/", 1).await.err(),
        Some(StorageError::Expired {
            requested: 1,
            oldest: 5
        })
    );
    assert!(matches!(
        s.watch("/", 4).await,
        Err(StorageError::Expired { .. })
    ));
    let mut w = s.watch("/", 5).await.unwrap();
    for rev in 6..=10 {
        assert_eq!(next_event(&mut w).await.revision, rev);
    }

    // Explicit compaction moves the horizon further, keeping the compaction's own revision as
    // etcd does (a watch from the revision before it starts); existing watchers keep working.
    s.compact(9).await.unwrap();
    assert_eq!(
        s.watch("/", 7).await.err(),
        Some(StorageError::Expired {
            requested: 7,
            oldest: 8
        })
    );
    let mut w8 = s.watch("/", 8).await.unwrap();
    s.create("/registry/k10", b("v")).await.unwrap();
    assert_eq!(next_event(&mut w8).await.revision, 9);
    assert_eq!(next_event(&mut w).await.revision, 11);
    // Compacting beyond the current revision clamps; "from now" always works.
    s.compact(1_000).await.unwrap();
    assert!(s.watch("/", 9).await.is_err());
    assert!(s.watch("/", 10).await.is_ok());
    assert!(s.watch("/", 11).await.is_ok());
    assert!(s.watch("/", 0).await.is_ok());
    let e = StorageError::Expired {
        requested: 7,
        oldest: 8,
    };
    assert_eq!(e.to_string(), "too old resource version: 7 (8)");
}

async fn slow_watcher_falls_behind_without_blocking_writers<S: Storage>(mk: Mk<S>) {
    let (s, _g) = mk(StoreOptions {
        watch_buffer: 16,
        ..opts()
    });
    let base = s.revision().await.unwrap();
    let mut slow = s.watch("/", 0).await.unwrap();
    let mut fast = s.watch("/", 0).await.unwrap();
    let run = async {
        for batch in 0..10 {
            for i in 0..8 {
                s.create(&format!("/registry/{batch}/{i}"), b("v"))
                    .await
                    .unwrap();
            }
            for i in 0..8 {
                let e = next_event(&mut fast).await;
                assert_eq!(e.revision, base + batch * 8 + i + 1);
            }
        }
    };
    // Writers never wait on the stuck watcher.
    tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("writers blocked by a slow watcher");

    // The slow watcher gets every event in order: at once where the backend can hold them for
    // it (etcd), or up to where it fell behind — what fit in its buffer, then one `Behind`, then
    // the end — and a new watch from there goes on without a gap or a duplicate (no relist).
    let mut seen = Vec::new();
    // (Each round reads an event or resumes; a resumed watch makes progress.)
    for _ in 0..200 {
        match next_item(&mut slow).await {
            Some(Ok(e)) => seen.push(e.revision),
            Some(Err(StorageError::Behind { delivered })) => {
                assert_eq!(Some(&delivered), seen.last().or(Some(&base)));
                assert_eq!(
                    next_item(&mut slow).await,
                    None,
                    "`Behind` is the last item"
                );
                slow = s.watch("/", delivered).await.unwrap();
            }
            other => panic!("expected an event or `Behind`, got {other:?}"),
        }
        if seen.len() == 80 {
            break;
        }
    }
    assert_eq!(seen, (base + 1..=base + 80).collect::<Vec<_>>());
    s.create("/registry/after", b("v")).await.unwrap();
    assert_eq!(next_event(&mut slow).await.revision, base + 81);
}

/// A burst larger than a watcher's buffer — one task's writes the memory store completes without
/// a yield (as a deletecollection makes them), or many writers' the embedded store commits
/// together — reaches a watcher that reads afterwards whole, in order: the history holds what
/// its buffer could not.
async fn a_burst_past_the_buffer_reaches_a_reading_watcher<S: Storage + 'static>(mk: Mk<S>) {
    let (s, _g) = mk(StoreOptions {
        watch_buffer: 16,
        ..opts()
    });
    let base = s.revision().await.unwrap();
    let mut w = s.watch("/", 0).await.unwrap();
    for i in 0..200 {
        s.create(&format!("/registry/burst/{i}"), b("v"))
            .await
            .unwrap();
    }
    let s = Arc::new(s);
    let mut tasks = Vec::new();
    for t in 0..16 {
        let s = Arc::clone(&s);
        tasks.push(tokio::spawn(async move {
            for i in 0..20 {
                s.create(&format!("/registry/writers/{t}/{i}"), b("v"))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for i in 0..200 {
        s.delete(&format!("/registry/burst/{i}"), None)
            .await
            .unwrap();
    }
    let total = 200 + 16 * 20 + 200;
    let mut seen = Vec::new();
    while seen.len() < total {
        match next_item(&mut w).await {
            Some(Ok(e)) => seen.push(e.revision),
            other => panic!("after {} events: {other:?}", seen.len()),
        }
    }
    assert_eq!(seen, (base + 1..=base + total as u64).collect::<Vec<_>>());
    assert_quiet(&mut w).await;
}

async fn concurrent_increments<S: Storage>(mk: Mk<S>) {
    let (s, _g) = mk(opts());
    let base = s.revision().await.unwrap();
    let key = "/registry/counter";
    s.create(key, b("0")).await.unwrap();
    let s = Arc::new(s);
    let mut tasks = Vec::new();
    // 16 writers of one key, 20 increments each: enough contention for many conflicts.
    for _ in 0..16 {
        let s = Arc::clone(&s);
        tasks.push(tokio::spawn(async move {
            let mut conflicts = 0u32;
            for _ in 0..20 {
                loop {
                    let cur = s.get(key).await.unwrap().unwrap();
                    let n: u64 = std::str::from_utf8(&cur.value).unwrap().parse().unwrap();
                    match s
                        .update(key, b(&(n + 1).to_string()), Some(cur.mod_revision))
                        .await
                    {
                        Ok(_) => break,
                        Err(StorageError::Conflict { .. }) => conflicts += 1,
                        Err(e) => panic!("{e}"),
                    }
                }
            }
            conflicts
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let kv = s.get(key).await.unwrap().unwrap();
    assert_eq!(kv.value, "320");
    assert_eq!(kv.mod_revision, base + 321);
    assert_eq!(s.revision().await.unwrap(), base + 321);
}

async fn paged_lists_hold_their_snapshot<S: Storage>(mk: Mk<S>) {
    let (s, _g) = mk(opts());
    for i in 0..10 {
        s.create(&format!("/registry/p/k{i}"), b(&format!("v{i}")))
            .await
            .unwrap();
    }
    let page = |after: Option<String>, at: Option<Revision>| ListOptions {
        start_after: after,
        limit: Some(4),
        revision: at,
        not_older_than: None,
        skip_count: false,
    };
    let first = s.list("/registry/p/", page(None, None)).await.unwrap();
    let at = first.revision;
    assert_eq!(first.items.len(), 4);
    assert_eq!(first.remaining_count, Some(6));
    // Meanwhile: a delete ahead of the cursor, a create, an update behind and ahead of it.
    s.delete("/registry/p/k6", None).await.unwrap();
    s.create("/registry/p/k5a", b("new")).await.unwrap();
    s.update("/registry/p/k1", b("changed"), None)
        .await
        .unwrap();
    s.update("/registry/p/k8", b("changed"), None)
        .await
        .unwrap();
    // The next pages, at the first page's revision, are the snapshot: k6 still there, k5a not,
    // k8 unchanged.
    let mut seen: Vec<(String, String)> = first
        .items
        .iter()
        .map(|kv| {
            (
                kv.key.clone(),
                String::from_utf8_lossy(&kv.value).into_owned(),
            )
        })
        .collect();
    let mut after = first.items.last().map(|kv| kv.key.clone());
    loop {
        let p = s
            .list("/registry/p/", page(after.clone(), Some(at)))
            .await
            .unwrap();
        assert_eq!(p.revision, at);
        seen.extend(p.items.iter().map(|kv| {
            (
                kv.key.clone(),
                String::from_utf8_lossy(&kv.value).into_owned(),
            )
        }));
        if !p.remaining {
            break;
        }
        after = p.items.last().map(|kv| kv.key.clone());
    }
    let expected: Vec<(String, String)> = (0..10)
        .map(|i| (format!("/registry/p/k{i}"), format!("v{i}")))
        .collect();
    assert_eq!(seen, expected);
    // The whole list at that revision too, and the current one differs.
    let then = s
        .list(
            "/registry/p/",
            ListOptions {
                revision: Some(at),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(then.items.len(), 10);
    let now = s
        .list("/registry/p/", ListOptions::default())
        .await
        .unwrap();
    assert!(now.items.iter().any(|kv| kv.key == "/registry/p/k5a"));
    assert!(!now.items.iter().any(|kv| kv.key == "/registry/p/k6"));
    // A revision the store has not reached, and one compacted away.
    assert!(matches!(
        s.list(
            "/registry/p/",
            ListOptions {
                revision: Some(now.revision + 100),
                ..Default::default()
            }
        )
        .await,
        Err(StorageError::Timeout(_))
    ));
    s.compact(now.revision).await.unwrap();
    assert!(matches!(
        s.list(
            "/registry/p/",
            ListOptions {
                revision: Some(at),
                ..Default::default()
            }
        )
        .await,
        Err(StorageError::Expired { .. })
    ));
}

async fn expired_after_compaction<S: Storage>(mk: Mk<S>) {
    let (s, _g) = mk(opts());
    let base = s.revision().await.unwrap();
    for i in 0..10 {
        s.create(&format!("/registry/c/k{i}"), b("v"))
            .await
            .unwrap();
    }
    s.compact(base + 8).await.unwrap();
    // Watching from before the compaction is 410 (at once or as the stream's one item), naming
    // the oldest start a watch may ask for (kube's `too old resource version: 3 (7)`).
    let expired = match s.watch("/registry/c/", base + 3).await {
        Ok(mut w) => next_item(&mut w).await.and_then(Result::err),
        Err(e) => Some(e),
    };
    match expired {
        Some(StorageError::Expired { oldest, .. }) => assert_eq!(oldest, base + 7),
        other => panic!("a watch from a compacted revision must expire, not {other:?}"),
    }
    // From the revision before the compaction's on (etcd keeps the compaction's revision: a
    // watch from just below it needs nothing compacted), and "from now", watches work.
    let mut w = s.watch("/registry/c/", base + 7).await.unwrap();
    assert_eq!(next_event(&mut w).await.revision, base + 8);
    assert_eq!(next_event(&mut w).await.revision, base + 9);
    let mut w = s.watch("/registry/c/", base + 8).await.unwrap();
    assert_eq!(next_event(&mut w).await.revision, base + 9);
    let mut now = s.watch("/registry/c/", 0).await.unwrap();
    let late = s.create("/registry/c/late", b("v")).await.unwrap();
    assert_eq!(next_event(&mut now).await.revision, late.mod_revision);
}

async fn progress_carries_the_store_revision<S: Storage>(mk: Mk<S>) {
    let (s, _g) = mk(opts());
    let mut quiet = s.watch("/registry/quiet/", 0).await.unwrap();
    let mut busy = s.watch("/registry/busy/", 0).await.unwrap();
    for i in 0..5 {
        s.create(&format!("/registry/busy/k{i}"), b("v"))
            .await
            .unwrap();
    }
    let now = s.revision().await.unwrap();
    // The quiet watcher learns the store's revision without an event of its own...
    progress_reaching(&mut quiet, now).await;
    // ... and a busy one gets it after its events.
    for i in 0..5 {
        assert_eq!(next_event(&mut busy).await.revision, now - 4 + i);
    }
    progress_reaching(&mut busy, now).await;
    // Changes still follow.
    let later = s.create("/registry/quiet/a", b("v")).await.unwrap();
    assert_eq!(next_event(&mut quiet).await.revision, later.mod_revision);
}

/// Random creates, updates and deletes; then every revision listed in pages of random sizes must
/// be exactly the snapshot a straightforward replay recorded at that revision.
async fn lists_at_every_revision_match_a_replay<S: Storage>(mk: Mk<S>) {
    let (s, _g) = mk(opts());
    let prefix = "/registry/replay/";
    let mut seed: u64 = 0x5eed;
    let mut rand = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let mut model = std::collections::BTreeMap::<String, KeyValue>::new();
    let mut snapshots = Vec::new();
    for step in 0..200 {
        let key = format!("{prefix}k{:02}", rand(24));
        let value = b(&format!("v{step}"));
        let written = match (model.contains_key(&key), rand(3)) {
            (false, _) => s.create(&key, value).await.unwrap(),
            (true, 0) => {
                let gone = s.delete(&key, None).await.unwrap();
                model.remove(&key);
                snapshots.push((gone.mod_revision, model.clone()));
                continue;
            }
            (true, _) => s.update(&key, value, None).await.unwrap(),
        };
        model.insert(key, written.clone());
        snapshots.push((written.mod_revision, model.clone()));
        // Writes elsewhere move the revision without touching the prefix.
        if rand(5) == 0 {
            s.create(&format!("/registry/elsewhere/{step}"), b("x"))
                .await
                .unwrap();
        }
    }
    for (revision, snapshot) in &snapshots {
        let limit = 1 + rand(7) as usize;
        let mut got = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = s
                .list(
                    prefix,
                    ListOptions {
                        start_after: after.clone(),
                        limit: Some(limit),
                        revision: Some(*revision),
                        // Half the pages without counting what is left (a backend may still
                        // count, as etcd does for free).
                        not_older_than: None,
                        skip_count: revision % 2 == 0,
                    },
                )
                .await
                .unwrap();
            assert_eq!(page.revision, *revision);
            let left = snapshot.len() - got.len() - page.items.len();
            assert_eq!(page.remaining, left > 0, "at {revision}");
            if revision % 2 == 0 {
                assert!(
                    page.remaining_count.is_none() || page.remaining_count == Some(left as u64),
                    "at {revision}"
                );
            } else {
                assert_eq!(page.remaining_count, Some(left as u64), "at {revision}");
            }
            got.extend(page.items);
            if !page.remaining {
                break;
            }
            after = got.last().map(|kv| kv.key.clone());
        }
        let want: Vec<KeyValue> = snapshot.values().cloned().collect();
        assert_eq!(got, want, "list at revision {revision} (pages of {limit})");
    }
}

/// The embedded store keeps its history on disk: the in-memory history bounds only a cache.
async fn old_revisions_beyond_memory_replay_from_the_log<S: Storage>(mk: Mk<S>) {
    let (s, _g) = mk(StoreOptions {
        history_capacity: 3,
        ..opts()
    });
    for i in 0..10 {
        s.create(&format!("/registry/k{i}"), b("v")).await.unwrap();
    }
    let mut w = s.watch("/registry/", 1).await.unwrap();
    for rev in 2..=10 {
        assert_eq!(next_event(&mut w).await.revision, rev);
    }
    let live = s.create("/registry/k10", b("v")).await.unwrap();
    assert_eq!(next_event(&mut w).await.revision, live.mod_revision);
    assert_quiet(&mut w).await;
    let page = s
        .list(
            "/registry/",
            ListOptions {
                revision: Some(2),
                ..ListOptions::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
}

macro_rules! suite {
    ($backend:ident, $mk:path; $($test:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    super::$test($mk).await
                }
            )*
        }
    };
}

/// What every backend promises.
macro_rules! conformance {
    ($backend:ident, $mk:path $(, $extra:ident)*) => {
        suite!($backend, $mk;
            crud,
            cas_conflict,
            identical_update_is_noop,
            list_paging,
            revisions_monotonic,
            watch_replay_then_live,
            watch_from_now_and_concurrent_writers,
            watch_prefix_filter,
            expired_after_compaction,
            paged_lists_hold_their_snapshot,
            slow_watcher_falls_behind_without_blocking_writers,
            a_burst_past_the_buffer_reaches_a_reading_watcher,
            concurrent_increments,
            progress_carries_the_store_revision,
            lists_at_every_revision_match_a_replay,
            big_reads_in_one_answer
            $(, $extra)*
        );
    };
}

// The memory store bounds its watch history by count; the embedded one keeps it on disk (and
// etcd in its MVCC store) until compacted.
conformance!(memory, crate::common::memory, expired_when_history_exceeded);
conformance!(
    embedded,
    crate::common::embedded,
    old_revisions_beyond_memory_replay_from_the_log
);
conformance!(
    any_memory,
    crate::common::any_memory,
    expired_when_history_exceeded
);
conformance!(
    any_embedded,
    crate::common::any_embedded,
    old_revisions_beyond_memory_replay_from_the_log
);
conformance!(etcd, crate::common::etcd);
conformance!(cached_memory, crate::common::cached_memory);
conformance!(cached_etcd, crate::common::cached_etcd);
conformance!(any_cached_etcd, crate::common::any_cached_etcd);
conformance!(any_etcd, crate::common::any_etcd);
