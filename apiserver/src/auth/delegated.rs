//! Delegation to the main cluster: bearer tokens checked with a `TokenReview`, requests
//! authorized with a `SubjectAccessReview`, both through a kube client and cached briefly (as
//! k8s.io/apiserver's delegating authenticator and authorizer do, 10 s by default).

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec};
use k8s_openapi::api::authorization::v1::{
    FieldSelectorAttributes, LabelSelectorAttributes, NonResourceAttributes, ResourceAttributes,
    SubjectAccessReview, SubjectAccessReviewSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    FieldSelectorRequirement, LabelSelectorRequirement,
};
use kube::api::{Api, PostParams};

use super::User;
use super::authn::{TokenAuthenticator, TokenFuture};
use super::authz::{Attributes, Authorizer, Decision, DecisionFuture};

/// Entries kept per cache; beyond it the oldest are dropped.
const CACHE_LIMIT: usize = 10_000;
/// How long a review may take before the request fails (k8s.io/apiserver's webhook default).
const REVIEW_TIMEOUT: Duration = Duration::from_secs(10);

/// Attempts of a review that fails transiently, and the first wait between them (growing by
/// half each time): k8s.io/apiserver's `DefaultRetryBackoff` (5 steps from 500 ms, ×1.5).
const REVIEW_ATTEMPTS: u32 = 5;
const REVIEW_BACKOFF: Duration = Duration::from_millis(500);

/// Go's `webhook.DefaultShouldRetry`: a 500, a 504 `Timeout`, a 429, or an answer with
/// `retryAfterSeconds` is worth asking again; anything else (a refused connection, a 403, a
/// review that timed out here) fails at once.
fn transient(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => {
            matches!(s.code, 500 | 504 | 429)
                || s.details
                    .as_ref()
                    .is_some_and(|d| d.retry_after_seconds > 0)
        }
        _ => false,
    }
}

/// Creates `review` on the main cluster, retrying transient failures with backoff.
async fn create_review<K>(client: &kube::Client, review: &K) -> Result<K, String>
where
    K: kube::Resource<Scope = k8s_openapi::ClusterResourceScope, DynamicType = ()>
        + Clone
        + serde::Serialize
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = Api::all(client.clone());
    let mut wait = REVIEW_BACKOFF;
    let mut attempt = 1;
    loop {
        match tokio::time::timeout(REVIEW_TIMEOUT, api.create(&PostParams::default(), review)).await
        {
            Err(_) => return Err(format!("no answer within {REVIEW_TIMEOUT:?}")),
            Ok(Ok(answer)) => return Ok(answer),
            Ok(Err(e)) if attempt < REVIEW_ATTEMPTS && transient(&e) => {
                tracing::debug!(error = %e, attempt, "review failed; retrying");
                tokio::time::sleep(wait).await;
                wait = wait.mul_f64(1.5);
                attempt += 1;
            }
            Ok(Err(e)) => return Err(e.to_string()),
        }
    }
}

/// A small TTL cache: answers are reused for `ttl`, then asked again. It holds at most
/// [`CACHE_LIMIT`] entries: when full, the oldest one goes (never all of them, which would let
/// requests to many distinct paths flush every decision and turn each request into a review).
struct TtlCache<K, V> {
    ttl: Duration,
    entries: Mutex<Entries<K, V>>,
}

struct Entries<K, V> {
    by_key: HashMap<K, (Instant, V)>,
    /// Every key with the time it was put, oldest first: with one TTL for all, also the order
    /// they expire in. A key put again has a newer slot; its older one is then skipped.
    by_age: VecDeque<(Instant, K)>,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    fn new(ttl: Duration) -> Self {
        TtlCache {
            ttl,
            entries: Mutex::new(Entries {
                by_key: HashMap::new(),
                by_age: VecDeque::new(),
            }),
        }
    }

    fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .by_key
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    fn put(&self, key: K, value: V) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let Entries { by_key, by_age } = &mut *entries;
        // The expired entries go, then the oldest ones while the cache is full.
        while let Some((at, _)) = by_age.front()
            && (at.elapsed() >= self.ttl || by_key.len() >= CACHE_LIMIT)
        {
            let (at, old) = by_age.pop_front().expect("a front entry");
            if by_key.get(&old).is_some_and(|(put, _)| *put == at) {
                by_key.remove(&old);
            }
        }
        let now = Instant::now();
        by_key.insert(key.clone(), (now, value));
        by_age.push_back((now, key));
    }
}

/// Bearer tokens checked by `TokenReview`s (`authentication.k8s.io/v1`) on a Kubernetes API
/// server; valid and invalid answers are cached for `ttl` (failures are not).
pub struct DelegatedTokens {
    client: kube::Client,
    cache: TtlCache<[u8; 32], Option<User>>,
}

impl DelegatedTokens {
    pub fn new(client: kube::Client, ttl: Duration) -> Self {
        DelegatedTokens {
            client,
            cache: TtlCache::new(ttl),
        }
    }

    async fn review(&self, token: &str) -> Result<Option<User>, String> {
        // Tokens are secrets: the cache is keyed by their hash.
        let key: [u8; 32] = {
            use sha2::Digest;
            sha2::Sha256::digest(token.as_bytes()).into()
        };
        if let Some(user) = self.cache.get(&key) {
            return Ok(user);
        }
        let review = TokenReview {
            spec: TokenReviewSpec {
                token: token.to_string(),
                // The reviewing server's own audiences.
                audiences: None,
            },
            ..TokenReview::default()
        };
        let answer = create_review(&self.client, &review).await?;
        let status = answer.status.unwrap_or_default();
        let user = match (status.authenticated, status.user) {
            (Some(true), Some(info)) => Some(User {
                name: info.username.unwrap_or_default(),
                uid: info.uid.unwrap_or_default(),
                groups: info.groups.unwrap_or_default(),
                extra: info.extra.unwrap_or_default(),
            }),
            _ => None,
        };
        self.cache.put(key, user.clone());
        Ok(user)
    }
}

impl TokenAuthenticator for DelegatedTokens {
    fn authenticate<'a>(&'a self, token: &'a str) -> TokenFuture<'a> {
        Box::pin(self.review(token))
    }
}

/// Requests authorized by `SubjectAccessReview`s (`authorization.k8s.io/v1`) on a Kubernetes
/// API server; allowed and denied answers are cached for their TTLs. A review that fails
/// transiently is asked again with backoff; when it cannot be made the request fails (500).
pub struct DelegatedAuthorizer {
    client: kube::Client,
    allowed: TtlCache<String, ()>,
    denied: TtlCache<String, String>,
}

impl DelegatedAuthorizer {
    pub fn new(client: kube::Client, allow_ttl: Duration, deny_ttl: Duration) -> Self {
        DelegatedAuthorizer {
            client,
            allowed: TtlCache::new(allow_ttl),
            denied: TtlCache::new(deny_ttl),
        }
    }

    async fn review(&self, a: Attributes<'_>) -> Decision {
        let spec = spec(&a);
        // The cache key is the whole spec; one that does not serialise is never cached.
        let key = serde_json::to_string(&spec).ok();
        if let Some(key) = &key {
            if self.allowed.get(key).is_some() {
                return Decision::Allow;
            }
            if let Some(reason) = self.denied.get(key) {
                return Decision::Deny(reason);
            }
        }
        let review = SubjectAccessReview {
            spec,
            ..SubjectAccessReview::default()
        };
        match create_review(&self.client, &review).await {
            Ok(answer) => {
                let status = answer.status.unwrap_or_default();
                if status.allowed && status.denied != Some(true) {
                    if let Some(key) = key {
                        self.allowed.put(key, ());
                    }
                    Decision::Allow
                } else {
                    let reason = status.reason.unwrap_or_default();
                    if let Some(key) = key {
                        self.denied.put(key, reason.clone());
                    }
                    Decision::Deny(reason)
                }
            }
            Err(e) => Decision::Error(format!("SubjectAccessReview failed: {e}")),
        }
    }
}

/// The review's spec for a request, as k8s.io/apiserver's `SubjectAccessReview` authorizer fills
/// it.
fn spec(a: &Attributes<'_>) -> SubjectAccessReviewSpec {
    let r = a.request;
    let (resource_attributes, non_resource_attributes) = if r.is_resource_request {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        (
            Some(ResourceAttributes {
                verb: Some(r.verb.clone()),
                group: Some(r.api_group.clone()),
                version: Some(r.api_version.clone()),
                resource: Some(r.resource.clone()),
                subresource: opt(&r.subresource),
                namespace: opt(&r.namespace),
                name: opt(&r.name),
                field_selector: field_selector_attributes(&r.field_selector),
                label_selector: label_selector_attributes(&r.label_selector),
            }),
            None,
        )
    } else {
        (
            None,
            Some(NonResourceAttributes {
                verb: Some(r.verb.clone()),
                path: Some(r.path.clone()),
            }),
        )
    };
    let user = a.user;
    SubjectAccessReviewSpec {
        user: Some(user.name.clone()),
        uid: (!user.uid.is_empty()).then(|| user.uid.clone()),
        groups: Some(user.groups.clone()),
        extra: (!user.extra.is_empty()).then(|| user.extra.clone()),
        resource_attributes,
        non_resource_attributes,
    }
}

/// A list's field selector as a review's requirements (Go's `fieldSelectorToAuthorizationAPI`):
/// `a=b` is `a In [b]`, `a!=b` is `a NotIn [b]`. `None` without requirements; a selector that
/// does not parse has none (the request is refused as a 400 once authorized).
fn field_selector_attributes(selector: &str) -> Option<FieldSelectorAttributes> {
    let parsed = crate::selector::FieldSelector::parse(selector).ok()?;
    let requirements: Vec<FieldSelectorRequirement> = parsed
        .requirements()
        .iter()
        .map(|r| FieldSelectorRequirement {
            key: r.field.clone(),
            operator: match r.op {
                crate::selector::FieldOp::Equals => "In",
                crate::selector::FieldOp::NotEquals => "NotIn",
            }
            .to_string(),
            values: Some(vec![r.value.clone()]),
        })
        .collect();
    (!requirements.is_empty()).then(|| FieldSelectorAttributes {
        requirements: Some(requirements),
        ..FieldSelectorAttributes::default()
    })
}

/// A list's label selector as a review's requirements (Go's `labelSelectorToAuthorizationAPI`):
/// `=`, `==` and `in` are `In`, `!=` and `notin` are `NotIn`, `key` is `Exists` and `!key`
/// `DoesNotExist`; `>` and `<` are left out (requirements narrow a list: fewer of them ask for
/// no more than the request reads).
fn label_selector_attributes(selector: &str) -> Option<LabelSelectorAttributes> {
    use crate::selector::Operator;
    let parsed = crate::selector::LabelSelector::parse(selector).ok()?;
    let requirements: Vec<LabelSelectorRequirement> = parsed
        .requirements()
        .iter()
        .filter_map(|r| {
            let operator = match r.operator {
                Operator::Equals | Operator::DoubleEquals | Operator::In => "In",
                Operator::NotEquals | Operator::NotIn => "NotIn",
                Operator::Exists => "Exists",
                Operator::DoesNotExist => "DoesNotExist",
                Operator::GreaterThan | Operator::LessThan => return None,
            };
            Some(LabelSelectorRequirement {
                key: r.key.clone(),
                operator: operator.to_string(),
                values: (!r.values.is_empty()).then(|| r.values.clone()),
            })
        })
        .collect();
    (!requirements.is_empty()).then(|| LabelSelectorAttributes {
        requirements: Some(requirements),
        ..LabelSelectorAttributes::default()
    })
}

impl Authorizer for DelegatedAuthorizer {
    fn authorize<'a>(&'a self, a: Attributes<'a>) -> DecisionFuture<'a> {
        Box::pin(self.review(a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A full cache drops its oldest entry for a new one, and keeps every other decision.
    #[test]
    fn a_full_cache_drops_only_its_oldest_entry() {
        let cache = TtlCache::new(Duration::from_secs(3600));
        for i in 0..CACHE_LIMIT {
            cache.put(i, ());
        }
        cache.put(CACHE_LIMIT, ());
        assert_eq!(cache.get(&0), None, "the oldest entry is dropped");
        for i in 1..=CACHE_LIMIT {
            assert_eq!(cache.get(&i), Some(()), "entry {i} is kept");
        }
    }

    /// Expired entries make room before any live one goes.
    #[test]
    fn expired_entries_go_first() {
        let cache = TtlCache::new(Duration::from_millis(50));
        cache.put("old", 1);
        std::thread::sleep(Duration::from_millis(60));
        cache.put("new", 2);
        assert_eq!(cache.get(&"new"), Some(2));
        let entries = cache.entries.lock().unwrap();
        assert!(!entries.by_key.contains_key("old"));
        assert_eq!(entries.by_age.len(), 1);
        drop(entries);
        // Full of live entries: the slots stay one per entry.
        let cache = TtlCache::new(Duration::from_secs(3600));
        for i in 0..CACHE_LIMIT + 10 {
            cache.put(i, ());
        }
        let entries = cache.entries.lock().unwrap();
        assert_eq!(
            (entries.by_key.len(), entries.by_age.len()),
            (CACHE_LIMIT, CACHE_LIMIT)
        );
    }
}
