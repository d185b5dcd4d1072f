#![allow(dead_code)] // each test file uses a different part

//! A real `etcd` process for tests (Debian's `etcd-server`): free loopback ports, a temporary
//! data directory, killed on drop. A missing `etcd` binary fails the test (never a skip).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

pub struct Etcd {
    child: Option<Child>,
    name: String,
    client_port: u16,
    peer_port: u16,
    /// `name=peer-url,…` of the whole cluster.
    initial_cluster: String,
    dir: std::path::PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .unwrap()
        .port()
}

impl Etcd {
    /// Starts a single-member cluster.
    pub fn start() -> Etcd {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (client_port, peer_port) = (free_port(), free_port());
        let mut e = Etcd {
            child: None,
            name: "test".into(),
            client_port,
            peer_port,
            initial_cluster: format!("test=http://127.0.0.1:{peer_port}"),
            dir: tmp.path().join("test"),
            _tmp: Some(tmp),
        };
        e.spawn();
        e
    }

    /// Starts a cluster of `n` members (data under `dir`, which must outlive them).
    pub fn cluster(n: usize, dir: &std::path::Path) -> Vec<Etcd> {
        let ports: Vec<(u16, u16)> = (0..n).map(|_| (free_port(), free_port())).collect();
        let initial_cluster = ports
            .iter()
            .enumerate()
            .map(|(i, (_, peer))| format!("m{i}=http://127.0.0.1:{peer}"))
            .collect::<Vec<_>>()
            .join(",");
        let mut members: Vec<Etcd> = ports
            .into_iter()
            .enumerate()
            .map(|(i, (client_port, peer_port))| Etcd {
                child: None,
                name: format!("m{i}"),
                client_port,
                peer_port,
                initial_cluster: initial_cluster.clone(),
                dir: dir.join(format!("m{i}")),
                _tmp: None,
            })
            .collect();
        for m in &mut members {
            m.spawn();
        }
        members
    }

    fn spawn(&mut self) {
        let client = self.client_url();
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let child = Command::new("etcd")
            .args([
                "--name",
                &self.name,
                "--data-dir",
                self.dir.to_str().unwrap(),
                "--listen-client-urls",
                &client,
                "--advertise-client-urls",
                &client,
                "--listen-peer-urls",
                &peer,
                "--initial-advertise-peer-urls",
                &peer,
                "--initial-cluster",
                &self.initial_cluster,
                "--initial-cluster-token",
                "kube-codegen-test",
                "--log-level",
                "error",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start etcd ({e}): install it (Debian: apt-get install etcd-server; ./test.sh does)")
            });
        self.child = Some(child);
    }

    pub fn client_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts again on the same ports and data.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        self.kill();
    }
}
