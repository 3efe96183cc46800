//! A tiny HTTP/1.1 server on 127.0.0.1 for tests: canned replies chosen by a
//! handler, every request recorded.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What to answer.
pub(crate) enum Reply {
    /// 200 with this body.
    Body(Vec<u8>),
    /// 200 with this body, after a delay.
    Slow(Duration, Vec<u8>),
    /// Headers announcing this body, then its first 10 bytes, then silence.
    Stall(Vec<u8>),
    /// This status with a short text body.
    Status(u16),
    /// This status with a short text body and these headers.
    StatusWith(u16, Vec<(&'static str, String)>),
}

/// A recorded request: path and lowercase header names with values.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub path: String,
    pub headers: HashMap<String, String>,
}

type Handler = dyn Fn(&str, usize) -> Reply + Send + Sync;

pub(crate) struct Server {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    /// Starts serving; `handler(path, n)` gets how many earlier requests
    /// had the same path.
    pub async fn start(handler: impl Fn(&str, usize) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let log = requests.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, handler.clone(), log.clone()));
            }
        });
        Server { addr, requests }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn count(&self, path: &str) -> usize {
        let requests = self.requests.lock().unwrap();
        requests.iter().filter(|r| r.path == path).count()
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

async fn serve(mut socket: TcpStream, handler: Arc<Handler>, log: Arc<Mutex<Vec<Request>>>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let path = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("/")
        .to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let nth = {
        let mut log = log.lock().unwrap();
        let nth = log.iter().filter(|r| r.path == path).count();
        log.push(Request {
            path: path.clone(),
            headers,
        });
        nth
    };
    let mut extra = String::new();
    let (status, body, stall) = match handler(&path, nth) {
        Reply::Body(body) => (200, body, false),
        Reply::Slow(delay, body) => {
            tokio::time::sleep(delay).await;
            (200, body, false)
        }
        Reply::Stall(body) => (200, body, true),
        Reply::Status(code) => (code, format!("status {code}").into_bytes(), false),
        Reply::StatusWith(code, headers) => {
            for (k, v) in headers {
                extra.push_str(&format!("{k}: {v}\r\n"));
            }
            (code, format!("status {code}").into_bytes(), false)
        }
    };
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n{extra}\r\n",
        body.len()
    );
    let _ = socket.write_all(head.as_bytes()).await;
    if stall {
        let _ = socket.write_all(&body[..10.min(body.len())]).await;
        let _ = socket.flush().await;
        tokio::time::sleep(Duration::from_secs(30)).await;
        return;
    }
    let _ = socket.write_all(&body).await;
    let _ = socket.shutdown().await;
}
