//! [`EtcdStore`]: the [`Storage`] trait over an etcd 3 cluster (`etcd-client`), for API-server
//! replicas sharing one etcd. Keys are the registry's (`/registry/<group>/<resource>/…`) under a
//! configurable prefix; revisions are etcd's (`resourceVersion` = `mod_revision`); writes are
//! transactions comparing the key's revision, as the trait's table says.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, EventType as EtcdEventType, GetOptions, Txn, TxnOp,
    WatchOptions,
};
use tokio::sync::mpsc;

use crate::semantics::{check_expected, check_size, limit};
use crate::watch::{WatchSlot, WatchStream};
use crate::{
    Event, EventType, KeyValue, ListOptions, ListResult, Revision, Storage, StorageError,
    StoreOptions,
};

/// TLS to etcd: the CA that signed etcd's serving certificate, and a client certificate when
/// etcd requires one (`--client-cert-auth`). All PEM.
#[derive(Clone)]
pub struct EtcdTls {
    pub ca: Vec<u8>,
    /// `(certificate chain, private key)`.
    pub client: Option<(Vec<u8>, Vec<u8>)>,
    /// The name etcd's certificate is checked against (default: the endpoint's host).
    pub server_name: Option<String>,
}

impl std::fmt::Debug for EtcdTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("EtcdTls")
            .field("client_certificate", &self.client.is_some())
            .field("server_name", &self.server_name)
            .finish()
    }
}

/// How to reach etcd.
#[derive(Clone, Debug)]
pub struct EtcdOptions {
    /// Prepended to every key (e.g. `/pager`), so several servers can share a cluster.
    pub prefix: String,
    /// How long one etcd call may take before the request fails with `Timeout` (504).
    pub request_timeout: Duration,
    /// How long connecting may take.
    pub connect_timeout: Duration,
    /// TLS (use `https://` endpoints with it).
    pub tls: Option<EtcdTls>,
    /// The interval of the HTTP/2 keep-alive pings to etcd, and how long one may go
    /// unanswered: an etcd that stops answering (a frozen process, a network that drops
    /// packets without a reset) ends the connection, and with it the watches the watch cache
    /// serves from, within twice this (their watches would otherwise stay open at a stale
    /// revision).
    pub keep_alive: Duration,
    pub store: StoreOptions,
}

impl Default for EtcdOptions {
    fn default() -> Self {
        EtcdOptions {
            prefix: String::new(),
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            tls: None,
            keep_alive: ETCD_KEEP_ALIVE,
            store: StoreOptions::default(),
        }
    }
}

/// The default [`EtcdOptions::keep_alive`]: a frozen etcd is noticed within 20 s.
const ETCD_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// A store in an etcd 3 cluster. Cheap to clone (clones share the connections).
#[derive(Clone)]
pub struct EtcdStore {
    members: Arc<Members>,
    options: EtcdOptions,
}

/// A client per etcd endpoint and the one calls go to. etcd-client's own balancing across
/// endpoints keeps sending calls to an endpoint it cannot reach (a dead member failed a quarter
/// to a half of all calls while the other two kept quorum); clientv3 sends them only to a
/// connection that works. So calls go to one pinned endpoint, and move to the next when it
/// cannot be reached, answers "no leader" (a member cut off from the others, which etcd tells
/// every call here: each asks for a leader, clientv3's `WithRequireLeader`), breaks a
/// connection or times out; a call that cannot have reached etcd is made again there.
struct Members {
    clients: Vec<(String, Client)>,
    pinned: std::sync::atomic::AtomicUsize,
}

impl Members {
    /// The pinned endpoint's index and client.
    fn pinned(&self) -> (usize, Client) {
        let i = self.pinned.load(std::sync::atomic::Ordering::Relaxed) % self.clients.len();
        (i, self.clients[i].1.clone())
    }

    /// Moves calls from endpoint `from` to the next one (unless another call moved them
    /// already).
    fn unpin(&self, from: usize, why: &str) {
        let next = (from + 1) % self.clients.len();
        if next != from
            && self
                .pinned
                .compare_exchange(
                    from,
                    next,
                    std::sync::atomic::Ordering::Relaxed,
                    std::sync::atomic::Ordering::Relaxed,
                )
                .is_ok()
        {
            tracing::warn!(
                from = %self.clients[from].0,
                to = %self.clients[next].0,
                reason = why,
                "etcd calls move to another endpoint"
            );
        }
    }
}

/// What a failed call says of its endpoint: whether calls should move to another, and whether
/// the call surely never reached etcd (so it may be made again, a write too).
fn endpoint_failure(e: &StorageError) -> (bool, bool) {
    match e {
        StorageError::Unavailable(why) if is_connect_failure(why) || is_no_leader(why) => {
            (true, true)
        }
        StorageError::Unavailable(_) | StorageError::Timeout(_) => (true, false),
        _ => (false, false),
    }
}

/// A member to start on, different from replica to replica (the clock's nanoseconds: replicas in
/// containers often share a process id).
fn start_member(members: usize) -> usize {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as usize);
    nanos % members.max(1)
}

/// How long a call waits before asking again when no member has a leader.
const NO_LEADER_PAUSE: Duration = Duration::from_millis(100);

/// etcd's refusal of a call that asks for a leader on a member that has none
/// (`rpctypes.ErrNoLeader`): the call was not applied.
fn is_no_leader(message: &str) -> bool {
    message.contains("no leader")
}

impl std::fmt::Debug for EtcdStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdStore")
            .field("prefix", &self.options.prefix)
            .finish()
    }
}

fn classify(e: etcd_client::Error) -> StorageError {
    use etcd_client::Error as E;
    match e {
        E::GRpcStatus(s) => match s.code() {
            // tonic's own deadline (the channel's timeout, a backstop behind each call's): a
            // slow etcd, as the call's timer says it.
            tonic::Code::Cancelled if s.message() == "Timeout expired" => {
                StorageError::Timeout(s.message().to_string())
            }
            tonic::Code::Unavailable | tonic::Code::Cancelled | tonic::Code::Aborted => {
                StorageError::Unavailable(s.message().to_string())
            }
            tonic::Code::DeadlineExceeded => StorageError::Timeout(s.message().to_string()),
            // The connection broke under the call (tonic reports hyper's errors as Unknown or
            // Internal): an etcd that went away, e.g. one that stopped answering keep-alive
            // pings, not a fault of the request.
            tonic::Code::Unknown | tonic::Code::Internal if is_transport_failure(s.message()) => {
                StorageError::Unavailable(s.message().to_string())
            }
            // etcd's "required revision has been compacted" and "... is a future revision";
            // callers refine the revisions. tonic says OutOfRange too for a message over its
            // size limit: that is not a 410.
            tonic::Code::OutOfRange if is_revision_out_of_range(s.message()) => {
                StorageError::Expired {
                    requested: 0,
                    oldest: 0,
                }
            }
            _ => StorageError::Io(format!("etcd: {}", s.message())),
        },
        // With its causes: tonic's own text is "transport error" for a refused connection
        // (the call never sent) and a broken one alike.
        E::TransportError(t) => StorageError::Unavailable(with_causes(&t)),
        E::IoError(io) => StorageError::Unavailable(io.to_string()),
        other => StorageError::Io(format!("etcd: {other}")),
    }
}

/// An error's text followed by each of its causes' (`transport error: tcp connect error: …`).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Whether a status tonic made of a broken connection (hyper's and h2's errors) rather than
/// one etcd sent.
fn is_transport_failure(message: &str) -> bool {
    [
        "h2 protocol error",
        "transport error",
        "connection reset",
        "broken pipe",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// Whether an `Unavailable` error says no connection could be made, so the call never
/// reached etcd.
fn is_connect_failure(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    // etcd's own answers ("etcdserver: request timed out, possibly due to connection lost")
    // come after it proposed the call: never a connection that was not made.
    !message.contains("etcdserver:")
        && [
            "tcp connect error",
            "error trying to connect",
            "refused",
            "dns error",
            "no route to host",
        ]
        .iter()
        .any(|m| message.contains(m))
}

/// Whether an OutOfRange status is etcd's answer about a revision (mvcc's
/// `ErrCompacted`/`ErrFutureRev`) rather than a transport limit.
fn is_revision_out_of_range(message: &str) -> bool {
    message.contains("required revision")
}

/// Responses may be as large as etcd sends (a list of a big collection, a burst of watch
/// events); Kubernetes' etcd client sets the same limit (`MaxCallRecvMsgSize`).
const MAX_RESPONSE_BYTES: usize = i32::MAX as usize;

/// The DELETED event of a delete at `revision`, from the value before it. etcd sends a delete
/// without that value when a compaction removed it first: the change cannot be delivered as a
/// DELETED with the last state, and skipping it would leave the object in every watcher and
/// watch cache for good. It ends the watch as compacted instead (Kubernetes fails such a watch
/// too): clients and the watch cache re-list.
fn deleted(revision: Revision, prev: Option<KeyValue>) -> Result<Event, StorageError> {
    let prev = prev.ok_or(StorageError::Expired {
        requested: revision,
        oldest: revision + 1,
    })?;
    Ok(Event {
        kind: EventType::Deleted,
        revision,
        kv: KeyValue {
            mod_revision: revision,
            ..prev.clone()
        },
        prev: Some(prev),
        memo: Default::default(),
    })
}

fn kv_client(client: &Client) -> etcd_client::KvClient {
    client
        .kv_client()
        .max_decoding_message_size(MAX_RESPONSE_BYTES)
}

/// The first key after every key starting with `prefix` (etcd's range end for a prefix).
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

impl EtcdStore {
    /// Connects to any of `endpoints` (`http://127.0.0.1:2379`, …), retrying until
    /// `connect_timeout` (etcd may be starting beside the server).
    pub async fn connect(endpoints: &[String], options: EtcdOptions) -> Result<Self, StorageError> {
        let deadline = tokio::time::Instant::now() + options.connect_timeout;
        // etcd may start beside the server (a StatefulSet next to a Deployment): say so,
        // once a few seconds have passed, rather than wait silently.
        let started = tokio::time::Instant::now();
        let mut said = false;
        let mut waiting = |why: &str| {
            if !said && started.elapsed() >= Duration::from_secs(3) {
                said = true;
                tracing::warn!(endpoints = %endpoints.join(","), reason = why, "waiting for etcd");
            }
        };
        loop {
            // The channel's timeout is a backstop a second behind each call's own timer, so
            // that a slow etcd is always answered by that timer, as a timeout.
            // HTTP/2 keep-alive pings, idle or not (see `EtcdOptions::keep_alive`), as
            // kube-apiserver's etcd client sends them.
            let mut connect = ConnectOptions::new()
                .with_connect_timeout(options.connect_timeout)
                .with_timeout(options.request_timeout + Duration::from_secs(1))
                .with_keep_alive(options.keep_alive, options.keep_alive)
                .with_keep_alive_while_idle(true)
                .with_require_leader(true);
            if let Some(tls) = &options.tls {
                let mut t = etcd_client::TlsOptions::new()
                    .ca_certificate(etcd_client::Certificate::from_pem(&tls.ca));
                if let Some((cert, key)) = &tls.client {
                    t = t.identity(etcd_client::Identity::from_pem(cert, key));
                }
                if let Some(name) = &tls.server_name {
                    t = t.domain_name(name.clone());
                }
                connect = connect.with_tls(t);
            }
            let attempt = tokio::time::timeout_at(deadline, async {
                let mut clients = Vec::new();
                for endpoint in endpoints {
                    let client = Client::connect([endpoint], Some(connect.clone())).await?;
                    clients.push((endpoint.clone(), client));
                }
                Ok::<_, etcd_client::Error>(clients)
            })
            .await
            .map_err(|_| {
                StorageError::Timeout(format!("connecting to etcd at {}", endpoints.join(",")))
            })?;
            match attempt {
                Ok(clients) if clients.is_empty() => {
                    return Err(StorageError::Io("no etcd endpoints".into()));
                }
                Ok(clients) => {
                    let store = EtcdStore {
                        members: Arc::new(Members {
                            // Replicas start on different members, as clientv3's balancer
                            // spreads its calls: no member takes every replica's load.
                            pinned: std::sync::atomic::AtomicUsize::new(start_member(
                                clients.len(),
                            )),
                            clients,
                        }),
                        options: options.clone(),
                    };
                    // Connected is not serving: ask for the revision once.
                    match store.revision().await {
                        Ok(_) => return Ok(store),
                        Err(e) if tokio::time::Instant::now() >= deadline => return Err(e),
                        Err(e) => waiting(&e.to_string()),
                    }
                }
                Err(e) if tokio::time::Instant::now() >= deadline => return Err(classify(e)),
                Err(e) => waiting(&e.to_string()),
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// The endpoint calls go to now (see `--etcd-servers`): the first to try, until it fails.
    pub fn current_endpoint(&self) -> &str {
        let (at, _) = self.members.pinned();
        &self.members.clients[at].0
    }

    fn full(&self, key: &str) -> Vec<u8> {
        format!("{}{key}", self.options.prefix).into_bytes()
    }

    fn kv(&self, kv: &etcd_client::KeyValue) -> KeyValue {
        let key = String::from_utf8_lossy(kv.key());
        KeyValue {
            key: key
                .strip_prefix(self.options.prefix.as_str())
                .unwrap_or(&key)
                .to_string(),
            value: Bytes::copy_from_slice(kv.value()),
            create_revision: kv.create_revision() as Revision,
            mod_revision: kv.mod_revision() as Revision,
        }
    }

    /// One etcd call (`f` makes it on a client), bounded by the request timeout, on the pinned
    /// endpoint; made again on the next endpoint while the endpoints tried could not take it.
    /// A read is also made again after a connection broke under it.
    async fn call<T, F, Fut>(&self, what: &str, f: F) -> Result<T, StorageError>
    where
        F: Fn(Client) -> Fut,
        Fut: std::future::Future<Output = Result<T, etcd_client::Error>>,
    {
        self.call_on_members(what, false, f).await.map(|(v, _)| v)
    }

    /// One etcd call that writes: as [`EtcdStore::call`], except that a connection that broke
    /// once the call was under way leaves its outcome unknown — etcd may have applied it — which
    /// is a timeout (504), as a deadline is, not `Unavailable` (503: nothing was done); only a
    /// call that never reached etcd is made again.
    async fn write_call<T, F, Fut>(&self, what: &str, f: F) -> Result<T, StorageError>
    where
        F: Fn(Client) -> Fut,
        Fut: std::future::Future<Output = Result<T, etcd_client::Error>>,
    {
        match self.call_on_members(what, true, f).await.map(|(v, _)| v) {
            Err(StorageError::Unavailable(why))
                if !is_connect_failure(&why) && !is_no_leader(&why) =>
            {
                Err(StorageError::Timeout(format!(
                    "etcd {what}: the connection broke before etcd answered, so the write may \
                     have been applied ({why})"
                )))
            }
            other => other,
        }
    }

    /// The call, and the index of the endpoint that answered it.
    async fn call_on_members<T, F, Fut>(
        &self,
        what: &str,
        write: bool,
        f: F,
    ) -> Result<(T, usize), StorageError>
    where
        F: Fn(Client) -> Fut,
        Fut: std::future::Future<Output = Result<T, etcd_client::Error>>,
    {
        let deadline = tokio::time::Instant::now() + self.options.request_timeout;
        let mut tries = self.members.clients.len();
        let mut no_leader = false;
        loop {
            let (at, client) = self.members.pinned();
            let result = match tokio::time::timeout_at(deadline, f(client)).await {
                Ok(result) => result.map_err(classify),
                Err(_) => Err(StorageError::Timeout(format!("etcd {what}"))),
            };
            let e = match result {
                Ok(v) => return Ok((v, at)),
                Err(e) => e,
            };
            let (move_on, not_sent) = endpoint_failure(&e);
            if move_on {
                self.members.unpin(at, &e.to_string());
            }
            tries -= 1;
            no_leader |= matches!(&e, StorageError::Unavailable(why) if is_no_leader(why));
            // No member reachable with a leader, one at least without: an election under way,
            // or quorum lost. The call waits for a leader until its deadline, as a call that
            // does not ask for one waits inside etcd.
            if tries == 0
                && no_leader
                && not_sent
                && tokio::time::Instant::now() + NO_LEADER_PAUSE < deadline
            {
                tokio::time::sleep(NO_LEADER_PAUSE).await;
                tries = self.members.clients.len();
                no_leader = false;
                continue;
            }
            let again = move_on
                && tries > 0
                && tokio::time::Instant::now() < deadline
                && (not_sent || (!write && matches!(e, StorageError::Unavailable(_))));
            if !again {
                return Err(e);
            }
        }
    }

    async fn current(&self, key: &str) -> Result<Option<KeyValue>, StorageError> {
        let full = self.full(key);
        let resp = self
            .call("get", |c| {
                let full = full.clone();
                async move { kv_client(&c).get(full, None).await }
            })
            .await?;
        Ok(resp.kvs().first().map(|k| self.kv(k)))
    }

    fn header_revision(h: Option<&etcd_client::ResponseHeader>) -> Revision {
        h.map_or(0, |h| h.revision() as Revision)
    }
}

impl Storage for EtcdStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StorageError> {
        self.current(key).await
    }

    async fn list(&self, prefix: &str, opts: ListOptions) -> Result<ListResult, StorageError> {
        let full_prefix = self.full(prefix);
        let start = match opts.start_after.as_deref() {
            Some(after) if after >= prefix => {
                let mut k = self.full(after);
                k.push(0);
                k
            }
            _ => full_prefix.clone(),
        };
        let mut get = GetOptions::new().with_range(prefix_end(&full_prefix));
        if let Some(l) = limit(&opts) {
            get = get.with_limit(l as i64);
        }
        if let Some(at) = opts.revision {
            get = get.with_revision(at as i64);
        }
        let range = |c: Client| {
            let (start, get) = (start.clone(), get.clone());
            async move { kv_client(&c).get(start, Some(get)).await }
        };
        let resp = match self.call("range", range).await {
            // etcd answers a compacted or a future revision with OutOfRange.
            Err(StorageError::Expired { .. }) => {
                let current = self.revision().await?;
                let at = opts.revision.unwrap_or(0);
                return Err(if at > current {
                    crate::semantics::future(at, current)
                } else {
                    StorageError::Expired {
                        requested: at,
                        oldest: at + 1,
                    }
                });
            }
            other => other?,
        };
        let revision = opts
            .revision
            .unwrap_or_else(|| Self::header_revision(resp.header()));
        // etcd counts the whole range: what follows the page is the count minus the page.
        let page = resp.kvs().len() as u64;
        let remaining_count = (resp.count() as u64).checked_sub(page);
        Ok(ListResult {
            items: resp.kvs().iter().map(|k| self.kv(k)).collect(),
            revision,
            remaining: resp.more(),
            remaining_count,
        })
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue, StorageError> {
        check_size(key, &value, self.options.store.max_value_size)?;
        let full = self.full(key);
        let txn = Txn::new()
            .when([Compare::create_revision(full.clone(), CompareOp::Equal, 0)])
            .and_then([TxnOp::put(full, value.to_vec(), None)]);
        let resp = self
            .write_call("create", |c| {
                let txn = txn.clone();
                async move { kv_client(&c).txn(txn).await }
            })
            .await?;
        if !resp.succeeded() {
            return Err(StorageError::AlreadyExists { key: key.into() });
        }
        let rev = Self::header_revision(resp.header());
        Ok(KeyValue {
            key: key.into(),
            value,
            create_revision: rev,
            mod_revision: rev,
        })
    }

    async fn update(
        &self,
        key: &str,
        value: Bytes,
        expected_mod_revision: Option<Revision>,
    ) -> Result<KeyValue, StorageError> {
        check_size(key, &value, self.options.store.max_value_size)?;
        let full = self.full(key);
        loop {
            let current = self
                .current(key)
                .await?
                .ok_or_else(|| StorageError::NotFound { key: key.into() })?;
            check_expected(key, &current, expected_mod_revision)?;
            if current.value == value {
                return Ok(current);
            }
            let txn = Txn::new()
                .when([Compare::mod_revision(
                    full.clone(),
                    CompareOp::Equal,
                    current.mod_revision as i64,
                )])
                .and_then([TxnOp::put(full.clone(), value.to_vec(), None)]);
            let resp = self
                .write_call("update", |c| {
                    let txn = txn.clone();
                    async move { kv_client(&c).txn(txn).await }
                })
                .await?;
            if resp.succeeded() {
                return Ok(KeyValue {
                    key: key.into(),
                    value,
                    create_revision: current.create_revision,
                    mod_revision: Self::header_revision(resp.header()),
                });
            }
            // Changed between the read and the write: the caller's precondition no longer holds;
            // without one, read again.
            if let Some(expected) = expected_mod_revision {
                return Err(StorageError::Conflict {
                    key: key.into(),
                    current: expected.max(current.mod_revision) + 1,
                });
            }
        }
    }

    async fn delete(
        &self,
        key: &str,
        expected_mod_revision: Option<Revision>,
    ) -> Result<KeyValue, StorageError> {
        let full = self.full(key);
        loop {
            let current = self
                .current(key)
                .await?
                .ok_or_else(|| StorageError::NotFound { key: key.into() })?;
            check_expected(key, &current, expected_mod_revision)?;
            let txn = Txn::new()
                .when([Compare::mod_revision(
                    full.clone(),
                    CompareOp::Equal,
                    current.mod_revision as i64,
                )])
                .and_then([TxnOp::delete(full.clone(), None)]);
            let resp = self
                .write_call("delete", |c| {
                    let txn = txn.clone();
                    async move { kv_client(&c).txn(txn).await }
                })
                .await?;
            if resp.succeeded() {
                return Ok(KeyValue {
                    mod_revision: Self::header_revision(resp.header()),
                    ..current
                });
            }
            if expected_mod_revision.is_some() {
                return Err(StorageError::Conflict {
                    key: key.into(),
                    current: current.mod_revision + 1,
                });
            }
        }
    }

    async fn watch(&self, prefix: &str, from: Revision) -> Result<WatchStream, StorageError> {
        let full_prefix = self.full(prefix);
        let mut options = WatchOptions::new()
            .with_range(prefix_end(&full_prefix))
            .with_prev_key()
            .with_progress_notify();
        if from > 0 {
            options = options.with_start_revision(from as i64 + 1);
        }
        // The endpoint the watch is made on: when its stream breaks (a member gone, or one
        // that lost its leader, which etcd tells a watch asking for one by ending it), calls
        // move on, and the watch made again goes elsewhere.
        let ((watcher, mut stream), on) = self
            .call_on_members("watch", false, |c| {
                let (full_prefix, options) = (full_prefix.clone(), options.clone());
                async move {
                    c.watch_client()
                        .max_decoding_message_size(MAX_RESPONSE_BYTES)
                        .watch(full_prefix, Some(options))
                        .await
                }
            })
            .await?;
        let (tx, rx) = mpsc::channel::<WatchSlot>(self.options.store.watch_buffer.max(1));
        let store = self.clone();
        tokio::spawn(async move {
            // Keeps the etcd watch alive as long as the task runs.
            let _watcher = watcher;
            // The last revision handed to the watcher.
            let mut delivered = from;
            loop {
                // A watcher that goes away cancels its etcd watch at once: a quiet prefix would
                // otherwise keep it until its next event.
                let message = tokio::select! {
                    _ = tx.closed() => return,
                    message = stream.message() => message,
                };
                let resp = match message {
                    Ok(Some(resp)) => resp,
                    Ok(None) => return,
                    Err(e) => {
                        let e = classify(e);
                        if endpoint_failure(&e).0 {
                            store.members.unpin(on, &e.to_string());
                        }
                        let _ = tx.send(Err(Box::new(e))).await;
                        return;
                    }
                };
                if resp.compact_revision() > 0 || (resp.canceled() && resp.events().is_empty()) {
                    // The oldest start a watch may ask for: the revision before the
                    // compaction's (kube's `too old resource version: 3 (4)`).
                    let oldest = (resp.compact_revision().max(0) as Revision).saturating_sub(1);
                    let _ = tx
                        .send(Err(Box::new(StorageError::Expired {
                            requested: delivered,
                            oldest,
                        })))
                        .await;
                    return;
                }
                // etcd's periodic progress notification: sent only to watchers that have every
                // event up to the header's revision. (Requested ones are not used: in older etcd
                // releases, such as Debian's 3.4.23, they can overtake events: etcd#15220.)
                if resp.events().is_empty() && !resp.created() && !resp.canceled() {
                    let revision = Self::header_revision(resp.header());
                    if revision >= delivered && tx.capacity() > 1 {
                        let _ = tx.try_send(Ok(Arc::new(crate::semantics::progress(revision))));
                    }
                    continue;
                }
                for ev in resp.events() {
                    let Some(kv) = ev.kv() else { continue };
                    let revision = kv.mod_revision() as Revision;
                    let prev = ev.prev_kv().map(|p| store.kv(p));
                    let event = match ev.event_type() {
                        EtcdEventType::Put => {
                            let kv = store.kv(kv);
                            match prev {
                                Some(prev) if kv.create_revision != kv.mod_revision => Event {
                                    kind: EventType::Modified,
                                    revision,
                                    kv,
                                    prev: Some(prev),
                                    memo: Default::default(),
                                },
                                _ => Event {
                                    kind: EventType::Added,
                                    revision,
                                    kv,
                                    prev: None,
                                    memo: Default::default(),
                                },
                            }
                        }
                        EtcdEventType::Delete => match deleted(revision, prev) {
                            Ok(event) => event,
                            Err(error) => {
                                tracing::warn!(key = %String::from_utf8_lossy(kv.key()), revision, "etcd sent a delete without its previous value (compacted); ending the watch");
                                let _ = tx.send(Err(Box::new(error))).await;
                                return;
                            }
                        },
                    };
                    // Unlike an in-process store, whose writers hand events to every watcher
                    // and must not wait, this task may wait for a slow watcher: etcd keeps the
                    // events meanwhile, and a replay larger than the buffer (a watch from an old
                    // revision) arrives whole instead of ending the watch. A watcher that goes
                    // away ends the wait.
                    if tx.send(Ok(Arc::new(event))).await.is_err() {
                        return;
                    }
                    delivered = revision;
                }
            }
        });
        Ok(WatchStream::from_receiver(rx))
    }

    async fn revision(&self) -> Result<Revision, StorageError> {
        let key = self.full("/");
        let resp = self
            .call("revision", |c| {
                let key = key.clone();
                async move {
                    kv_client(&c)
                        .get(key, Some(GetOptions::new().with_count_only()))
                        .await
                }
            })
            .await?;
        Ok(Self::header_revision(resp.header()))
    }

    async fn compact(&self, revision: Revision) -> Result<(), StorageError> {
        let current = self.revision().await?;
        let revision = revision.min(current);
        if revision == 0 {
            return Ok(());
        }
        match self
            .call("compact", |c| async move {
                kv_client(&c).compact(revision as i64, None).await
            })
            .await
        {
            Ok(_) => Ok(()),
            // Compacting at or below the last compaction is already done.
            Err(StorageError::Expired { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only a connection never made, or etcd's "no leader", says a call was not sent: etcd's
    /// answers after proposing (a write perhaps applied) never do.
    #[test]
    fn only_calls_never_sent_are_made_again() {
        for sent in [
            "etcdserver: request timed out, possibly due to connection lost",
            "etcdserver: request timed out, possibly due to previous leader failure",
            "transport error: connection reset",
            "h2 protocol error",
        ] {
            let e = StorageError::Unavailable(sent.into());
            assert!(!endpoint_failure(&e).1, "{sent}");
        }
        for not_sent in [
            "transport error: tcp connect error: Connection refused (os error 111)",
            "etcdserver: no leader",
        ] {
            let e = StorageError::Unavailable(not_sent.into());
            assert!(endpoint_failure(&e).1, "{not_sent}");
        }
    }

    /// A delete etcd sends without its previous value (compacted under a watcher catching up,
    /// a race a test cannot force on a real etcd) ends the watch as expired; with the value it
    /// is the DELETED event carrying the last state.
    #[test]
    fn a_delete_without_its_previous_value_is_expired() {
        assert!(matches!(
            deleted(7, None),
            Err(StorageError::Expired { requested: 7, .. })
        ));
        let prev = KeyValue {
            key: "/registry/a".into(),
            value: Bytes::from_static(b"{}"),
            create_revision: 3,
            mod_revision: 5,
        };
        let event = deleted(7, Some(prev.clone())).unwrap();
        assert_eq!(event.kind, EventType::Deleted);
        assert_eq!(event.kv.mod_revision, 7);
        assert_eq!(event.kv.value, prev.value);
        assert_eq!(event.prev, Some(prev));
    }
}
