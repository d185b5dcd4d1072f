//! How records and events are laid out in the data file (and in the write-ahead log).

use bytes::Bytes;

use crate::{Event, EventType, KeyValue, Revision, StorageError};

const RECORD_VERSION: u8 = 1;
const HEADER: usize = 1 + 8 + 8;

pub(super) fn encode(kv: &KeyValue) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + kv.value.len());
    out.push(RECORD_VERSION);
    out.extend_from_slice(&kv.create_revision.to_be_bytes());
    out.extend_from_slice(&kv.mod_revision.to_be_bytes());
    out.extend_from_slice(&kv.value);
    out
}

pub(super) fn decode(key: &str, raw: &[u8]) -> Result<KeyValue, StorageError> {
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

pub(super) fn event_kind_byte(kind: EventType) -> u8 {
    match kind {
        EventType::Added => 1,
        EventType::Modified => 2,
        EventType::Deleted => 3,
        // Never stored: progress events exist only on watch streams.
        EventType::Progress => 0,
    }
}

pub(super) fn encode_event(event: &Event) -> Vec<u8> {
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
pub(super) fn decode_event(
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
        memo: Default::default(),
        revision,
    }))
}
