//! HTTP/2's writes gathered into fewer, larger ones.
//!
//! h2 writes from a 16 KiB buffer, and flushes it each time it fills. One watch event for a
//! thousand watches multiplexed on a connection is about 560 KB of DATA frames: 35 writes, each
//! a trip through the TCP stack (on loopback, through the receiver's input path too) and a wake
//! of the peer. [`Coalesce`] takes h2's writes into a buffer of its own (up to [`CAPACITY`]) and,
//! when h2 flushes, first lets the connection's task yield once, so that the streams woken by
//! the same event queue their frames meanwhile; the next flush writes everything gathered.
//! A flush is therefore delayed by one turn of the runtime's queue, never by a timer: a lone
//! response goes out as soon as the runtime comes back to its connection.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The most a coalesced write gathers: one loopback segment (its MTU is 64 KiB).
const CAPACITY: usize = 64 * 1024;

/// A drained buffer larger than this is freed: an idle connection holds no burst's buffer.
const SHRINK_ABOVE: usize = 16 * 1024;

/// A connection whose writes are gathered (HTTP/2) or passed straight through (HTTP/1.1:
/// hyper's own buffering already queues a response's chunks for one `writev`).
pub(super) struct Coalesce<T: AsyncWrite + Unpin> {
    inner: T,
    /// Gathered bytes, `None` when writes pass through.
    buf: Option<Vec<u8>>,
    /// How much of `buf` has been written (a write may take part of it).
    written: usize,
    /// Whether the last flush yielded instead of writing: the next one writes.
    yielded: bool,
}

impl<T: AsyncWrite + Unpin> Coalesce<T> {
    pub(super) fn new(inner: T, gather: bool) -> Self {
        Coalesce {
            inner,
            buf: gather.then(Vec::new),
            written: 0,
            yielded: false,
        }
    }

    /// Writes out everything gathered (a later gathering may yield again).
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some(buf) = &mut self.buf else {
            return Poll::Ready(Ok(()));
        };
        while self.written < buf.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &buf[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        buf.clear();
        self.written = 0;
        self.yielded = false;
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> Drop for Coalesce<T> {
    /// What was gathered goes out if the socket takes it now: h2 drops a connection without
    /// flushing when its read side ends (a client that half-closes right after a request),
    /// and these bytes would otherwise have been in the kernel already.
    fn drop(&mut self) {
        if self.buf.as_ref().is_some_and(|b| b.len() > self.written) {
            let mut cx = Context::from_waker(std::task::Waker::noop());
            if let Poll::Ready(Ok(())) = self.poll_drain(&mut cx) {
                let _ = Pin::new(&mut self.inner).poll_flush(&mut cx);
            }
        }
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncRead for Coalesce<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Coalesce<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let Some(len) = this.buf.as_ref().map(Vec::len) else {
            return Pin::new(&mut this.inner).poll_write(cx, data);
        };
        if len + data.len() > CAPACITY {
            ready!(this.poll_drain(cx))?;
        }
        let buf = this.buf.as_mut().expect("gathering");
        if buf.is_empty() && data.len() >= CAPACITY {
            return Pin::new(&mut this.inner).poll_write(cx, data);
        }
        let n = data.len().min(CAPACITY - buf.len());
        buf.extend_from_slice(&data[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.buf.is_some() {
            // Not offered (see `is_write_vectored`); the first slice, as the default does.
            let first = bufs
                .iter()
                .find(|b| !b.is_empty())
                .map_or(&[][..], |b| &**b);
            return self.poll_write(cx, first);
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        // Gathering: h2 then copies DATA frames up to 1 KiB (a typical watch event) into its
        // buffer instead of sending each one in a write of its own.
        self.buf.is_none() && self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.buf.as_ref().is_some_and(|b| !b.is_empty()) {
            if !this.yielded {
                // Once: the task is polled again after the others the runtime has ready
                // (tokio requeues a task that woke itself at the back of its queue).
                this.yielded = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            ready!(this.poll_drain(cx))?;
            if this
                .buf
                .as_ref()
                .is_some_and(|b| b.capacity() > SHRINK_ABOVE)
            {
                this.buf = Some(Vec::new());
            }
        }
        this.yielded = false;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Wake, Waker};

    use super::*;

    /// The connection under [`Coalesce`]: records each write, taking at most `limit` bytes.
    #[derive(Default)]
    struct Recorder {
        writes: Vec<Vec<u8>>,
        flushes: usize,
        shutdown: bool,
        limit: Option<usize>,
        /// The next this many writes find the socket full.
        full: usize,
        /// Once, the write after this many writes finds the socket full.
        full_at: Option<usize>,
        /// Every byte written, kept past the recorder's drop.
        sink: Arc<std::sync::Mutex<Vec<u8>>>,
    }

    impl AsyncWrite for Recorder {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            data: &[u8],
        ) -> Poll<io::Result<usize>> {
            if self.full > 0 || self.full_at == Some(self.writes.len()) {
                self.full = self.full.saturating_sub(1);
                self.full_at = None;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let n = data.len().min(self.limit.unwrap_or(usize::MAX));
            self.writes.push(data[..n].to_vec());
            self.sink.lock().unwrap().extend_from_slice(&data[..n]);
            Poll::Ready(Ok(n))
        }

        fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.flushes += 1;
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.shutdown = true;
            Poll::Ready(Ok(()))
        }

        fn is_write_vectored(&self) -> bool {
            true
        }
    }

    #[derive(Default)]
    struct Wakes(AtomicUsize);

    impl Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn write(c: &mut Coalesce<Recorder>, cx: &mut Context<'_>, data: &[u8]) {
        let mut rest = data;
        while !rest.is_empty() {
            match Pin::new(&mut *c).poll_write(cx, rest) {
                Poll::Ready(Ok(n)) => rest = &rest[n..],
                other => panic!("write: {other:?}"),
            }
        }
    }

    fn flush(c: &mut Coalesce<Recorder>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(c).poll_flush(cx)
    }

    /// An HTTP/2 connection's writer over a socket that takes at most `limit` bytes a write.
    fn gathering_into(limit: usize) -> Coalesce<Recorder> {
        let recorder = Recorder {
            limit: Some(limit),
            ..Default::default()
        };
        Coalesce::new(recorder, true)
    }

    fn bytes(n: usize, seed: u8) -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn writes_are_gathered_and_a_flush_yields_once_before_writing_them() {
        let wakes = Arc::new(Wakes::default());
        let waker = Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        let mut c = Coalesce::new(Recorder::default(), true);
        assert!(!c.is_write_vectored(), "h2 must copy small frames");
        let chunks: Vec<Vec<u8>> = (0..4).map(|i| bytes(10_000, i)).collect();
        for chunk in &chunks[..3] {
            write(&mut c, &mut cx, chunk);
        }
        assert!(flush(&mut c, &mut cx).is_pending());
        assert_eq!(
            wakes.0.load(Ordering::SeqCst),
            1,
            "the task is polled again"
        );
        assert!(c.inner.writes.is_empty() && c.inner.flushes == 0);
        // Meanwhile another stream's frame arrives: it goes out in the same write.
        write(&mut c, &mut cx, &chunks[3]);
        assert!(matches!(flush(&mut c, &mut cx), Poll::Ready(Ok(()))));
        assert_eq!(c.inner.writes, vec![chunks.concat()]);
        assert_eq!(c.inner.flushes, 1);
        // The drained 40 KB buffer is not kept by an idle connection.
        assert_eq!(c.buf.as_ref().map(Vec::capacity), Some(0));
        // Nothing gathered: a flush neither yields nor writes.
        assert!(matches!(flush(&mut c, &mut cx), Poll::Ready(Ok(()))));
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
        assert_eq!((c.inner.writes.len(), c.inner.flushes), (1, 2));
    }

    #[test]
    fn a_full_buffer_is_written_before_it_takes_more_and_order_is_kept() {
        let mut cx = Context::from_waker(Waker::noop());
        let mut c = Coalesce::new(Recorder::default(), true);
        let (a, b, big) = (
            bytes(CAPACITY - 100, 1),
            bytes(1_000, 2),
            bytes(CAPACITY + 5, 3),
        );
        write(&mut c, &mut cx, &a);
        assert!(c.inner.writes.is_empty());
        write(&mut c, &mut cx, &b);
        assert_eq!(
            c.inner.writes,
            vec![a.clone()],
            "the full buffer went first"
        );
        // A write of a buffer's size or more, with nothing gathered before it, goes straight
        // through once the gathered bytes are out.
        write(&mut c, &mut cx, &big);
        while flush(&mut c, &mut cx).is_pending() {}
        assert_eq!(c.inner.writes, vec![a, b, big]);
    }

    #[test]
    fn a_full_socket_is_written_to_when_it_has_room_again() {
        let mut cx = Context::from_waker(Waker::noop());
        let mut c = gathering_into(1_000);
        let (a, b) = (bytes(CAPACITY - 10, 4), bytes(100, 5));
        write(&mut c, &mut cx, &a);
        assert!(flush(&mut c, &mut cx).is_pending(), "the yield");
        // Full at the first write: nothing written yet.
        c.inner.full = 1;
        assert!(flush(&mut c, &mut cx).is_pending());
        assert!(c.inner.writes.is_empty());
        // Full again after three partial writes: the drain stops there and goes on later.
        c.inner.full_at = Some(3);
        assert!(flush(&mut c, &mut cx).is_pending());
        assert_eq!((c.inner.writes.len(), c.written), (3, 3_000));
        // More to gather while the gathered bytes do not fit and the socket is full: nothing
        // is taken until they are out.
        c.inner.full = 2;
        for _ in 0..2 {
            let taken = Pin::new(&mut c).poll_write(&mut cx, &b);
            assert!(taken.is_pending(), "{taken:?}");
        }
        write(&mut c, &mut cx, &b);
        while flush(&mut c, &mut cx).is_pending() {}
        assert_eq!(c.inner.writes.concat(), [a, b].concat());
        assert!(c.inner.writes.iter().all(|w| w.len() <= 1_000));
    }

    #[test]
    fn vectored_writes_while_gathering_take_the_first_slice_with_bytes() {
        let mut cx = Context::from_waker(Waker::noop());
        let mut c = Coalesce::new(Recorder::default(), true);
        let slices = [
            io::IoSlice::new(b""),
            io::IoSlice::new(b"ab"),
            io::IoSlice::new(b"cd"),
        ];
        let n = Pin::new(&mut c).poll_write_vectored(&mut cx, &slices);
        assert!(matches!(n, Poll::Ready(Ok(2))), "{n:?}");
        while flush(&mut c, &mut cx).is_pending() {}
        assert_eq!(c.inner.writes, vec![b"ab".to_vec()]);
    }

    #[test]
    fn what_was_gathered_goes_out_when_the_connection_is_dropped() {
        let mut cx = Context::from_waker(Waker::noop());
        let recorder = Recorder::default();
        let sink = recorder.sink.clone();
        let mut c = Coalesce::new(recorder, true);
        write(&mut c, &mut cx, b"a response h2 flushed");
        assert!(flush(&mut c, &mut cx).is_pending(), "the yield");
        drop(c);
        assert_eq!(&*sink.lock().unwrap(), b"a response h2 flushed");
    }

    #[test]
    fn writes_the_connection_takes_in_part_are_resumed() {
        let mut cx = Context::from_waker(Waker::noop());
        let mut c = gathering_into(777);
        let data = bytes(5_000, 9);
        write(&mut c, &mut cx, &data);
        while flush(&mut c, &mut cx).is_pending() {}
        assert_eq!(c.inner.writes.concat(), data);
        assert_eq!(c.inner.writes.len(), 5_000_usize.div_ceil(777));
    }

    #[test]
    fn shutdown_writes_what_was_gathered_first() {
        let mut cx = Context::from_waker(Waker::noop());
        let mut c = Coalesce::new(Recorder::default(), true);
        write(&mut c, &mut cx, b"GOAWAY");
        assert!(matches!(
            Pin::new(&mut c).poll_shutdown(&mut cx),
            Poll::Ready(Ok(()))
        ));
        assert_eq!(c.inner.writes, vec![b"GOAWAY".to_vec()]);
        assert!(c.inner.shutdown);
    }

    #[test]
    fn http1_writes_pass_straight_through() {
        let mut cx = Context::from_waker(Waker::noop());
        let mut c = Coalesce::new(Recorder::default(), false);
        assert!(c.is_write_vectored(), "hyper's writev is kept");
        write(&mut c, &mut cx, b"HTTP/1.1 200 OK\r\n");
        assert_eq!(c.inner.writes, vec![b"HTTP/1.1 200 OK\r\n".to_vec()]);
        assert!(matches!(flush(&mut c, &mut cx), Poll::Ready(Ok(()))));
        assert_eq!(c.inner.flushes, 1);
    }
}
