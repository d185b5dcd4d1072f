//! The embedded single-file backend, on redb.
//!
//! File layout (format 2):
//!
//! * table `kv` (`&str` → `&[u8]`): key → record `[1u8][create_revision u64 BE][mod_revision u64
//!   BE][value bytes]`: the current value of every key;
//! * table `log` (`u64` → `&[u8]`): revision → the event that made it, `[kind u8][key length u32
//!   BE][key][record][prev record length u32 BE][prev record]` (a prev length of 0 for none):
//!   the history, MVCC-style as kine keeps it, so lists at an older revision are exact and
//!   watches replay from it across restarts until it is compacted;
//! * table `meta` (`&str` → `u64`): `"format"` → 2, `"revision"` → the store revision (the
//!   revision of the last committed mutation), `"compacted"` → the revision up to which the log
//!   was compacted (watches and reads need a revision at or above it), `"read_floor"` → the last
//!   compaction's revision C (reads need C or later; a compaction at C, as etcd's, keeps C's
//!   event and records C - 1 as compacted).
//!
//! * `"wal_generation"` in `meta`: the write-ahead log's generation the file is at (see below).
//!
//! Writes go to one writer thread, which commits them in groups: every mutation waiting when a
//! transaction starts joins it (each sees the ones before it), the group is made durable once,
//! then the events are published in revision order and each caller is answered — a write is
//! acknowledged only once it is durable, and concurrent writers share one sync. Each mutation
//! rewrites its record, appends its event and bumps the revision counter in that transaction, so
//! they can never disagree after a crash.
//!
//! A group is made durable by the write-ahead log ([`wal`]): its events are appended to the
//! preallocated `<file>-wal` and synced (one small write), then the transaction commits without
//! a sync (`Durability::None`). Every so often (the log full, or [`CHECKPOINT_RECORDS`] records
//! since the last) a group commits durably instead (`Durability::Immediate`) and records the
//! log's next generation, and the log starts over. Opening the file applies the log's records of
//! the file's generation past its revision — the groups a crash took from the data file — in the
//! same durable commit that starts the next generation. Without a log (`write_ahead_log_bytes`
//! 0), every group commits durably.
//!
//! A format-1 file (no log) is upgraded in place on open: its history starts at its revision.

use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

mod codec;
mod wal;

use codec::{decode, decode_event, encode, encode_event};
use wal::Wal;

use crate::semantics;
use crate::watch::{WatchHub, WatchStream};
use crate::{
    Event, EventType, KeyValue, ListOptions, ListResult, Revision, Storage, StorageError,
    StoreOptions,
};

const KV: TableDefinition<&str, &[u8]> = TableDefinition::new("kv");
const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("log");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const META_FORMAT: &str = "format";
const META_REVISION: &str = "revision";
const META_COMPACTED: &str = "compacted";
/// The last compaction's revision: reads at an older one are `Expired`, as etcd refuses them
/// (its event is kept, so a watch from the revision before it still starts). Absent in files
/// compacted before it was recorded, and in upgraded ones: reads then need `compacted`.
const META_READ_FLOOR: &str = "read_floor";
/// The write-ahead log's generation: its records of this generation follow the file's revision.
const META_WAL_GENERATION: &str = "wal_generation";
/// Groups logged between two durable commits to the data file: bounds what an open after a
/// crash replays, and the pages the data file holds for unsynced commits.
const CHECKPOINT_RECORDS: usize = 1024;
const FORMAT: u64 = 2;
/// The format before the log; upgraded on open.
const FORMAT_WITHOUT_LOG: u64 = 1;

/// A crash-safe, single-file [`Storage`] backed by [redb](https://docs.rs/redb).
///
/// Cheap to clone; clones share the open database. The file is locked while open: a second open
/// (in this or another process) fails with [`StorageError::Io`]. Beside it lies its write-ahead
/// log, `<file>-wal` (see [`StoreOptions::write_ahead_log_bytes`]): the two belong together, and
/// a copy of the store copies both. The database closes when the last clone is dropped and no
/// operation is in flight.
#[derive(Clone)]
pub struct EmbeddedStore {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    /// To the writer thread; taken (closing the channel) when the store is dropped.
    writer: Option<std::sync::mpsc::Sender<Job>>,
    writer_thread: Option<std::thread::JoinHandle<()>>,
    max_value_size: usize,
}

/// What the writer thread shares with readers.
struct Shared {
    /// The open file; `None` only while it is being reopened (see [`Shared::reopen`]).
    db: std::sync::RwLock<Option<Arc<Database>>>,
    /// How to open it again.
    path: std::path::PathBuf,
    cache_bytes: usize,
    /// The write-ahead log, if the store keeps one; the writer appends, (re)opening replays.
    wal: Option<std::sync::Mutex<Wal>>,
    /// A write failed with an I/O error (a full disk, say): redb refuses every later write
    /// ("previous I/O error") until the file is closed and opened again, which the next write
    /// does, so that the store writes again once the cause is gone, without a restart.
    needs_reopen: std::sync::atomic::AtomicBool,
    /// When a reopen last failed, and why: tried again only a while later (a reopen after an
    /// I/O error repairs the file, which is not to be repeated for every request).
    reopen_failed: std::sync::Mutex<Option<(std::time::Instant, StorageError)>>,
    hub: WatchHub,
    /// The opened file's identity (device, inode): a file removed or replaced under the store
    /// is noticed (see [`Shared::file_changed`]).
    identity: Option<(u64, u64)>,
    /// Whether that was logged.
    said_changed: std::sync::atomic::AtomicBool,
    /// Groups made durable, and the mutations they carried.
    commits: std::sync::atomic::AtomicU64,
    committed_writes: std::sync::atomic::AtomicU64,
}

/// How the embedded store's writes were grouped (see [`EmbeddedStore::group_commits`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupCommits {
    /// Groups made durable (one sync each: of the write-ahead log, or of the data file).
    pub commits: u64,
    /// Mutations they carried.
    pub writes: u64,
}

/// The (device, inode) of the file at `path`.
fn identity(path: &Path) -> std::io::Result<Option<(u64, u64)>> {
    Ok(wal::identity(&std::fs::metadata(path)?))
}

impl Shared {
    /// Why the file at the path is no longer the one open (removed, or another moved over
    /// it): writes would go where the next start does not look, and a reopen would open
    /// another database. Writes are refused then; reads are still served from the open file.
    fn file_changed(&self) -> Option<StorageError> {
        let data = self
            .identity
            .and_then(|expected| match identity(&self.path) {
                Ok(Some(now)) if now == expected => None,
                Ok(None) => None,
                Ok(Some(_)) => Some("was replaced by another file"),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some("was removed"),
                // Not knowable now (a permission taken away): the writes will tell.
                Err(_) => None,
            });
        let (what, path, why) = match data {
            Some(why) => ("data file", self.path.clone(), why),
            None => {
                let wal = self.wal.as_ref()?.lock().unwrap_or_else(|e| e.into_inner());
                ("write-ahead log", wal.path().to_path_buf(), wal.changed()?)
            }
        };
        let e = StorageError::Unavailable(format!(
            "the {what} {} {why} while the store had it open: writes are refused, since \
             the next start would not see them; reads are served from the open file until a \
             restart",
            path.display()
        ));
        if !self
            .said_changed
            .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            tracing::error!(path = %path.display(), error = %e, "embedded store: {what} changed");
        }
        Some(e)
    }

    /// The open database, for one transaction; reopened first after an I/O error (a handle
    /// that saw one refuses reads too).
    fn db(&self) -> Result<Arc<Database>, StorageError> {
        if self.needs_reopen.load(std::sync::atomic::Ordering::SeqCst) {
            return self.reopen();
        }
        let open = self
            .db
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        match open {
            Some(db) => Ok(db),
            // A reopen that failed (the file could not be opened then): try again now.
            None => self.reopen(),
        }
    }

    /// Closes the file and opens it again: redb's way out of the state an I/O error leaves it
    /// in. Waits (briefly) for the transactions in flight, which hold the old handle.
    fn reopen(&self) -> Result<Arc<Database>, StorageError> {
        let mut slot = self
            .db
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Another thread reopened it meanwhile.
        if let Some(db) = slot.as_ref()
            && !self.needs_reopen.load(std::sync::atomic::Ordering::SeqCst)
        {
            return Ok(db.clone());
        }
        // Opening the path again would open another database.
        if let Some(e) = self.file_changed() {
            return Err(e);
        }
        if let Some(mut old) = slot.take() {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            loop {
                match Arc::try_unwrap(old) {
                    Ok(db) => {
                        drop(db);
                        break;
                    }
                    Err(still) if std::time::Instant::now() < deadline => {
                        old = still;
                        std::thread::sleep(std::time::Duration::from_millis(1));
                    }
                    Err(still) => {
                        *slot = Some(still);
                        return Err(StorageError::Io(
                            "cannot reopen the database after an I/O error: transactions still hold it".into(),
                        ));
                    }
                }
            }
        }
        let mut failed = self
            .reopen_failed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((when, e)) = failed.as_ref()
            && when.elapsed() < REOPEN_BACKOFF
        {
            return Err(e.clone());
        }
        match self.open_again() {
            Ok(db) => {
                *failed = None;
                *slot = Some(db.clone());
                self.needs_reopen
                    .store(false, std::sync::atomic::Ordering::SeqCst);
                tracing::warn!(path = %self.path.display(), "reopened the database after an I/O error");
                Ok(db)
            }
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e, "cannot reopen the database");
                *failed = Some((std::time::Instant::now(), e.clone()));
                Err(e)
            }
        }
    }

    /// The same file opened again (never a new one in its place), at the revision the watch
    /// hub has published or later: what a commit wrote despite its error is published now.
    fn open_again(&self) -> Result<Arc<Database>, StorageError> {
        let mut builder = redb::Builder::new();
        builder.set_cache_size(self.cache_bytes);
        let db = builder.open(&self.path).map_err(db_err)?;
        // What the log holds past the file is applied again: a commit the old handle could not
        // finish may have been acknowledged.
        let revision = init(&db, self.wal.as_ref().map(lock).as_deref_mut(), true)?;
        let published = self.hub.revision();
        if revision < published {
            return Err(StorageError::Corrupt(format!(
                "the reopened database is at revision {revision}, behind the {published} already served"
            )));
        }
        let events = {
            let txn = db.begin_read().map_err(db_err)?;
            read_log(&txn, "", published, LogRead::Watch)?
        };
        for event in events {
            self.hub.publish(event);
        }
        self.hub.advance(revision);
        Ok(Arc::new(db))
    }
}

impl Shared {
    /// Makes a group's transaction durable, with `logged` (its events, the first at `first`):
    /// by the write-ahead log, the data file taking it without a sync, or, when the log asks
    /// for a checkpoint (or there is none), by a durable commit to the data file.
    fn commit(
        &self,
        mut txn: redb::WriteTransaction,
        first: Revision,
        logged: &[Vec<u8>],
    ) -> Result<(), StorageError> {
        let Some(wal) = &self.wal else {
            return txn.commit().map_err(db_err);
        };
        let mut wal = lock(wal);
        if wal.wants_checkpoint(logged, CHECKPOINT_RECORDS) {
            return checkpoint(txn, &mut wal);
        }
        txn.set_durability(redb::Durability::None).map_err(db_err)?;
        // Logged first: once the data file shows the group to readers, it is durable.
        if let Err(e) = wal.append(first, logged) {
            // The data file is not the log: the group is committed durably there instead, in
            // a new generation, which leaves whatever the append left in an older one.
            tracing::warn!(error = %e, "embedded store: the write-ahead log refused a group; committing it to the data file");
            txn.set_durability(redb::Durability::Immediate)
                .map_err(db_err)?;
            return checkpoint(txn, &mut wal);
        }
        txn.commit().map_err(|e| {
            // The log holds a group the data file refused, whose callers are told it failed:
            // taken back, so that no reopen or restart applies it.
            wal.retract();
            db_err(e)
        })
    }
}

/// Commits a group durably to the data file with the log's next generation, and starts the log
/// over: everything logged so far is in the data file then.
fn checkpoint(txn: redb::WriteTransaction, wal: &mut Wal) -> Result<(), StorageError> {
    let generation = wal.next_generation();
    txn.open_table(META)
        .map_err(db_err)?
        .insert(META_WAL_GENERATION, generation)
        .map_err(db_err)?;
    txn.commit().map_err(db_err)?;
    wal.restart(generation);
    Ok(())
}

/// A mutex's guard, poisoned or not (what it guards stays consistent: a panic while holding it
/// leaves the log broken or whole).
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl std::ops::Deref for Inner {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.shared
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The writer finishes its group and exits; the database closes when it has.
        drop(self.writer.take());
        if let Some(thread) = self.writer_thread.take() {
            let _ = thread.join();
        }
    }
}

/// How long a failed reopen is not tried again.
const REOPEN_BACKOFF: std::time::Duration = std::time::Duration::from_secs(1);

/// Most mutations one transaction takes.
const MAX_GROUP: usize = 512;

/// A mutation for the writer thread: given the group's open tables (or why there are none), it
/// makes its change and says what to publish and how to answer once the group's fate is known.
type Job = Box<dyn FnOnce(Result<&mut Group<'_>, &StorageError>) -> Done + Send>;

struct Done {
    event: Option<Event>,
    /// Called with the commit's result (`Ok` only if the mutation is durable).
    answer: Box<dyn FnOnce(Result<(), StorageError>) + Send>,
}

/// One group commit's open transaction.
struct Group<'t> {
    kv: redb::Table<'t, &'static str, &'static [u8]>,
    log: redb::Table<'t, u64, &'static [u8]>,
    meta: redb::Table<'t, &'static str, u64>,
    revision: Revision,
    /// The events written, encoded as logged: what the write-ahead log takes.
    logged: Vec<Vec<u8>>,
    /// A failed write: the whole group is abandoned.
    failed: Option<StorageError>,
}

impl Group<'_> {
    /// Reads `key`, lets `f` decide, writes the outcome. `Err` is the mutation's own refusal (or
    /// an unreadable record): nothing was written for it. A failure while writing poisons the
    /// group instead.
    fn apply<T>(
        &mut self,
        key: &str,
        f: impl FnOnce(Option<KeyValue>, Revision) -> Result<Outcome<T>, StorageError>,
    ) -> Result<(T, Option<Event>), StorageError> {
        let existing = {
            // A read that fails (redb refuses every read after an I/O error) fails the group,
            // whose error has the file reopened; an unreadable record is this mutation's alone.
            let found = self.kv.get(key).map_err(db_err).inspect_err(|e| {
                self.failed = Some(e.clone());
            })?;
            found.map(|g| decode(key, g.value())).transpose()?
        };
        let next = semantics::next_revision(self.revision)?;
        let (out, event, record) = match f(existing, next)? {
            Outcome::Unchanged(out) => return Ok((out, None)),
            Outcome::Put(kv, event, out) => (out, event, Some(encode(&kv))),
            Outcome::Remove(event, out) => (out, event, None),
        };
        let written = (|| {
            match &record {
                Some(record) => self.kv.insert(key, record.as_slice()).map(drop),
                None => self.kv.remove(key).map(drop),
            }
            .map_err(db_err)?;
            let logged = encode_event(&event);
            self.log.insert(next, logged.as_slice()).map_err(db_err)?;
            self.meta.insert(META_REVISION, next).map_err(db_err)?;
            Ok::<_, StorageError>(logged)
        })();
        match written {
            Ok(logged) => {
                self.logged.push(logged);
                self.revision = next;
                Ok((out, Some(event)))
            }
            Err(e) => {
                self.failed = Some(e.clone());
                Err(e)
            }
        }
    }
}

/// The writer thread: takes every waiting mutation into one transaction, commits, publishes,
/// answers; until the channel closes.
fn write_groups(shared: Arc<Shared>, jobs: std::sync::mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        // A panic inside redb (it asserts on some corruptions) fails this group's callers (their
        // answers are dropped) but not the writer.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            commit_group(&shared, group)
        }));
    }
}

fn commit_group(shared: &Shared, jobs: Vec<Job>) {
    use std::sync::atomic::Ordering::SeqCst;
    if let Some(e) = shared.file_changed() {
        for job in jobs {
            (job(Err(&e)).answer)(Err(e.clone()));
        }
        return;
    }
    // The handle outlives the transaction (a reopen waits for every transaction's handle).
    let db = shared.db();
    let begun = db
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|db| db.begin_write().map_err(db_err));
    let txn = match begun {
        Ok(txn) => txn,
        Err(e) => {
            if let StorageError::Io(_) = &e {
                shared.needs_reopen.store(true, SeqCst);
            }
            for job in jobs {
                (job(Err(&e)).answer)(Err(e.clone()));
            }
            return;
        }
    };
    // The tables borrow the transaction: they are closed at the end of this block, before the
    // commit.
    let done = {
        let opened = (|| {
            let meta = txn.open_table(META).map_err(db_err)?;
            let revision = meta
                .get(META_REVISION)
                .map_err(db_err)?
                .map_or(0, |g| g.value());
            Ok::<_, StorageError>(Group {
                kv: txn.open_table(KV).map_err(db_err)?,
                log: txn.open_table(LOG).map_err(db_err)?,
                meta,
                revision,
                logged: Vec::new(),
                failed: None,
            })
        })();
        let mut done = Vec::with_capacity(jobs.len());
        let (logged, failed) = match opened {
            Err(e) => {
                done.extend(jobs.into_iter().map(|job| job(Err(&e))));
                (Vec::new(), Some(e))
            }
            Ok(mut group) => {
                for job in jobs {
                    let d = match group.failed.clone() {
                        Some(e) => job(Err(&e)),
                        None => job(Ok(&mut group)),
                    };
                    done.push(d);
                }
                (group.logged, group.failed)
            }
        };
        (done, logged, failed)
    };
    let (mut done, logged, failed) = done;
    let first = done
        .iter()
        .find_map(|d| d.event.as_ref().map(|e| e.revision));
    let outcome = match (failed, first) {
        (Some(e), _) => Err(e),
        (None, None) => txn.abort().map_err(db_err),
        (None, Some(first)) => shared.commit(txn, first, &logged),
    };
    let changed = first.is_some();
    if let Err(StorageError::Io(_)) = &outcome {
        shared.needs_reopen.store(true, SeqCst);
    }
    if outcome.is_ok() && changed {
        use std::sync::atomic::Ordering::Relaxed;
        let writes = done.iter().filter(|d| d.event.is_some()).count() as u64;
        shared.commits.fetch_add(1, Relaxed);
        shared.committed_writes.fetch_add(writes, Relaxed);
    }
    if outcome.is_ok() {
        for d in &mut done {
            if let Some(event) = d.event.take() {
                shared.hub.publish(event);
            }
        }
    }
    for d in done {
        (d.answer)(outcome.clone());
    }
}

enum Outcome<T> {
    /// Write this record and publish this event.
    Put(KeyValue, Event, T),
    /// Remove the key and publish this event.
    Remove(Event, T),
    /// Write nothing.
    Unchanged(T),
}

fn db_err(e: impl Into<redb::Error>) -> StorageError {
    match e.into() {
        redb::Error::Corrupted(msg) => StorageError::Corrupt(msg),
        redb::Error::DatabaseAlreadyOpen => {
            StorageError::Io("database file is already open (locked by another handle)".into())
        }
        other => StorageError::Io(other.to_string()),
    }
}

impl EmbeddedStore {
    /// Opens (creating if needed) the database file at `path` with default options.
    ///
    /// Blocking: it may recover a file left by a crashed process and, with
    /// [`StoreOptions::verify_on_open`], checks every page. Call it before serving, or from
    /// `spawn_blocking`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StorageError> {
        Self::open_with_options(path, StoreOptions::default())
    }

    /// Opens (creating if needed) the database file at `path`.
    pub fn open_with_options(
        path: impl AsRef<Path>,
        opts: StoreOptions,
    ) -> Result<Self, StorageError> {
        // An existing file of no bytes is no database: redb would make it a new, empty one,
        // and a store emptied by a truncation would start without a word.
        if std::fs::metadata(path.as_ref()).is_ok_and(|m| m.is_file() && m.len() == 0) {
            return Err(StorageError::Corrupt(format!(
                "{} is empty, not a database: remove it to start with an empty store",
                path.as_ref().display()
            )));
        }
        let mut builder = redb::Builder::new();
        builder.set_check_integrity_on_open(opts.verify_on_open);
        builder.set_cache_size(opts.cache_bytes);
        // redb repairs a file only after an unclean shutdown: then the writes since the log's
        // last checkpoint are in the log alone.
        let repaired = Arc::new(std::sync::atomic::AtomicBool::new(false));
        builder.set_repair_callback({
            let repaired = repaired.clone();
            move |_| repaired.store(true, std::sync::atomic::Ordering::Relaxed)
        });
        // redb asserts on some damaged files (debug builds panic where release builds return
        // an error): a damaged file is a `Corrupt` error either way, never a panic at start.
        let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let db = builder.create(path.as_ref()).map_err(db_err)?;
            // Opened once redb holds the data file's lock: one store writes the log. A log
            // left by a store that kept one is applied even when this one keeps none, then
            // removed (the durable commit that applied it made it an older generation's).
            // Named after the file itself: a symbolic link to it opens the same log.
            let wal_path = wal::path_for(
                &std::fs::canonicalize(path.as_ref()).unwrap_or_else(|_| path.as_ref().into()),
            );
            if repaired.load(std::sync::atomic::Ordering::Relaxed)
                && !wal_path.exists()
                && log_in_use(&db)?
            {
                return Err(StorageError::Corrupt(format!(
                    "{} was not closed cleanly and its write-ahead log {} is missing: the \
                     writes acknowledged since the log's last checkpoint are in it alone. Put \
                     the log back; to start without those writes, create an empty one \
                     (`touch {}`)",
                    path.as_ref().display(),
                    wal_path.display(),
                    wal_path.display()
                )));
            }
            let keep = opts.write_ahead_log_bytes > 0;
            let mut wal = match keep || wal_path.exists() {
                true => Some(Wal::open(&wal_path, opts.write_ahead_log_bytes)?),
                false => None,
            };
            let revision = init(&db, wal.as_mut(), keep)?;
            if !keep && wal.take().is_some() {
                std::fs::remove_file(&wal_path).map_err(|e| {
                    StorageError::Io(format!("cannot remove {}: {e}", wal_path.display()))
                })?;
            }
            Ok::<_, StorageError>((db, revision, wal))
        }));
        let (db, revision, wal) =
            opened.map_err(|panic| damaged(path.as_ref(), panic_message(&*panic)))??;
        let shared = Arc::new(Shared {
            db: std::sync::RwLock::new(Some(Arc::new(db))),
            path: path.as_ref().to_path_buf(),
            cache_bytes: opts.cache_bytes,
            wal: wal.map(std::sync::Mutex::new),
            needs_reopen: Default::default(),
            reopen_failed: Default::default(),
            hub: WatchHub::new(
                revision,
                opts.history_capacity,
                opts.history_bytes,
                opts.watch_buffer,
            ),
            // Just opened, the file is there; should its identity not read, replacement goes
            // unnoticed, which the log says.
            identity: identity(path.as_ref()).unwrap_or_else(|e| {
                tracing::warn!(path = %path.as_ref().display(), error = %e, "cannot read the data file's identity: its removal or replacement will not be noticed");
                None
            }),
            said_changed: Default::default(),
            commits: Default::default(),
            committed_writes: Default::default(),
        });
        let (writer, jobs) = std::sync::mpsc::channel();
        let writer_thread = std::thread::Builder::new()
            .name("embedded-store-writer".into())
            .spawn({
                let shared = shared.clone();
                move || write_groups(shared, jobs)
            })
            .map_err(|e| StorageError::Io(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                shared,
                writer: Some(writer),
                writer_thread: Some(writer_thread),
                max_value_size: opts.max_value_size,
            }),
        })
    }

    /// Runs `f` on the blocking pool; a panic inside (redb asserts on some damaged pages)
    /// becomes a `Corrupt` error, logged, rather than unwinding into the caller.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner) -> Result<T, StorageError> + Send + 'static,
    ) -> Result<T, StorageError> {
        let inner = Arc::clone(&self.inner);
        match tokio::task::spawn_blocking(move || f(&inner)).await {
            Ok(result) => {
                // redb refuses everything on a handle that saw an I/O error (a compaction on a
                // full disk, a read of a file made unreadable): the next operation reopens it.
                if let Err(StorageError::Io(_)) = &result {
                    self.inner
                        .needs_reopen
                        .store(true, std::sync::atomic::Ordering::SeqCst);
                }
                result
            }
            Err(e) if e.is_panic() => {
                let error = damaged(&self.inner.shared.path, panic_message(&*e.into_panic()));
                tracing::error!(%error, "embedded store: a read failed on a damaged page");
                Err(error)
            }
            Err(e) => Err(StorageError::Io(format!("storage task failed: {e}"))),
        }
    }
}

/// Creates the tables, checks (or upgrades) the format, applies the write-ahead log's records
/// past the file's revision (the groups a crash took from it) and starts the log's next
/// generation, all in one durable commit. Returns the stored revision.
/// `keep_log`: whether the store goes on with `wal` (else it only applies a log left behind,
/// then removes it, and records that none is in use).
fn init(
    db: &Database,
    mut wal: Option<&mut Wal>,
    keep_log: bool,
) -> Result<Revision, StorageError> {
    let txn = db.begin_write().map_err(db_err)?;
    let (revision, generation) = {
        let mut meta = txn.open_table(META).map_err(db_err)?;
        let mut kv = txn.open_table(KV).map_err(db_err)?;
        let mut log = txn.open_table(LOG).map_err(db_err)?;
        let format = meta.get(META_FORMAT).map_err(db_err)?.map(|g| g.value());
        let stored = |meta: &redb::Table<&str, u64>, name| {
            meta.get(name)
                .map(|g| g.map_or(0, |g| g.value()))
                .map_err(db_err)
        };
        let mut revision = stored(&meta, META_REVISION)?;
        match format {
            Some(FORMAT) => {}
            // No history was kept: it starts now.
            Some(FORMAT_WITHOUT_LOG) => {
                meta.insert(META_COMPACTED, revision).map_err(db_err)?;
                meta.insert(META_FORMAT, FORMAT).map_err(db_err)?;
            }
            Some(other) => {
                return Err(StorageError::Corrupt(format!(
                    "unsupported storage format {other} (this build reads {FORMAT_WITHOUT_LOG} and {FORMAT})"
                )));
            }
            None => {
                if !kv.is_empty().map_err(db_err)? {
                    return Err(StorageError::Corrupt(
                        "database has data but no format marker".into(),
                    ));
                }
                meta.insert(META_FORMAT, FORMAT).map_err(db_err)?;
                meta.insert(META_COMPACTED, 0).map_err(db_err)?;
            }
        }
        let generation = stored(&meta, META_WAL_GENERATION)?;
        if let Some(wal) = wal.as_deref_mut() {
            let mut replayed = 0usize;
            for record in wal.recover(generation, revision)? {
                for (rev, raw) in (record.first..).zip(&record.events) {
                    let event = decode_event(rev, raw, "")?.ok_or_else(|| {
                        StorageError::Corrupt(format!("write-ahead log entry {rev}: no key"))
                    })?;
                    let key = event.kv.key.as_str();
                    match event.kind {
                        EventType::Deleted => kv.remove(key).map(drop),
                        _ => kv.insert(key, encode(&event.kv).as_slice()).map(drop),
                    }
                    .map_err(db_err)?;
                    log.insert(rev, raw.as_slice()).map_err(db_err)?;
                    revision = rev;
                    replayed += 1;
                }
            }
            if replayed > 0 {
                meta.insert(META_REVISION, revision).map_err(db_err)?;
                tracing::info!(
                    writes = replayed,
                    revision,
                    "embedded store: applied the write-ahead log's writes the data file lacked"
                );
            }
            let next = match keep_log {
                true => wal::new_generation(generation),
                false => 0,
            };
            meta.insert(META_WAL_GENERATION, next).map_err(db_err)?;
            (revision, next)
        } else {
            // Generation 0: no log is in use, so none is missing after a crash.
            if generation != 0 {
                meta.insert(META_WAL_GENERATION, 0).map_err(db_err)?;
            }
            (revision, 0)
        }
    };
    txn.commit().map_err(db_err)?;
    if let Some(wal) = wal {
        wal.restart(generation);
    }
    Ok(revision)
}

/// Whether the file's last run kept a write-ahead log (its generation is not 0).
fn log_in_use(db: &Database) -> Result<bool, StorageError> {
    let txn = db.begin_read().map_err(db_err)?;
    let meta = match txn.open_table(META) {
        Ok(meta) => meta,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(false),
        Err(e) => return Err(db_err(e)),
    };
    Ok(meta
        .get(META_WAL_GENERATION)
        .map_err(db_err)?
        .is_some_and(|g| g.value() != 0))
}

/// What a panic (redb's assertion on a damaged page) said.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// The error for a file redb found damaged, with the way to find out how far.
fn damaged(path: &Path, why: String) -> StorageError {
    StorageError::Corrupt(format!(
        "{}: the file is damaged ({why}); --verify-on-open checks it fully",
        path.display()
    ))
}

/// The store revision a read transaction sees (the last committed mutation's).
fn stored_revision(txn: &redb::ReadTransaction) -> Result<Revision, StorageError> {
    Ok(txn
        .open_table(META)
        .map_err(db_err)?
        .get(META_REVISION)
        .map_err(db_err)?
        .map_or(0, |g| g.value()))
}

/// What the log is read for: a watch from a revision, or a read at one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LogRead {
    Watch,
    ReadAt,
}

/// The logged events on keys under `prefix` after revision `after`, in order; `Expired` when the
/// log was compacted past `after` — for a read at `after`, also when it was compacted at it
/// (etcd refuses a read below its compaction revision, and serves a watch from just below it).
fn read_log(
    txn: &redb::ReadTransaction,
    prefix: &str,
    after: Revision,
    read: LogRead,
) -> Result<Vec<Event>, StorageError> {
    let meta = txn.open_table(META).map_err(db_err)?;
    let compacted = meta
        .get(META_COMPACTED)
        .map_err(db_err)?
        .map_or(0, |g| g.value());
    let oldest = match read {
        LogRead::Watch => compacted,
        LogRead::ReadAt => meta
            .get(META_READ_FLOOR)
            .map_err(db_err)?
            .map_or(compacted, |g| g.value().max(compacted)),
    };
    if after < oldest {
        return Err(StorageError::Expired {
            requested: after,
            oldest,
        });
    }
    let log = txn.open_table(LOG).map_err(db_err)?;
    let mut events = Vec::new();
    for entry in log.range(after + 1..).map_err(db_err)? {
        let (rev, raw) = entry.map_err(db_err)?;
        if let Some(event) = decode_event(rev.value(), raw.value(), prefix)? {
            events.push(event);
        }
    }
    Ok(events)
}

impl Inner {
    /// The events on keys under `prefix` after `from` from the log, and the revision they were
    /// read at.
    fn replay(
        &self,
        prefix: &str,
        from: Revision,
    ) -> Result<(Vec<Arc<Event>>, Revision), StorageError> {
        let db = self.db()?;
        let txn = db.begin_read().map_err(db_err)?;
        let revision = stored_revision(&txn)?;
        let events = read_log(&txn, prefix, from, LogRead::Watch)?;
        Ok((events.into_iter().map(Arc::new).collect(), revision))
    }

    /// Drops the log up to and including `revision` (clamped to the current revision).
    fn compact(&self, revision: Revision) -> Result<(), StorageError> {
        let db = self.db()?;
        let txn = db.begin_write().map_err(db_err)?;
        let revision = {
            let mut meta = txn.open_table(META).map_err(db_err)?;
            let current = meta
                .get(META_REVISION)
                .map_err(db_err)?
                .map_or(0, |g| g.value());
            let compacted = meta
                .get(META_COMPACTED)
                .map_err(db_err)?
                .map_or(0, |g| g.value());
            // etcd's compaction at `revision` keeps that revision: reads and watches need one
            // at or above the revision before it.
            let revision = revision.min(current);
            let horizon = revision.saturating_sub(1);
            if horizon <= compacted {
                return Ok(());
            }
            let mut log = txn.open_table(LOG).map_err(db_err)?;
            log.retain_in(..=horizon, |_, _| false).map_err(db_err)?;
            meta.insert(META_COMPACTED, horizon).map_err(db_err)?;
            meta.insert(META_READ_FLOOR, revision).map_err(db_err)?;
            revision
        };
        txn.commit().map_err(db_err)?;
        self.hub.compact(revision);
        Ok(())
    }

    fn get(&self, key: &str) -> Result<Option<KeyValue>, StorageError> {
        let db = self.db()?;
        let txn = db.begin_read().map_err(db_err)?;
        let table = txn.open_table(KV).map_err(db_err)?;
        let found = table.get(key).map_err(db_err)?;
        found.map(|g| decode(key, g.value())).transpose()
    }

    fn list(&self, prefix: &str, opts: &ListOptions) -> Result<ListResult, StorageError> {
        let db = self.db()?;
        let txn = db.begin_read().map_err(db_err)?;
        let table = txn.open_table(KV).map_err(db_err)?;
        let meta = txn.open_table(META).map_err(db_err)?;
        let revision = meta
            .get(META_REVISION)
            .map_err(db_err)?
            .map_or(0, |g| g.value());
        let (at, overlay) = match opts.revision.filter(|r| *r != revision) {
            None => (revision, Default::default()),
            Some(at) if at > revision => return Err(semantics::future(at, revision)),
            // What changed since, from the log of the same read transaction.
            Some(at) => (
                at,
                semantics::overlay(prefix, &read_log(&txn, prefix, at, LogRead::ReadAt)?),
            ),
        };
        let (start, inclusive) = semantics::start_bound(prefix, opts);
        let lower = if inclusive {
            Bound::Included(start)
        } else {
            Bound::Excluded(start)
        };
        let current = table
            .range::<&str>((lower, Bound::Unbounded))
            .map_err(db_err)?
            .map(|entry| entry.map_err(db_err));
        semantics::page(
            prefix,
            current,
            |(k, _)| k.value(),
            |(k, v)| decode(k.value(), v.value()),
            &overlay,
            at,
            opts,
        )
    }
}

impl EmbeddedStore {
    /// How many groups this store made durable since it was opened, and how many mutations they
    /// carried: concurrent writers share transactions (and syncs).
    pub fn group_commits(&self) -> GroupCommits {
        use std::sync::atomic::Ordering::Relaxed;
        GroupCommits {
            commits: self.inner.commits.load(Relaxed),
            writes: self.inner.committed_writes.load(Relaxed),
        }
    }

    /// One mutation through the writer thread: answered once its group commit is durable (or
    /// failed).
    async fn mutate<T: Send + 'static>(
        &self,
        key: String,
        f: impl FnOnce(Option<KeyValue>, Revision) -> Result<Outcome<T>, StorageError> + Send + 'static,
    ) -> Result<T, StorageError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |group| {
            let applied = match group {
                Ok(group) => group.apply(&key, f),
                Err(e) => Err(e.clone()),
            };
            match applied {
                Ok((out, event)) => Done {
                    event,
                    answer: Box::new(move |committed| {
                        let _ = tx.send(committed.map(|()| out));
                    }),
                },
                Err(e) => Done {
                    event: None,
                    answer: Box::new(move |_| {
                        let _ = tx.send(Err(e));
                    }),
                },
            }
        });
        let writer = self
            .inner
            .writer
            .as_ref()
            .expect("writer open while the store is");
        writer
            .send(job)
            .map_err(|_| StorageError::Io("the store's writer has stopped".into()))?;
        rx.await
            .map_err(|_| StorageError::Io("the store's writer failed during this write".into()))?
    }
}

impl Storage for EmbeddedStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StorageError> {
        let key = key.to_owned();
        self.blocking(move |inner| inner.get(&key)).await
    }

    async fn list(&self, prefix: &str, opts: ListOptions) -> Result<ListResult, StorageError> {
        let prefix = prefix.to_owned();
        self.blocking(move |inner| inner.list(&prefix, &opts)).await
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue, StorageError> {
        semantics::check_size(key, &value, self.inner.max_value_size)?;
        let key = key.to_owned();
        self.mutate(key.clone(), move |existing, rev| {
            if existing.is_some() {
                return Err(StorageError::AlreadyExists { key: key.clone() });
            }
            let kv = KeyValue {
                key: key.clone(),
                value,
                create_revision: rev,
                mod_revision: rev,
            };
            Ok(Outcome::Put(kv.clone(), semantics::added(kv.clone()), kv))
        })
        .await
    }

    async fn update(
        &self,
        key: &str,
        value: Bytes,
        expected_mod_revision: Option<Revision>,
    ) -> Result<KeyValue, StorageError> {
        semantics::check_size(key, &value, self.inner.max_value_size)?;
        let key = key.to_owned();
        self.mutate(key.clone(), move |existing, rev| {
            let Some(prev) = existing else {
                return Err(StorageError::NotFound { key: key.clone() });
            };
            semantics::check_expected(&key, &prev, expected_mod_revision)?;
            if prev.value == value {
                return Ok(Outcome::Unchanged(prev));
            }
            let kv = KeyValue {
                key: key.clone(),
                value,
                create_revision: prev.create_revision,
                mod_revision: rev,
            };
            Ok(Outcome::Put(
                kv.clone(),
                semantics::modified(kv.clone(), prev),
                kv,
            ))
        })
        .await
    }

    async fn delete(
        &self,
        key: &str,
        expected_mod_revision: Option<Revision>,
    ) -> Result<KeyValue, StorageError> {
        let key = key.to_owned();
        self.mutate(key.clone(), move |existing, rev| {
            let Some(prev) = existing else {
                return Err(StorageError::NotFound { key: key.clone() });
            };
            semantics::check_expected(&key, &prev, expected_mod_revision)?;
            let (event, kv) = semantics::deleted(prev, rev);
            Ok(Outcome::Remove(event, kv))
        })
        .await
    }

    async fn watch(&self, prefix: &str, from: Revision) -> Result<WatchStream, StorageError> {
        match self.inner.hub.subscribe(prefix, from) {
            // Older than the hub's memory: replay from the log, then join the hub.
            Err(StorageError::Expired { .. }) if from > 0 => {}
            other => return other,
        }
        let prefix = prefix.to_owned();
        self.blocking(move |inner| {
            loop {
                let older = inner.replay(&prefix, from)?;
                if let Some(stream) = inner.hub.subscribe_after(&prefix, from, Some(older))? {
                    return Ok(stream);
                }
            }
        })
        .await
    }

    async fn revision(&self) -> Result<Revision, StorageError> {
        // The hub's revision is the last committed one: it is published under the write lock.
        Ok(self.inner.hub.revision())
    }

    async fn compact(&self, revision: Revision) -> Result<(), StorageError> {
        self.blocking(move |inner| inner.compact(revision)).await
    }

    /// The file is the one opened and reads: the revision is told from memory, which a file
    /// gone bad (unreadable, locked by another process, replaced) does not change.
    async fn check(&self) -> Result<(), StorageError> {
        self.blocking(|inner| {
            if let Some(e) = inner.file_changed() {
                return Err(e);
            }
            let db = inner.db()?;
            let txn = db.begin_read().map_err(db_err)?;
            stored_revision(&txn).map(drop)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A group the log refuses (a failing disk under it) is committed durably to the data file
    /// instead: the caller's write succeeds, and the data file alone holds it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_group_the_log_refuses_is_committed_to_the_data_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let s = EmbeddedStore::open(&path).unwrap();
        s.create("/k/logged", Bytes::from_static(b"1"))
            .await
            .unwrap();
        lock(s.inner.wal.as_ref().unwrap()).refuse_appends = 1;
        let kv = s
            .create("/k/refused", Bytes::from_static(b"2"))
            .await
            .unwrap();
        assert_eq!(kv.mod_revision, 2);
        // The log works again for the next group.
        s.create("/k/after", Bytes::from_static(b"3"))
            .await
            .unwrap();
        assert_eq!(lock(s.inner.wal.as_ref().unwrap()).refuse_appends, 0);

        // What a crash now leaves, without the log (started without it on purpose, with an
        // empty one): both first writes, not the third.
        let copy = dir.path().join("copy.redb");
        std::fs::copy(&path, &copy).unwrap();
        std::fs::File::create(wal::path_for(&copy)).unwrap();
        let data_only = EmbeddedStore::open_with_options(
            &copy,
            StoreOptions {
                write_ahead_log_bytes: 0,
                ..StoreOptions::default()
            },
        )
        .unwrap();
        assert_eq!(data_only.revision().await.unwrap(), 2);
        assert_eq!(data_only.get("/k/refused").await.unwrap(), Some(kv));
    }

    #[test]
    fn record_round_trip_and_corruption() {
        let kv = KeyValue {
            key: "/k".into(),
            value: Bytes::from_static(b"{}"),
            create_revision: 3,
            mod_revision: 7,
        };
        assert_eq!(decode("/k", &encode(&kv)).unwrap(), kv);
        for bad in [
            &b""[..],
            &b"\x01short"[..],
            &[2u8; 20][..],
            &[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1][..],
        ] {
            assert!(
                matches!(decode("/k", bad), Err(StorageError::Corrupt(_))),
                "{bad:?}"
            );
        }
    }

    #[tokio::test]
    async fn corrupt_record_in_file_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.redb");
        {
            let s = EmbeddedStore::open(&path).unwrap();
            s.create("/r/a", Bytes::from_static(b"1")).await.unwrap();
        }
        {
            let db = Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(KV)
                .unwrap()
                .insert("/r/b", &b"\x09garbage"[..])
                .unwrap();
            txn.commit().unwrap();
        }
        let s = EmbeddedStore::open(&path).unwrap();
        assert!(matches!(s.get("/r/b").await, Err(StorageError::Corrupt(_))));
        assert!(matches!(
            s.list("/r/", ListOptions::default()).await,
            Err(StorageError::Corrupt(_))
        ));
        assert!(matches!(
            s.update("/r/b", Bytes::from_static(b"x"), None).await,
            Err(StorageError::Corrupt(_))
        ));
        // The intact key is still readable, and a failed mutation wrote nothing.
        assert_eq!(s.get("/r/a").await.unwrap().unwrap().value, "1");
        assert_eq!(s.revision().await.unwrap(), 1);
    }

    #[tokio::test]
    async fn unknown_format_and_double_open_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.redb");
        {
            let s = EmbeddedStore::open(&path).unwrap();
            assert!(matches!(
                EmbeddedStore::open(&path),
                Err(StorageError::Io(_))
            ));
            drop(s);
        }
        {
            let db = Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(META)
                .unwrap()
                .insert(META_FORMAT, 99)
                .unwrap();
            txn.commit().unwrap();
        }
        assert!(matches!(
            EmbeddedStore::open(&path),
            Err(StorageError::Corrupt(_))
        ));
        // A file that is not a database at all.
        let junk = dir.path().join("junk");
        std::fs::write(&junk, vec![0xAB; 10_000]).unwrap();
        assert!(EmbeddedStore::open(&junk).is_err());
    }
}
