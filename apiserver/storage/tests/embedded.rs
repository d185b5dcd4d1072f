//! EmbeddedStore only: restart and crash safety.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use apiserver_storage::{
    Bytes, EmbeddedStore, EventType, ListOptions, Storage, StorageError, StoreOptions,
};
use common::{b, next_event};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopen_keeps_data_and_revision_continues() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let (a, old_rev) = {
        let s = EmbeddedStore::open(&path).unwrap();
        let a = s.create("/registry/g/r/ns/a", b("a1")).await.unwrap();
        s.create("/registry/g/r/ns/b", b("b1")).await.unwrap();
        s.update("/registry/g/r/ns/b", b("b2"), None).await.unwrap();
        s.create("/registry/g/r/ns/c", b("c1")).await.unwrap();
        s.delete("/registry/g/r/ns/c", None).await.unwrap();
        (a, s.revision().await.unwrap())
    };
    assert_eq!(old_rev, 5);

    let s = EmbeddedStore::open(&path).unwrap();
    assert_eq!(s.revision().await.unwrap(), old_rev);
    assert_eq!(s.get("/registry/g/r/ns/a").await.unwrap(), Some(a.clone()));
    let list = s.list("/registry/", ListOptions::default()).await.unwrap();
    assert_eq!(list.revision, old_rev);
    let got: Vec<(&str, &[u8])> = list
        .items
        .iter()
        .map(|kv| (kv.key.as_str(), &kv.value[..]))
        .collect();
    assert_eq!(
        got,
        vec![
            ("/registry/g/r/ns/a", &b"a1"[..]),
            ("/registry/g/r/ns/b", &b"b2"[..])
        ]
    );
    assert_eq!(list.items[1].create_revision, 2);
    assert_eq!(list.items[1].mod_revision, 3);

    // The history survived the restart: a watch from before it replays from the log.
    let mut replay = s.watch("/registry/g/r/ns/", 2).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let e = next_event(&mut replay).await;
        seen.push((e.kind, e.revision, e.kv.key.clone()));
    }
    assert_eq!(
        seen,
        vec![
            (EventType::Modified, 3, "/registry/g/r/ns/b".to_string()),
            (EventType::Added, 4, "/registry/g/r/ns/c".to_string()),
            (EventType::Deleted, 5, "/registry/g/r/ns/c".to_string()),
        ]
    );
    let mut w = s.watch("/", old_rev).await.unwrap();

    // Revisions continue above the old ones, CAS against pre-restart revisions works.
    let a2 = s
        .update("/registry/g/r/ns/a", b("a2"), Some(a.mod_revision))
        .await
        .unwrap();
    assert_eq!(a2.mod_revision, old_rev + 1);
    assert_eq!(a2.create_revision, a.create_revision);
    let c = s.create("/registry/g/r/ns/c", b("c2")).await.unwrap();
    assert_eq!(c.create_revision, old_rev + 2);
    let e = next_event(&mut w).await;
    assert_eq!((e.kind, e.revision), (EventType::Modified, old_rev + 1));
    assert_eq!(e.prev, Some(a));
    assert_eq!(next_event(&mut w).await.revision, old_rev + 2);
    // The replaying watch went on live, without a gap or a repeat.
    assert_eq!(next_event(&mut replay).await.revision, old_rev + 1);
    assert_eq!(next_event(&mut replay).await.revision, old_rev + 2);
    drop(replay);

    // Reopen once more with integrity verification off: same data.
    drop(w);
    drop(s);
    let s = EmbeddedStore::open_with_options(
        &path,
        StoreOptions {
            verify_on_open: false,
            ..StoreOptions::default()
        },
    )
    .unwrap();
    assert_eq!(s.revision().await.unwrap(), old_rev + 2);
    assert_eq!(s.get("/registry/g/r/ns/c").await.unwrap(), Some(c));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_and_watches_at_old_revisions_survive_restarts_until_compacted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let prefix = "/registry/g/r/";
    {
        let s = EmbeddedStore::open(&path).unwrap();
        s.create("/registry/g/r/a", b("a1")).await.unwrap(); // 1
        s.create("/registry/g/r/b", b("b1")).await.unwrap(); // 2
        s.update("/registry/g/r/a", b("a2"), None).await.unwrap(); // 3
        s.delete("/registry/g/r/b", None).await.unwrap(); // 4
        s.create("/registry/other/x", b("x")).await.unwrap(); // 5
    }
    let s = EmbeddedStore::open(&path).unwrap();
    let at = |revision| ListOptions {
        revision: Some(revision),
        ..ListOptions::default()
    };
    let values = |r: apiserver_storage::ListResult| -> Vec<(String, String, u64)> {
        r.items
            .into_iter()
            .map(|kv| {
                let v = String::from_utf8(kv.value.to_vec()).unwrap();
                (kv.key, v, kv.mod_revision)
            })
            .collect()
    };
    let two = values(s.list(prefix, at(2)).await.unwrap());
    assert_eq!(
        two,
        vec![
            ("/registry/g/r/a".into(), "a1".into(), 1),
            ("/registry/g/r/b".into(), "b1".into(), 2)
        ]
    );
    let three = values(s.list(prefix, at(3)).await.unwrap());
    assert_eq!(three[0], ("/registry/g/r/a".into(), "a2".into(), 3));
    assert_eq!(three.len(), 2);
    assert_eq!(values(s.list(prefix, at(4)).await.unwrap()).len(), 1);
    // Paging at a pinned revision across the restart.
    let page = s
        .list(
            prefix,
            ListOptions {
                limit: Some(1),
                start_after: Some("/registry/g/r/a".into()),
                revision: Some(2),
                not_older_than: None,
                skip_count: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(values(page)[0].0, "/registry/g/r/b");

    s.compact(3).await.unwrap();
    assert_eq!(
        s.list(prefix, at(2)).await.err(),
        Some(StorageError::Expired {
            requested: 2,
            oldest: 3
        })
    );
    // As etcd's, the compaction keeps its own revision: a watch from the one before it starts
    // (its first event is 3), an older one is expired.
    assert!(matches!(
        s.watch(prefix, 1).await,
        Err(StorageError::Expired { .. })
    ));
    let mut w = s.watch(prefix, 2).await.unwrap();
    assert_eq!(next_event(&mut w).await.revision, 3);
    assert_eq!(values(s.list(prefix, at(3)).await.unwrap()).len(), 2);
    drop(s);

    // The compaction is durable too.
    let s = EmbeddedStore::open(&path).unwrap();
    assert!(matches!(
        s.watch(prefix, 1).await,
        Err(StorageError::Expired { .. })
    ));
    assert_eq!(
        s.list(prefix, at(2)).await.err(),
        Some(StorageError::Expired {
            requested: 2,
            oldest: 3
        })
    );
    let mut w = s.watch(prefix, 2).await.unwrap();
    assert_eq!(next_event(&mut w).await.revision, 3);
    let mut w = s.watch(prefix, 3).await.unwrap();
    let e = next_event(&mut w).await;
    assert_eq!((e.kind, e.revision), (EventType::Deleted, 4));
    assert_eq!(e.prev.unwrap().value, "b1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_without_history_is_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    {
        // The format-1 layout, as earlier releases wrote it: no log table.
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let kv: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("kv");
            let meta: redb::TableDefinition<&str, u64> = redb::TableDefinition::new("meta");
            let mut record = vec![1u8];
            record.extend_from_slice(&3u64.to_be_bytes());
            record.extend_from_slice(&7u64.to_be_bytes());
            record.extend_from_slice(b"old");
            txn.open_table(kv)
                .unwrap()
                .insert("/registry/g/r/a", record.as_slice())
                .unwrap();
            let mut meta = txn.open_table(meta).unwrap();
            meta.insert("format", 1).unwrap();
            meta.insert("revision", 7).unwrap();
        }
        txn.commit().unwrap();
    }
    let s = EmbeddedStore::open(&path).unwrap();
    assert_eq!(s.revision().await.unwrap(), 7);
    assert_eq!(
        s.get("/registry/g/r/a").await.unwrap().unwrap().value,
        "old"
    );
    // Its history starts at its revision.
    assert!(matches!(
        s.watch("/", 6).await,
        Err(StorageError::Expired { oldest: 7, .. })
    ));
    s.update("/registry/g/r/a", b("new"), Some(7))
        .await
        .unwrap();
    drop(s);
    let s = EmbeddedStore::open(&path).unwrap();
    // A read at that revision (a paged list's next page) is served from the log.
    let at_upgrade = s
        .list(
            "/registry/g/r/",
            ListOptions {
                revision: Some(7),
                ..ListOptions::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(at_upgrade.items[0].value, "old");
    let mut w = s.watch("/", 7).await.unwrap();
    let e = next_event(&mut w).await;
    assert_eq!((e.kind, e.revision), (EventType::Modified, 8));
    assert_eq!(e.prev.unwrap().value, "old");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_compaction_by_age() {
    let dir = tempfile::tempdir().unwrap();
    let s = EmbeddedStore::open(dir.path().join("store.redb")).unwrap();
    for i in 0..3 {
        s.create(&format!("/registry/k{i}"), b("v")).await.unwrap();
    }
    let errors = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = errors.clone();
    let compactor = tokio::spawn(apiserver_storage::compact_periodically(
        s.clone(),
        std::time::Duration::from_millis(50),
        move |e| seen.lock().unwrap().push(e),
    ));
    // The first tick records revision 3; a later one compacts at it (keeping 3, as etcd).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while s.watch("/", 1).await.is_ok() {
        assert!(std::time::Instant::now() < deadline, "never compacted");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Never past a revision older than one interval: the current one stays watchable.
    let now = s.create("/registry/k3", b("v")).await.unwrap().mod_revision;
    assert!(s.watch("/", now).await.is_ok());
    compactor.abort();
    assert!(errors.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_share_durable_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let s = EmbeddedStore::open(dir.path().join("store.redb")).unwrap();
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                let key = format!("/registry/g/r/k{i:03}");
                s.create(&key, b("v")).await.unwrap();
                s.update(&key, b("w"), None).await.unwrap();
                // A refusal inside a group fails only itself.
                assert!(matches!(
                    s.create(&key, b("again")).await,
                    Err(StorageError::AlreadyExists { .. })
                ));
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let stats = s.group_commits();
    assert_eq!(stats.writes, 400);
    assert!(
        stats.commits < stats.writes,
        "no write shared a commit: {stats:?}"
    );
    // Every revision once, in order, each answered write durable and listed.
    assert_eq!(s.revision().await.unwrap(), 400);
    let all = s
        .list("/registry/g/r/", ListOptions::default())
        .await
        .unwrap();
    assert_eq!(all.items.len(), 200);
    assert!(all.items.iter().all(|kv| kv.value == "w"));
    let mut w = s.watch("/registry/", 0).await.unwrap();
    drop(s);
    // The store closes when its last clone is dropped: the file can be opened again at once.
    drop(w.try_recv());
    let s = EmbeddedStore::open(dir.path().join("store.redb")).unwrap();
    assert_eq!(s.revision().await.unwrap(), 400);
}

const CHILD_DB: &str = "APISERVER_STORAGE_CRASH_CHILD_DB";
const CHILD_ROUND: &str = "APISERVER_STORAGE_CRASH_CHILD_ROUND";

/// Clients writing at once in the child of `kill9_keeps_every_acknowledged_write`.
const CRASH_WRITERS: u64 = 16;

/// Not a test on its own: the child process of `kill9_keeps_every_acknowledged_write`, selected
/// by an environment variable; without it this returns at once. [`CRASH_WRITERS`] clients create
/// forever while one more increments a counter, printing each answered write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_child() {
    let Ok(path) = std::env::var(CHILD_DB) else {
        return;
    };
    let round: u32 = std::env::var(CHILD_ROUND).unwrap().parse().unwrap();
    // The first round's log is small: it fills and starts over every few groups (and the second
    // round's open extends it, keeping its records).
    let write_ahead_log_bytes = match round {
        0 => 64 << 10,
        _ => StoreOptions::default().write_ahead_log_bytes,
    };
    let s = EmbeddedStore::open_with_options(
        &path,
        StoreOptions {
            write_ahead_log_bytes,
            ..StoreOptions::default()
        },
    )
    .unwrap();
    for w in 0..CRASH_WRITERS {
        let s = s.clone();
        tokio::spawn(async move {
            for i in (w..).step_by(CRASH_WRITERS as usize) {
                let key = format!("/registry/crash/r{round}/{i:08}");
                // Values of varying size so that pages split and the file grows while being
                // killed.
                let value = Bytes::from(vec![b'a' + (i % 26) as u8; 64 + (i as usize * 37) % 3000]);
                s.create(&key, value).await.unwrap();
                println!("CREATED {key}");
            }
        });
    }
    let counter = "/registry/crash/counter";
    loop {
        let next = match s.get(counter).await.unwrap() {
            None => {
                s.create(counter, b("1")).await.unwrap();
                1
            }
            Some(kv) => {
                let n: u64 = std::str::from_utf8(&kv.value).unwrap().parse().unwrap();
                s.update(counter, b(&(n + 1).to_string()), Some(kv.mod_revision))
                    .await
                    .unwrap();
                n + 1
            }
        };
        println!("COUNTER {next}");
    }
}

#[test]
fn kill9_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.redb");
    let exe = std::env::current_exe().unwrap();
    let mut reported: Vec<BTreeSet<String>> = Vec::new();
    let mut last_counter = 0u64;

    for round in 0..3u32 {
        let mut child = Command::new(&exe)
            .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_DB, &path)
            .env(CHILD_ROUND, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        // Killed after the small log started over many times, early in a generation, and later.
        let kill_after = [2_000, 40, 6_000][round as usize];
        let mut created = BTreeSet::new();
        let mut killed = false;
        // Keep reading after the kill: every line the child managed to print was answered.
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(key) = line.strip_prefix("CREATED ") {
                created.insert(key.to_owned());
            } else if let Some(n) = line.strip_prefix("COUNTER ") {
                last_counter = n.parse().unwrap();
            }
            if !killed && created.len() >= kill_after {
                child.kill().unwrap(); // SIGKILL
                killed = true;
            }
        }
        let status = child.wait().unwrap();
        assert!(killed, "child exited early: {status}");
        assert!(!status.success());
        assert!(created.len() >= kill_after);
        reported.push(created);
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let s = EmbeddedStore::open(&path).expect("store opens cleanly after SIGKILL");
        let mut prev_max = 0;
        for (round, keys) in reported.iter().enumerate() {
            let list = s
                .list(
                    &format!("/registry/crash/r{round}/"),
                    ListOptions::default(),
                )
                .await
                .unwrap();
            let stored: BTreeSet<String> = list.items.iter().map(|kv| kv.key.clone()).collect();
            let missing: Vec<&String> = keys.difference(&stored).collect();
            assert!(missing.is_empty(), "round {round} lost {missing:?}");
            // At most the writes in flight at the kill are there without having been reported.
            assert!(stored.len() as u64 <= keys.len() as u64 + CRASH_WRITERS);
            // Revisions kept growing across the crashes.
            let min = list
                .items
                .iter()
                .map(|kv| kv.create_revision)
                .min()
                .unwrap();
            let max = list
                .items
                .iter()
                .map(|kv| kv.create_revision)
                .max()
                .unwrap();
            assert!(min > prev_max, "round {round}: {min} <= {prev_max}");
            prev_max = max;
            for kv in &list.items {
                assert!(kv.value.iter().all(|&c| c == kv.value[0]), "{}", kv.key);
            }
        }
        let counter = s.get("/registry/crash/counter").await.unwrap().unwrap();
        let n: u64 = std::str::from_utf8(&counter.value)
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            n >= last_counter && n <= last_counter + 1,
            "{n} vs {last_counter}"
        );
        assert!(s.revision().await.unwrap() >= prev_max);
        // And it is writable.
        let kv = s.create("/registry/crash/after", b("ok")).await.unwrap();
        assert!(kv.mod_revision > prev_max);
    });
}

/// A file damaged at rest (bytes flipped anywhere past the first page) opens with an error or
/// opens and answers — never a panic (redb asserts on some damage in debug builds).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_file_is_an_error_or_data_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.redb");
    {
        let s = EmbeddedStore::open(&good).unwrap();
        for i in 0..30 {
            s.create(&format!("/registry/g/r/ns/a{i}"), b(&"x".repeat(3000)))
                .await
                .unwrap();
        }
    }
    let bytes = std::fs::read(&good).unwrap();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut refused, mut opened) = (0, 0);
    for round in 0..24 {
        let mut damaged = bytes.clone();
        for _ in 0..20 {
            let at = 4096 + (next() as usize) % (damaged.len() - 4096);
            damaged[at] ^= 0xff;
        }
        let path = dir.path().join(format!("damaged-{round}.redb"));
        std::fs::write(&path, &damaged).unwrap();
        match EmbeddedStore::open(&path) {
            Err(e) => {
                refused += 1;
                assert!(!e.to_string().is_empty());
            }
            Ok(s) => {
                opened += 1;
                // Reads answer or fail; they do not take the process down, and a page redb
                // finds damaged (it asserts on some) is named as such, not as a failed task.
                let listed = s.list("/registry/", ListOptions::default()).await.err();
                let got = s.get("/registry/g/r/ns/a1").await.err();
                for e in listed.into_iter().chain(got) {
                    eprintln!("round {round}: {e}");
                    assert!(!e.to_string().contains("panicked"), "{e}");
                }
            }
        }
    }
    assert_eq!(refused + opened, 24);
    // The damage is real: some files are refused at open (with these seeds, most).
    assert!(refused > 0, "{opened} damaged files opened, none refused");
}

/// A file truncated to nothing is no database: refused with a message, never opened as a new,
/// empty store (which would lose every object without a word). A missing file is a new store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_file_is_refused_not_taken_for_a_new_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pager.db");
    std::fs::write(&path, b"").unwrap();
    let err = EmbeddedStore::open(&path).err().expect("refused");
    assert!(matches!(err, StorageError::Corrupt(_)), "{err}");
    assert!(
        err.to_string().contains("is empty, not a database"),
        "{err}"
    );
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "left as it was");
    let fresh = dir.path().join("fresh.db");
    EmbeddedStore::open(&fresh).expect("a new store");
}

/// The data file moved away under a running store — another database moved over it, or the
/// file removed — is noticed: writes are refused (they would land where the next start does not
/// look, or the store would reopen the other database and serve its objects as if they were
/// its own), reads go on from the open file, and the store's check fails, so the readiness
/// probe says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_file_replaced_or_removed_under_the_store_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.redb");
    {
        let s = EmbeddedStore::open(&other).unwrap();
        for i in 0..5 {
            s.create(&format!("/registry/g/r/ns/other{i}"), b("o"))
                .await
                .unwrap();
        }
    }
    for replaced in [true, false] {
        let path = dir.path().join(format!("store-{replaced}.redb"));
        let s = EmbeddedStore::open(&path).unwrap();
        s.create("/registry/g/r/ns/mine", b("m")).await.unwrap();
        s.check().await.unwrap();
        if replaced {
            let copy = dir.path().join("copy.redb");
            std::fs::copy(&other, &copy).unwrap();
            std::fs::rename(&copy, &path).unwrap();
        } else {
            std::fs::remove_file(&path).unwrap();
        }
        let why = if replaced {
            "was replaced"
        } else {
            "was removed"
        };
        for attempt in 0..2 {
            let refused = s
                .create(&format!("/registry/g/r/ns/late{attempt}"), b("l"))
                .await;
            match refused {
                Err(StorageError::Unavailable(m)) => assert!(m.contains(why), "{m}"),
                other => panic!("a write to a {why} file: {other:?}"),
            }
        }
        let checked = s.check().await;
        assert!(
            matches!(&checked, Err(StorageError::Unavailable(m)) if m.contains(why)),
            "{checked:?}"
        );
        // Reads are the open file's: this store's objects, never the other database's.
        let keys: Vec<String> = s
            .list("/registry/", ListOptions::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|kv| kv.key)
            .collect();
        assert_eq!(keys, ["/registry/g/r/ns/mine"]);
    }
}
