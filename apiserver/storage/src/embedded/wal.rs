//! The embedded store's write-ahead log: one preallocated file beside the data file.
//!
//! A group commit is made durable by appending one record here and syncing it (one small
//! sequential write into blocks the file already owns), while the data file takes the group
//! without a sync; every so often a group is committed durably to the data file instead (a
//! checkpoint), which starts a new *generation* (a random number the data file records) and the
//! log again from its beginning. After a crash, the records of the data file's generation newer
//! than its revision are what it lost.
//!
//! File layout: `MAGIC`, then records, each `[body length u32 LE][crc32 of body u32 LE][body]`,
//! the body `[generation u64 LE][first revision u64 LE][count u32 LE]` and `count` times
//! `[length u32 LE][event]` (the event as the data file's log keeps it; the i-th has revision
//! `first + i`). Bytes past the last record are zeros, a torn record, or records of earlier
//! generations (the log is rewritten from its start, never truncated): reading stops at the
//! first record that is not a whole record of the generation asked for.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::{Revision, StorageError};

const MAGIC: &[u8; 8] = b"kcg-wal1";
/// Length and checksum.
const PREFIX: usize = 8;
/// Generation, first revision, count.
const BODY_HEADER: usize = 8 + 8 + 4;

/// One group's events, as logged.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Record {
    pub first: Revision,
    pub events: Vec<Vec<u8>>,
}

/// The open log. Only the writer appends; opening and recovery read it.
pub(super) struct Wal {
    file: File,
    path: PathBuf,
    capacity: u64,
    /// Where the next record goes.
    end: u64,
    /// The generation records are written in: the data file's, since its last checkpoint.
    generation: u64,
    /// Records appended since the last checkpoint.
    appended: usize,
    /// An append failed: what it left is unknown until the next checkpoint starts over.
    broken: bool,
    /// Where the last record appended starts, until another is or the log starts over.
    last_start: Option<u64>,
    /// The open file's (device, inode): the log removed or replaced under the store is told.
    identity: Option<(u64, u64)>,
    /// Appends to refuse, as a failing disk would (tests only).
    #[cfg(test)]
    pub refuse_appends: usize,
}

/// A file's (device, inode), where the platform tells them: how a file removed or replaced
/// under an open store is told (the data file's and the log's alike).
pub(super) fn identity(meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

/// The log's path for a data file: `<file>-wal`, beside it.
pub(super) fn path_for(data: &Path) -> PathBuf {
    let mut name = data.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

fn io_err(path: &Path, what: &str, e: std::io::Error) -> StorageError {
    StorageError::Io(format!("write-ahead log {}: {what}: {e}", path.display()))
}

impl Wal {
    /// Opens the log at `path`, creating it (`capacity` bytes of zeros, synced, so that an
    /// append never allocates) when it is missing or shorter. Records already there are kept
    /// for [`Wal::recover`].
    pub fn open(path: &Path, capacity: u64) -> Result<Self, StorageError> {
        let err = |what: &str| {
            let path = path.to_path_buf();
            let what = what.to_owned();
            move |e| io_err(&path, &what, e)
        };
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(err("cannot open"))?;
        let len = file.metadata().map_err(err("cannot read its size"))?.len();
        let mut magic = [0u8; MAGIC.len()];
        let head = if len >= MAGIC.len() as u64 {
            file.read_exact(&mut magic).map_err(err("cannot read"))?;
            Some(magic)
        } else {
            None
        };
        match head {
            Some(m) if &m == MAGIC => {}
            // New, or made and not yet marked when a crash came: nothing was logged in it.
            None => {}
            Some(m) if m == [0; MAGIC.len()] => {}
            Some(_) => {
                return Err(StorageError::Corrupt(format!(
                    "{} is not a write-ahead log of this store (move it away to start without it)",
                    path.display()
                )));
            }
        }
        if head != Some(*MAGIC) || len < capacity {
            // Zeros written, not a sparse length: a sync of an append then writes data only.
            file.seek(std::io::SeekFrom::Start(len))
                .map_err(err("cannot seek"))?;
            let zeros = vec![0u8; 1 << 20];
            let mut at = len;
            while at < capacity {
                let n = (capacity - at).min(zeros.len() as u64) as usize;
                file.write_all(&zeros[..n])
                    .map_err(err("cannot preallocate"))?;
                at += n as u64;
            }
            file.seek(std::io::SeekFrom::Start(0))
                .map_err(err("cannot seek"))?;
            file.write_all(MAGIC).map_err(err("cannot write"))?;
            file.sync_all().map_err(err("cannot sync"))?;
            sync_parent(path).map_err(err("cannot sync its directory"))?;
        }
        let identity = identity(&file.metadata().map_err(err("cannot read its size"))?);
        Ok(Self {
            identity,
            file,
            path: path.to_path_buf(),
            capacity: capacity.max(len),
            end: MAGIC.len() as u64,
            generation: 0,
            appended: 0,
            broken: false,
            last_start: None,
            #[cfg(test)]
            refuse_appends: 0,
        })
    }

    /// The records of `generation` after revision `after`, in order: what a data file at
    /// `after` in that generation lost in a crash. Records of a generation follow on from one
    /// another (a record taken back is zeroed, a torn one ends the log); one that does not
    /// follow on from `after` or its predecessor means the data file is not the one this log
    /// was written beside.
    pub fn recover(
        &mut self,
        generation: u64,
        after: Revision,
    ) -> Result<Vec<Record>, StorageError> {
        self.file
            .seek(std::io::SeekFrom::Start(MAGIC.len() as u64))
            .map_err(|e| io_err(&self.path, "cannot read", e))?;
        let mut reader = std::io::BufReader::with_capacity(1 << 20, &self.file);
        let mut records = Vec::new();
        let mut next = after + 1;
        let mut body = Vec::new();
        let mut remaining = self.capacity.saturating_sub(MAGIC.len() as u64);
        let mut first = true;
        let mut at = MAGIC.len() as u64;
        loop {
            let read = read_record(&mut reader, remaining, &mut body)
                .map_err(|e| io_err(&self.path, "cannot read", e))?;
            let parsed = match read {
                Found::Record => parse_body(&body),
                Found::End => break,
                Found::Damaged { len } => {
                    self.damaged_at(at, len, generation)?;
                    break;
                }
            };
            remaining -= (PREFIX + body.len()) as u64;
            let Some((record_generation, record, last)) = parsed else {
                self.damaged_at(at, Some(body.len()), generation)?;
                break;
            };
            at += (PREFIX + body.len()) as u64;
            if record_generation != generation {
                // The log's first record is the newest generation's. One the data file does
                // not know, with writes past it, means the file lost a checkpoint it had made
                // (rolled back by a repair, or restored from a copy older than its log).
                if first && last > after {
                    return Err(StorageError::Corrupt(format!(
                        "write-ahead log {} holds writes up to revision {last} of a generation \
                         the data file does not know, which ends at revision {after}: the data \
                         file is older than its log (rolled back, or restored from an older \
                         copy), or the log is another file's (empty it, `truncate -s 0 {}`, to \
                         start from the data file alone, without those writes)",
                        self.path.display(),
                        self.path.display()
                    )));
                }
                break;
            }
            first = false;
            if records.is_empty() && last <= after {
                // Already in the data file.
            } else if record.first == next {
                next = last + 1;
                records.push(record);
            } else {
                return Err(StorageError::Corrupt(format!(
                    "write-ahead log {} continues at revision {} but the data file ends at \
                     {after}: they do not belong together (move the log away to start from \
                     the data file alone)",
                    self.path.display(),
                    record.first
                )));
            }
        }
        Ok(records)
    }

    /// The data file holds everything logged (a durable commit recorded `generation`): the
    /// log starts over, its old records now of an older generation.
    pub fn restart(&mut self, generation: u64) {
        self.generation = generation;
        self.end = MAGIC.len() as u64;
        self.appended = 0;
        self.broken = false;
        self.last_start = None;
    }

    /// Whether the next group should be a checkpoint instead of a record: the log is broken,
    /// full for a record of `events`, or has taken `max_records` since the last one.
    pub fn wants_checkpoint(&self, events: &[Vec<u8>], max_records: usize) -> bool {
        self.broken
            || self.appended >= max_records
            || self.end + record_len(events) as u64 > self.capacity
    }

    /// Appends one group's events and syncs them: once this returns `Ok`, they survive a
    /// crash. On an error the log is broken until the next [`Wal::restart`].
    pub fn append(&mut self, first: Revision, events: &[Vec<u8>]) -> Result<(), StorageError> {
        let record = encode_record(self.generation, first, events);
        #[cfg(test)]
        if self.refuse_appends > 0 {
            self.refuse_appends -= 1;
            self.broken = true;
            return Err(io_err(
                &self.path,
                "cannot append",
                std::io::Error::other("refused by the test"),
            ));
        }
        let written = {
            use std::os::unix::fs::FileExt;
            self.file
                .write_all_at(&record, self.end)
                .and_then(|()| self.file.sync_data())
        };
        match written {
            Ok(()) => {
                self.last_start = Some(self.end);
                self.end += record.len() as u64;
                self.appended += 1;
                Ok(())
            }
            Err(e) => {
                self.broken = true;
                Err(io_err(&self.path, "cannot append", e))
            }
        }
    }

    /// Takes the last record back (the data file refused its group): its length is zeroed,
    /// which ends the log there, and the next record goes in its place. Should that fail, the
    /// next group is a checkpoint, after which no older record is ever applied.
    pub fn retract(&mut self) {
        use std::os::unix::fs::FileExt;
        let Some(start) = self.last_start.take() else {
            return;
        };
        let zeroed = self
            .file
            .write_all_at(&[0; PREFIX], start)
            .and_then(|()| self.file.sync_data());
        match zeroed {
            Ok(()) => {
                self.end = start;
                self.appended -= 1;
            }
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e, "cannot take back a write-ahead log record; the next group is a checkpoint");
                self.broken = true;
            }
        }
    }

    /// The next generation: the one a checkpoint records.
    pub fn next_generation(&self) -> u64 {
        new_generation(self.generation)
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Recovery met bytes at `at` that are no record (`len`: the length their prefix gives).
    /// At the log's end that is a record a crash tore, and the log ends there; followed by a
    /// whole record of `generation`, it is damage, and the writes after it would be lost
    /// without a word: a `Corrupt` error.
    fn damaged_at(&self, at: u64, len: Option<usize>, generation: u64) -> Result<(), StorageError> {
        use std::os::unix::fs::FileExt;
        // Reads `buf` at `offset`: `false` past the file's end; an unreadable log is an error,
        // never taken for its end.
        let read_at = |buf: &mut [u8], offset: u64| match self.file.read_exact_at(buf, offset) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
            Err(e) => Err(io_err(&self.path, "cannot read", e)),
        };
        let follows = match len.map(|len| at + (PREFIX + len) as u64) {
            Some(next) if next + PREFIX as u64 <= self.capacity => {
                let mut prefix = [0u8; PREFIX];
                if !read_at(&mut prefix, next)? {
                    false
                } else {
                    let body_len = u32_at(&prefix, 0).unwrap_or(0) as usize;
                    let fits = body_len >= BODY_HEADER
                        && next + (PREFIX + body_len) as u64 <= self.capacity;
                    fits && {
                        let mut body = vec![0u8; body_len];
                        read_at(&mut body, next + PREFIX as u64)?
                            && crc32fast::hash(&body) == u32_at(&prefix, 4).unwrap_or(0)
                            && parse_body(&body).is_some_and(|(g, _, _)| g == generation)
                    }
                }
            }
            _ => false,
        };
        if follows {
            return Err(StorageError::Corrupt(format!(
                "write-ahead log {}: the record at byte {at} is damaged and later records of \
                 the same log follow it: the writes they hold would be lost. Restore the log; \
                 to start from the data file alone, without the writes since its last \
                 checkpoint, empty it (`truncate -s 0 {}`)",
                self.path.display(),
                self.path.display()
            )));
        }
        tracing::warn!(path = %self.path.display(), offset = at, "write-ahead log: a torn or damaged record ends the log");
        Ok(())
    }

    /// How the file at the log's path is no longer the log the store writes — removed,
    /// replaced, or cut short — which the next start would read instead of it; `None` while
    /// it is (or when that cannot be told now).
    pub fn changed(&self) -> Option<&'static str> {
        let expected = self.identity?;
        match std::fs::metadata(&self.path) {
            Ok(meta) if identity(&meta) != Some(expected) => Some("was replaced by another file"),
            Ok(meta) if meta.len() < self.capacity => Some("was cut short"),
            Ok(_) => None,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some("was removed"),
            Err(_) => None,
        }
    }
}

/// A generation after `old`: random, so that no data file takes another file's log for its
/// own (a log left beside a replaced file, or copied with another).
pub(super) fn new_generation(old: u64) -> u64 {
    use std::hash::BuildHasher;
    let state = std::collections::hash_map::RandomState::new();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    (1..)
        .map(|salt: u64| state.hash_one((old, nanos, salt)))
        .find(|g| *g != old && *g != 0)
        .unwrap_or(old.wrapping_add(1))
}

fn sync_parent(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => File::open(dir)?.sync_all(),
        _ => File::open(".")?.sync_all(),
    }
}

fn record_len(events: &[Vec<u8>]) -> usize {
    PREFIX + BODY_HEADER + events.iter().map(|e| 4 + e.len()).sum::<usize>()
}

fn encode_record(generation: u64, first: Revision, events: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(record_len(events));
    out.extend_from_slice(&[0; PREFIX]);
    out.extend_from_slice(&generation.to_le_bytes());
    out.extend_from_slice(&first.to_le_bytes());
    out.extend_from_slice(&(events.len() as u32).to_le_bytes());
    for event in events {
        out.extend_from_slice(&(event.len() as u32).to_le_bytes());
        out.extend_from_slice(event);
    }
    let body_len = (out.len() - PREFIX) as u32;
    let crc = crc32fast::hash(&out[PREFIX..]);
    out[..4].copy_from_slice(&body_len.to_le_bytes());
    out[4..8].copy_from_slice(&crc.to_le_bytes());
    out
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// What the log holds where a record is read.
enum Found {
    /// A record whose checksum holds, in `body`.
    Record,
    /// No record: zeros (the log's end, or a record taken back), or the file's end.
    End,
    /// Bytes that are no record: a torn last record, or damage. `len`: the length its prefix
    /// gives, when that fits the log.
    Damaged { len: Option<usize> },
}

/// Reads the next record's body into `body`: what is there (a whole record with a matching
/// checksum, the log's end, or bytes that are no record) within the `remaining` bytes; `Err`
/// only if the file cannot be read.
fn read_record(
    reader: &mut impl Read,
    remaining: u64,
    body: &mut Vec<u8>,
) -> std::io::Result<Found> {
    let mut prefix = [0u8; PREFIX];
    if !read_all(reader, &mut prefix)? {
        return Ok(Found::End);
    }
    if prefix == [0; PREFIX] {
        return Ok(Found::End);
    }
    let body_len = u32_at(&prefix, 0).unwrap_or(0) as usize;
    let crc = u32_at(&prefix, 4).unwrap_or(0);
    if body_len < BODY_HEADER || (PREFIX + body_len) as u64 > remaining {
        return Ok(Found::Damaged { len: None });
    }
    body.resize(body_len, 0);
    if !read_all(reader, body)? {
        return Ok(Found::Damaged { len: None });
    }
    Ok(match crc32fast::hash(body) == crc {
        true => Found::Record,
        false => Found::Damaged {
            len: Some(body_len),
        },
    })
}

/// Fills `buf`; `false` at the end of the file first.
fn read_all(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<bool> {
    match reader.read_exact(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

/// A checksummed body's generation, events and last revision; `None` if they do not add up (a
/// record written by something else).
fn parse_body(body: &[u8]) -> Option<(u64, Record, Revision)> {
    let generation = u64_at(body, 0)?;
    let first = u64_at(body, 8)?;
    let count = u32_at(body, 16)? as usize;
    if count == 0 || first == 0 {
        return None;
    }
    let last = first.checked_add(count as u64 - 1)?;
    let mut events = Vec::with_capacity(count.min(body.len()));
    let mut at = BODY_HEADER;
    for _ in 0..count {
        let len = u32_at(body, at)? as usize;
        at += 4;
        events.push(body.get(at..at.checked_add(len)?)?.to_vec());
        at += len;
    }
    (at == body.len()).then_some((generation, Record { first, events }, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(n: usize, tag: u8) -> Vec<Vec<u8>> {
        (0..n).map(|i| vec![tag; 10 + i]).collect()
    }

    fn open(dir: &Path) -> Wal {
        Wal::open(&dir.join("db-wal"), 4096).unwrap()
    }

    #[test]
    fn records_are_recovered_in_order_after_the_data_files_revision() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = open(dir.path());
        wal.restart(3);
        wal.append(11, &events(2, b'a')).unwrap();
        wal.append(13, &events(1, b'b')).unwrap();
        wal.append(14, &events(3, b'c')).unwrap();
        drop(wal);
        let mut wal = open(dir.path());
        // The data file kept the first record.
        let got = wal.recover(3, 12).unwrap();
        assert_eq!(
            got,
            vec![
                Record {
                    first: 13,
                    events: events(1, b'b')
                },
                Record {
                    first: 14,
                    events: events(3, b'c')
                },
            ]
        );
        // Another generation's data file: none of it.
        assert_eq!(wal.recover(4, 12).unwrap(), vec![]);
        assert_eq!(wal.recover(3, 16).unwrap(), vec![]);
    }

    #[test]
    fn a_torn_record_ends_the_log_and_a_damaged_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = open(dir.path());
        wal.restart(1);
        wal.append(1, &events(1, b'a')).unwrap();
        let second = wal.end;
        wal.append(2, &events(1, b'b')).unwrap();
        let third = wal.end;
        wal.append(3, &events(1, b'c')).unwrap();
        drop(wal);
        let path = dir.path().join("db-wal");
        let pristine = std::fs::read(&path).unwrap();
        // The last record torn (a byte of it wrong, as a crash mid-append leaves it): the two
        // before it are recovered.
        let mut bytes = pristine.clone();
        bytes[third as usize + PREFIX + 5] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let mut wal = open(dir.path());
        assert_eq!(wal.recover(1, 0).unwrap().len(), 2);
        drop(wal);
        // A byte of the second record flipped, the third whole after it: damage, which would
        // lose the third without a word; refused.
        let mut bytes = pristine;
        bytes[second as usize + PREFIX + 5] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let mut wal = open(dir.path());
        let e = wal.recover(1, 0).unwrap_err();
        assert!(
            matches!(&e, StorageError::Corrupt(m) if m.contains(&format!("the record at byte {second} is damaged and later records"))),
            "{e}"
        );
    }

    #[test]
    fn records_of_an_older_generation_after_a_restart_are_not_recovered() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = open(dir.path());
        wal.restart(1);
        for first in 1..=5 {
            wal.append(first, &events(1, b'o')).unwrap();
        }
        // Checkpointed at 5: generation 2 writes over the start of the old records.
        wal.restart(2);
        wal.append(6, &events(1, b'n')).unwrap();
        drop(wal);
        let mut wal = open(dir.path());
        let got = wal.recover(2, 5).unwrap();
        assert_eq!(
            got,
            vec![Record {
                first: 6,
                events: events(1, b'n')
            }]
        );
        // The old generation's records past the new one are not read as generation 1's either.
        assert_eq!(wal.recover(1, 6).unwrap(), vec![]);
        // A generation-1 data file behind the generation-2 records: it lost the checkpoint
        // that began generation 2 (rolled back, or an older copy): refused, not silently
        // started without them.
        let e = wal.recover(1, 3).unwrap_err();
        assert!(
            matches!(&e, StorageError::Corrupt(m) if m.contains("holds writes up to revision 6 of a generation the data file does not know")),
            "{e}"
        );
    }

    #[test]
    fn a_record_taken_back_is_not_recovered_and_the_next_takes_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = open(dir.path());
        wal.restart(1);
        wal.append(1, &events(1, b'a')).unwrap();
        wal.append(2, &events(3, b'x')).unwrap();
        wal.retract();
        // Nothing to take back twice.
        wal.retract();
        assert_eq!(wal.recover(1, 0).unwrap().len(), 1);
        // The next group reuses revision 2, written over the start of the one taken back.
        wal.append(2, &events(1, b'b')).unwrap();
        drop(wal);
        let mut wal = open(dir.path());
        assert_eq!(
            wal.recover(1, 0).unwrap(),
            vec![
                Record {
                    first: 1,
                    events: events(1, b'a')
                },
                Record {
                    first: 2,
                    events: events(1, b'b')
                },
            ]
        );
    }

    #[test]
    fn records_that_cannot_be_are_the_end_of_the_log_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db-wal");
        let mut wal = open(dir.path());
        wal.restart(1);
        wal.append(1, &events(1, b'a')).unwrap();
        let end = wal.end as usize;
        drop(wal);
        let mut bytes = std::fs::read(&path).unwrap();
        // A length past the end of the file, then revisions past u64::MAX.
        bytes[end..end + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(open(dir.path()).recover(1, 0).unwrap().len(), 1);
        let overflowing = encode_record(1, u64::MAX, &events(2, b'o'));
        bytes[end..end + overflowing.len()].copy_from_slice(&overflowing);
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(open(dir.path()).recover(1, 0).unwrap().len(), 1);
    }

    #[test]
    fn a_gap_is_an_error_naming_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = open(dir.path());
        wal.restart(1);
        wal.append(10, &events(1, b'a')).unwrap();
        let e = wal.recover(1, 5).unwrap_err();
        assert!(
            matches!(&e, StorageError::Corrupt(m) if m.contains("db-wal") && m.contains("revision 10")),
            "{e:?}"
        );
    }

    #[test]
    fn a_full_log_or_a_failed_append_asks_for_a_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = open(dir.path());
        wal.restart(1);
        assert!(!wal.wants_checkpoint(&events(1, b'a'), 10));
        assert!(wal.wants_checkpoint(&[vec![0; 5000]], 10));
        wal.append(1, &events(1, b'a')).unwrap();
        assert!(wal.wants_checkpoint(&events(1, b'a'), 1));
        wal.broken = true;
        assert!(wal.wants_checkpoint(&events(1, b'a'), 10));
        wal.restart(2);
        assert!(!wal.wants_checkpoint(&events(1, b'a'), 10));
    }

    #[test]
    fn a_foreign_file_is_refused_and_a_short_one_is_extended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db-wal");
        std::fs::write(&path, b"something else entirely").unwrap();
        let e = Wal::open(&path, 4096).err().unwrap();
        assert!(matches!(e, StorageError::Corrupt(_)), "{e:?}");
        std::fs::write(&path, b"").unwrap();
        Wal::open(&path, 4096).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 4096);
        assert_eq!(&std::fs::read(&path).unwrap()[..8], MAGIC);
    }
}
