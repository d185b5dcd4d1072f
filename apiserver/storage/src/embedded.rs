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
//!   was compacted (reads and watches need a revision at or above it).
//!
//! Every mutation is one redb write transaction (default `Durability::Immediate`: fsync'd before
//! `commit` returns) that rewrites the record, appends the event and bumps the revision counter
//! together, so they can never disagree after a crash. Writes are serialised by a mutex held from
//! `begin_write` until the event is published, so watchers receive events in revision order.
//!
//! A format-1 file (no log) is upgraded in place on open: its history starts at its revision.

use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

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
const FORMAT: u64 = 2;
/// The format before the log; upgraded on open.
const FORMAT_WITHOUT_LOG: u64 = 1;
const RECORD_VERSION: u8 = 1;
const HEADER: usize = 1 + 8 + 8;

/// A crash-safe, single-file [`Storage`] backed by [redb](https://docs.rs/redb).
///
/// Cheap to clone; clones share the open database. The file is locked while open: a second open
/// (in this or another process) fails with [`StorageError::Io`]. The database closes when the
/// last clone is dropped and no operation is in flight.
#[derive(Clone)]
pub struct EmbeddedStore {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    hub: WatchHub,
    /// Serialises writes from `begin_write` to `publish`.
    write_lock: Mutex<()>,
    max_value_size: usize,
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

fn encode(kv: &KeyValue) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + kv.value.len());
    out.push(RECORD_VERSION);
    out.extend_from_slice(&kv.create_revision.to_be_bytes());
    out.extend_from_slice(&kv.mod_revision.to_be_bytes());
    out.extend_from_slice(&kv.value);
    out
}

fn decode(key: &str, raw: &[u8]) -> Result<KeyValue, StorageError> {
    let corrupt = |why: &str| StorageError::Corrupt(format!("record for key {key:?}: {why}"));
    if raw.len() < HEADER {
        return Err(corrupt(&format!(
            "{} bytes, shorter than its header",
            raw.len()
        )));
    }
    if raw[0] != RECORD_VERSION {
        return Err(corrupt(&format!("unknown record version {}", raw[0])));
    }
    let u64_at = |at: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&raw[at..at + 8]);
        u64::from_be_bytes(b)
    };
    let (create_revision, mod_revision) = (u64_at(1), u64_at(9));
    if create_revision == 0 || mod_revision < create_revision {
        return Err(corrupt(&format!(
            "impossible revisions create={create_revision} mod={mod_revision}"
        )));
    }
    Ok(KeyValue {
        key: key.to_owned(),
        value: Bytes::copy_from_slice(&raw[HEADER..]),
        create_revision,
        mod_revision,
    })
}

fn event_kind_byte(kind: EventType) -> u8 {
    match kind {
        EventType::Added => 1,
        EventType::Modified => 2,
        EventType::Deleted => 3,
        // Never stored: progress events exist only on watch streams.
        EventType::Progress => 0,
    }
}

fn encode_event(event: &Event) -> Vec<u8> {
    let record = encode(&event.kv);
    let prev = event.prev.as_ref().map(encode).unwrap_or_default();
    let key = event.kv.key.as_bytes();
    let mut out = Vec::with_capacity(1 + 4 + key.len() + record.len() + 4 + prev.len());
    out.push(event_kind_byte(event.kind));
    out.extend_from_slice(&(key.len() as u32).to_be_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(&(record.len() as u32).to_be_bytes());
    out.extend_from_slice(&record);
    out.extend_from_slice(&(prev.len() as u32).to_be_bytes());
    out.extend_from_slice(&prev);
    out
}

/// The event logged at `revision`, if its key starts with `prefix` (other events are skipped
/// without copying their values).
fn decode_event(
    revision: Revision,
    raw: &[u8],
    prefix: &str,
) -> Result<Option<Event>, StorageError> {
    let corrupt = |why: &str| StorageError::Corrupt(format!("log entry {revision}: {why}"));
    let mut rest = raw;
    let mut take = |n: usize| -> Result<&[u8], StorageError> {
        if rest.len() < n {
            return Err(corrupt("truncated"));
        }
        let (head, tail) = rest.split_at(n);
        rest = tail;
        Ok(head)
    };
    let kind = match take(1)?[0] {
        1 => EventType::Added,
        2 => EventType::Modified,
        3 => EventType::Deleted,
        other => return Err(corrupt(&format!("unknown event kind {other}"))),
    };
    let len = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let key_len = len(take(4)?);
    let key = std::str::from_utf8(take(key_len)?).map_err(|_| corrupt("key is not UTF-8"))?;
    if !key.starts_with(prefix) {
        return Ok(None);
    }
    let record_len = len(take(4)?);
    let kv = decode(key, take(record_len)?)?;
    let prev_len = len(take(4)?);
    let prev = match prev_len {
        0 => None,
        n => Some(decode(key, take(n)?)?),
    };
    if kv.mod_revision != revision || (kind != EventType::Added && prev.is_none()) {
        return Err(corrupt(
            "does not match its revision or lacks its previous value",
        ));
    }
    Ok(Some(Event {
        kind,
        kv,
        prev,
        revision,
    }))
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
        let mut builder = redb::Builder::new();
        builder.set_check_integrity_on_open(opts.verify_on_open);
        let db = builder.create(path.as_ref()).map_err(db_err)?;
        let revision = Self::init(&db)?;
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                hub: WatchHub::new(revision, opts.history_capacity, opts.watch_buffer),
                write_lock: Mutex::new(()),
                max_value_size: opts.max_value_size,
            }),
        })
    }

    /// Creates the tables, checks (or upgrades) the format and returns the stored revision.
    fn init(db: &Database) -> Result<Revision, StorageError> {
        let txn = db.begin_write().map_err(db_err)?;
        let revision = {
            let mut meta = txn.open_table(META).map_err(db_err)?;
            let kv = txn.open_table(KV).map_err(db_err)?;
            txn.open_table(LOG).map_err(db_err)?;
            let format = meta.get(META_FORMAT).map_err(db_err)?.map(|g| g.value());
            let revision = meta
                .get(META_REVISION)
                .map_err(db_err)?
                .map_or(0, |g| g.value());
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
            revision
        };
        txn.commit().map_err(db_err)?;
        Ok(revision)
    }

    /// Runs `f` on the blocking pool; a panic inside (redb asserts on some corruptions in debug
    /// builds) becomes an error rather than unwinding into the caller.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner) -> Result<T, StorageError> + Send + 'static,
    ) -> Result<T, StorageError> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| StorageError::Io(format!("storage task failed: {e}")))?
    }
}

/// The logged events on keys under `prefix` after revision `after`, in order; `Expired` when the
/// log was compacted past `after`.
fn read_log(
    txn: &redb::ReadTransaction,
    prefix: &str,
    after: Revision,
) -> Result<Vec<Event>, StorageError> {
    let meta = txn.open_table(META).map_err(db_err)?;
    let compacted = meta
        .get(META_COMPACTED)
        .map_err(db_err)?
        .map_or(0, |g| g.value());
    if after < compacted {
        return Err(StorageError::Expired {
            requested: after,
            oldest: compacted,
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
    fn replay(&self, prefix: &str, from: Revision) -> Result<(Vec<Event>, Revision), StorageError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let revision = txn
            .open_table(META)
            .map_err(db_err)?
            .get(META_REVISION)
            .map_err(db_err)?
            .map_or(0, |g| g.value());
        Ok((read_log(&txn, prefix, from)?, revision))
    }

    /// Drops the log up to and including `revision` (clamped to the current revision).
    fn compact(&self, revision: Revision) -> Result<(), StorageError> {
        let _serial = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        let txn = self.db.begin_write().map_err(db_err)?;
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
            let revision = revision.min(current);
            if revision <= compacted {
                return Ok(());
            }
            let mut log = txn.open_table(LOG).map_err(db_err)?;
            log.retain_in(..=revision, |_, _| false).map_err(db_err)?;
            meta.insert(META_COMPACTED, revision).map_err(db_err)?;
            revision
        };
        txn.commit().map_err(db_err)?;
        self.hub.compact(revision);
        Ok(())
    }

    fn get(&self, key: &str) -> Result<Option<KeyValue>, StorageError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(KV).map_err(db_err)?;
        let found = table.get(key).map_err(db_err)?;
        found.map(|g| decode(key, g.value())).transpose()
    }

    fn list(&self, prefix: &str, opts: &ListOptions) -> Result<ListResult, StorageError> {
        let txn = self.db.begin_read().map_err(db_err)?;
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
            Some(at) => (at, semantics::overlay(prefix, &read_log(&txn, prefix, at)?)),
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

    /// One mutation: reads the current record and revision inside a write transaction, lets `f`
    /// decide, writes record and revision, commits durably, then publishes the event.
    fn mutate<T>(
        &self,
        key: &str,
        f: impl FnOnce(Option<KeyValue>, Revision) -> Result<Outcome<T>, StorageError>,
    ) -> Result<T, StorageError> {
        let _serial = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        let txn = self.db.begin_write().map_err(db_err)?;
        let (out, event) = {
            let mut table = txn.open_table(KV).map_err(db_err)?;
            let mut log = txn.open_table(LOG).map_err(db_err)?;
            let mut meta = txn.open_table(META).map_err(db_err)?;
            let current = meta
                .get(META_REVISION)
                .map_err(db_err)?
                .map_or(0, |g| g.value());
            let existing = {
                let found = table.get(key).map_err(db_err)?;
                found.map(|g| decode(key, g.value())).transpose()?
            };
            let next = semantics::next_revision(current)?;
            match f(existing, next)? {
                Outcome::Unchanged(out) => (out, None),
                Outcome::Put(kv, event, out) => {
                    table.insert(key, encode(&kv).as_slice()).map_err(db_err)?;
                    log.insert(next, encode_event(&event).as_slice())
                        .map_err(db_err)?;
                    meta.insert(META_REVISION, next).map_err(db_err)?;
                    (out, Some(event))
                }
                Outcome::Remove(event, out) => {
                    table.remove(key).map_err(db_err)?;
                    log.insert(next, encode_event(&event).as_slice())
                        .map_err(db_err)?;
                    meta.insert(META_REVISION, next).map_err(db_err)?;
                    (out, Some(event))
                }
            }
        };
        match event {
            None => {
                txn.abort().map_err(db_err)?;
            }
            Some(event) => {
                txn.commit().map_err(db_err)?;
                self.hub.publish(event);
            }
        }
        Ok(out)
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
        self.blocking(move |inner| {
            inner.mutate(&key, |existing, rev| {
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
        self.blocking(move |inner| {
            inner.mutate(&key, |existing, rev| {
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
        })
        .await
    }

    async fn delete(
        &self,
        key: &str,
        expected_mod_revision: Option<Revision>,
    ) -> Result<KeyValue, StorageError> {
        let key = key.to_owned();
        self.blocking(move |inner| {
            inner.mutate(&key, |existing, rev| {
                let Some(prev) = existing else {
                    return Err(StorageError::NotFound { key: key.clone() });
                };
                semantics::check_expected(&key, &prev, expected_mod_revision)?;
                let (event, kv) = semantics::deleted(prev, rev);
                Ok(Outcome::Remove(event, kv))
            })
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
