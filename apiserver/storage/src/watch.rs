//! Watch fan-out and the bounded event history, shared by every in-process backend.
//!
//! A backend calls [`WatchHub::publish`] once per committed mutation, in revision order, while it
//! still holds whatever lock serialises its writes; [`WatchHub::subscribe`] snapshots the history
//! and registers the watcher under the hub's one lock, so a watcher sees every event after its
//! start revision exactly once: first the replay, then the live events, without a gap between the
//! two.
//!
//! A burst larger than a watcher's buffer (a deletecollection, a group commit of many writers)
//! does not end a watcher that is reading: once its buffer is full its events wait in the
//! shared history, and its stream takes them from there as its reader drains the buffer. A
//! watcher that truly cannot keep up is ended, with `Behind`: once it is more than half the
//! history's capacity behind (so that a new watch from where it stopped still finds its events
//! in the history), or the history drops an event it still needs. No memory is held per watcher
//! beyond its buffer.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};

use tokio::sync::mpsc;

use crate::{Event, Revision, StorageError};

/// The items of a watch: events in revision order, then possibly one final error. An event is
/// shared by every watcher it reaches (and the history): handing it to a thousand watchers
/// copies a pointer a thousand times, not its key and values.
pub type WatchItem = Result<Arc<Event>, StorageError>;

/// A [`WatchItem`] as a watcher's buffer holds it: two words, the rare final error boxed (a
/// watch's channel allocates its first 32 slots when it is made, for every idle watch).
pub type WatchSlot = Result<Arc<Event>, Box<StorageError>>;

/// A stream of watch events (see [`crate::Storage::watch`]).
///
/// Yields `Ok(event)` in strictly increasing revision order. If the watcher falls too far behind
/// (more than half the history behind, or the history drops an event it has not been given yet;
/// a burst bigger than its buffer waits in the history, and the stream takes it from there as
/// it is read) it yields the events already buffered, then one `Err(StorageError::Behind { delivered })`, then ends: a new watch
/// from `delivered` goes on where it stopped (or is `Expired` if the history no longer holds it,
/// and the client relists, as a Kubernetes client does on `410 Gone`). The stream also ends
/// (yields `None`) when the store is dropped.
///
/// Besides changes, a stream may yield [`EventType::Progress`](crate::EventType::Progress)
/// events: "every change up to this revision has been delivered". They come after
/// [`ProgressHandle::request`] (in-process stores answer at once, with the store's current
/// revision) or at the backend's own pace (etcd's progress notifications).
///
/// Implements [`futures_core::Stream`]; [`WatchStream::recv`] is the same without a stream
/// combinator crate. Dropping the stream unregisters the watcher.
#[derive(Debug)]
pub struct WatchStream {
    rx: mpsc::Receiver<WatchSlot>,
    progress: Option<ProgressHandle>,
    /// A hub watcher's way back to its events in the history after a burst.
    refill: Option<Refill>,
}

/// Shared by a hub watcher and its stream: whether the watcher's next events wait in the
/// history (its buffer was full when they were published), and the stream's reader to wake
/// when that starts.
#[derive(Debug, Default)]
struct Lag {
    behind: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Lag {
    /// Set under the hub's lock, by the publisher that found the buffer full.
    fn start(&self) {
        self.behind.store(true, SeqCst);
        let waker = self.waker.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Whether the stream must refill itself; registers `waker` first, so that a burst starting
    /// after the check wakes it (either this load sees the flag or [`Lag::start`] sees the
    /// waker).
    fn check(&self, waker: &Waker) -> bool {
        if self.behind.load(SeqCst) {
            return true;
        }
        {
            let mut slot = self.waker.lock().unwrap_or_else(|e| e.into_inner());
            if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
                *slot = Some(waker.clone());
            }
        }
        self.behind.load(SeqCst)
    }
}

#[derive(Debug)]
struct Refill {
    hub: Weak<Mutex<HubState>>,
    id: u64,
    lag: Arc<Lag>,
}

impl Refill {
    /// Moves the watcher's waiting events from the history into its buffer (as many as fit);
    /// true if it moved any.
    fn refill(&self) -> bool {
        let Some(state) = self.hub.upgrade() else {
            return false;
        };
        let mut st = lock(&state);
        let st = &mut *st;
        let Some(w) = st.watchers.iter_mut().find(|w| w.id == self.id) else {
            return false;
        };
        if !w.lag.behind.load(SeqCst) {
            return false;
        }
        // From the events of its last revision it was not given yet (a watch cache's mirror
        // has several events of one revision for a multi-key etcd transaction).
        let start = st.history.partition_point(|e| e.revision < w.after);
        let mut given = w.given_at_after;
        let mut moved = false;
        let mut caught_up = true;
        for e in st.history.range(start..) {
            if !w.wants(e) {
                continue;
            }
            if e.revision == w.after && given > 0 {
                given -= 1;
                continue;
            }
            // One slot is always kept free for the final error.
            if w.tx.capacity() <= 1 {
                caught_up = false;
                break;
            }
            let _ = w.tx.try_send(Ok(e.clone()));
            w.handed(e.revision);
            moved = true;
        }
        if caught_up {
            // Under the hub's lock: the next event published goes to the buffer directly.
            w.lag.behind.store(false, SeqCst);
        }
        moved
    }
}

/// Asks a watch for a progress event (see [`WatchStream::progress_handle`]). Cheap to clone;
/// requesting on a watch that has ended does nothing.
#[derive(Clone)]
pub struct ProgressHandle {
    request: Arc<dyn Fn() + Send + Sync>,
}

impl ProgressHandle {
    /// A handle that runs `request`; for backends that forward events through a task.
    pub fn new(request: impl Fn() + Send + Sync + 'static) -> Self {
        Self {
            request: Arc::new(request),
        }
    }

    /// Asks for a [`EventType::Progress`](crate::EventType::Progress) event, delivered in order
    /// with the changes. Best effort: a watcher whose buffer is nearly full gets none (its
    /// changes carry its progress anyway).
    pub fn request(&self) {
        (self.request)()
    }
}

impl std::fmt::Debug for ProgressHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressHandle")
    }
}

impl WatchStream {
    /// Wraps a channel receiver; for backends that forward events from elsewhere (e.g. an etcd
    /// watch) through a task. The sender must follow this type's contract: ordered events, at
    /// most one final error.
    pub fn from_receiver(rx: mpsc::Receiver<WatchSlot>) -> Self {
        Self {
            rx,
            progress: None,
            refill: None,
        }
    }

    /// The same stream, answering progress requests with `handle`.
    pub fn with_progress(mut self, handle: ProgressHandle) -> Self {
        self.progress = Some(handle);
        self
    }

    /// A handle to ask this watch for progress events, if the backend can answer on request.
    pub fn progress_handle(&self) -> Option<ProgressHandle> {
        self.progress.clone()
    }

    /// The next event, `None` once the stream has ended.
    pub async fn recv(&mut self) -> Option<WatchItem> {
        std::future::poll_fn(|cx| self.poll_item(cx)).await
    }

    /// The next event if one is ready now, without waiting; `None` if nothing is buffered (or the
    /// stream has ended).
    pub fn try_recv(&mut self) -> Option<WatchItem> {
        if let Ok(slot) = self.rx.try_recv() {
            return Some(unbox(slot));
        }
        match &self.refill {
            Some(r) if r.lag.behind.load(SeqCst) && r.refill() => {
                self.rx.try_recv().ok().map(unbox)
            }
            _ => None,
        }
    }

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<WatchItem>> {
        loop {
            if let Poll::Ready(slot) = self.rx.poll_recv(cx) {
                return Poll::Ready(slot.map(unbox));
            }
            // The buffer is empty: the events of a burst that did not fit wait in the history.
            match &self.refill {
                Some(r) if r.lag.check(cx.waker()) && r.refill() => {}
                _ => return Poll::Pending,
            }
        }
    }
}

impl futures_core::Stream for WatchStream {
    type Item = WatchItem;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<WatchItem>> {
        self.poll_item(cx)
    }
}

fn unbox(slot: WatchSlot) -> WatchItem {
    slot.map_err(|e| *e)
}

struct Watcher {
    id: u64,
    prefix: String,
    /// Events at or below this revision are not for this watcher: its start revision (or the
    /// end of a replay read from elsewhere). Fixed, so that several events of one revision (a
    /// multi-key etcd transaction, seen through a watch cache) all reach it.
    skip_through: Revision,
    /// The revision of the last event handed to it (at least `skip_through`).
    after: Revision,
    /// How many events of revision `after` it was handed.
    given_at_after: usize,
    tx: mpsc::Sender<WatchSlot>,
    /// Set while its events after `after` wait in the history.
    lag: Arc<Lag>,
}

impl Watcher {
    /// Whether `event` is for this watcher.
    fn wants(&self, event: &Event) -> bool {
        event.revision > self.skip_through && event.kv.key.starts_with(&self.prefix)
    }

    /// Records an event of `revision` handed to it.
    fn handed(&mut self, revision: Revision) {
        if revision == self.after {
            self.given_at_after += 1;
        } else {
            self.after = revision;
            self.given_at_after = 1;
        }
    }
}

struct HubState {
    /// Revision of the last published event (the store's current revision).
    revision: Revision,
    /// Every event with a revision above this one is still in `history`: the oldest revision a
    /// watch may start from.
    horizon: Revision,
    /// The last compaction's revision: reads at an older revision are `Expired`, as etcd
    /// refuses them (a watch from the revision before it still starts: see `compact`).
    compacted: Revision,
    /// Shared with the watchers' buffers: an event is handed to each as a pointer.
    history: VecDeque<Arc<Event>>,
    capacity: usize,
    /// What `history` holds, in bytes (keys and values), and its bound.
    bytes: usize,
    max_bytes: usize,
    buffer: usize,
    watchers: Vec<Watcher>,
    next_watcher: u64,
}

/// The shared watch/history machinery; one per store.
pub(crate) struct WatchHub {
    state: Arc<Mutex<HubState>>,
}

fn lock(state: &Mutex<HubState>) -> MutexGuard<'_, HubState> {
    // Nothing panics while holding this lock, but never turn poisoning into a panic here.
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl WatchHub {
    /// A hub whose store is at `revision`; no history before it (watching from an older revision
    /// is `Expired`). `capacity` bounds the history in events and `max_bytes` in bytes, `buffer`
    /// each watcher's live backlog.
    pub(crate) fn new(
        revision: Revision,
        capacity: usize,
        max_bytes: usize,
        buffer: usize,
    ) -> Self {
        Self {
            state: Arc::new(Mutex::new(HubState {
                revision,
                horizon: revision,
                compacted: 0,
                history: VecDeque::with_capacity(capacity.min(1024)),
                capacity,
                bytes: 0,
                max_bytes,
                buffer: buffer.max(1),
                watchers: Vec::new(),
                next_watcher: 0,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HubState> {
        lock(&self.state)
    }

    /// The revision of the last published event.
    pub(crate) fn revision(&self) -> Revision {
        self.lock().revision
    }

    /// Records `event` in the history and hands it to every matching watcher. Must be called in
    /// revision order, by the writer, before the next write can commit.
    pub(crate) fn publish(&self, event: impl Into<Arc<Event>>) {
        let event = event.into();
        let mut st = self.lock();
        let st = &mut *st;
        st.revision = st.revision.max(event.revision);
        let history = st.capacity > 0;
        let max_lag = (st.capacity / 2).max(1) as Revision;
        st.watchers.retain_mut(|w| {
            if w.tx.is_closed() {
                return false;
            }
            if !w.wants(&event) {
                return true;
            }
            if w.lag.behind.load(SeqCst) {
                // It takes its events from the history now, this one too — unless it is so far
                // behind that it will not catch up: then it ends while a new watch from where
                // it stopped can still be served from the history.
                if event.revision - w.after <= max_lag {
                    return true;
                }
                // The free slot kept for it.
                let _ =
                    w.tx.try_send(Err(Box::new(StorageError::Behind { delivered: w.after })));
                return false;
            }
            // One slot is always kept free for the final error.
            if w.tx.capacity() > 1 {
                // Cannot fail: there is room and the receiver is open (checked above; a receiver
                // closing in between only loses an event nobody will read).
                let _ = w.tx.try_send(Ok(event.clone()));
                w.handed(event.revision);
                true
            } else if history {
                // A burst: this event and the next wait in the history until the stream has
                // room for them.
                w.lag.start();
                true
            } else {
                let _ =
                    w.tx.try_send(Err(Box::new(StorageError::Behind { delivered: w.after })));
                false
            }
        });
        if !history {
            st.horizon = st.revision;
            return;
        }
        st.bytes += event_bytes(&event);
        st.history.push_back(event);
        let mut dropped = Vec::new();
        while st.history.len() > st.capacity || (st.bytes > st.max_bytes && st.history.len() > 1) {
            match st.drop_oldest() {
                Some(e) => dropped.push(e),
                None => break,
            }
        }
        st.settle(&dropped);
    }

    /// Every change up to `revision` has been published (nothing under the hub's keys changed
    /// since its last event): progress answers and lists may name that revision.
    pub(crate) fn advance(&self, revision: Revision) {
        let mut st = self.lock();
        st.revision = st.revision.max(revision);
    }

    /// Ends every watch with `error` (after the events already handed to it): the source of
    /// the events failed, and what follows is unknown.
    pub(crate) fn fail_all(&self, error: StorageError) {
        let mut st = self.lock();
        for w in st.watchers.drain(..) {
            // One slot is always kept free for a final error.
            let _ = w.tx.try_send(Err(Box::new(error.clone())));
        }
    }

    /// Every retained event after `revision` (in order), and the hub's revision, for a read at
    /// `revision`; `Expired` when events after it were dropped or it is below the last
    /// compaction.
    pub(crate) fn since(
        &self,
        revision: Revision,
    ) -> Result<(Vec<Arc<Event>>, Revision), StorageError> {
        let st = self.lock();
        if revision < st.horizon || revision < st.compacted {
            return Err(StorageError::Expired {
                requested: revision,
                oldest: st.horizon.max(st.compacted),
            });
        }
        let start = st.history.partition_point(|e| e.revision <= revision);
        Ok((st.history.range(start..).cloned().collect(), st.revision))
    }

    /// Compacts as etcd does at `revision` (clamped to the current revision): drops history
    /// events before it, and keeps its own, so that a watch from the revision before it —
    /// whose first event is `revision`'s — still starts (etcd refuses only a start revision
    /// below the compaction's).
    pub(crate) fn compact(&self, revision: Revision) {
        let mut st = self.lock();
        let horizon = revision.min(st.revision).saturating_sub(1);
        let mut dropped = Vec::new();
        while st.history.front().is_some_and(|e| e.revision <= horizon) {
            match st.drop_oldest() {
                Some(e) => dropped.push(e),
                None => break,
            }
        }
        st.settle(&dropped);
        st.horizon = st.horizon.max(horizon);
        st.compacted = st.compacted.max(horizon + 1);
    }

    /// Registers a watcher for keys starting with `prefix` and events after `from` (`0` = from
    /// the current revision), replaying the retained history first.
    pub(crate) fn subscribe(
        &self,
        prefix: &str,
        from: Revision,
    ) -> Result<WatchStream, StorageError> {
        self.subscribe_after(prefix, from, None)
            .map(|w| w.expect("no older replay to outrun"))
    }

    /// [`WatchHub::subscribe`], with `older` = the watcher's events (already filtered by prefix)
    /// after `from` up to and including revision `through`, read from elsewhere (a persisted
    /// log) when the hub's history no longer reaches back to `from`. `Ok(None)` when the hub has
    /// dropped events after `through` meanwhile: read again.
    pub(crate) fn subscribe_after(
        &self,
        prefix: &str,
        from: Revision,
        older: Option<(Vec<Arc<Event>>, Revision)>,
    ) -> Result<Option<WatchStream>, StorageError> {
        let mut st = self.lock();
        let from = if from == 0 { st.revision } else { from };
        let (mut replay, replay_from) = match older {
            Some((_, through)) if through < st.horizon => return Ok(None),
            Some((events, through)) => (events, through),
            None if from < st.horizon => {
                return Err(StorageError::Expired {
                    requested: from,
                    oldest: st.horizon,
                });
            }
            None => (Vec::new(), from),
        };
        // Only prune closed watchers here so an idle store does not accumulate them.
        st.watchers.retain(|w| !w.tx.is_closed());
        let start = st.history.partition_point(|e| e.revision <= replay_from);
        replay.extend(
            st.history
                .range(start..)
                .filter(|e| e.kv.key.starts_with(prefix))
                .cloned(),
        );
        let (tx, rx) = mpsc::channel(replay.len() + st.buffer + 1);
        // Events up to `replay_from` are covered by the replay even when none matched (and a
        // persisted log may be ahead of the hub: those events must not come twice).
        let mut after = replay_from;
        let mut given_at_after = 0;
        for e in replay {
            if e.revision == after {
                given_at_after += 1;
            } else if e.revision > after {
                after = e.revision;
                given_at_after = 1;
            }
            // Cannot fail: the channel was sized for the replay.
            let _ = tx.try_send(Ok(e));
        }
        let id = st.next_watcher;
        st.next_watcher += 1;
        let lag = Arc::new(Lag::default());
        st.watchers.push(Watcher {
            id,
            prefix: prefix.to_owned(),
            skip_through: replay_from,
            after,
            given_at_after,
            tx,
            lag: lag.clone(),
        });
        let hub: Weak<Mutex<HubState>> = Arc::downgrade(&self.state);
        let refill = Refill {
            hub: hub.clone(),
            id,
            lag,
        };
        let progress = ProgressHandle::new(move || {
            if let Some(state) = hub.upgrade() {
                request_progress(&state, id);
            }
        });
        Ok(Some(WatchStream {
            rx,
            progress: Some(progress),
            refill: Some(refill),
        }))
    }

    #[cfg(test)]
    pub(crate) fn watcher_count(&self) -> usize {
        self.lock().watchers.len()
    }
}

impl HubState {
    /// Drops the oldest history event and returns it; the watchers learn of it in [`Self::settle`].
    fn drop_oldest(&mut self) -> Option<Arc<Event>> {
        let dropped = self.history.pop_front()?;
        self.bytes -= event_bytes(&dropped);
        self.horizon = self.horizon.max(dropped.revision);
        Some(dropped)
    }

    /// After `dropped` (oldest first) left the history: a watcher whose events wait there and
    /// needed one of them cannot get it any more, so it ends with `Behind` (after what it was
    /// given); one that was handed an event of its last revision that left keeps its count of
    /// those in step (the history drops oldest first, and the ones it was handed are the
    /// earliest it wants at that revision), so a later refill skips exactly those. One pass over
    /// the watchers per batch; for most, nothing dropped is as recent as their last revision.
    fn settle(&mut self, dropped: &[Arc<Event>]) {
        if dropped.is_empty() {
            return;
        }
        self.watchers.retain_mut(|w| {
            let start = dropped.partition_point(|e| e.revision < w.after);
            for e in &dropped[start..] {
                if !w.wants(e) {
                    continue;
                }
                if e.revision == w.after && w.given_at_after > 0 {
                    w.given_at_after -= 1;
                    continue;
                }
                if w.lag.behind.load(SeqCst) {
                    // The free slot kept for it.
                    let _ =
                        w.tx.try_send(Err(Box::new(StorageError::Behind { delivered: w.after })));
                    return false;
                }
            }
            true
        });
    }
}

/// What an event holds in memory, roughly: its key and values and a fixed overhead.
fn event_bytes(e: &Event) -> usize {
    const OVERHEAD: usize = 96;
    let prev = e.prev.as_ref().map_or(0, |p| p.key.len() + p.value.len());
    OVERHEAD + e.kv.key.len() + e.kv.value.len() + prev
}

/// Hands watcher `id` a progress event at the hub's revision: every event up to it was handed to
/// every watcher under this lock, so it comes after all of them.
fn request_progress(state: &Mutex<HubState>, id: u64) {
    let st = lock(state);
    let Some(w) = st.watchers.iter().find(|w| w.id == id) else {
        return;
    };
    // A watch from a future revision has not reached its start yet; one whose events wait in
    // the history has not been given everything up to the hub's revision; and one slot stays
    // free for the final error.
    if w.after <= st.revision && !w.lag.behind.load(SeqCst) && w.tx.capacity() > 1 {
        let _ =
            w.tx.try_send(Ok(Arc::new(crate::semantics::progress(st.revision))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EventType, KeyValue};

    fn ev(rev: Revision, key: &str) -> Event {
        Event {
            kind: EventType::Added,
            kv: KeyValue {
                key: key.into(),
                value: bytes::Bytes::from_static(b"v"),
                create_revision: rev,
                mod_revision: rev,
            },
            prev: None,
            memo: Default::default(),
            revision: rev,
        }
    }

    /// Several events of one revision (a watch cache's mirror of a multi-key etcd transaction):
    /// events a watcher was handed leaving the history must not make a later refill skip one it
    /// was not handed (found by review: `/a/3` was lost).
    #[test]
    fn a_refill_within_one_revision_skips_only_what_was_handed() {
        let hub = WatchHub::new(0, 3, usize::MAX, 2);
        let mut w = hub.subscribe("/a/", 0).unwrap();
        for key in ["/a/1", "/a/2", "/b/1", "/b/2", "/b/3", "/a/3"] {
            hub.publish(ev(5, key));
        }
        hub.publish(ev(6, "/a/4"));
        let mut got = Vec::new();
        while let Some(item) = w.try_recv() {
            match item {
                Ok(e) => got.push(e.kv.key.clone()),
                Err(e) => got.push(format!("error: {e:?}")),
            }
        }
        // Either every event, or those handed and then `Behind`: never a silent gap.
        let all = ["/a/1", "/a/2", "/a/3", "/a/4"].map(String::from).to_vec();
        assert!(
            got == all || got.last().is_some_and(|l| l.starts_with("error: Behind")),
            "{got:?}"
        );
        assert!(
            !got.contains(&"/a/4".to_string()) || got.contains(&"/a/3".to_string()),
            "{got:?}"
        );
    }

    #[test]
    fn horizon_moves_with_capacity() {
        let hub = WatchHub::new(0, 3, usize::MAX, 8);
        for r in 1..=5 {
            hub.publish(ev(r, "/a"));
        }
        // History holds 3,4,5: watching from 2 still sees everything after it.
        assert!(hub.subscribe("/", 2).is_ok());
        assert!(matches!(
            hub.subscribe("/", 1),
            Err(StorageError::Expired {
                requested: 1,
                oldest: 2
            })
        ));
        // Compacting at 5 keeps 5: a watch from 4 starts (as etcd's from 5 would).
        hub.compact(5);
        assert!(hub.subscribe("/", 3).is_err());
        let mut w = hub.subscribe("/", 4).unwrap();
        assert_eq!(w.try_recv().unwrap().unwrap().revision, 5);
        assert!(w.try_recv().is_none());
    }

    #[test]
    fn history_is_bounded_in_bytes_too() {
        let big = |rev: Revision| {
            let mut e = ev(rev, "/a");
            e.kv.value = bytes::Bytes::from(vec![b'x'; 1000]);
            e
        };
        // Room for about three 1 kB events.
        let hub = WatchHub::new(0, 1000, 3 * 1100, 8);
        for r in 1..=10 {
            hub.publish(big(r));
        }
        let st = hub.lock();
        assert_eq!(st.history.len(), 3);
        assert!(st.bytes <= st.max_bytes);
        assert_eq!(st.horizon, 7);
        drop(st);
        assert!(hub.subscribe("/", 6).is_err());
        let mut w = hub.subscribe("/", 7).unwrap();
        assert_eq!(w.try_recv().unwrap().unwrap().revision, 8);
        // An event larger than the whole bound is still kept (alone).
        let hub = WatchHub::new(0, 1000, 10, 8);
        hub.publish(big(1));
        assert_eq!(hub.lock().history.len(), 1);
        hub.publish(ev(2, "/a"));
        hub.compact(2);
        let st = hub.lock();
        assert_eq!(st.history.len(), 1);
        assert_eq!(st.bytes, event_bytes(&ev(2, "/a")));
    }

    #[test]
    fn zero_capacity_history_and_closed_watchers() {
        let hub = WatchHub::new(10, 0, usize::MAX, 1);
        hub.publish(ev(11, "/a"));
        assert!(hub.subscribe("/", 10).is_err());
        let w = hub.subscribe("/", 11).unwrap();
        assert_eq!(hub.watcher_count(), 1);
        drop(w);
        hub.publish(ev(12, "/a"));
        assert_eq!(hub.watcher_count(), 0);
    }

    #[test]
    fn progress_comes_after_buffered_events_at_the_hub_revision() {
        let hub = WatchHub::new(0, 100, usize::MAX, 8);
        let mut quiet = hub.subscribe("/quiet/", 0).unwrap();
        let mut busy = hub.subscribe("/busy/", 0).unwrap();
        let mut ahead = hub.subscribe("/busy/", 50).unwrap();
        for r in 1..=3 {
            hub.publish(ev(r, "/busy/a"));
        }
        for w in [&quiet, &busy, &ahead] {
            w.progress_handle().unwrap().request();
        }
        let progress = quiet.try_recv().unwrap().unwrap();
        assert_eq!((progress.kind, progress.revision), (EventType::Progress, 3));
        for r in 1..=3 {
            assert_eq!(busy.try_recv().unwrap().unwrap().revision, r);
        }
        let progress = busy.try_recv().unwrap().unwrap();
        assert_eq!((progress.kind, progress.revision), (EventType::Progress, 3));
        // A watch from a revision the hub has not reached has no progress to report yet.
        assert!(ahead.try_recv().is_none());
        // A handle outliving its watch (or its hub) does nothing.
        let handle = quiet.progress_handle().unwrap();
        drop(quiet);
        handle.request();
        drop(hub);
        handle.request();
    }

    #[test]
    fn a_burst_past_the_buffer_waits_in_the_history() {
        let hub = WatchHub::new(0, 100, usize::MAX, 2);
        let mut w = hub.subscribe("/", 0).unwrap();
        let mut other = hub.subscribe("/b/", 0).unwrap();
        for r in 1..=50 {
            hub.publish(ev(r, if r % 10 == 0 { "/b/x" } else { "/a" }));
        }
        // The reader gets all of them, in order, however small its buffer.
        for r in 1..=50 {
            assert_eq!(w.try_recv().unwrap().unwrap().revision, r);
        }
        assert!(w.try_recv().is_none());
        for r in [10, 20, 30, 40, 50] {
            assert_eq!(other.try_recv().unwrap().unwrap().revision, r);
        }
        // Caught up: live events go to the buffer again, and progress is given again.
        hub.publish(ev(51, "/a"));
        w.progress_handle().unwrap().request();
        assert_eq!(w.try_recv().unwrap().unwrap().revision, 51);
        let progress = w.try_recv().unwrap().unwrap();
        assert_eq!(
            (progress.kind, progress.revision),
            (EventType::Progress, 51)
        );
        assert_eq!(hub.watcher_count(), 2);
    }

    #[test]
    fn a_burst_in_the_middle_of_a_revision_loses_none_of_it() {
        // A watch cache's mirror has several events of one revision (a multi-key transaction).
        let hub = WatchHub::new(0, 100, usize::MAX, 2);
        let mut w = hub.subscribe("/", 0).unwrap();
        for (r, key) in [(1, "/a"), (2, "/a"), (2, "/b"), (2, "/c"), (3, "/a")] {
            hub.publish(ev(r, key));
        }
        let got: Vec<_> = std::iter::from_fn(|| w.try_recv())
            .map(|e| {
                let e = e.unwrap();
                (e.revision, e.kv.key.clone())
            })
            .collect();
        let want = [(1, "/a"), (2, "/a"), (2, "/b"), (2, "/c"), (3, "/a")];
        assert_eq!(got, want.map(|(r, k)| (r, k.to_string())));
    }

    #[test]
    fn no_progress_while_events_wait_in_the_history() {
        let hub = WatchHub::new(0, 100, usize::MAX, 2);
        let mut w = hub.subscribe("/", 0).unwrap();
        for r in 1..=5 {
            hub.publish(ev(r, "/a"));
        }
        w.progress_handle().unwrap().request();
        let got: Vec<_> = std::iter::from_fn(|| w.try_recv())
            .map(|e| e.unwrap())
            .collect();
        assert!(got.iter().all(|e| e.kind == EventType::Added), "{got:?}");
        assert_eq!(got.len(), 5);
    }

    #[tokio::test]
    async fn a_reader_waiting_for_a_burst_is_woken() {
        let hub = Arc::new(WatchHub::new(0, 1000, usize::MAX, 4));
        let mut w = hub.subscribe("/", 0).unwrap();
        let writer = {
            let hub = hub.clone();
            tokio::spawn(async move {
                for r in 1..=500 {
                    hub.publish(ev(r, "/a"));
                    if r % 100 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        };
        for r in 1..=500 {
            let e = tokio::time::timeout(std::time::Duration::from_secs(5), w.recv())
                .await
                .expect("woken")
                .unwrap()
                .unwrap();
            assert_eq!(e.revision, r);
        }
        writer.await.unwrap();
    }

    /// A watcher with a buffer of 2 that fell behind: its two buffered events, then `Behind`.
    fn read_two_then_behind(w: &mut WatchStream) {
        assert_eq!(w.try_recv().unwrap().unwrap().revision, 1);
        assert_eq!(w.try_recv().unwrap().unwrap().revision, 2);
        assert!(matches!(
            w.try_recv(),
            Some(Err(StorageError::Behind { delivered: 2 }))
        ));
    }

    #[test]
    fn overflow_yields_one_behind_then_ends() {
        // More than half the history behind: it ends while a new watch from where it stopped
        // is still served.
        let hub = WatchHub::new(0, 10, usize::MAX, 2);
        let mut w = hub.subscribe("/", 0).unwrap();
        let mut quiet = hub.subscribe("/b/", 0).unwrap();
        for r in 1..=8 {
            hub.publish(ev(r, "/a"));
        }
        read_two_then_behind(&mut w);
        assert!(w.try_recv().is_none());
        assert_eq!(hub.watcher_count(), 1);
        assert!(quiet.try_recv().is_none());
        let mut again = hub.subscribe("/", 2).unwrap();
        assert_eq!(again.try_recv().unwrap().unwrap().revision, 3);
        // The history (bounded in bytes here) drops an event a lagging watcher waits for.
        let hub = WatchHub::new(0, 100, 3 * event_bytes(&ev(1, "/a")), 2);
        let mut w = hub.subscribe("/", 0).unwrap();
        for r in 1..=6 {
            hub.publish(ev(r, "/a"));
        }
        read_two_then_behind(&mut w);
        // So does compaction.
        let hub = WatchHub::new(0, 100, usize::MAX, 2);
        let mut w = hub.subscribe("/", 0).unwrap();
        for r in 1..=4 {
            hub.publish(ev(r, "/a"));
        }
        hub.compact(4);
        read_two_then_behind(&mut w);
        // Without a history, a full buffer ends the watcher at once.
        let hub = WatchHub::new(0, 0, usize::MAX, 2);
        let mut w = hub.subscribe("/", 0).unwrap();
        for r in 1..=5 {
            hub.publish(ev(r, "/a"));
        }
        read_two_then_behind(&mut w);
        assert_eq!(hub.watcher_count(), 0);
    }
}
