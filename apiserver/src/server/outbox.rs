//! The bounded queue between a watch's task and its response body: at most [`OUTBOX_EVENTS`]
//! events and [`OUTBOX_BYTES`] bytes the connection has not taken yet, emptied at once when the
//! watch gives up on its client (a client that does not read keeps the body, and with it
//! anything the body owns, for as long as its connection is open). The body then ends as a
//! complete response, as kube-apiserver's handler returns once it drops a slow watcher: the
//! client resumes from the last event it read (an error would reset an HTTP/2 stream, which
//! client-go reports as a decoding failure and kube-aggregator's proxy as an aborted response).
//!
//! One producer (the watch task) and one consumer (the body): both ends share one mutex and
//! take it once per line, and each side is woken only when it waits — the task when the queue
//! is full or the body is gone, the body when the queue is empty. A fan-out to thousands of
//! watches pays this per event and watcher, so no channel, semaphore or per-event future.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;

/// Encoded events one watch may hold for its client beyond what the connection has taken (the
/// store keeps at most its own bounded backlog behind them, and expires the watch past it); a
/// line larger than this waits for the queue to be empty.
pub(super) const OUTBOX_BYTES: usize = 4 << 20;
/// … and at most this many events.
pub(super) const OUTBOX_EVENTS: usize = 256;

#[derive(Default)]
struct Queue {
    lines: VecDeque<Bytes>,
    bytes: usize,
    /// The body, waiting for a line.
    reader: Option<Waker>,
    /// The task, waiting for room for a line of this many bytes.
    room: Option<(Waker, usize)>,
    /// The task, waiting for the body to go away.
    closed: Option<Waker>,
    /// The body was dropped: the client went away.
    body_gone: bool,
    /// The watch task ended: the body ends once it has sent what is queued.
    watch_done: bool,
    /// The watch gave up on its client.
    aborted: bool,
}

impl Queue {
    fn has_room_for(&self, len: usize) -> bool {
        self.lines.is_empty()
            || (self.lines.len() < OUTBOX_EVENTS && self.bytes + len <= OUTBOX_BYTES)
    }

    /// Empties the queue; the lines are returned to be dropped once the lock is let go.
    fn take_lines(&mut self) -> VecDeque<Bytes> {
        self.bytes = 0;
        std::mem::take(&mut self.lines)
    }
}

fn lock(queue: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    queue.lock().unwrap_or_else(|p| p.into_inner())
}

/// Keeps `slot` holding a waker of the task polling with `cx`, cloning only when it changed.
fn register(slot: &mut Option<Waker>, cx: &Context<'_>) {
    match slot {
        Some(w) if w.will_wake(cx.waker()) => {}
        _ => *slot = Some(cx.waker().clone()),
    }
}

pub(super) enum Sent {
    Queued,
    /// The client went away.
    Closed,
    /// The client did not make room in time.
    Stalled,
}

/// The watch task's end.
pub(super) struct Outbox {
    queue: Arc<Mutex<Queue>>,
}

/// The response body's end: a stream of lines, ended once the watch ends or gives up on its
/// client.
pub(super) struct Body {
    queue: Arc<Mutex<Queue>>,
}

/// A watch's queue: the task's end, and the response body's.
pub(super) fn outbox() -> (Outbox, Body) {
    let queue = Arc::new(Mutex::new(Queue::default()));
    (
        Outbox {
            queue: queue.clone(),
        },
        Body { queue },
    )
}

impl Outbox {
    /// Queues `line` if there is room now (the common case); gives it back otherwise.
    pub(super) fn try_send(&self, line: Bytes) -> Result<Sent, Bytes> {
        let reader = {
            let mut q = lock(&self.queue);
            if q.body_gone || q.aborted {
                return Ok(Sent::Closed);
            }
            if !q.has_room_for(line.len()) {
                return Err(line);
            }
            q.bytes += line.len();
            q.lines.push_back(line);
            q.reader.take()
        };
        if let Some(reader) = reader {
            reader.wake();
        }
        Ok(Sent::Queued)
    }

    /// Queues `line` once there is room for it; `Closed` when the client went away.
    pub(super) async fn send(&self, line: Bytes) -> Sent {
        let mut line = Some(line);
        std::future::poll_fn(|cx| {
            let Some(l) = line.take() else {
                return Poll::Ready(Sent::Closed);
            };
            match self.try_send(l) {
                Ok(sent) => Poll::Ready(sent),
                Err(l) => {
                    let mut q = lock(&self.queue);
                    // Room may have been made since `try_send` looked: look again under the
                    // lock the body makes room under.
                    if q.body_gone || q.aborted || q.has_room_for(l.len()) {
                        drop(q);
                        cx.waker().wake_by_ref();
                    } else {
                        match &mut q.room {
                            Some((w, needed)) if w.will_wake(cx.waker()) => *needed = l.len(),
                            room => *room = Some((cx.waker().clone(), l.len())),
                        }
                    }
                    line = Some(l);
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// Resolves once the client went away (the body was dropped).
    pub(super) async fn closed(&self) {
        std::future::poll_fn(|cx| {
            let mut q = lock(&self.queue);
            if q.body_gone {
                Poll::Ready(())
            } else {
                register(&mut q.closed, cx);
                Poll::Pending
            }
        })
        .await
    }

    /// Gives up on the client: what is queued is dropped now, and the body ends when next read.
    pub(super) fn abort(&self) {
        let (reader, _dropped) = {
            let mut q = lock(&self.queue);
            q.aborted = true;
            (q.reader.take(), q.take_lines())
        };
        if let Some(reader) = reader {
            reader.wake();
        }
    }
}

impl futures::Stream for Body {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut q = lock(&self.queue);
        if q.aborted {
            return Poll::Ready(None);
        }
        match q.lines.pop_front() {
            Some(line) => {
                q.bytes -= line.len();
                // The task is woken once the line it waits to queue fits, not for every line
                // taken before that.
                let room = match q.room.take() {
                    Some((waker, needed)) if q.has_room_for(needed) => Some(waker),
                    waiting => {
                        q.room = waiting;
                        None
                    }
                };
                drop(q);
                if let Some(room) = room {
                    room.wake();
                }
                Poll::Ready(Some(Ok(line)))
            }
            None if q.watch_done => Poll::Ready(None),
            None => {
                register(&mut q.reader, cx);
                Poll::Pending
            }
        }
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        let reader = {
            let mut q = lock(&self.queue);
            q.watch_done = true;
            q.reader.take()
        };
        if let Some(reader) = reader {
            reader.wake();
        }
    }
}

impl Drop for Body {
    fn drop(&mut self) {
        let (room, closed, _dropped) = {
            let mut q = lock(&self.queue);
            q.body_gone = true;
            (
                q.room.take().map(|(w, _)| w),
                q.closed.take(),
                q.take_lines(),
            )
        };
        for waker in [room, closed].into_iter().flatten() {
            waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    #[tokio::test]
    async fn lines_arrive_in_order_and_a_full_queue_waits_for_room() {
        let (outbox, mut body) = outbox();
        for i in 0..OUTBOX_EVENTS {
            assert!(matches!(
                outbox.try_send(Bytes::from(i.to_string())),
                Ok(Sent::Queued)
            ));
        }
        // Full in events: the next line waits until the body takes one.
        let extra = Bytes::from_static(b"extra");
        assert!(outbox.try_send(extra.clone()).is_err());
        let sending = tokio::spawn(async move {
            let sent = outbox.send(extra).await;
            (outbox, sent)
        });
        tokio::task::yield_now().await;
        assert!(!sending.is_finished());
        let mut got = Vec::new();
        for _ in 0..=OUTBOX_EVENTS {
            got.push(body.next().await.unwrap().unwrap());
        }
        let (outbox, sent) = sending.await.unwrap();
        assert!(matches!(sent, Sent::Queued));
        let want: Vec<Bytes> = (0..OUTBOX_EVENTS)
            .map(|i| Bytes::from(i.to_string()))
            .chain([Bytes::from_static(b"extra")])
            .collect();
        assert_eq!(got, want);
        drop(body);
        assert!(matches!(
            outbox.try_send(Bytes::from_static(b"late")),
            Ok(Sent::Closed)
        ));
        outbox.closed().await;
    }

    #[tokio::test]
    async fn the_byte_budget_holds_and_an_oversized_line_waits_for_an_empty_queue() {
        let (outbox, mut body) = outbox();
        let half = Bytes::from(vec![b'a'; OUTBOX_BYTES / 2]);
        assert!(matches!(outbox.try_send(half.clone()), Ok(Sent::Queued)));
        assert!(matches!(outbox.try_send(half.clone()), Ok(Sent::Queued)));
        assert!(outbox.try_send(Bytes::from_static(b"x")).is_err());
        body.next().await.unwrap().unwrap();
        assert!(matches!(
            outbox.try_send(Bytes::from_static(b"x")),
            Ok(Sent::Queued)
        ));
        let huge = Bytes::from(vec![b'b'; OUTBOX_BYTES * 2]);
        assert!(outbox.try_send(huge.clone()).is_err());
        body.next().await.unwrap().unwrap();
        body.next().await.unwrap().unwrap();
        assert!(matches!(outbox.try_send(huge), Ok(Sent::Queued)));
    }

    #[tokio::test]
    async fn the_body_ends_after_the_last_line_once_the_watch_ends() {
        let (outbox, mut body) = outbox();
        let reading = tokio::spawn(async move {
            let mut lines = Vec::new();
            while let Some(line) = body.next().await {
                lines.push(line.unwrap());
            }
            lines
        });
        tokio::task::yield_now().await;
        assert!(matches!(
            outbox.try_send(Bytes::from_static(b"last")),
            Ok(Sent::Queued)
        ));
        drop(outbox);
        assert_eq!(reading.await.unwrap(), [Bytes::from_static(b"last")]);
    }

    #[tokio::test]
    async fn a_waiting_oversized_line_is_queued_once_the_queue_is_empty() {
        let (outbox, mut body) = outbox();
        for _ in 0..2 {
            assert!(matches!(
                outbox.try_send(Bytes::from(vec![b'a'; OUTBOX_BYTES / 2])),
                Ok(Sent::Queued)
            ));
        }
        let huge = Bytes::from(vec![b'b'; OUTBOX_BYTES * 2]);
        let sending = tokio::spawn(async move {
            let sent = outbox.send(huge).await;
            (outbox, sent)
        });
        tokio::task::yield_now().await;
        body.next().await.unwrap().unwrap();
        tokio::task::yield_now().await;
        assert!(!sending.is_finished(), "queued beside a line not yet taken");
        body.next().await.unwrap().unwrap();
        let (_outbox, sent) = sending.await.unwrap();
        assert!(matches!(sent, Sent::Queued));
        assert_eq!(body.next().await.unwrap().unwrap().len(), OUTBOX_BYTES * 2);
    }

    #[tokio::test]
    async fn an_aborted_watch_drops_its_lines_and_ends_its_body() {
        let (outbox, mut body) = outbox();
        assert!(matches!(
            outbox.try_send(Bytes::from_static(b"queued")),
            Ok(Sent::Queued)
        ));
        outbox.abort();
        assert!(matches!(
            outbox.try_send(Bytes::from_static(b"after")),
            Ok(Sent::Closed)
        ));
        assert!(body.next().await.is_none());
    }

    #[tokio::test]
    async fn a_waiting_send_ends_when_the_client_goes_away() {
        let (outbox, body) = outbox();
        for _ in 0..OUTBOX_EVENTS {
            assert!(matches!(
                outbox.try_send(Bytes::from_static(b"l")),
                Ok(Sent::Queued)
            ));
        }
        let sending = tokio::spawn(async move { outbox.send(Bytes::from_static(b"l")).await });
        tokio::task::yield_now().await;
        drop(body);
        assert!(matches!(sending.await.unwrap(), Sent::Closed));
    }
}
