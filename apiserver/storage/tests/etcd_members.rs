//! A store over a real three-member etcd cluster keeps serving while a quorum does: calls go
//! to one member and move to the next when it is dead, frozen or has lost its leader, as
//! clientv3's balancer moves them (only a call under way when it fails may fail with it); a watch on a member that lost its leader ends, so that the
//! watch cache watches again elsewhere instead of staying open, silent, at a stale revision.

mod common;

use std::time::Duration;

use apiserver_storage::{EtcdOptions, EtcdStore, ListOptions, Storage};
use common::b;
use common::etcd::Etcd;

/// A cluster of three and a store naming every member.
async fn cluster() -> (Vec<Etcd>, EtcdStore) {
    cluster_with(options()).await
}

async fn cluster_with(options: EtcdOptions) -> (Vec<Etcd>, EtcdStore) {
    let members = Etcd::cluster(3);
    let store = EtcdStore::connect(&endpoints(&members), options)
        .await
        .expect("connect");
    (members, store)
}

fn endpoints(members: &[Etcd]) -> Vec<String> {
    members.iter().map(Etcd::client_url).collect()
}

fn options() -> EtcdOptions {
    EtcdOptions {
        connect_timeout: Duration::from_secs(20),
        request_timeout: Duration::from_secs(3),
        keep_alive: Duration::from_secs(1),
        ..EtcdOptions::default()
    }
}

/// The index of the member `store`'s calls go to now.
fn current(members: &[Etcd], store: &EtcdStore) -> usize {
    members
        .iter()
        .position(|m| m.client_url() == store.current_endpoint())
        .expect("a member's endpoint")
}

/// Creates, gets and lists through `store`, `rounds` times each; the failures, described.
async fn failures(store: &EtcdStore, tag: &str, rounds: usize) -> Vec<String> {
    let mut failed = Vec::new();
    for i in 0..rounds {
        let key = format!("/registry/g/r/ns/{tag}-{i}");
        if let Err(e) = store.create(&key, b("v")).await {
            failed.push(format!("create {key}: {e:?}"));
        }
        if let Err(e) = store.get(&key).await {
            failed.push(format!("get {key}: {e}"));
        }
        if let Err(e) = store.list("/registry/g/r/", ListOptions::default()).await {
            failed.push(format!("list: {e}"));
        }
    }
    failed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_member_fails_at_most_the_call_under_way() {
    let (mut members, store) = cluster().await;
    assert!(failures(&store, "before", 5).await.is_empty());
    // The member calls go to dies: the call that meets its broken connection may fail (etcd's
    // client may wait to reconnect: its outcome is then unknown), every call after it is served
    // by the other two.
    let pinned = current(&members, &store);
    members[pinned].kill();
    let failed = failures(&store, "after", 30).await;
    assert_ne!(current(&members, &store), pinned, "calls moved on");
    assert!(failed.len() <= 1, "{failed:#?}");
    assert!(store.revision().await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_member_costs_at_most_the_calls_under_way() {
    // Keep-alive pings a little slower than the other tests': with the whole suite running on
    // two cores, a 1 s ping unanswered for 1 s once broke the healthy members' connections too
    // (the test process or etcd starved), failing a second call. The frozen member's call
    // still fails by the request timeout (3 s), before a ping would tell.
    let (members, store) = cluster_with(EtcdOptions {
        keep_alive: Duration::from_secs(3),
        ..options()
    })
    .await;
    assert!(failures(&store, "before", 5).await.is_empty());
    // A frozen member keeps its connections and answers nothing: the call that meets it times
    // out (its outcome unknown), and the calls after it go to another member.
    let pinned = current(&members, &store);
    members[pinned].freeze();
    let failed = failures(&store, "frozen", 20).await;
    members[pinned].thaw();
    assert!(failed.len() <= 1, "{failed:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_on_a_member_that_lost_its_leader_ends() {
    let (mut members, store) = cluster().await;
    let first = store.create("/registry/g/r/ns/a", b("v")).await.unwrap();
    let mut watch = store
        .watch("/registry/g/r/", first.mod_revision)
        .await
        .unwrap();
    store.create("/registry/g/r/ns/b", b("v")).await.unwrap();
    assert_eq!(
        common::next_event(&mut watch).await.kv.key,
        "/registry/g/r/ns/b"
    );
    // The watch's member is left alone, without a leader: etcd ends a watch that asks for one
    // (after three election timeouts), where it would otherwise stay open and silent.
    let pinned = current(&members, &store);
    for (i, m) in members.iter_mut().enumerate() {
        if i != pinned {
            m.kill();
        }
    }
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match watch.recv().await {
                Some(Ok(e)) if e.kind == apiserver_storage::EventType::Progress => continue,
                other => return other,
            }
        }
    })
    .await
    .expect("the watch ends within 20 s of its member losing its leader");
    assert!(
        matches!(ended, Some(Err(_)) | None),
        "an error or the end, not an event: {ended:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_waits_for_a_leader_until_its_deadline() {
    let (mut members, _) = cluster().await;
    let endpoints: Vec<String> = members.iter().map(Etcd::client_url).collect();
    let options = EtcdOptions {
        connect_timeout: Duration::from_secs(20),
        request_timeout: Duration::from_secs(15),
        ..EtcdOptions::default()
    };
    let store = EtcdStore::connect(&endpoints, options).await.unwrap();
    store.create("/registry/g/r/ns/a", b("v")).await.unwrap();
    // Quorum lost: the member left refuses calls asking for a leader ("no leader") once it
    // knows. A write waits for one, and succeeds once a peer is back and a leader elected.
    let pinned = current(&members, &store);
    let others: Vec<usize> = (0..3).filter(|i| *i != pinned).collect();
    for i in &others {
        members[*i].kill();
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let write = tokio::spawn({
        let store = store.clone();
        async move { store.create("/registry/g/r/ns/b", b("v")).await }
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!write.is_finished(), "the write waits for a leader");
    members[others[0]].restart();
    let written = write.await.unwrap();
    assert!(written.is_ok(), "{written:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leader_killed_fails_at_most_the_call_under_way() {
    let (mut members, store) = cluster().await;
    assert!(failures(&store, "before", 3).await.is_empty());
    let mut leader = None;
    for (i, m) in members.iter().enumerate() {
        let mut c = etcd_client::Client::connect([m.client_url()], None)
            .await
            .unwrap();
        let status = c.status().await.unwrap();
        if status.header().map(|h| h.member_id()) == Some(status.leader()) {
            leader = Some(i);
        }
    }
    // The other two elect a leader; calls meanwhile wait for it rather than fail.
    members[leader.expect("a leader")].kill();
    let failed = failures(&store, "election", 10).await;
    assert!(failed.len() <= 1, "{failed:#?}");
}

/// A store started while a member is down (a rolling restart of etcd) serves from the other
/// two without a failed call, whichever member it would start on (each store picks its own).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_starts_while_a_member_is_down() {
    let mut members = Etcd::cluster(3);
    members[1].kill();
    let dead = members[1].client_url();
    for round in 0..12 {
        let store = tokio::time::timeout(
            Duration::from_secs(60),
            EtcdStore::connect(&endpoints(&members), options()),
        )
        .await
        .expect("connecting is bounded")
        .unwrap_or_else(|e| panic!("connect with a member down: {e}"));
        let failed = failures(&store, &format!("round{round}"), 3).await;
        assert!(failed.is_empty(), "{failed:#?}");
        assert_ne!(store.current_endpoint(), dead, "calls left the dead member");
    }
}

/// A store started before its etcd (a server beside a cluster still starting) waits for it,
/// up to its connect timeout, then serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_waits_for_a_cluster_that_starts_after_it() {
    let mut members = Etcd::cluster(3);
    for m in &mut members {
        m.stop();
    }
    let names = endpoints(&members);
    let connecting = tokio::spawn(async move { EtcdStore::connect(&names, options()).await });
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!connecting.is_finished(), "it waits for etcd");
    for m in &mut members {
        m.restart();
    }
    let store = tokio::time::timeout(Duration::from_secs(60), connecting)
        .await
        .expect("connecting is bounded")
        .expect("the connect task")
        .unwrap_or_else(|e| {
            let logs: Vec<String> = members.iter().map(Etcd::log_tail).collect();
            panic!("connect once etcd is up: {e}\n{}", logs.join("\n"))
        });
    let failed = failures(&store, "late", 3).await;
    assert!(failed.is_empty(), "{failed:#?}");
}
