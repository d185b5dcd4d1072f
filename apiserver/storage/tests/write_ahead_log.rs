//! EmbeddedStore's write-ahead log: what a crash leaves (the data file and its log copied while
//! the store is open — what `kill -9` leaves, since nothing more is written for an idle store)
//! opens with every acknowledged write, exactly as the store without a log keeps it.

mod common;

use std::path::{Path, PathBuf};

use apiserver_storage::{
    Bytes, EmbeddedStore, Event, KeyValue, ListOptions, Revision, Storage, StoreOptions,
};
use common::next_event;

fn options(write_ahead_log_bytes: u64) -> StoreOptions {
    StoreOptions {
        write_ahead_log_bytes,
        ..StoreOptions::default()
    }
}

fn wal_of(data: &Path) -> PathBuf {
    let mut name = data.as_os_str().to_owned();
    name.push("-wal");
    name.into()
}

/// The files a crash of the (idle) store at `data` would leave, copied into `into`; returns the
/// copy's data file. `with_log: false` copies the data file alone.
fn crash_copy(data: &Path, into: &Path, with_log: bool) -> PathBuf {
    let copy = into.join("store.redb");
    std::fs::copy(data, &copy).unwrap();
    if with_log {
        std::fs::copy(wal_of(data), wal_of(&copy)).unwrap();
    }
    copy
}

/// The data file a crash left, without its log: refused, naming the missing log and the way to
/// start without it; started that way (an empty log created), the store it opens.
fn open_data_file_alone(data: &Path) -> EmbeddedStore {
    let refused = EmbeddedStore::open_with_options(data, options(0))
        .err()
        .unwrap();
    let message = refused.to_string();
    assert!(
        message.contains("was not closed cleanly and its write-ahead log")
            && message.contains("is missing")
            && message.contains("create an empty one"),
        "{message}"
    );
    std::fs::File::create(wal_of(data)).unwrap();
    EmbeddedStore::open_with_options(data, options(0)).unwrap()
}

/// What a store given `writes` mixed writes serves, and the directory holding what its crash
/// leaves (the data file and its log, copied while it is open), with the copy's data file.
async fn crashed_store(
    writes: usize,
) -> (
    (Revision, Vec<Vec<KeyValue>>, Vec<Event>),
    tempfile::TempDir,
    PathBuf,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let s = EmbeddedStore::open(&path).unwrap();
    mixed_writes(&s, writes).await;
    let expected = everything(&s).await;
    let crashed = tempfile::tempdir().unwrap();
    let copy = crash_copy(&path, crashed.path(), true);
    (expected, crashed, copy)
}

/// A value of `len` bytes that says which write made it.
fn value(i: usize, len: usize) -> Bytes {
    let mut v = format!("{i}:").into_bytes();
    v.resize(len, b'a' + (i % 26) as u8);
    Bytes::from(v)
}

/// Creates, updates and deletes, one at a time (so that two stores given them agree on every
/// revision).
async fn mixed_writes(s: &EmbeddedStore, n: usize) {
    for i in 0..n {
        let key = format!("/registry/g/r/ns/k{i:05}");
        s.create(&key, value(i, 20 + (i * 131) % 2500))
            .await
            .unwrap();
        if i % 3 == 2 {
            let prev = format!("/registry/g/r/ns/k{:05}", i - 1);
            let kv = s.get(&prev).await.unwrap().unwrap();
            s.update(&prev, value(i, 40), Some(kv.mod_revision))
                .await
                .unwrap();
        }
        if i % 5 == 4 {
            s.delete(&format!("/registry/g/r/ns/k{:05}", i - 2), None)
                .await
                .unwrap();
        }
    }
}

/// Everything a store serves about its past and present: its revision, the list at every
/// revision, and every event from the first on.
async fn everything(s: &EmbeddedStore) -> (Revision, Vec<Vec<KeyValue>>, Vec<Event>) {
    let revision = s.revision().await.unwrap();
    let mut lists = Vec::new();
    for at in 1..=revision {
        let list = s
            .list(
                "/registry/",
                ListOptions {
                    revision: Some(at),
                    ..ListOptions::default()
                },
            )
            .await
            .unwrap();
        lists.push(list.items);
    }
    let mut events = Vec::new();
    let mut watch = s.watch("/registry/", 1).await.unwrap();
    while events.len() + 1 < revision as usize {
        let mut event = next_event(&mut watch).await;
        event.memo = Default::default();
        events.push(event);
    }
    (revision, lists, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_keeps_every_logged_write_as_the_store_without_a_log_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let logged =
        EmbeddedStore::open_with_options(dir.path().join("logged.redb"), options(16 << 20))
            .unwrap();
    let plain =
        EmbeddedStore::open_with_options(dir.path().join("plain.redb"), options(0)).unwrap();
    mixed_writes(&logged, 300).await;
    mixed_writes(&plain, 300).await;
    assert!(!wal_of(&dir.path().join("plain.redb")).exists());

    let crashed = tempfile::tempdir().unwrap();
    let copy = crash_copy(&dir.path().join("logged.redb"), crashed.path(), true);
    let data_only = tempfile::tempdir().unwrap();
    let data_only = crash_copy(&dir.path().join("logged.redb"), data_only.path(), false);

    // The data file alone lacks the writes: only the log has them.
    let revision = logged.revision().await.unwrap();
    let behind = open_data_file_alone(&data_only);
    assert!(
        behind.revision().await.unwrap() < revision,
        "the data file alone holds every write: the log was not needed"
    );

    let recovered = EmbeddedStore::open(&copy).unwrap();
    let expected = everything(&plain).await;
    assert_eq!(expected.0, revision);
    assert!(everything(&recovered).await == expected);
    assert!(everything(&logged).await == expected);

    // And the recovered store writes on, after the revisions it recovered.
    let kv = recovered
        .create("/registry/g/r/ns/after", Bytes::from_static(b"after"))
        .await
        .unwrap();
    assert_eq!(kv.mod_revision, revision + 1);
}

/// `writes` creates by `clients` at once, crossing checkpoints: a small log fills every few
/// groups, and a large one ends its generation after 1,024 groups. `logged_last`: the last
/// writes are known to be in the log only.
async fn writes_through_checkpoints(
    log_bytes: u64,
    clients: usize,
    writes: usize,
    logged_last: bool,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let s = EmbeddedStore::open_with_options(&path, options(log_bytes)).unwrap();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut made = Vec::new();
            for i in (c..writes).step_by(clients) {
                let key = format!("/registry/g/r/ns/k{i:05}");
                made.push(
                    s.create(&key, value(i, 30 + (i * 97) % 3000))
                        .await
                        .unwrap(),
                );
            }
            made
        }));
    }
    let mut made = Vec::new();
    for task in tasks {
        made.extend(task.await.unwrap());
    }
    made.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(std::fs::metadata(wal_of(&path)).unwrap().len(), log_bytes);

    let crashed = tempfile::tempdir().unwrap();
    let copy = crash_copy(&path, crashed.path(), true);
    if logged_last {
        let data_only = tempfile::tempdir().unwrap();
        let data_only = crash_copy(&path, data_only.path(), false);
        let behind = open_data_file_alone(&data_only);
        assert!(behind.revision().await.unwrap() < writes as Revision);
    }
    let recovered = EmbeddedStore::open_with_options(copy, options(log_bytes)).unwrap();
    let list = recovered
        .list("/registry/", ListOptions::default())
        .await
        .unwrap();
    assert_eq!(list.items, made);
    assert_eq!(list.revision, writes as Revision);
    // The log was not extended: it starts over instead.
    assert_eq!(
        std::fs::metadata(wal_of(&crashed.path().join("store.redb")))
            .unwrap()
            .len(),
        log_bytes
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_log_starts_over_when_full_and_loses_nothing() {
    writes_through_checkpoints(64 << 10, 16, 1_500, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_generation_ends_after_its_record_count_and_loses_nothing() {
    // One client: a group per write; the last 450 after the second checkpoint.
    writes_through_checkpoints(16 << 20, 1, 2_500, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_larger_than_the_log_commits_to_the_data_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let s = EmbeddedStore::open_with_options(&path, options(4096)).unwrap();
    let big = s
        .create("/registry/g/r/ns/big", value(1, 100_000))
        .await
        .unwrap();
    let small = s
        .create("/registry/g/r/ns/small", value(2, 10))
        .await
        .unwrap();
    let crashed = tempfile::tempdir().unwrap();
    let recovered = EmbeddedStore::open(crash_copy(&path, crashed.path(), true)).unwrap();
    let list = recovered
        .list("/registry/", ListOptions::default())
        .await
        .unwrap();
    assert_eq!(list.items, vec![big, small]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_beside_another_data_file_is_not_applied() {
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("ours.redb");
    let theirs = dir.path().join("theirs.redb");
    let s = EmbeddedStore::open(&ours).unwrap();
    let other = EmbeddedStore::open(&theirs).unwrap();
    s.create("/registry/g/r/ns/ours", value(1, 10))
        .await
        .unwrap();
    other
        .create("/registry/g/r/ns/theirs", value(2, 10))
        .await
        .unwrap();
    // Their data file, with our log beside it.
    let crashed = tempfile::tempdir().unwrap();
    let copy = crash_copy(&theirs, crashed.path(), false);
    std::fs::copy(wal_of(&ours), wal_of(&copy)).unwrap();
    // Its writes go past their file's revision, in a generation that file does not know: as
    // a data file older than its own log (rolled back, or restored from an older copy) would
    // look, which is refused rather than started without them.
    let refused = EmbeddedStore::open(&copy).err().unwrap().to_string();
    assert!(
        refused.contains("of a generation the data file does not know")
            && refused.contains("truncate -s 0"),
        "{refused}"
    );
    // Emptied, as the error says: the data file alone, none of our writes.
    std::fs::File::create(wal_of(&copy)).unwrap();
    let opened = EmbeddedStore::open(&copy).unwrap();
    let list = opened
        .list("/registry/", ListOptions::default())
        .await
        .unwrap();
    assert!(
        list.items
            .iter()
            .all(|kv| kv.key != "/registry/g/r/ns/ours"),
        "{:?}",
        list.items
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_opened_without_a_log_applies_the_one_left_and_removes_it() {
    let (expected, _crashed, copy) = crashed_store(40).await;
    let reopened = EmbeddedStore::open_with_options(&copy, options(0)).unwrap();
    assert!(everything(&reopened).await == expected);
    assert!(!wal_of(&copy).exists());
    // Writes go on without one, and survive a clean restart.
    reopened
        .create("/registry/g/r/ns/after", value(1, 10))
        .await
        .unwrap();
    drop(reopened);
    let again = EmbeddedStore::open_with_options(&copy, options(0)).unwrap();
    assert_eq!(again.revision().await.unwrap(), expected.0 + 1);
    // It keeps no log now: a crash of it opens from the data file alone.
    again
        .create("/registry/g/r/ns/later", value(2, 10))
        .await
        .unwrap();
    let crashed_again = tempfile::tempdir().unwrap();
    let copy_again = crash_copy(&copy, crashed_again.path(), false);
    let last = EmbeddedStore::open_with_options(&copy_again, options(0)).unwrap();
    assert_eq!(last.revision().await.unwrap(), expected.0 + 2);
}

/// A log damaged anywhere (bytes flipped, or cut short) opens with a prefix of its writes — a
/// damaged record ends the log — or is refused with an error; never a panic, never a later
/// write without an earlier one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_log_gives_a_prefix_of_its_writes_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let s = EmbeddedStore::open(&path).unwrap();
    let writes = 60;
    for i in 0..writes {
        s.create(&format!("/registry/g/r/ns/k{i:05}"), value(i, 100 + i * 7))
            .await
            .unwrap();
    }
    let pristine = tempfile::tempdir().unwrap();
    let data = crash_copy(&path, pristine.path(), true);
    let log = std::fs::read(wal_of(&data)).unwrap();
    // The used part of the log: up to the last non-zero byte.
    let used = log.iter().rposition(|&b| b != 0).unwrap() + 1;
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed as usize
    };
    let mut shortened = 0;
    for round in 0..40 {
        let mut damaged = log.clone();
        if round % 2 == 0 {
            for _ in 0..1 + round % 5 {
                let at = 8 + next() % (used - 8);
                damaged[at] ^= 1 << (next() % 8);
            }
        } else {
            let at = 8 + next() % (used - 8);
            damaged[at..].fill(0);
        }
        let copy = tempfile::tempdir().unwrap();
        let copy = copy.path().join("store.redb");
        std::fs::copy(&data, &copy).unwrap();
        std::fs::write(wal_of(&copy), &damaged).unwrap();
        let opened = match EmbeddedStore::open(&copy) {
            Ok(opened) => opened,
            Err(e) => {
                assert!(!e.to_string().is_empty());
                continue;
            }
        };
        let list = opened
            .list("/registry/", ListOptions::default())
            .await
            .unwrap();
        let keys: Vec<String> = list.items.iter().map(|kv| kv.key.clone()).collect();
        let prefix: Vec<String> = (0..keys.len())
            .map(|i| format!("/registry/g/r/ns/k{i:05}"))
            .collect();
        assert_eq!(keys, prefix, "round {round}");
        for (i, kv) in list.items.iter().enumerate() {
            assert_eq!(kv.value, value(i, 100 + i * 7), "round {round}: {}", kv.key);
        }
        assert_eq!(list.revision, keys.len() as Revision);
        if keys.len() < writes {
            shortened += 1;
        }
    }
    // The damage is real: most logs lose their tail.
    assert!(
        shortened > 20,
        "only {shortened} of 40 damaged logs lost writes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cleanly_closed_data_file_is_whole_without_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let s = EmbeddedStore::open(&path).unwrap();
    mixed_writes(&s, 50).await;
    let expected = everything(&s).await;
    drop(s);
    let alone = tempfile::tempdir().unwrap();
    let copy = crash_copy(&path, alone.path(), false);
    let reopened = EmbeddedStore::open(&copy).unwrap();
    assert!(everything(&reopened).await == expected);
}

/// A data file opened through a symbolic link uses the log named after the file itself: a
/// crash's writes are found whichever name the store is opened by.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_opened_through_a_link_uses_the_files_own_log() {
    let (expected, crashed, copy) = crashed_store(40).await;
    let link = crashed.path().join("link.redb");
    std::os::unix::fs::symlink(&copy, &link).unwrap();
    let reopened = EmbeddedStore::open(&link).unwrap();
    assert!(everything(&reopened).await == expected);
    assert!(!wal_of(&link).exists());
}

/// The log removed, replaced or cut short under an open store: its writes would be lost at the
/// next crash, so they are refused (503, as for the data file) and the store's check fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_changed_under_the_store_refuses_writes() {
    for change in ["remove", "replace", "truncate"] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let s = EmbeddedStore::open(&path).unwrap();
        s.create("/registry/g/r/ns/before", value(1, 10))
            .await
            .unwrap();
        let wal = wal_of(&path);
        match change {
            "remove" => std::fs::remove_file(&wal).unwrap(),
            "replace" => {
                let other = dir.path().join("other");
                std::fs::copy(&wal, &other).unwrap();
                std::fs::rename(&other, &wal).unwrap();
            }
            _ => std::fs::File::options()
                .write(true)
                .open(&wal)
                .unwrap()
                .set_len(0)
                .unwrap(),
        }
        let refused = s
            .create("/registry/g/r/ns/after", value(2, 10))
            .await
            .err()
            .unwrap_or_else(|| panic!("{change}: a write was accepted"));
        assert!(
            matches!(refused, apiserver_storage::StorageError::Unavailable(_))
                && refused.to_string().contains("write-ahead log"),
            "{change}: {refused}"
        );
        assert!(s.check().await.is_err(), "{change}");
        // Reads go on.
        assert!(s.get("/registry/g/r/ns/before").await.unwrap().is_some());
    }
}
