//! A watch's response body: the connection pulls each line straight from the watch (no task
//! between the store and the connection, so an event reaches a watcher with one task woken, the
//! connection's), and a small supervisor task keeps the watch's clocks — its deadline, its
//! BOOKMARKs, the server's shutdown, and a client that stops reading.
//!
//! A client that stops reading stops its connection from taking lines: the watch's events then
//! wait in the store's bounded buffer for it, never in an unbounded queue here. Once an event
//! has waited the send timeout for a connection that has had no room for it (one that is slowly
//! draining a large event with nothing behind it is not stalled), the supervisor ends the watch:
//! its subscription and its slot go at once, and the body ends as a complete response when next
//! read, as kube-apiserver's handler returns once it drops a slow watcher: the client resumes
//! from the last event it read (an error would reset an HTTP/2 stream, which client-go reports
//! as a decoding failure and kube-aggregator's proxy as an aborted response).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;

/// Where a watch's lines come from.
pub(super) trait Lines: Send + 'static {
    /// The next line; `Ready(None)` ends the watch.
    fn poll_line(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>>;
    /// A BOOKMARK at the last revision sent, for the supervisor's clock when the store cannot
    /// answer a progress request in order with its events; `None` once the watch has said its
    /// last (an ERROR).
    fn bookmark(&mut self) -> Option<Bytes>;
}

struct Inner<L> {
    /// `None` once the watch ended: the body ends when next read (after `next`).
    lines: Option<L>,
    /// A line taken from `lines` ahead of the connection (to tell a stalled client), or the
    /// BOOKMARK due when the watch ended: sent first.
    next: Option<Bytes>,
    bookmark_due: bool,
    /// The connection, waiting for a line.
    reader: Option<Waker>,
    /// The supervisor, waiting for the body to go away.
    supervisor: Option<Waker>,
    body_gone: bool,
}

struct Shared<L> {
    inner: Mutex<Inner<L>>,
    /// Lines the connection took.
    taken: AtomicU64,
    /// The connection took a line and has not asked for the next yet (it asks at once while it
    /// has room for more).
    owed: AtomicBool,
}

impl<L> Shared<L> {
    fn lock(&self) -> MutexGuard<'_, Inner<L>> {
        // Nothing half-written is worth refusing after a panic elsewhere.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Keeps `slot` holding a waker of the task polling with `cx`, cloning only when it changed.
fn register(slot: &mut Option<Waker>, cx: &Context<'_>) {
    match slot {
        Some(w) if w.will_wake(cx.waker()) => {}
        _ => *slot = Some(cx.waker().clone()),
    }
}

/// The response body's end: a stream of lines.
pub(super) struct Body<L> {
    shared: Arc<Shared<L>>,
}

/// The supervisor's end.
pub(super) struct Control<L> {
    shared: Arc<Shared<L>>,
}

/// A watch's body over `lines`, and its supervisor's handle.
pub(super) fn watch_body<L: Lines>(lines: L) -> (Body<L>, Control<L>) {
    let shared = Arc::new(Shared {
        inner: Mutex::new(Inner {
            lines: Some(lines),
            next: None,
            bookmark_due: false,
            reader: None,
            supervisor: None,
            body_gone: false,
        }),
        taken: AtomicU64::new(0),
        owed: AtomicBool::new(false),
    });
    (
        Body {
            shared: shared.clone(),
        },
        Control { shared },
    )
}

impl<L: Lines> futures::Stream for Body<L> {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let shared = &self.shared;
        let mut inner = shared.lock();
        let inner = &mut *inner;
        let line = if let Some(next) = inner.next.take() {
            Poll::Ready(Some(next))
        } else {
            let Some(lines) = inner.lines.as_mut() else {
                return Poll::Ready(None);
            };
            match std::mem::take(&mut inner.bookmark_due).then(|| lines.bookmark()) {
                Some(Some(bookmark)) => Poll::Ready(Some(bookmark)),
                _ => lines.poll_line(cx),
            }
        };
        match line {
            Poll::Ready(Some(line)) => {
                shared.owed.store(true, Relaxed);
                shared.taken.fetch_add(1, Relaxed);
                Poll::Ready(Some(Ok(line)))
            }
            Poll::Ready(None) => {
                let ended = inner.lines.take();
                drop(ended);
                Poll::Ready(None)
            }
            Poll::Pending => {
                shared.owed.store(false, Relaxed);
                register(&mut inner.reader, cx);
                Poll::Pending
            }
        }
    }
}

impl<L> Drop for Body<L> {
    fn drop(&mut self) {
        let (lines, supervisor) = {
            let mut inner = self.shared.lock();
            inner.body_gone = true;
            (inner.lines.take(), inner.supervisor.take())
        };
        drop(lines);
        if let Some(supervisor) = supervisor {
            supervisor.wake();
        }
    }
}

/// What the supervisor remembers between two looks at a connection that owes a poll.
pub(super) struct Stall {
    taken: u64,
    /// Since when a line has waited for the connection to have room (`None`: none waits).
    waiting_since: Option<Instant>,
}

impl<L: Lines> Control<L> {
    /// Sends a BOOKMARK before the next event.
    pub(super) fn bookmark(&self) {
        let reader = {
            let mut inner = self.shared.lock();
            if inner.lines.is_none() {
                return;
            }
            inner.bookmark_due = true;
            inner.reader.take()
        };
        if let Some(reader) = reader {
            reader.wake();
        }
    }

    /// Ends the watch now: what it holds is let go, and the body ends when next read (after
    /// what the connection already took, and a BOOKMARK that was due).
    pub(super) fn end(&self) {
        let (lines, reader) = {
            let mut inner = self.shared.lock();
            let mut lines = inner.lines.take();
            if std::mem::take(&mut inner.bookmark_due)
                && inner.next.is_none()
                && let Some(bookmark) = lines.as_mut().and_then(Lines::bookmark)
            {
                inner.next = Some(bookmark);
            }
            (lines, inner.reader.take())
        };
        drop(lines);
        if let Some(reader) = reader {
            reader.wake();
        }
    }

    /// Resolves once the client went away (the body was dropped).
    pub(super) async fn closed(&self) {
        std::future::poll_fn(|cx| {
            let mut inner = self.shared.lock();
            if inner.body_gone {
                Poll::Ready(())
            } else {
                register(&mut inner.supervisor, cx);
                Poll::Pending
            }
        })
        .await
    }

    /// The start of watching for a client that stops reading.
    pub(super) fn stall(&self) -> Stall {
        Stall {
            taken: self.shared.taken.load(Relaxed),
            waiting_since: None,
        }
    }

    /// Whether a line has waited `timeout` for the connection to have room, as far as the looks
    /// so far tell (look at least twice a timeout): the connection took a line, has not asked
    /// for the next since, and the next is there.
    pub(super) fn stalled(&self, stall: &mut Stall, timeout: Duration) -> bool {
        let taken = self.shared.taken.load(Relaxed);
        if taken != stall.taken || !self.shared.owed.load(Relaxed) {
            *stall = Stall {
                taken,
                waiting_since: None,
            };
            return false;
        }
        if stall.waiting_since.is_none() && self.next_is_ready() {
            stall.waiting_since = Some(Instant::now());
        }
        stall
            .waiting_since
            .is_some_and(|since| since.elapsed() >= timeout)
    }

    /// Whether a line is ready for a connection that owes the body a poll: taken ahead, and
    /// kept for it.
    fn next_is_ready(&self) -> bool {
        let mut inner = self.shared.lock();
        let inner = &mut *inner;
        // Under the lock the body polls under: a connection that owes a poll is not waiting on
        // a waker the look below could replace (it asks again once it has room).
        if inner.next.is_some() || inner.bookmark_due {
            return true;
        }
        if !self.shared.owed.load(Relaxed) {
            return false;
        }
        let Some(lines) = inner.lines.as_mut() else {
            return false;
        };
        match lines.poll_line(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(Some(line)) => {
                inner.next = Some(line);
                true
            }
            // The end: the body ends when next read, nothing waits.
            Poll::Ready(None) => {
                inner.lines = None;
                false
            }
            Poll::Pending => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use tokio::sync::mpsc;

    /// Lines from a channel; a bookmark is `B`.
    struct Channel(mpsc::UnboundedReceiver<Bytes>);

    impl Lines for Channel {
        fn poll_line(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
            self.0.poll_recv(cx)
        }
        fn bookmark(&mut self) -> Option<Bytes> {
            Some(Bytes::from_static(b"B"))
        }
    }

    fn body() -> (
        mpsc::UnboundedSender<Bytes>,
        Body<Channel>,
        Control<Channel>,
    ) {
        let (tx, rx) = mpsc::unbounded_channel();
        let (body, control) = watch_body(Channel(rx));
        (tx, body, control)
    }

    async fn next(body: &mut Body<Channel>) -> Option<Bytes> {
        tokio::time::timeout(Duration::from_secs(5), body.next())
            .await
            .expect("a line or the end")
            .map(|l| l.unwrap())
    }

    #[tokio::test]
    async fn lines_arrive_in_order_and_the_body_ends_with_them() {
        let (tx, mut body, _control) = body();
        for l in ["a", "b", "c"] {
            tx.send(Bytes::from(l)).unwrap();
        }
        drop(tx);
        let mut got = Vec::new();
        while let Some(l) = next(&mut body).await {
            got.push(l);
        }
        assert_eq!(got, ["a", "b", "c"]);
    }

    #[tokio::test]
    async fn a_bookmark_goes_before_the_next_line_and_wakes_a_waiting_body() {
        let (tx, mut body, control) = body();
        let reading = tokio::spawn(async move {
            let first = next(&mut body).await;
            let second = next(&mut body).await;
            (first, second)
        });
        tokio::task::yield_now().await;
        control.bookmark();
        tx.send(Bytes::from_static(b"a")).unwrap();
        let (first, second) = reading.await.unwrap();
        assert_eq!(first.as_deref(), Some(&b"B"[..]));
        assert_eq!(second.as_deref(), Some(&b"a"[..]));
    }

    #[tokio::test]
    async fn an_ended_watch_lets_go_of_its_lines_and_its_body_ends() {
        let (tx, mut body, control) = body();
        tx.send(Bytes::from_static(b"a")).unwrap();
        control.end();
        // The source was dropped at once, not when the body is next read.
        assert!(tx.is_closed());
        assert_eq!(next(&mut body).await, None);
        control.bookmark();
        assert_eq!(next(&mut body).await, None);
    }

    #[tokio::test]
    async fn the_supervisor_learns_that_the_client_went_away() {
        let (tx, body, control) = body();
        let waiting = tokio::spawn(async move { control.closed().await });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(body);
        waiting.await.unwrap();
        assert!(tx.is_closed());
    }

    #[tokio::test]
    async fn only_a_line_that_waits_the_timeout_for_room_is_a_stall() {
        let timeout = Duration::from_millis(50);
        let (tx, mut body, control) = body();
        let mut stall = control.stall();
        // Idle (the body waits for a line): never stalled, however long.
        tokio::select! {
            _ = body.next() => panic!("no line was sent"),
            _ = tokio::time::sleep(timeout * 2) => {}
        }
        assert!(!control.stalled(&mut stall, timeout));
        // A line taken and no poll since, but nothing behind it (a client slowly reading a large
        // event): not stalled.
        tx.send(Bytes::from_static(b"a")).unwrap();
        assert_eq!(next(&mut body).await.as_deref(), Some(&b"a"[..]));
        for _ in 0..3 {
            assert!(!control.stalled(&mut stall, timeout));
            tokio::time::sleep(timeout * 2).await;
        }
        // The next line is there and waits: stalled once it has waited the timeout since the
        // look that found it.
        tx.send(Bytes::from_static(b"b")).unwrap();
        assert!(!control.stalled(&mut stall, timeout));
        tokio::time::sleep(timeout / 2).await;
        assert!(!control.stalled(&mut stall, timeout));
        tokio::time::sleep(timeout).await;
        assert!(control.stalled(&mut stall, timeout));
        // The line the look took ahead is the next one read, and reading resets the stall.
        tx.send(Bytes::from_static(b"c")).unwrap();
        assert_eq!(next(&mut body).await.as_deref(), Some(&b"b"[..]));
        assert!(!control.stalled(&mut stall, timeout));
        assert_eq!(next(&mut body).await.as_deref(), Some(&b"c"[..]));
    }

    #[tokio::test]
    async fn a_due_bookmark_outlives_the_end_of_the_watch() {
        let (tx, mut body, control) = body();
        control.bookmark();
        control.end();
        assert!(tx.is_closed());
        assert_eq!(next(&mut body).await.as_deref(), Some(&b"B"[..]));
        assert_eq!(next(&mut body).await, None);
    }
}
