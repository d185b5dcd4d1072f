//! `pager-apiserver` as an aggregated API server: HTTPS with a generated certificate,
//! front-proxy headers trusted only from the front proxy's certificate, client certificates,
//! bearer tokens through TokenReview, authorization through SubjectAccessReview — delegated to a
//! local stand-in for the main cluster's API server that records what it is asked — and a
//! standalone static policy.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::routing::{get, post};
use serde_json::{Value, json};

const ALERTS: &str = "/apis/pager.k8s.co/v1beta1/namespaces/default/alerts";

/// A CA and certificates it signs.
struct Ca {
    cert: rcgen::Certificate,
    params: rcgen::CertificateParams,
    key: rcgen::KeyPair,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Ca { cert, params, key }
    }

    fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A client certificate for `cn` that expired in 2020.
    fn expired_client(&self, cn: &str) -> Vec<u8> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        params.not_before = rcgen::date_time_ymd(2019, 1, 1);
        params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        let key = rcgen::KeyPair::generate().unwrap();
        let issuer = rcgen::Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).unwrap();
        format!("{}{}", cert.pem(), key.serialize_pem()).into_bytes()
    }

    /// A client certificate (PEM certificate then key) for `cn` in `orgs`.
    fn client(&self, cn: &str, orgs: &[&str]) -> Vec<u8> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        for o in orgs {
            params
                .distinguished_name
                .push(rcgen::DnType::OrganizationName, *o);
        }
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let key = rcgen::KeyPair::generate().unwrap();
        let issuer = rcgen::Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).unwrap();
        format!("{}{}", cert.pem(), key.serialize_pem()).into_bytes()
    }
}

/// What the stand-in was asked.
#[derive(Default)]
struct Asked {
    token_reviews: Vec<Value>,
    access_reviews: Vec<Value>,
}

/// The main cluster's API server, as far as an aggregated server asks it: TokenReviews
/// (`good-token` is `token-user` in `token-group`), SubjectAccessReviews (allowed for
/// `alice`, `token-user` and `proxied-user`; `denied-user` and everyone else denied), and the
/// `extension-apiserver-authentication` ConfigMap.
async fn stand_in(
    client_ca: String,
    front_proxy_ca: String,
) -> (
    String,
    Arc<Mutex<Asked>>,
    ConfigMap,
    tokio::task::JoinHandle<()>,
) {
    let asked = Arc::new(Mutex::new(Asked::default()));
    let config_map = ConfigMap(Arc::new(tokio::sync::watch::Sender::new((
        1,
        authentication_config_map(&client_ca, &front_proxy_ca),
    ))));
    let (get_map, watch_map) = (config_map.0.clone(), config_map.0.clone());
    let (a1, a2) = (asked.clone(), asked.clone());
    let app = axum::Router::new()
        .route(
            "/apis/authentication.k8s.io/v1/tokenreviews",
            post(move |Json(review): Json<Value>| async move {
                let first = {
                    let mut asked = a1.lock().unwrap();
                    asked.token_reviews.push(review.clone());
                    asked.token_reviews.iter().filter(|r| r["spec"]["token"] == review["spec"]["token"]).count() == 1
                };
                // `flaky-token` fails once (a 500 the server retries), then is `good-token`.
                if review["spec"]["token"] == "flaky-token" && first {
                    return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 500, "reason": "InternalError", "message": "flaky"})));
                }
                let ok = review["spec"]["token"] == "good-token" || review["spec"]["token"] == "flaky-token";
                let status = if ok {
                    json!({"authenticated": true, "user": {"username": "token-user", "uid": "42", "groups": ["token-group"]}})
                } else {
                    json!({"authenticated": false, "error": "unknown token"})
                };
                (axum::http::StatusCode::CREATED, Json(json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": review["spec"], "status": status})))
            }),
        )
        .route(
            "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            post(move |Json(review): Json<Value>| async move {
                let user = review["spec"]["user"].as_str().unwrap_or_default().to_string();
                let first = {
                    let mut asked = a2.lock().unwrap();
                    asked.access_reviews.push(review["spec"].clone());
                    asked.access_reviews.iter().filter(|r| r["user"] == user.as_str()).count() == 1
                };
                // `flaky-user`'s first review fails (retried); `broken-user`'s always do.
                if user == "broken-user" || (user == "flaky-user" && first) {
                    return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 500, "reason": "InternalError", "message": "the stand-in broke"})));
                }
                let allowed = ["alice", "token-user", "proxied-user", "flaky-user", "josé"].contains(&user.as_str());
                let status = if allowed {
                    json!({"allowed": true})
                } else {
                    json!({"allowed": false, "reason": "the stand-in says no"})
                };
                (axum::http::StatusCode::CREATED, Json(json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": review["spec"], "status": status})))
            }),
        )
        .route(
            "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication",
            get(move || async move { Json(get_map.borrow().1.clone()) }),
        )
        // What kube's watcher asks: a list selecting the ConfigMap by name, then a watch.
        .route(
            "/api/v1/namespaces/kube-system/configmaps",
            get(
                move |axum::extract::Query(q): axum::extract::Query<
                    std::collections::HashMap<String, String>,
                >| async move {
                    assert_eq!(
                        q.get("fieldSelector").map(String::as_str),
                        Some("metadata.name=extension-apiserver-authentication")
                    );
                    let (rv, cm) = watch_map.borrow().clone();
                    if q.get("watch").is_none_or(|w| w == "false" || w == "0") {
                        let list = json!({"apiVersion": "v1", "kind": "ConfigMapList",
                            "metadata": {"resourceVersion": rv.to_string()}, "items": [cm]});
                        return axum::response::Response::new(axum::body::Body::from(list.to_string()));
                    }
                    let from: u64 = q.get("resourceVersion").and_then(|v| v.parse().ok()).unwrap_or(0);
                    let events = futures::stream::unfold(
                        (watch_map.subscribe(), from),
                        |(mut changes, sent)| async move {
                            loop {
                                let (rv, cm) = changes.borrow_and_update().clone();
                                if rv > sent {
                                    let line = format!("{}\n", json!({"type": "MODIFIED", "object": cm}));
                                    return Some((Ok::<_, std::convert::Infallible>(line), (changes, rv)));
                                }
                                changes.changed().await.ok()?;
                            }
                        },
                    );
                    axum::response::Response::new(axum::body::Body::from_stream(events))
                },
            ),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (url, asked, config_map, task)
}

/// The stand-in's `extension-apiserver-authentication` ConfigMap, with its resourceVersion:
/// replaced by [`ConfigMap::set`], which its watchers see.
#[derive(Clone)]
struct ConfigMap(Arc<tokio::sync::watch::Sender<(u64, Value)>>);

impl ConfigMap {
    /// Publishes these CA bundles (the rest of the data as before).
    fn set(&self, client_ca: &str, front_proxy_ca: &str) {
        self.0.send_modify(|(rv, cm)| {
            *rv += 1;
            *cm = authentication_config_map(client_ca, front_proxy_ca);
            cm["metadata"]["resourceVersion"] = json!(rv.to_string());
        });
    }
}

fn authentication_config_map(client_ca: &str, front_proxy_ca: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "extension-apiserver-authentication", "namespace": "kube-system", "resourceVersion": "1"},
        "data": {
            "client-ca-file": client_ca,
            "requestheader-client-ca-file": front_proxy_ca,
            "requestheader-allowed-names": "[\"front-proxy-client\"]",
            "requestheader-username-headers": "[\"X-Remote-User\"]",
            "requestheader-uid-headers": "[\"X-Remote-Uid\"]",
            "requestheader-group-headers": "[\"X-Remote-Group\"]",
            "requestheader-extra-headers-prefix": "[\"X-Remote-Extra-\"]",
        }
    })
}

/// An HTTPS client trusting the server's generated CA, with an optional client certificate.
fn client(ca_pem: &[u8], identity: Option<&[u8]>) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem).unwrap())
        .timeout(Duration::from_secs(10));
    if let Some(id) = identity {
        b = b.identity(reqwest::Identity::from_pem(id).unwrap());
    }
    b.build().unwrap()
}

fn alert(name: &str) -> Value {
    json!({"apiVersion": "pager.k8s.co/v1beta1", "kind": "Alert",
           "metadata": {"name": name}, "spec": {"title": name, "content": "hello"}})
}

struct Setup {
    _dir: tempfile::TempDir,
    server: common::Server,
    base: String,
    ca: Vec<u8>,
    asked: Arc<Mutex<Asked>>,
    front_proxy: Ca,
    users: Ca,
    config_map: ConfigMap,
    _stand_in: tokio::task::JoinHandle<()>,
}

impl Setup {
    /// The spec of the last SubjectAccessReview the stand-in was sent.
    fn last_review(&self) -> Value {
        let asked = self.asked.lock().unwrap();
        asked
            .access_reviews
            .last()
            .cloned()
            .expect("no SubjectAccessReview yet")
    }
}

/// A request claiming to be `system:admin` in `system:masters` by front-proxy headers.
fn impersonating(req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    req.header("X-Remote-User", "system:admin")
        .header("X-Remote-Group", "system:masters")
}

async fn delegated() -> Setup {
    delegated_with(&[]).await
}

/// [`delegated`], with more flags.
async fn delegated_with(extra: &[&str]) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let front_proxy = Ca::new("front-proxy-ca");
    let users = Ca::new("client-ca");
    let (url, asked, config_map, stand_in) = stand_in(users.pem(), front_proxy.pem()).await;
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: main\n  cluster: {{server: \"{url}\"}}\nusers:\n- name: me\n  user: {{}}\ncontexts:\n- name: main\n  context: {{cluster: main, user: me}}\ncurrent-context: main\n"
        ),
    )
    .unwrap();
    let certs = dir.path().join("certs");
    let kc = kubeconfig.to_str().unwrap();
    let server = common::Server::start_https(
        &[
            "--storage",
            "memory",
            "--cert-dir",
            certs.to_str().unwrap(),
            "--authentication-kubeconfig",
            kc,
            "--authorization-kubeconfig",
            kc,
        ]
        .into_iter()
        .chain(extra.iter().copied())
        .collect::<Vec<_>>(),
    );
    let ca = std::fs::read(certs.join("ca.crt")).unwrap();
    let base = format!(
        "https://localhost:{}",
        server.addr.rsplit(':').next().unwrap()
    );
    Setup {
        _dir: dir,
        server,
        base,
        ca,
        asked,
        front_proxy,
        users,
        config_map,
        _stand_in: stand_in,
    }
}

async fn status(resp: reqwest::Response) -> (u16, Value) {
    let code = resp.status().as_u16();
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    (code, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn front_proxy_headers_are_trusted_only_from_the_front_proxy_certificate() {
    let s = delegated().await;
    let url = format!("{}{ALERTS}", s.base);

    // The front proxy names the user, its groups and extras.
    let proxy = client(
        &s.ca,
        Some(&s.front_proxy.client("front-proxy-client", &[])),
    );
    let (code, body) = status(
        proxy
            .post(&url)
            .header("X-Remote-User", "proxied-user")
            .header("X-Remote-Uid", "proxied-uid")
            .header("X-Remote-Group", "team-a")
            .header("X-Remote-Group", "team-b")
            .header("X-Remote-Extra-Scopes", "read")
            .header("X-Remote-Extra-Acme.com%2Fproject", "p1")
            .json(&alert("via-proxy"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    let sar = s.last_review();
    assert_eq!(sar["user"], "proxied-user");
    // The uid header the cluster's ConfigMap names (kube-aggregator sends it from 1.33).
    assert_eq!(sar["uid"], "proxied-uid");
    assert_eq!(
        sar["groups"],
        json!(["team-a", "team-b", "system:authenticated"])
    );
    assert_eq!(
        sar["extra"],
        json!({"scopes": ["read"], "acme.com/project": ["p1"]})
    );
    assert_eq!(
        sar["resourceAttributes"],
        json!({"verb": "create", "group": "pager.k8s.co", "version": "v1beta1", "resource": "alerts", "namespace": "default"})
    );

    // The same headers without the front proxy's certificate are ignored: a user's own client
    // certificate names the user, and a token its user.
    let alice = client(&s.ca, Some(&s.users.client("alice", &["pager-users"])));
    let (code, body) = status(
        impersonating(alice.get(format!("{url}/via-proxy")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let sar = s.last_review();
    assert_eq!(sar["user"], "alice");
    assert_eq!(
        sar["groups"],
        json!(["pager-users", "system:authenticated"])
    );
    let anonymous = client(&s.ca, None);
    let (code, body) = status(
        impersonating(anonymous.get(format!("{url}/via-proxy")))
            .bearer_auth("good-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let sar = s.last_review();
    assert_eq!(
        (&sar["user"], &sar["uid"]),
        (&json!("token-user"), &json!("42"))
    );
    // Without credentials the headers make an anonymous request, which the stand-in denies.
    let (code, body) = status(
        impersonating(anonymous.get(format!("{url}/via-proxy")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 403, "{body}");
    assert_eq!(body["reason"], "Forbidden");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("User \"system:anonymous\" cannot get resource \"alerts\""),
        "{body}"
    );

    // What kube-aggregator forwards for an anonymous request stays anonymous: no
    // `system:authenticated` (Go's `AuthenticatedGroupAdder`).
    let (code, _) = status(
        proxy
            .get(&url)
            .header("X-Remote-User", "system:anonymous")
            .header("X-Remote-Group", "system:unauthenticated")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 403);
    assert_eq!(s.last_review()["groups"], json!(["system:unauthenticated"]));
    // Header values are the bytes sent: a UTF-8 user is that user; empty groups are dropped;
    // extra keys are lower-cased, then unescaped (kept as sent when the escapes are invalid).
    let (code, body) = status(
        proxy
            .get(&url)
            .header(
                "X-Remote-User",
                reqwest::header::HeaderValue::from_bytes("josé".as_bytes()).unwrap(),
            )
            .header(
                "X-Remote-Group",
                reqwest::header::HeaderValue::from_bytes("équipe".as_bytes()).unwrap(),
            )
            .header("X-Remote-Group", "")
            .header("X-Remote-Extra-Scopes%41", "a")
            .header("X-Remote-Extra-A%2Fb%zz", "b")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let sar = s.last_review();
    assert_eq!(sar["user"], "josé");
    assert_eq!(sar["groups"], json!(["équipe", "system:authenticated"]));
    assert_eq!(sar["extra"], json!({"scopesA": ["a"], "a%2fb%zz": ["b"]}));
    // The front proxy's certificate naming nobody is not a user's certificate (the client CA
    // does not verify it): a 401, not anonymous.
    let (code, body) = status(proxy.get(&url).send().await.unwrap()).await;
    assert_eq!(
        (code, &body["reason"]),
        (401, &json!("Unauthorized")),
        "{body}"
    );

    // A certificate of the front proxy's CA with a name that is not allowed is refused.
    let other = client(&s.ca, Some(&s.front_proxy.client("somebody-else", &[])));
    let (code, body) = status(
        other
            .get(&url)
            .header("X-Remote-User", "proxied-user")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (code, &body["reason"]),
        (401, &json!("Unauthorized")),
        "{body}"
    );
    // A certificate the server does not trust — another CA's, or its own CA's expired — is a
    // failed credential: the handshake completes and the answer is a 401 the client can read
    // (kube-apiserver asks for certificates without verifying them in the handshake), never
    // anonymous access; a valid token beside it still authenticates.
    let rogue = client(
        &s.ca,
        Some(&Ca::new("rogue").client("front-proxy-client", &[])),
    );
    let expired = client(&s.ca, Some(&s.users.expired_client("alice")));
    for (who, c) in [("another CA's", &rogue), ("expired", &expired)] {
        let (code, body) = status(c.get(&url).send().await.unwrap()).await;
        assert_eq!(
            (code, &body["reason"]),
            (401, &json!("Unauthorized")),
            "{who}: {body}"
        );
    }
    let (code, body) = status(
        rogue
            .get(&url)
            .bearer_auth("good-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    // So does one beside a front-proxy certificate whose name is not allowed (Go's union
    // authenticator goes on to the token).
    let (code, body) = status(
        other
            .get(&url)
            .header("X-Remote-User", "proxied-user")
            .bearer_auth("good-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(s.last_review()["user"], "token-user");
    drop(s.server);
}

/// Reviews that fail transiently are asked again (Go's webhook backoff); a review that keeps
/// failing is a 500 for authorization (never an allow) and a 401 for a token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_reviews_are_retried_then_fail_closed() {
    let s = delegated().await;
    let url = format!("{}{ALERTS}", s.base);
    let proxy = client(
        &s.ca,
        Some(&s.front_proxy.client("front-proxy-client", &[])),
    );
    let (code, body) = status(
        proxy
            .get(&url)
            .header("X-Remote-User", "flaky-user")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = status(
        proxy
            .post(&url)
            .header("X-Remote-User", "broken-user")
            .json(&alert("never"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (code, &body["reason"]),
        (500, &json!("InternalError")),
        "{body}"
    );
    let tried = s
        .asked
        .lock()
        .unwrap()
        .access_reviews
        .iter()
        .filter(|r| r["user"] == "broken-user")
        .count();
    assert_eq!(tried, 5, "five attempts");
    let anonymous = client(&s.ca, None);
    let (code, body) = status(
        anonymous
            .get(format!("{url}/never"))
            .bearer_auth("flaky-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((code, &body["reason"]), (404, &json!("NotFound")), "{body}");
    drop(s.server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_reviewed_and_cached_and_denials_store_nothing() {
    let s = delegated().await;
    let url = format!("{}{ALERTS}", s.base);
    let c = client(&s.ca, None);
    for _ in 0..3 {
        let (code, body) =
            status(c.get(&url).bearer_auth("good-token").send().await.unwrap()).await;
        assert_eq!(code, 200, "{body}");
    }
    // One review for three requests: the answer is cached.
    let reviews: Vec<Value> = s.asked.lock().unwrap().token_reviews.clone();
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0]["spec"]["token"], "good-token");
    // A bad token is 401, as a Status.
    let (code, body) = status(c.get(&url).bearer_auth("bad-token").send().await.unwrap()).await;
    assert_eq!(
        (code, &body["kind"], &body["reason"]),
        (401, &json!("Status"), &json!("Unauthorized"))
    );

    // A denied user gets 403 naming user, verb and resource, and nothing is stored.
    let proxy = client(
        &s.ca,
        Some(&s.front_proxy.client("front-proxy-client", &[])),
    );
    let (code, body) = status(
        proxy
            .post(&url)
            .header("X-Remote-User", "denied-user")
            .json(&alert("forbidden"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 403, "{body}");
    assert_eq!(
        body["message"],
        "alerts.pager.k8s.co is forbidden: User \"denied-user\" cannot create resource \"alerts\" in API group \"pager.k8s.co\" in the namespace \"default\": the stand-in says no"
    );
    assert_eq!(body["details"]["kind"], "alerts");
    let (code, _) = status(
        c.get(format!("{url}/forbidden"))
            .bearer_auth("good-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 404, "a denied create stores nothing");

    // Health is always allowed, without asking; discovery is asked like anything else.
    let before = s.asked.lock().unwrap().access_reviews.len();
    for path in ["/healthz", "/livez", "/readyz"] {
        let resp = c.get(format!("{}{path}", s.base)).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{path}");
    }
    assert_eq!(s.asked.lock().unwrap().access_reviews.len(), before);
    let (code, _) = status(
        c.get(format!("{}/apis", s.base))
            .bearer_auth("good-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 200);
    let sar = s.last_review();
    assert_eq!(
        sar["nonResourceAttributes"],
        json!({"verb": "get", "path": "/apis"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_patch_and_subresources_are_authorized_with_their_verbs() {
    let s = delegated().await;
    let url = format!("{}{ALERTS}", s.base);
    let alice = client(&s.ca, Some(&s.users.client("alice", &[])));
    let (code, body) = status(alice.post(&url).json(&alert("a")).send().await.unwrap()).await;
    assert_eq!(code, 201, "{body}");
    let last = |s: &Setup| s.last_review()["resourceAttributes"].clone();

    let resp = alice
        .get(format!("{url}?watch=true&timeoutSeconds=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    drop(resp);
    assert_eq!(last(&s)["verb"], "watch");

    let resp = alice
        .patch(format!("{url}/a"))
        .header("Content-Type", "application/merge-patch+json")
        .body(r#"{"spec":{"content":"patched"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(last(&s)["verb"], "patch");
    assert_eq!(last(&s)["name"], "a");

    let resp = alice
        .patch(format!("{url}/a/status"))
        .header("Content-Type", "application/merge-patch+json")
        .body(r#"{"status":{"sent":true}}"#)
        .send()
        .await
        .unwrap();
    let code = resp.status().as_u16();
    assert!(code == 200 || code == 422, "{code}");
    assert_eq!(
        last(&s),
        json!({"verb": "patch", "group": "pager.k8s.co", "version": "v1beta1", "resource": "alerts", "subresource": "status", "namespace": "default", "name": "a"})
    );

    let resp = alice.delete(&url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(last(&s)["verb"], "deletecollection");

    // A list's selectors travel as requirements (Kubernetes 1.32's AuthorizeWithSelectors):
    // `>` is left out, and a get carries none.
    let resp = alice
        .get(format!(
            "{url}?labelSelector=team%3Dops,tier%20in%20(a,b),!gone,live,rank%3E2,env!%3Dprod&fieldSelector=metadata.name%3Da,metadata.namespace!%3Dkube-system"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let attributes = last(&s);
    assert_eq!(attributes["verb"], "list");
    assert_eq!(
        attributes["fieldSelector"],
        json!({"requirements": [
            {"key": "metadata.name", "operator": "In", "values": ["a"]},
            {"key": "metadata.namespace", "operator": "NotIn", "values": ["kube-system"]},
        ]})
    );
    let mut requirements = attributes["labelSelector"]["requirements"]
        .as_array()
        .unwrap()
        .clone();
    requirements.sort_by_key(|r| r["key"].as_str().unwrap().to_string());
    assert_eq!(
        requirements,
        [
            json!({"key": "env", "operator": "NotIn", "values": ["prod"]}),
            json!({"key": "gone", "operator": "DoesNotExist"}),
            json!({"key": "live", "operator": "Exists"}),
            json!({"key": "team", "operator": "In", "values": ["ops"]}),
            json!({"key": "tier", "operator": "In", "values": ["a", "b"]}),
        ]
    );
    let resp = alice
        .get(format!("{url}/a?labelSelector=team%3Dops"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    assert!(last(&s).get("labelSelector").is_none(), "{}", last(&s));

    // A watch by the deprecated `/watch/` path prefix carries no selectors and takes no name
    // from them, as Go's request info reads it (in another namespace: a review not cached).
    let resp = alice
        .get(format!(
            "{}/apis/pager.k8s.co/v1beta1/watch/namespaces/other/alerts?fieldSelector=metadata.name%3Da&labelSelector=team%3Dops&timeoutSeconds=1",
            s.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    drop(resp);
    assert_eq!(
        last(&s),
        json!({"verb": "watch", "group": "pager.k8s.co", "version": "v1beta1", "resource": "alerts", "namespace": "other"})
    );
}

/// Authentication without an authorizer serves every authenticated user and refuses anonymous
/// requests: nobody said who may write, so nobody unknown may.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_without_an_authorizer_refuses_anonymous_requests() {
    let dir = tempfile::tempdir().unwrap();
    let users = Ca::new("client-ca");
    let ca_file = dir.path().join("client-ca.crt");
    std::fs::write(&ca_file, users.pem()).unwrap();
    let certs = dir.path().join("certs");
    let server = common::Server::start_https(&[
        "--storage",
        "memory",
        "--cert-dir",
        certs.to_str().unwrap(),
        "--tls-names",
        "localhost",
        "--client-ca-file",
        ca_file.to_str().unwrap(),
    ]);
    let ca = std::fs::read(certs.join("ca.crt")).unwrap();
    let base = format!(
        "https://localhost:{}",
        server.addr.rsplit(':').next().unwrap()
    );
    let url = format!("{base}{ALERTS}");
    let nobody = client(&ca, None);
    for req in [
        nobody.post(&url).json(&alert("anon")),
        nobody.get(&url),
        nobody.delete(&url),
    ] {
        let (code, body) = status(req.send().await.unwrap()).await;
        assert_eq!(
            (code, &body["reason"]),
            (403, &json!("Forbidden")),
            "{body}"
        );
    }
    let (code, _) = status(nobody.get(format!("{base}/readyz")).send().await.unwrap()).await;
    assert_eq!(code, 200, "the probes stay open");
    let writer = client(&ca, Some(&users.client("writer", &[])));
    let (code, body) = status(writer.post(&url).json(&alert("w")).send().await.unwrap()).await;
    assert_eq!(code, 201, "{body}");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standalone_policy_file_authorizes_client_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let users = Ca::new("client-ca");
    let ca_file = dir.path().join("client-ca.crt");
    std::fs::write(&ca_file, users.pem()).unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "rules:\n  - groups: [pager-listers]\n    verbs: [list]\n    apiGroups: [pager.k8s.co]\n    resources: [alerts]\n  - groups: [pager-readers]\n    verbs: [get, list, watch]\n    apiGroups: [pager.k8s.co]\n    resources: [alerts]\n  - users: [writer]\n    verbs: [\"*\"]\n    apiGroups: [pager.k8s.co]\n    resources: [\"alerts\", \"alerts/*\"]\n  - users: [patcher]\n    verbs: [get, list, watch, update, patch]\n    apiGroups: [pager.k8s.co]\n    resources: [alerts]\n  - users: [viewer]\n    verbs: [get, list, watch]\n    apiGroups: [pager.k8s.co]\n    resources: [alerts]\n    resourceNames: [w]\n  - users: [boss]\n    verbs: [impersonate]\n    apiGroups: [\"\"]\n    resources: [users, groups]\n    resourceNames: [reader, pager-readers]\n",
    )
    .unwrap();
    let certs = dir.path().join("certs");
    let server = common::Server::start_https(&[
        "--storage",
        "memory",
        "--cert-dir",
        certs.to_str().unwrap(),
        "--tls-names",
        "localhost",
        "--client-ca-file",
        ca_file.to_str().unwrap(),
        "--authorization-policy-file",
        policy.to_str().unwrap(),
        "--anonymous-auth=false",
    ]);
    let ca = std::fs::read(certs.join("ca.crt")).unwrap();
    let base = format!(
        "https://localhost:{}",
        server.addr.rsplit(':').next().unwrap()
    );
    let url = format!("{base}{ALERTS}");
    let writer = client(&ca, Some(&users.client("writer", &[])));
    let reader = client(&ca, Some(&users.client("reader", &["pager-readers"])));
    let nobody = client(&ca, None);
    let (code, body) = status(writer.post(&url).json(&alert("w")).send().await.unwrap()).await;
    assert_eq!(code, 201, "{body}");
    let (code, _) = status(reader.get(&url).send().await.unwrap()).await;
    assert_eq!(code, 200);
    let (code, body) = status(reader.post(&url).json(&alert("r")).send().await.unwrap()).await;
    assert_eq!(code, 403, "{body}");
    // The guard reads the query as the handlers do: a percent-encoded `watch` is a watch, and
    // a parameter given twice counts by its first value (as in Go).
    let lister = client(&ca, Some(&users.client("lister", &["pager-listers"])));
    let (code, _) = status(lister.get(&url).send().await.unwrap()).await;
    assert_eq!(code, 200);
    for watch in ["watch=true", "watch=%74rue", "watch=1&watch=false"] {
        let (code, body) = status(lister.get(format!("{url}?{watch}")).send().await.unwrap()).await;
        assert_eq!(code, 403, "{watch}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains("cannot watch"),
            "{body}"
        );
    }
    // A server-side apply that would create the object needs `create`, not only `patch`
    // (kube-apiserver's createAuthorizerAttributes): a patcher cannot create by applying.
    let patcher = client(&ca, Some(&users.client("patcher", &[])));
    let apply = |name: &str| {
        patcher
            .patch(format!("{url}/{name}?fieldManager=patcher&force=true"))
            .header("Content-Type", "application/apply-patch+yaml")
            .body(
                json!({"apiVersion": "pager.k8s.co/v1beta1", "kind": "Alert", "metadata": {"name": name}, "spec": {"content": "applied"}})
                    .to_string(),
            )
    };
    let (code, body) = status(apply("x2").send().await.unwrap()).await;
    assert_eq!(code, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("User \"patcher\" cannot create resource \"alerts\""),
        "{body}"
    );
    let (code, _) = status(patcher.get(format!("{url}/x2")).send().await.unwrap()).await;
    assert_eq!(code, 404, "nothing was created");
    let (code, body) = status(apply("w").send().await.unwrap()).await;
    assert_eq!(
        code, 200,
        "applying to an existing object is a patch: {body}"
    );
    // A rule naming one object (`resourceNames`) allows listing and watching that object by a
    // `metadata.name` field selector, as kube-apiserver reads such a request (kubectl get -w,
    // kubectl wait); the whole collection, or another name, stays forbidden.
    let viewer = client(&ca, Some(&users.client("viewer", &[])));
    for query in [
        "",
        "?fieldSelector=metadata.name%3Dw",
        "?fieldSelector=metadata.name%3D%3Dw&watch=true&timeoutSeconds=1",
    ] {
        let target = if query.is_empty() {
            format!("{url}/w")
        } else {
            format!("{url}{query}")
        };
        let resp = viewer.get(&target).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{query}");
    }
    for query in ["", "?fieldSelector=metadata.name%3Dother", "?watch=true"] {
        let (code, body) = status(viewer.get(format!("{url}{query}")).send().await.unwrap()).await;
        assert_eq!(code, 403, "{query}: {body}");
    }
    // Impersonation (`kubectl --as`, `--as-group`): only a user allowed to `impersonate` the
    // user and each group acts as them, and then has their permissions, not its own.
    let boss = client(&ca, Some(&users.client("boss", &[])));
    let (code, body) = status(
        writer
            .delete(format!("{url}/w"))
            .header("Impersonate-User", "reader")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 403, "{body}");
    assert_eq!(
        body["message"],
        "users \"reader\" is forbidden: User \"writer\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope"
    );
    let as_reader = |req: reqwest::RequestBuilder, group: Option<&str>| {
        let req = req.header("Impersonate-User", "reader");
        match group {
            Some(g) => req.header("Impersonate-Group", g),
            None => req,
        }
    };
    let (code, body) = status(as_reader(boss.get(&url), None).send().await.unwrap()).await;
    assert_eq!(code, 403, "reader alone may not list: {body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("User \"reader\" cannot list"),
        "{body}"
    );
    let (code, body) = status(
        as_reader(boss.get(&url), Some("pager-readers"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = status(
        as_reader(boss.post(&url), Some("pager-readers"))
            .json(&alert("imp"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 403, "the impersonated user's permissions: {body}");
    let (code, body) = status(
        as_reader(boss.get(&url), Some("system:masters"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("cannot impersonate resource \"groups\""),
        "{body}"
    );
    let (code, body) = status(
        boss.get(&url)
            .header("Impersonate-Group", "pager-readers")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 400, "a group without a user: {body}");
    // Discovery is allowed to every authenticated user by the built-in rules.
    let (code, _) = status(
        reader
            .get(format!("{base}/apis/pager.k8s.co/v1beta1"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 200);
    // Without anonymous access, no credentials is 401 — except the health paths.
    let (code, body) = status(nobody.get(&url).send().await.unwrap()).await;
    assert_eq!((code, &body["reason"]), (401, &json!("Unauthorized")));
    let (code, _) = status(nobody.get(format!("{base}/apis")).send().await.unwrap()).await;
    assert_eq!(code, 401);
    drop(server);

    // A bad policy file stops the server at start, naming the problem.
    std::fs::write(&policy, "rules:\n  - users: [x]\n    verb: [get]\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pager-apiserver"))
        .args([
            "--storage",
            "memory",
            "--listen",
            "127.0.0.1:0",
            "--cert-dir",
        ])
        .arg(&certs)
        .arg("--authorization-policy-file")
        .arg(&policy)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("policy.yaml") && err.contains("verb"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_serving_certificate_is_generated_and_reloaded_when_its_files_change() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    let server = common::Server::start_https(&[
        "--storage",
        "memory",
        "--cert-dir",
        certs.to_str().unwrap(),
    ]);
    let port = server.addr.rsplit(':').next().unwrap().to_string();
    let first_ca = std::fs::read(certs.join("ca.crt")).unwrap();
    // Trusted through the generated CA, for localhost and 127.0.0.1.
    for host in ["localhost", "127.0.0.1"] {
        let resp = client(&first_ca, None)
            .get(format!("https://{host}:{port}/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
    }
    // New files (another CA) in place: served from the next connection on.
    let other = tempfile::tempdir().unwrap();
    apiserver::serve::self_signed(other.path(), &["localhost".into()]).unwrap();
    for f in ["apiserver.crt", "apiserver.key"] {
        std::fs::copy(other.path().join(f), certs.join(f)).unwrap();
    }
    let second_ca = std::fs::read(other.path().join("ca.crt")).unwrap();
    let mut reloaded = false;
    for _ in 0..100 {
        if client(&second_ca, None)
            .get(format!("https://localhost:{port}/healthz"))
            .send()
            .await
            .is_ok()
        {
            reloaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(reloaded, "the new certificate was never served");
    assert!(
        client(&first_ca, None)
            .get(format!("https://localhost:{port}/healthz"))
            .send()
            .await
            .is_err(),
        "the old certificate is still served"
    );
}

/// The CA names the server asks client certificates of, as `openssl s_client` prints them.
fn acceptable_client_cas(addr: &str) -> String {
    let out = std::process::Command::new("openssl")
        .args(["s_client", "-connect", addr, "-servername", "localhost"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl (the test command installs it)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let start = text
        .find("Acceptable client certificate CA names")
        .unwrap_or(text.len());
    let end = text[start..]
        .find("Requested Signature Algorithms")
        .or_else(|| text[start..].find("---"))
        .map_or(text.len(), |e| start + e);
    text[start..end].to_string()
}

/// Retries `probe` until it gives `want` (the settings are followed in the background).
async fn eventually<F, Fut>(what: &str, want: u16, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = (u16, Value)>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (code, body) = probe().await;
        if code == want {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: still {code} {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_cas_in_the_cluster_config_map_are_followed_without_a_restart() {
    let s = delegated().await;
    let url = format!("{}{ALERTS}", s.base);
    let alice = client(&s.ca, Some(&s.users.client("alice", &[])));
    let (code, body) = status(alice.get(&url).send().await.unwrap()).await;
    assert_eq!(code, 200, "{body}");
    let hints = acceptable_client_cas(&s.server.addr);
    assert!(
        hints.contains("client-ca") && hints.contains("front-proxy-ca"),
        "{hints}"
    );

    // Both CAs rotate in the main cluster: its ConfigMap changes.
    let users2 = Ca::new("client-ca-2");
    let front_proxy2 = Ca::new("front-proxy-ca-2");
    s.config_map.set(&users2.pem(), &front_proxy2.pem());
    let alice2 = client(&s.ca, Some(&users2.client("alice", &[])));
    eventually("a certificate of the new client CA", 200, || async {
        status(alice2.get(&url).send().await.unwrap()).await
    })
    .await;
    // The old CA's certificates no longer authenticate, on a new connection or an old one.
    let (code, body) = status(alice.get(&url).send().await.unwrap()).await;
    assert_eq!(code, 401, "{body}");
    let old_alice = client(&s.ca, Some(&s.users.client("alice", &[])));
    let (code, body) = status(old_alice.get(&url).send().await.unwrap()).await;
    assert_eq!(code, 401, "{body}");
    // The front proxy's new certificate is trusted, its old one not.
    let proxied = |identity: Vec<u8>| {
        let proxy = client(&s.ca, Some(&identity));
        let url = url.clone();
        async move {
            status(
                proxy
                    .get(&url)
                    .header("X-Remote-User", "proxied-user")
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let (code, body) = proxied(front_proxy2.client("front-proxy-client", &[])).await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = proxied(s.front_proxy.client("front-proxy-client", &[])).await;
    assert_eq!(code, 401, "{body}");
    // TLS asks for certificates of the new CAs (Go clients send none matching no CA asked for).
    let hints = acceptable_client_cas(&s.server.addr);
    assert!(
        hints.contains("client-ca-2") && hints.contains("front-proxy-ca-2"),
        "{hints}"
    );
    assert!(!hints.contains("CN = client-ca\n"), "{hints}");

    // A ConfigMap whose bundle is not a CA is not applied: the CAs in force stay.
    s.config_map.set("not a certificate", &front_proxy2.pem());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (code, body) = status(alice2.get(&url).send().await.unwrap()).await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = proxied(front_proxy2.client("front-proxy-client", &[])).await;
    assert_eq!(code, 200, "{body}");

    // A ConfigMap that lost one bundle: that one stays, the other rotation is taken.
    let front_proxy3 = Ca::new("front-proxy-ca-3");
    s.config_map.set("", &front_proxy3.pem());
    let proxy3 = front_proxy3.client("front-proxy-client", &[]);
    eventually("the third front-proxy CA", 200, || proxied(proxy3.clone())).await;
    let (code, body) = status(alice2.get(&url).send().await.unwrap()).await;
    assert_eq!(code, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ca_files_given_by_flags_are_reloaded_when_they_change() {
    let dir = tempfile::tempdir().unwrap();
    let users = Ca::new("client-ca");
    let ca_file = dir.path().join("client-ca.crt");
    std::fs::write(&ca_file, users.pem()).unwrap();
    let certs = dir.path().join("certs");
    let server = common::Server::start_https(&[
        "--storage",
        "memory",
        "--cert-dir",
        certs.to_str().unwrap(),
        "--tls-names",
        "localhost",
        "--client-ca-file",
        ca_file.to_str().unwrap(),
        "--anonymous-auth=false",
    ]);
    let ca = std::fs::read(certs.join("ca.crt")).unwrap();
    let port = server.addr.rsplit(':').next().unwrap();
    let url = format!("https://localhost:{port}{ALERTS}");
    let alice = client(&ca, Some(&users.client("alice", &[])));
    let (code, body) = status(alice.get(&url).send().await.unwrap()).await;
    assert_eq!(code, 200, "{body}");

    // Rotated as a Secret volume rotates it: a new file renamed over the old one.
    let users2 = Ca::new("client-ca-2");
    let next = dir.path().join("client-ca.crt.new");
    std::fs::write(&next, users2.pem()).unwrap();
    std::fs::rename(&next, &ca_file).unwrap();
    let alice2 = client(&ca, Some(&users2.client("alice", &[])));
    eventually("a certificate of the new client CA", 200, || async {
        status(alice2.get(&url).send().await.unwrap()).await
    })
    .await;
    let (code, body) = status(alice.get(&url).send().await.unwrap()).await;
    assert_eq!(code, 401, "{body}");
    assert!(acceptable_client_cas(&server.addr).contains("client-ca-2"));

    // Rewritten in place with something that is not a CA bundle: the CA in force stays.
    std::fs::write(&ca_file, "garbage").unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (code, body) = status(alice2.get(&url).send().await.unwrap()).await;
    assert_eq!(code, 200, "{body}");
}

/// `--authorization-always-allow-paths` covers non-resource paths only, as Go's path
/// authorizer: a pattern over `/apis` allows discovery to anyone, and every Alert request is
/// still reviewed (the stand-in denies anonymous ones).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn always_allowed_paths_never_allow_resources() {
    let s = delegated_with(&["--authorization-always-allow-paths", "/healthz,/apis/*"]).await;
    let anonymous = client(&s.ca, None);
    let url = format!("{}{ALERTS}", s.base);
    let (code, body) = status(anonymous.post(&url).json(&alert("a")).send().await.unwrap()).await;
    assert_eq!(code, 403, "{body}");
    assert_eq!(s.last_review()["user"], "system:anonymous");
    let (code, _) = status(anonymous.get(&url).send().await.unwrap()).await;
    assert_eq!(code, 403);
    let reviews = s.asked.lock().unwrap().access_reviews.len();
    let discovery = format!("{}/apis/pager.k8s.co/v1beta1", s.base);
    let (code, body) = status(anonymous.get(&discovery).send().await.unwrap()).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(s.asked.lock().unwrap().access_reviews.len(), reviews);
}

/// Security flags that cannot mean what they say stop the server at start, naming the problem:
/// a `*` before the end of an always-allowed path (Go's `only trailing * allowed`), uid headers
/// without the `X-Remote-Uid` kube-aggregator sends.
#[test]
fn bad_security_flags_are_refused_at_start() {
    for (flags, says) in [
        (
            [
                "--authorization-always-allow-paths",
                "/healthz,/apis/*/alerts",
            ],
            "--authorization-always-allow-paths: only trailing * allowed in \"/apis/*/alerts\"",
        ),
        (
            ["--requestheader-uid-headers", "X-Uid"],
            "--requestheader-uid-headers is set without specifying the standard X-Remote-Uid header",
        ),
    ] {
        let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_pager-apiserver"))
            .args([
                "--plain-http",
                "--listen",
                "127.0.0.1:0",
                "--storage",
                "memory",
            ])
            .args(flags)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // A server that took the flags keeps running: stopped, and the test fails.
        let started = std::time::Instant::now();
        while server.try_wait().unwrap().is_none() {
            if started.elapsed() > Duration::from_secs(20) {
                server.kill().unwrap();
                panic!("pager-apiserver started with {flags:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let out = server.wait_with_output().unwrap();
        assert!(!out.status.success(), "{flags:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{flags:?}: {err}");
    }
}
