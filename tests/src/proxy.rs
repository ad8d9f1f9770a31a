//! A loopback TCP proxy between sloguard and moto that can fail on purpose:
//! after a given number of HTTP requests it cuts every connection and refuses
//! new ones, until healed. AWS "unreachable in the middle of a cycle".

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The proxy's switches, shared with its connection tasks.
#[derive(Debug, Default)]
pub struct Switch {
    /// Requests still let through before the cut (usize::MAX: never cut).
    pub budget: AtomicUsize,
    pub down: AtomicBool,
    pub requests: AtomicUsize,
}

/// A running proxy; it stops with the test's runtime.
pub struct Proxy {
    pub endpoint: String,
    pub switch: Arc<Switch>,
}

impl Proxy {
    /// Listen on a free loopback port and forward to `upstream_port`.
    pub async fn start(upstream_port: u16) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let switch = Arc::new(Switch {
            budget: AtomicUsize::new(usize::MAX),
            ..Switch::default()
        });
        let s = switch.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if s.down.load(Ordering::SeqCst) {
                    drop(client); // refused: closed at once
                    continue;
                }
                let s = s.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(("127.0.0.1", upstream_port)).await {
                        pump(client, server, s).await;
                    }
                });
            }
        });
        Ok(Proxy {
            endpoint: format!("http://127.0.0.1:{port}"),
            switch,
        })
    }

    /// Cut after `n` more requests.
    pub fn fail_after(&self, n: usize) {
        self.switch.budget.store(n, Ordering::SeqCst);
        self.switch.down.store(false, Ordering::SeqCst);
    }

    /// Let everything through again.
    pub fn heal(&self) {
        self.switch.budget.store(usize::MAX, Ordering::SeqCst);
        self.switch.down.store(false, Ordering::SeqCst);
    }
}

async fn pump(client: TcpStream, server: TcpStream, s: Arc<Switch>) {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let up = {
        let s = s.clone();
        async move {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match cr.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                // Each request starts with a request line ending in HTTP/1.1.
                let starts = buf[..n]
                    .windows(10)
                    .filter(|w| w == b"HTTP/1.1\r\n")
                    .count();
                for _ in 0..starts {
                    s.requests.fetch_add(1, Ordering::SeqCst);
                    let left = s.budget.load(Ordering::SeqCst);
                    if left == 0 {
                        s.down.store(true, Ordering::SeqCst);
                    } else if left != usize::MAX {
                        s.budget.store(left - 1, Ordering::SeqCst);
                    }
                }
                if s.down.load(Ordering::SeqCst) || sw.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    };
    let down = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match sr.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if s.down.load(Ordering::SeqCst) || cw.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    // Whichever side ends (or the cut) closes both.
    tokio::select! {
        _ = up => {}
        _ = down => {}
    }
}
