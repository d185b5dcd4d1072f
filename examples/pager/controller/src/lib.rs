//! The pager controller: for each Alert whose `status.sent` is not true, push it to a
//! Pushbullet-style notifier, then set `status.sent=true` with a server-side apply of the status
//! subresource under its own field manager ([`FIELD_MANAGER`]). Built
//! only from the generated clientset, informer factory and lister of `pager-client`.
//!
//! **Claims.** Before pushing, a controller claims the alert by writing the annotation
//! `pager.k8s.co/sending: <controller id>#<run nonce> <unix seconds>` with the `resourceVersion` it read from
//! its cache as precondition. The write lands only if the alert is still what the cache says
//! (unsent, unclaimed or claimed by this controller): a stale cache, or another controller
//! racing for the same alert, gets a 409 and retries later — so two controllers never both push
//! one alert, and one controller never pushes twice because its cache lagged behind its own
//! status write. A claim keeps other controllers away for [`Config::claim_ttl`]; an older one
//! (its controller died) may be taken over.
//!
//! **Delivery guarantee: at least once, with an idempotency key.** The push carries the alert's
//! uid as `guid`. Within one process an alert is pushed once: a status write that fails after a
//! successful push is retried without pushing again. If the controller dies between the push and
//! the status write, the alert is still unsent and claimed; after the claim expires it is pushed
//! again (by a restarted controller too) with the same `guid`, which a notifier can
//! dedupe by. No alert is lost: it stays unsent until a push succeeded and the write landed.

pub mod metrics;
pub mod notifier;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kube_codegen_cache::{Handlers, RateLimits, WorkQueue};
use kube_codegen_client::{Error, PatchParams, PostParams};
use pager::v1beta1::Alert;
use pager_client::applyconfigurations::pager_v1beta1::{
    AlertApplyConfiguration, AlertStatusApplyConfiguration,
};
use pager_client::listers::pager_v1beta1::AlertLister;
use pager_client::{Clientset, SharedInformerFactory};
use parking_lot::Mutex;
use tokio::sync::watch;

pub use metrics::Metrics;
pub use notifier::{Note, Notifier, PushError, Token};

/// The annotation that claims an alert for one controller.
pub const CLAIM: &str = "pager.k8s.co/sending";

/// The field manager of every write this controller makes (`metadata.managedFields`).
pub const FIELD_MANAGER: &str = "pager-controller";

#[derive(Clone, Debug)]
pub struct Config {
    /// This controller's name in claims, which add a nonce of each run ([`claim_holder`]): the
    /// pod's name, or the host's.
    pub id: String,
    pub workers: usize,
    /// Only this namespace (`None`: all).
    pub namespace: Option<String>,
    /// How long a claim keeps other controllers away.
    pub claim_ttl: Duration,
    pub retry: RateLimits,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            id: "pager-controller".into(),
            workers: 4,
            namespace: None,
            claim_ttl: Duration::from_secs(60),
            retry: RateLimits {
                base_delay: Duration::from_millis(50),
                max_delay: Duration::from_secs(60),
                per_second: 50,
                burst: 200,
            },
        }
    }
}

/// `namespace/name` → (namespace, name).
fn split(key: &str) -> (&str, &str) {
    key.split_once('/').unwrap_or(("", key))
}

fn now_secs() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// What this run writes in its claims: `<id>#<nonce>`, the nonce new for each run, as
/// kube-controller-manager appends a UUID to its host name in its leader-election lease. Only a
/// claim with this run's holder is its own: two processes given the same id (a
/// misconfiguration, or none given on one host, where the default is the host name) wait for
/// each other's claims as for any controller's, so they never both push one alert; and a
/// restarted controller takes over its previous run's claims after the TTL, as any other would
/// (that run may still be pushing).
fn claim_holder(id: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded randomly per process: a nonce without a dependency.
    let nonce = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!("{id}#{:08x}", nonce as u32)
}

/// Who holds a claim and since when.
fn claim_of(alert: &Alert) -> Option<(String, i64)> {
    let value = alert.metadata.annotations.as_ref()?.get(CLAIM)?;
    let (holder, since) = value.rsplit_once(' ')?;
    Some((holder.to_string(), since.parse().ok()?))
}

/// Whether `new` differs from `old` only by the claim annotation (and what every write changes:
/// `resourceVersion`, `managedFields`). A resync (`old` is `new`) is not such a change.
fn only_claim_changed(old: &Alert, new: &Alert) -> bool {
    if old.metadata.resource_version == new.metadata.resource_version {
        return false;
    }
    let without_claim = |a: &Alert| {
        let mut a = a.clone();
        a.metadata.resource_version = None;
        a.metadata.managed_fields = None;
        if let Some(annotations) = a.metadata.annotations.as_mut() {
            annotations.remove(CLAIM);
            if annotations.is_empty() {
                a.metadata.annotations = None;
            }
        }
        a
    };
    without_claim(old) == without_claim(new)
}

fn is_sent(alert: &Alert) -> bool {
    alert.status.as_ref().is_some_and(|s| s.sent)
}

struct Worker {
    cs: Clientset,
    lister: AlertLister,
    queue: WorkQueue<String>,
    notifier: Notifier,
    config: Config,
    /// This run's name in claims ([`claim_holder`]).
    holder: String,
    metrics: Metrics,
    /// Per key, the uid of the alert this process pushed whose status write has not landed
    /// yet. Keyed by name so that an alert deleted or replaced meanwhile leaves nothing behind.
    pushed: Mutex<HashMap<String, String>>,
    /// Keys that failed, and when they may be tried again: an update of the alert (someone's
    /// label, the informer's resync) does not cut the backoff or the notifier's `Retry-After`
    /// short.
    not_before: NotBefore,
    push_failures: FailureLog,
    /// Other controllers' claims, and when this process first saw each: a claim expires
    /// `claim_ttl` after it was first seen here, by this process's clock, so a claimant's clock
    /// running ahead cannot hold an alert longer, nor one running behind let two push it.
    claims_seen: Mutex<HashMap<String, (String, Instant)>>,
}

/// How often a kind of push failure is logged as a warning.
const FAILURE_LOG_EVERY: Duration = Duration::from_secs(30);

/// Failed pushes, logged without flooding: a notifier down for thousands of alerts, each
/// retried, is one warning per kind of failure (its message) and [`FAILURE_LOG_EVERY`], with
/// how many alike were left out since; each failure is a debug line, and counted in
/// `pager_controller_push_failures_total`.
#[derive(Default)]
struct FailureLog(Mutex<HashMap<String, (Instant, u64)>>);

impl FailureLog {
    fn report(&self, key: &str, error: &PushError) {
        let message = error.to_string();
        let now = Instant::now();
        let mut logged = self.0.lock();
        if let Some((at, left_out)) = logged.get_mut(&message)
            && now.duration_since(*at) < FAILURE_LOG_EVERY
        {
            *left_out += 1;
            tracing::debug!(alert = key, error = %message, "push failed; will retry");
            return;
        }
        let left_out = logged.get(&message).map_or(0, |(_, n)| *n);
        tracing::warn!(alert = key, error = %message, alike_since_last_warning = left_out, "push failed; will retry");
        // Kinds of failure are few; a notifier answering ever-new messages (Retry-After
        // dates) is not remembered without bound.
        if logged.len() >= 64 {
            logged.retain(|_, (at, _)| now.duration_since(*at) < FAILURE_LOG_EVERY);
        }
        logged.insert(message, (now, 0));
    }
}

/// When each failed key may be tried again, and which keys are being worked on (shared by the
/// workers and the event handlers).
#[derive(Clone, Default)]
struct NotBefore(Arc<Mutex<Schedule>>);

#[derive(Default)]
struct Schedule {
    until: HashMap<String, Instant>,
    /// Keys a worker holds, and whether an event came for each meanwhile: queued when the
    /// worker is done (at once after a success, after its wait otherwise), never re-queued at
    /// once behind a failure's back.
    in_flight: HashMap<String, bool>,
}

impl NotBefore {
    /// Queues `key` now, or when its backoff ends; for a key being worked on, after its worker.
    fn enqueue(&self, queue: &WorkQueue<String>, key: String) {
        let wait = {
            let mut schedule = self.0.lock();
            if let Some(changed) = schedule.in_flight.get_mut(&key) {
                *changed = true;
                return;
            }
            schedule
                .until
                .get(&key)
                .and_then(|t| t.checked_duration_since(Instant::now()))
        };
        match wait {
            Some(wait) if !wait.is_zero() => queue.add_after(key, wait),
            _ => queue.add(key),
        }
    }

    /// A worker takes `key`.
    fn start(&self, key: &str) {
        self.0.lock().in_flight.insert(key.to_string(), false);
    }

    /// A worker is done with `key`, which may be tried again after `wait` (`None`: whenever);
    /// whether an event came for it meanwhile. One critical section: an event arriving between
    /// the two would find the key neither in flight nor waiting, and be queued at once.
    fn finish(&self, key: &str, wait: Option<Duration>) -> bool {
        let mut schedule = self.0.lock();
        match wait {
            Some(wait) => schedule
                .until
                .insert(key.to_string(), Instant::now() + wait),
            None => schedule.until.remove(key),
        };
        schedule.in_flight.remove(key).unwrap_or(false)
    }
}

/// What became of one key.
enum Outcome {
    Done,
    /// Failed: again after its backoff, and not before the duration given (a notifier's
    /// `Retry-After` is a floor on the backoff, never a way around it).
    Retry(Duration),
    /// Failed after the push: again after its backoff, but never later than the duration
    /// given.
    RetryWithin(Duration),
    /// Not this controller's to do now (another holds a fresh claim): look again then.
    WaitFor(Duration),
}

impl Worker {
    async fn process(&self, key: &str) -> Outcome {
        let (ns, name) = split(key);
        let Some(cached) = self.lister.alerts(ns).get(name) else {
            // Deleted (before it was sent, or after): nothing to do.
            self.pushed.lock().remove(key);
            return Outcome::Done;
        };
        if is_sent(&cached) {
            // Pushed here and marked sent by a status write whose answer was lost: counted now.
            let pushed = self.pushed.lock().remove(key);
            if pushed.is_some() && pushed == cached.metadata.uid {
                self.metrics.sent.inc();
            }
            return Outcome::Done;
        }
        // Being deleted (a finalizer, or a foreground deletion, holds it): as good as gone.
        if cached.metadata.deletion_timestamp.is_some() {
            self.pushed.lock().remove(key);
            return Outcome::Done;
        }
        let uid = cached.metadata.uid.clone().unwrap_or_default();
        let alerts = self.cs.pager_v1beta1().alerts(ns);
        // Leave it to another controller holding a fresh claim.
        if let Some((holder, since)) = claim_of(&cached)
            && holder != self.holder
        {
            // Aged by this process's clock from when it first saw the claim, as client-go's
            // leader election ages a lease: the claimant's clock, ahead or behind, does not
            // matter.
            let ttl = self.config.claim_ttl;
            let age = self.claim_first_seen(key, &holder, since).elapsed();
            if age < ttl {
                return Outcome::WaitFor(ttl - age);
            }
        }
        // (Re)claim it with the cached resourceVersion as precondition: the write succeeds only
        // if what the cache says — not sent — is still true on the server (a stale cache gets a
        // 409 and a retry, never a second push).
        let Some(alert) = self.claim(&alerts, &cached).await else {
            return Outcome::Retry(Duration::ZERO);
        };
        if self.pushed.lock().get(key) != Some(&uid) {
            let note = Note {
                type_: "note",
                title: &alert.spec.title,
                body: &alert.spec.content,
                guid: &uid,
            };
            if let Err(e) = self.notifier.push(&note).await {
                self.metrics.push_failures.inc();
                self.push_failures.report(key, &e);
                // A notifier that says when to come back (a 429 or 503 with `Retry-After`)
                // is asked again then, not after the usual backoff.
                return Outcome::Retry(e.retry_after().unwrap_or_default());
            }
            self.pushed.lock().insert(key.to_string(), uid.clone());
            // The push's failures are over: a failing status write backs off from the start,
            // not from where the notifier's failures left the backoff.
            self.queue.forget(&key.to_string());
        }
        // Mark it sent with a server-side apply of the status under this controller's field
        // manager: the controller owns `status.sent` and nothing else, so other writers (labels,
        // annotations, spec) never conflict with it; forced, as controllers apply (the field is
        // this controller's to decide). For the alert that was pushed only: one deleted and
        // created again under its name meanwhile is another alert, still to push. This server
        // refuses an apply whose uid is not the stored one, on `/status` too (422: the uid is
        // immutable); kube-apiserver's CRD status strategy would copy the stored metadata over
        // it first, which is why a CRD-backed pager needs the precondition done otherwise.
        let status = AlertApplyConfiguration::new(name, ns)
            .uid(uid.clone())
            .status(AlertStatusApplyConfiguration::new().sent(true));
        match alerts
            .apply_status(&status, &PatchParams::apply(FIELD_MANAGER).force())
            .await
        {
            Ok(_) => {
                self.pushed.lock().remove(key);
                self.metrics.sent.inc();
                tracing::info!(alert = key, "sent");
                Outcome::Done
            }
            // Gone, or replaced by another alert of the same name (its own event queues it):
            // an apply's uid is an immutable field, so the server answers 422. (A 409 on a forced
            // apply is only the server giving up on its own retries: try again later.)
            Err(e) if e.is_not_found() => {
                self.pushed.lock().remove(key);
                Outcome::Done
            }
            // Refused as invalid: replaced only if the server now holds another alert under
            // this name (or none). Refused for another reason (validation, an admission
            // webhook), the write is retried: the alert was pushed and must not be pushed again.
            Err(e) if e.is_invalid() => match alerts.get(name).await {
                Ok(current) if current.metadata.uid.as_deref() == Some(uid.as_str()) => {
                    self.status_failed(key, &e)
                }
                Ok(_) => {
                    self.pushed.lock().remove(key);
                    Outcome::Done
                }
                Err(g) if g.is_not_found() => {
                    self.pushed.lock().remove(key);
                    Outcome::Done
                }
                Err(g) => self.status_failed(key, &g),
            },
            Err(e) => self.status_failed(key, &e),
        }
    }

    fn status_failed(&self, key: &str, e: &Error) -> Outcome {
        self.metrics.status_failures.inc();
        tracing::warn!(alert = key, error = %e, "status write failed; will retry (without pushing again)");
        // Each retry renews this controller's claim (written before the status): retried
        // well within the claim's TTL, so that no other controller takes a pushed alert over
        // and pushes it again.
        Outcome::RetryWithin(self.config.claim_ttl / 4)
    }

    /// When this process first saw `holder`'s claim of `since` on `key`.
    fn claim_first_seen(&self, key: &str, holder: &str, since: i64) -> Instant {
        let claim = format!("{holder} {since}");
        let mut seen = self.claims_seen.lock();
        match seen.get(key) {
            Some((c, at)) if *c == claim => *at,
            _ => {
                let now = Instant::now();
                seen.insert(key.to_string(), (claim, now));
                now
            }
        }
    }

    /// Writes this controller's claim with the cached `resourceVersion` as precondition; `None`
    /// when another write got there first (409) or the write failed.
    async fn claim(
        &self,
        alerts: &pager_client::clientset::pager_v1beta1::AlertClient,
        cached: &Alert,
    ) -> Option<Alert> {
        let mut claimed = cached.clone();
        claimed
            .metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(CLAIM.into(), format!("{} {}", self.holder, now_secs()));
        let pp = PostParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..PostParams::default()
        };
        match alerts.update(&pp, &claimed).await {
            Ok(a) => Some(a),
            Err(e) => {
                if !e.is_conflict() {
                    tracing::warn!(alert = %kube_codegen_cache::key_of(&cached.metadata), error = %e, "claim failed; will retry");
                }
                None
            }
        }
    }
}

/// Runs the controller until `shutdown` turns true: informers, queue, `config.workers` workers;
/// in-flight work finishes before it returns.
pub async fn run(
    cs: Clientset,
    notifier: Notifier,
    config: Config,
    metrics: Metrics,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut builder = SharedInformerFactory::builder(&cs);
    if let Some(ns) = &config.namespace {
        builder = builder.namespace(ns);
    }
    let factory = SharedInformerFactory::from_builder(builder.resync(Duration::from_secs(300)));
    let informer = factory.pager().v1beta1().alerts();
    let queue: WorkQueue<String> = WorkQueue::new(config.retry);
    let not_before = NotBefore::default();
    let enqueue = {
        let queue = queue.clone();
        let not_before = not_before.clone();
        move |a: &Alert| {
            if !is_sent(a) {
                not_before.enqueue(&queue, kube_codegen_cache::key_of(&a.metadata));
            }
        }
    };
    let (on_add, on_update) = (enqueue.clone(), enqueue);
    informer.informer().add_event_handler(
        Handlers::new()
            .on_add(move |a: Arc<Alert>| on_add(&a))
            .on_update(move |old: Arc<Alert>, new: Arc<Alert>| {
                // A claim (this controller's, or another's) is no new work: the worker that
                // wrote it already scheduled the next look. Enqueuing it would retry a failing
                // push at once, past the backoff, on every claim it writes.
                if !only_claim_changed(&old, &new) {
                    on_update(&new)
                }
            }),
    );
    factory.start();
    // A shutdown while the caches sync (the server unreachable) ends the run too.
    let synced = tokio::select! {
        synced = factory.wait_for_cache_sync() => synced,
        _ = shutdown.wait_for(|stop| *stop) => false,
    };
    if !synced {
        factory.shutdown().await;
        return;
    }
    tracing::info!(workers = config.workers, "caches synced; working");
    metrics.ready.set(1);
    let worker = Arc::new(Worker {
        cs,
        lister: informer.lister(),
        queue: queue.clone(),
        notifier,
        holder: claim_holder(&config.id),
        config: config.clone(),
        metrics: metrics.clone(),
        pushed: Mutex::new(HashMap::new()),
        push_failures: FailureLog::default(),
        not_before,
        claims_seen: Mutex::new(HashMap::new()),
    });
    let mut tasks = Vec::new();
    for _ in 0..config.workers.max(1) {
        let w = worker.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(item) = w.queue.get().await {
                // Shutting down: take no more work (what is queued is found again by the next
                // start's list); the key is let go.
                if w.queue.is_shutting_down() {
                    break;
                }
                w.metrics.queue_depth.set(w.queue.len() as i64);
                w.metrics.retry_waiting.set(w.queue.waiting_len() as i64);
                let key = item.key().clone();
                w.not_before.start(&key);
                let outcome = w.process(&key).await;
                match outcome {
                    Outcome::Done => {
                        w.queue.forget(&key);
                        w.claims_seen.lock().remove(&key);
                        if w.not_before.finish(&key, None) {
                            w.queue.add(key);
                        }
                    }
                    Outcome::Retry(floor) => {
                        let wait = w.queue.add_rate_limited_at_least(key.clone(), floor);
                        w.not_before.finish(&key, Some(wait));
                    }
                    Outcome::RetryWithin(ceiling) => {
                        let wait = w.queue.add_rate_limited_within(key.clone(), ceiling);
                        w.not_before.finish(&key, Some(wait));
                    }
                    Outcome::WaitFor(d) => {
                        w.queue.add_after(key.clone(), d);
                        w.not_before.finish(&key, Some(d));
                    }
                }
                // Again now: the last key to go back to wait must not leave the gauges stale.
                w.metrics.queue_depth.set(w.queue.len() as i64);
                w.metrics.retry_waiting.set(w.queue.waiting_len() as i64);
            }
        }));
    }
    while !*shutdown.borrow() {
        if shutdown.changed().await.is_err() {
            break;
        }
    }
    tracing::info!("shutting down: finishing work in flight");
    metrics.ready.set(0);
    queue.shutdown_with_drain().await;
    for t in tasks {
        let _ = t.await;
    }
    worker.release_claims().await;
    factory.shutdown().await;
}

/// How long a graceful shutdown spends releasing claims.
const RELEASE_DEADLINE: Duration = Duration::from_secs(5);

impl Worker {
    /// Removes this controller's claims of alerts it has not sent (backing off after failed
    /// pushes), so that another controller — the replacement pod of a rollout, under another
    /// id — takes them at once rather than after the claim TTL. Each removal has the cached
    /// `resourceVersion` as precondition (a changed alert is left as it is); an alert pushed
    /// here whose status write failed keeps its claim (another controller would push it again).
    /// Bounded by [`RELEASE_DEADLINE`].
    async fn release_claims(&self) {
        let mine: Vec<Arc<Alert>> = self
            .lister
            .list(&kube_codegen_cache::LabelSelector::everything())
            .into_iter()
            .filter(|a| {
                !is_sent(a)
                    && claim_of(a).is_some_and(|(holder, _)| holder == self.holder)
                    && !self
                        .pushed
                        .lock()
                        .contains_key(&kube_codegen_cache::key_of(&a.metadata))
            })
            .collect();
        if mine.is_empty() {
            return;
        }
        let pp = PostParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..PostParams::default()
        };
        let release = async {
            let mut released = 0;
            for cached in &mine {
                let mut unclaimed = (**cached).clone();
                if let Some(annotations) = unclaimed.metadata.annotations.as_mut() {
                    annotations.remove(CLAIM);
                }
                let ns = cached.metadata.namespace.as_deref().unwrap_or_default();
                match self
                    .cs
                    .pager_v1beta1()
                    .alerts(ns)
                    .update(&pp, &unclaimed)
                    .await
                {
                    Ok(_) => released += 1,
                    Err(e) if e.is_conflict() || e.is_not_found() => {}
                    Err(e) => {
                        tracing::warn!(alert = %kube_codegen_cache::key_of(&cached.metadata), error = %e, "could not release a claim");
                    }
                }
            }
            released
        };
        match tokio::time::timeout(RELEASE_DEADLINE, release).await {
            Ok(released) => tracing::info!(released, "released this controller's claims"),
            Err(_) => {
                tracing::warn!("releasing claims took too long; the rest expire with their TTL")
            }
        }
    }
}
