//! [`WorkQueue`]: client-go's rate-limited workqueue. A key is queued at most once however often
//! it is added; never handed to two workers at once; re-queued when it was added again while a
//! worker had it; delayed per key by exponential backoff after failures (`add_rate_limited`,
//! reset by `forget`) and overall by a token bucket (`governor`), the larger of the two; a key
//! waiting for a delay waits once, at the earliest time asked for. `shutdown` stops new work
//! and lets what is queued drain; `shutdown_with_drain` also waits for work in flight.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use parking_lot::Mutex;
use tokio::sync::Notify;

/// Rate limits of a [`WorkQueue`] (client-go's defaults: 5 ms to 1000 s per key, 10 keys/s with
/// bursts of 100 overall).
#[derive(Clone, Copy, Debug)]
pub struct RateLimits {
    /// The first retry of a key waits this long; each further failure doubles it.
    pub base_delay: Duration,
    /// No key waits longer than this for a retry.
    pub max_delay: Duration,
    /// Keys per second through `add_rate_limited`, overall (0: no overall limit).
    pub per_second: u32,
    pub burst: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_secs(1000),
            per_second: 10,
            burst: 100,
        }
    }
}

impl RateLimits {
    /// The backoff of a key that failed `failures` times before.
    pub fn backoff(&self, failures: u32) -> Duration {
        let factor = 2u32.checked_pow(failures).unwrap_or(u32::MAX);
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

struct State<T> {
    queue: VecDeque<T>,
    /// Keys that need processing (queued, or added again while processing).
    dirty: HashSet<T>,
    processing: HashSet<T>,
    /// Keys waiting to be added (`add_after`, `add_rate_limited`): one entry per key, at the
    /// earliest time asked for, as client-go's delaying queue keeps them.
    waiting: HashMap<T, Waiting>,
    shutting_down: bool,
}

/// A key's pending delayed add.
struct Waiting {
    ready: tokio::time::Instant,
    /// Whether a token of the overall bucket is still to be taken before the add.
    bucket: bool,
    /// Wakes its timer: the time moved earlier, or the queue shut down.
    wake: Arc<Notify>,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Wakes a waiting worker: a key was queued, or the queue shut down.
    ready: Notify,
    /// Wakes `shutdown_with_drain`: work finished.
    idle: Notify,
    limits: RateLimits,
    bucket: Option<DefaultDirectRateLimiter>,
    failures: Mutex<HashMap<T, u32>>,
}

/// A queue of keys for workers. Cheap to clone (clones share it).
pub struct WorkQueue<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Clone for WorkQueue<T> {
    fn clone(&self) -> Self {
        WorkQueue {
            shared: self.shared.clone(),
        }
    }
}

/// A key handed to a worker; the queue considers it done when this is dropped.
pub struct Processing<T: Eq + Hash + Clone + Send + Sync + 'static> {
    key: Option<T>,
    queue: WorkQueue<T>,
}

impl<T: Eq + Hash + Clone + Send + Sync + 'static> Processing<T> {
    pub fn key(&self) -> &T {
        self.key.as_ref().expect("a key until dropped")
    }
}

impl<T: Eq + Hash + Clone + Send + Sync + 'static> Drop for Processing<T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.queue.done(key);
        }
    }
}

impl<T: Eq + Hash + Clone + Send + Sync + 'static> Default for WorkQueue<T> {
    fn default() -> Self {
        Self::new(RateLimits::default())
    }
}

impl<T: Eq + Hash + Clone + Send + Sync + 'static> WorkQueue<T> {
    pub fn new(limits: RateLimits) -> Self {
        let bucket = NonZeroU32::new(limits.per_second).map(|rate| {
            let burst = NonZeroU32::new(limits.burst).unwrap_or(rate);
            RateLimiter::direct(Quota::per_second(rate).allow_burst(burst))
        });
        WorkQueue {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    dirty: HashSet::new(),
                    processing: HashSet::new(),
                    waiting: HashMap::new(),
                    shutting_down: false,
                }),
                ready: Notify::new(),
                idle: Notify::new(),
                limits,
                bucket,
                failures: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Queues `key` unless it is queued already (or the queue is shutting down). A key being
    /// processed is queued again when its worker is done.
    pub fn add(&self, key: T) {
        let mut s = self.shared.state.lock();
        if s.shutting_down || !s.dirty.insert(key.clone()) {
            return;
        }
        if !s.processing.contains(&key) {
            s.queue.push_back(key);
            drop(s);
            self.shared.ready.notify_one();
        }
    }

    /// Queues `key` after `delay`. Call it within a Tokio runtime, which the delay is scheduled
    /// on (outside one it panics, as `tokio::spawn` does).
    ///
    /// A key already waiting is not scheduled twice: it keeps the earlier of the two times.
    pub fn add_after(&self, key: T, delay: Duration) {
        if delay.is_zero() {
            return self.add(key);
        }
        self.schedule(key, delay, false);
    }

    /// Adds `key` once `delay` has passed (then after a token of the overall bucket when
    /// `bucket`), merged with a wait the key already has; one timer task per waiting key, which
    /// ends at shutdown.
    fn schedule(&self, key: T, delay: Duration, bucket: bool) {
        let ready = tokio::time::Instant::now() + delay;
        let wake = {
            let mut s = self.shared.state.lock();
            if s.shutting_down {
                return;
            }
            if let Some(w) = s.waiting.get_mut(&key) {
                if ready < w.ready {
                    w.ready = ready;
                    w.bucket = bucket;
                    w.wake.notify_one();
                }
                return;
            }
            let wake = Arc::new(Notify::new());
            s.waiting.insert(
                key.clone(),
                Waiting {
                    ready,
                    bucket,
                    wake: wake.clone(),
                },
            );
            wake
        };
        let queue = self.clone();
        tokio::spawn(async move {
            let bucket = loop {
                let ready = {
                    let mut s = queue.shared.state.lock();
                    if s.shutting_down {
                        s.waiting.remove(&key);
                        return;
                    }
                    match s.waiting.get(&key) {
                        Some(w) if w.ready <= tokio::time::Instant::now() => {
                            break s.waiting.remove(&key).is_some_and(|w| w.bucket);
                        }
                        Some(w) => w.ready,
                        None => return,
                    }
                };
                tokio::select! {
                    _ = tokio::time::sleep_until(ready) => {}
                    _ = wake.notified() => {}
                }
            };
            if bucket && let Some(limiter) = &queue.shared.bucket {
                limiter.until_ready().await;
            }
            queue.add(key);
        });
    }

    /// Queues `key` after its backoff (which doubles with each call until [`forget`]), then as
    /// the overall rate allows. Call it within a Tokio runtime, as
    /// [`add_after`](Self::add_after).
    ///
    /// [`forget`]: Self::forget
    pub fn add_rate_limited(&self, key: T) {
        self.add_rate_limited_at_least(key, Duration::ZERO);
    }

    /// [`add_rate_limited`](Self::add_rate_limited), waiting at least `floor`: what a server
    /// asked for (`Retry-After`) is a floor on the backoff, never in place of it — a
    /// `Retry-After: 0` on every attempt still backs off. Returns the wait.
    pub fn add_rate_limited_at_least(&self, key: T, floor: Duration) -> Duration {
        self.add_rate_limited_between(key, floor, Duration::MAX)
    }

    /// [`add_rate_limited`](Self::add_rate_limited), the key's backoff capped at `ceiling`:
    /// for work that must come back within a deadline (a lease or claim to renew), whatever
    /// its failures. (The overall rate limit still applies.) Returns the wait.
    pub fn add_rate_limited_within(&self, key: T, ceiling: Duration) -> Duration {
        self.add_rate_limited_between(key, Duration::ZERO, ceiling)
    }

    fn add_rate_limited_between(&self, key: T, floor: Duration, ceiling: Duration) -> Duration {
        let failures = {
            let mut f = self.shared.failures.lock();
            let n = f.entry(key.clone()).or_insert(0);
            *n += 1;
            *n - 1
        };
        // The larger of the key's backoff and the overall bucket's wait (client-go's
        // `MaxOfRateLimiter`), not their sum: a token free now is taken now; otherwise the key
        // waits at least until the bucket has one, and takes it then.
        let (bucket_wait, bucket) = match &self.shared.bucket {
            None => (Duration::ZERO, false),
            Some(limiter) => match limiter.check() {
                Ok(()) => (Duration::ZERO, false),
                Err(not_until) => {
                    use governor::clock::Clock;
                    let now = governor::clock::DefaultClock::default().now();
                    (not_until.wait_time_from(now), true)
                }
            },
        };
        let delay = self
            .shared
            .limits
            .backoff(failures)
            .min(ceiling)
            .max(floor)
            .max(bucket_wait);
        self.schedule(key, delay, bucket);
        delay
    }

    /// Forgets `key`'s failures (call after it was processed successfully).
    pub fn forget(&self, key: &T) {
        self.shared.failures.lock().remove(key);
    }

    /// How many times `key` was rate-limited since it was last forgotten.
    pub fn num_requeues(&self, key: &T) -> u32 {
        self.shared.failures.lock().get(key).copied().unwrap_or(0)
    }

    /// Keys waiting (not those being processed).
    pub fn len(&self) -> usize {
        self.shared.state.lock().queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keys waiting for a delay (`add_after`, `add_rate_limited`) before they are queued.
    pub fn waiting_len(&self) -> usize {
        self.shared.state.lock().waiting.len()
    }

    /// The next key, when there is one; `None` once the queue is shut down and empty.
    pub async fn get(&self) -> Option<Processing<T>> {
        loop {
            let notified = self.shared.ready.notified();
            {
                let mut s = self.shared.state.lock();
                if let Some(key) = s.queue.pop_front() {
                    s.dirty.remove(&key);
                    s.processing.insert(key.clone());
                    // More work: let another waiting worker look too.
                    if !s.queue.is_empty() {
                        self.shared.ready.notify_one();
                    }
                    return Some(Processing {
                        key: Some(key),
                        queue: self.clone(),
                    });
                }
                if s.shutting_down {
                    return None;
                }
            }
            notified.await;
        }
    }

    fn done(&self, key: T) {
        let mut s = self.shared.state.lock();
        s.processing.remove(&key);
        let requeued = s.dirty.contains(&key);
        if requeued {
            s.queue.push_back(key);
        }
        // Nothing in flight any more: `shutdown_with_drain` returns, whether or not the key
        // went back to the queue (no worker may be left to take it).
        let idle = s.processing.is_empty();
        drop(s);
        if requeued {
            self.shared.ready.notify_one();
        }
        if idle {
            self.shared.idle.notify_waiters();
        }
    }

    /// Stops taking keys; workers get what is queued, then `None`. Keys waiting for a delay are
    /// dropped, and their timers end.
    pub fn shutdown(&self) {
        let waiting: Vec<Arc<Notify>> = {
            let mut s = self.shared.state.lock();
            s.shutting_down = true;
            s.waiting.drain().map(|(_, w)| w.wake).collect()
        };
        for wake in waiting {
            wake.notify_one();
        }
        self.shared.ready.notify_waiters();
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shared.state.lock().shutting_down
    }

    /// [`shutdown`](Self::shutdown), then waits until no key is being processed.
    pub async fn shutdown_with_drain(&self) {
        self.shutdown();
        loop {
            let idle = self.shared.idle.notified();
            if self.shared.state.lock().processing.is_empty() {
                return;
            }
            idle.await;
        }
    }
}
