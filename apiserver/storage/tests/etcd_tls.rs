//! The etcd backend over TLS with a client certificate: a real etcd serving HTTPS and requiring
//! client certificates (`--client-cert-auth`), reached with the CA and a client certificate; a
//! client without one, or trusting another CA, is refused.

mod common;

use std::time::Duration;

use apiserver_storage::{EtcdOptions, EtcdStore, EtcdTls, Storage};
use common::b;
use common::etcd::{Etcd, Pki};

fn options(tls: EtcdTls) -> EtcdOptions {
    EtcdOptions {
        tls: Some(tls),
        connect_timeout: Duration::from_secs(10),
        ..EtcdOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_reach_etcd_and_their_absence_does_not() {
    let pki = Pki::new();
    let etcd = Etcd::start_tls(&pki);
    let endpoints = vec![etcd.client_url()];
    let store = EtcdStore::connect(
        &endpoints,
        options(EtcdTls {
            ca: pki.ca.clone().into_bytes(),
            client: Some((
                pki.client_cert.clone().into_bytes(),
                pki.client_key.clone().into_bytes(),
            )),
            server_name: None,
        }),
    )
    .await
    .expect("connect with a client certificate");
    let kv = store.create("/registry/g/r/ns/a", b("v")).await.unwrap();
    assert_eq!(store.get("/registry/g/r/ns/a").await.unwrap(), Some(kv));

    let quick = |tls| EtcdOptions {
        connect_timeout: Duration::from_secs(2),
        ..options(tls)
    };
    // Without a client certificate: refused.
    let without = EtcdStore::connect(
        &endpoints,
        quick(EtcdTls {
            ca: pki.ca.clone().into_bytes(),
            client: None,
            server_name: None,
        }),
    )
    .await;
    assert!(without.is_err(), "etcd requires a client certificate");
    // Trusting another CA: etcd's certificate is refused.
    let other = Pki::new();
    let wrong_ca = EtcdStore::connect(
        &endpoints,
        quick(EtcdTls {
            ca: other.ca.into_bytes(),
            client: Some((
                pki.client_cert.clone().into_bytes(),
                pki.client_key.clone().into_bytes(),
            )),
            server_name: None,
        }),
    )
    .await;
    assert!(
        wrong_ca.is_err(),
        "etcd's certificate is not from the trusted CA"
    );
}
