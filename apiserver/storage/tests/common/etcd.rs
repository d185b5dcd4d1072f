//! A real `etcd` process for tests (Debian's `etcd-server`): free loopback ports, a temporary
//! data directory, killed on drop. A missing `etcd` binary fails the test (never a skip).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

pub struct Etcd {
    child: Child,
    client_port: u16,
    _dir: tempfile::TempDir,
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
        let dir = tempfile::tempdir().expect("tempdir");
        let (client_port, peer_port) = (free_port(), free_port());
        let client = format!("http://127.0.0.1:{client_port}");
        let peer = format!("http://127.0.0.1:{peer_port}");
        let child = Command::new("etcd")
            .args([
                "--name",
                "test",
                "--data-dir",
                dir.path().to_str().unwrap(),
                "--listen-client-urls",
                &client,
                "--advertise-client-urls",
                &client,
                "--listen-peer-urls",
                &peer,
                "--initial-advertise-peer-urls",
                &peer,
                "--initial-cluster",
                &format!("test={peer}"),
                "--log-level",
                "error",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start etcd ({e}): install it (Debian: apt-get install etcd-server; ./test.sh does)")
            });
        Etcd {
            child,
            client_port,
            _dir: dir,
        }
    }

    pub fn client_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
