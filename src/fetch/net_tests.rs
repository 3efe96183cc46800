//! Tarball downloads with `.npmrc` network settings: through an HTTP proxy
//! (a tiny forwarding proxy on 127.0.0.1), `noproxy`, and credentials that
//! only go to the host they belong to.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::testserver::{Reply, Server};
use super::*;
use crate::config::FetchPolicy;
use crate::config::{Config, ConfigOverrides};
use crate::store::testutil::simple_package;

/// What the proxy saw: the request line and the `Proxy-Authorization` header.
#[derive(Debug, Clone)]
struct Seen {
    line: String,
    proxy_auth: Option<String>,
}

/// A forwarding proxy for plain-http targets: takes absolute-URI requests
/// (`GET http://127.0.0.1:port/x HTTP/1.1`), sends them on in origin form.
struct Proxy {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Proxy {
    async fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(forward(sock, log.clone()));
            }
        });
        Proxy { port, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn forward(mut client: TcpStream, log: Arc<Mutex<Vec<Seen>>>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match client.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let (line, rest) = text.split_once("\r\n").unwrap();
    let proxy_auth = rest
        .split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("proxy-authorization"))
        .map(|(_, v)| v.trim().to_string());
    log.lock().unwrap().push(Seen {
        line: line.to_string(),
        proxy_auth,
    });
    // "GET http://host:port/path HTTP/1.1" → connect to host:port, send "GET /path HTTP/1.1".
    let mut parts = line.splitn(3, ' ');
    let (method, target, version) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let Some(after) = target.strip_prefix("http://") else {
        let _ = client
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await;
        return;
    };
    let (authority, path) = after.split_at(after.find('/').unwrap_or(after.len()));
    let Ok(mut upstream) = TcpStream::connect(authority).await else {
        let _ = client
            .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            .await;
        return;
    };
    let path = if path.is_empty() { "/" } else { path };
    let out = format!("{method} {path} {version}\r\n{rest}");
    if upstream.write_all(out.as_bytes()).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

struct Env {
    tmp: tempfile::TempDir,
    store: Arc<Store>,
}

impl Env {
    fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(&tmp.path().join("cache")).unwrap());
        Env { tmp, store }
    }

    /// A Config from a project `.npmrc` and an explicit environment.
    fn config(&self, npmrc: &str, env: &[(&str, &str)]) -> Arc<Config> {
        let project = self.tmp.path().join("project");
        std::fs::create_dir_all(&project).unwrap();
        std::fs::write(project.join(".npmrc"), npmrc).unwrap();
        let mut vars: HashMap<String, String> =
            [("HOME".to_string(), self.tmp.path().display().to_string())].into();
        for (k, v) in env {
            vars.insert(k.to_string(), v.to_string());
        }
        Arc::new(Config::load(&project, &ConfigOverrides::default(), &vars).unwrap())
    }

    /// A Fetcher wired the way `ops::Context` wires it.
    fn fetcher(&self, config: &Arc<Config>) -> Fetcher {
        let http = crate::registry::Http::lazy(config.clone());
        let auth_config = config.clone();
        Fetcher::new(
            self.store.clone(),
            http,
            FetchOptions {
                auth: Some(Arc::new(move |t: &Tarball| {
                    auth_config.tarball_auth_header(&t.url, &t.name)
                })),
                policy: FetchPolicy {
                    retries: 0,
                    ..Default::default()
                },
                ..Default::default()
            },
        )
    }
}

fn tarball(server: &Server, name: &str) -> Tarball {
    Tarball {
        name: name.into(),
        version: "1.0.0".into(),
        url: server.url(&format!("/{name}/-/{name}-1.0.0.tgz")),
        integrity: None,
    }
}

async fn package_server(name: &'static str) -> Server {
    let data = simple_package(name);
    Server::start(move |_, _| Reply::Body(data.clone())).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_go_through_the_npmrc_proxy_with_its_credentials() {
    let server = package_server("a").await;
    let proxy = Proxy::start().await;
    let env = Env::new();
    // A proxy in the environment that does not exist: .npmrc must win.
    let config = env.config(
        &format!("proxy=http://me:s%40cret@127.0.0.1:{}\n", proxy.port),
        &[("HTTP_PROXY", "http://127.0.0.1:9"), ("NO_PROXY", "")],
    );
    let t = tarball(&server, "a");
    env.fetcher(&config).ensure(t.clone()).await.unwrap();

    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].line, format!("GET {} HTTP/1.1", t.url));
    let expected = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "me:s@cret");
    assert_eq!(
        seen[0].proxy_auth.as_deref(),
        Some(format!("Basic {expected}").as_str())
    );
    assert_eq!(
        server.count("/a/-/a-1.0.0.tgz"),
        1,
        "the proxy forwarded it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environment_proxy_is_used_without_npmrc_and_noproxy_bypasses() {
    let server = package_server("b").await;
    let proxy = Proxy::start().await;
    let env = Env::new();
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port);

    let config = env.config("", &[("http_proxy", &proxy_url)]);
    env.fetcher(&config)
        .ensure(tarball(&server, "b"))
        .await
        .unwrap();
    assert_eq!(proxy.seen().len(), 1, "HTTP_PROXY is honoured");

    // noproxy in .npmrc: straight to the server.
    let env2 = Env::new();
    let config = env2.config(
        "noproxy=localhost,127.0.0.1\n",
        &[("http_proxy", &proxy_url)],
    );
    env2.fetcher(&config)
        .ensure(tarball(&server, "b"))
        .await
        .unwrap();
    assert_eq!(proxy.seen().len(), 1, "noproxy bypassed the proxy");
    assert_eq!(server.count("/b/-/b-1.0.0.tgz"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_token_is_not_sent_to_a_tarball_on_another_port() {
    let registry = package_server("c").await;
    let elsewhere = package_server("d").await;
    let env = Env::new();
    let reg_url = registry.url("/");
    let port = reg_url.trim_end_matches('/').rsplit(':').next().unwrap();
    let config = env.config(
        &format!("registry={reg_url}\n//127.0.0.1:{port}/:_authToken=T0K\n"),
        &[],
    );
    let f = env.fetcher(&config);
    f.ensure(tarball(&registry, "c")).await.unwrap();
    f.ensure(tarball(&elsewhere, "d")).await.unwrap();
    let auth = |s: &Server| s.requests()[0].headers.get("authorization").cloned();
    assert_eq!(auth(&registry).as_deref(), Some("Bearer T0K"));
    assert_eq!(auth(&elsewhere), None, "token leaked to another host:port");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_failure_is_a_network_error_without_credentials() {
    let server = package_server("e").await;
    // Nothing listens on port 9 (discard) on the loopback interface.
    let env = Env::new();
    let config = env.config("https-proxy=http://me:hunter2@127.0.0.1:9\n", &[]);
    let err = env
        .fetcher(&config)
        .ensure(tarball(&server, "e"))
        .await
        .unwrap_err();
    assert_eq!(err.code, Code::Network, "{}", err.message);
    assert!(!err.message.contains("hunter2"), "{}", err.message);
    assert_eq!(server.count("/e/-/e-1.0.0.tgz"), 0);
}
