//! RegistryClient against a tiny HTTP/1.1 server on 127.0.0.1.

use super::*;
use crate::config::ConfigOverrides;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One request as the server saw it: path and lower-cased headers.
#[derive(Debug, Clone)]
struct Req {
    path: String,
    headers: HashMap<String, String>,
}

struct Resp {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    delay: Duration,
}

impl Resp {
    fn json(body: &str) -> Resp {
        Resp {
            status: 200,
            headers: vec![("content-type", "application/json".into())],
            body: body.as_bytes().to_vec(),
            delay: Duration::ZERO,
        }
    }
    fn status(status: u16) -> Resp {
        Resp {
            status,
            headers: vec![],
            body: vec![],
            delay: Duration::ZERO,
        }
    }
}

type Handler = Arc<dyn Fn(usize, &Req) -> Resp + Send + Sync>;

struct Server {
    port: u16,
    requests: Arc<Mutex<Vec<Req>>>,
}

impl Server {
    async fn start(handler: impl Fn(usize, &Req) -> Resp + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests: Arc<Mutex<Vec<Req>>> = Arc::default();
        let handler: Handler = Arc::new(handler);
        let counter = Arc::new(AtomicUsize::new(0));
        let reqs = requests.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let (handler, reqs, counter) = (handler.clone(), reqs.clone(), counter.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let text = String::from_utf8_lossy(&buf).to_string();
                    let mut lines = text.split("\r\n");
                    let path = lines
                        .next()
                        .and_then(|l| l.split(' ').nth(1))
                        .unwrap_or("")
                        .to_string();
                    let headers = lines
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                        .collect();
                    let req = Req { path, headers };
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    reqs.lock().unwrap().push(req.clone());
                    let resp = handler(n, &req);
                    tokio::time::sleep(resp.delay).await;
                    let mut out = format!(
                        "HTTP/1.1 {} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                        resp.status,
                        resp.body.len()
                    );
                    for (k, v) in &resp.headers {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                    out.push_str("\r\n");
                    let _ = sock.write_all(out.as_bytes()).await;
                    let _ = sock.write_all(&resp.body).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Server { port, requests }
    }
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
    fn requests(&self) -> Vec<Req> {
        self.requests.lock().unwrap().clone()
    }
}

const DOC: &str = r#"{"name":"a","dist-tags":{"latest":"1.0.0"},"versions":{"1.0.0":{"name":"a","version":"1.0.0","dist":{"tarball":"http://x/a-1.0.0.tgz"}}}}"#;

struct Env {
    tmp: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            tmp: tempfile::tempdir().unwrap(),
        }
    }
    fn cache(&self) -> PathBuf {
        self.tmp.path().join("cache")
    }
    /// A client whose project `.npmrc` is `npmrc`.
    fn client(&self, npmrc: &str) -> RegistryClient {
        let project = self.tmp.path().join("project");
        std::fs::create_dir_all(&project).unwrap();
        std::fs::write(project.join(".npmrc"), npmrc).unwrap();
        let env: HashMap<String, String> =
            [("HOME".to_string(), self.tmp.path().display().to_string())].into();
        let config = Config::load(&project, &ConfigOverrides::default(), &env).unwrap();
        let config = Arc::new(config);
        let c = RegistryClient::new(config.clone(), Http::lazy(config), &self.cache());
        c.set_retry_backoff(Duration::from_millis(10));
        c
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetches_parses_and_saves_etag() {
    let server = Server::start(|_, _| {
        let mut r = Resp::json(DOC);
        r.headers.push(("etag", "\"v1\"".into()));
        r
    })
    .await;
    let env = Env::new();
    let client = env.client(&format!("registry={}\n", server.url()));
    let p = client.packument("a").await.unwrap();
    assert_eq!(p.dist_tags["latest"], "1.0.0");
    assert_eq!(pick_version(&p, "^1").unwrap().version, "1.0.0");
    let req = &server.requests()[0];
    assert_eq!(req.path, "/a");
    assert_eq!(req.headers["accept"], ACCEPT_CORGI);
    assert!(req.headers["user-agent"].starts_with("brisk/"));
    drop(client); // writes what it fetched
    let entry = cache::DiskCache::new(&env.cache())
        .read("a", &format!("{}a", server.url()))
        .expect("cached on disk");
    assert_eq!(entry.meta.etag.as_deref(), Some("\"v1\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_keeps_only_what_manifests_read() {
    const FULL: &str = r#"{"name":"a","readme":"README-TEXT","time":{"1.0.0":"2020"},
        "dist-tags":{"latest":"1.0.0"},"versions":{"1.0.0":{"name":"a","version":"1.0.0",
        "description":"DESCRIPTION-TEXT","scripts":{"test":"TEST-SCRIPT","install":"node-gyp rebuild"},
        "devDependencies":{"dev-only":"1"},"dependencies":{"b":"^2"},
        "dist":{"tarball":"http://x/a-1.0.0.tgz","integrity":"sha512-x","signatures":[{"sig":"SIG"}]}}}}"#;
    let server = Server::start(|_, _| Resp::json(FULL)).await;
    let env = Env::new();
    let rc = format!("registry={}\n", server.url());
    let fetched = env.client(&rc).packument("a").await.unwrap(); // dropped: written
    let entry = cache::DiskCache::new(&env.cache())
        .read("a", &format!("{}a", server.url()))
        .expect("cached on disk");
    let cached = entry.packument().unwrap();
    let m = cached.manifest("1.0.0").unwrap();
    assert_eq!(m, fetched.manifest("1.0.0").unwrap());
    assert_eq!(m.dependencies["b"], "^2");
    assert!(m.has_install_script);
    assert_eq!(m.dist.integrity.as_deref(), Some("sha512-x"));
    let dir = env.cache().join("packuments/v2");
    let batch = std::fs::read_dir(&dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let text = String::from_utf8(std::fs::read(batch).unwrap()).unwrap();
    for dropped in [
        "README-TEXT",
        "DESCRIPTION-TEXT",
        "TEST-SCRIPT",
        "dev-only",
        "SIG",
        "time",
    ] {
        assert!(!text.contains(dropped), "{dropped} is not cached");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revalidates_with_if_none_match_and_uses_cache_on_304() {
    let server = Server::start(|_, req| match req.headers.get("if-none-match") {
        Some(tag) if tag == "\"v1\"" => Resp::status(304),
        _ => {
            let mut r = Resp::json(DOC);
            r.headers.push(("etag", "\"v1\"".into()));
            r.headers
                .push(("last-modified", "Mon, 01 Jan 2024 00:00:00 GMT".into()));
            r
        }
    })
    .await;
    let env = Env::new();
    let rc = format!("registry={}\n", server.url());
    let first = env.client(&rc).packument("a").await.unwrap();
    let second = env.client(&rc).packument("a").await.unwrap(); // new client: no memo
    assert_eq!(format!("{first:?}"), format!("{second:?}"));
    assert_eq!(
        first.manifest("1.0.0").unwrap(),
        second.manifest("1.0.0").unwrap()
    );
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[1].headers.get("if-none-match").map(String::as_str),
        Some("\"v1\"")
    );
    assert_eq!(
        reqs[1].headers.get("if-modified-since").map(String::as_str),
        Some("Mon, 01 Jan 2024 00:00:00 GMT")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_clone_writes_the_cache_before_its_drop_returns() {
    let server = Server::start(|_, _| Resp::json(DOC)).await;
    let env = Env::new();
    let rc = format!("registry={}\n", server.url());
    let offline = || {
        let c = env.client(&rc);
        c.set_offline(true);
        c
    };
    // Another clone is alive: dropping this one writes nothing yet.
    let client = env.client(&rc);
    client.packument("a").await.unwrap();
    let other = client.clone();
    drop(client);
    assert_eq!(
        offline().packument("a").await.unwrap_err().code,
        Code::NotCached
    );
    // The last clone: on disk as soon as the drop returns (the packuments
    // are freed on another thread, which nothing waits for).
    drop(other);
    assert_eq!(offline().packument("a").await.unwrap().name, "a");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefer_offline_and_offline() {
    let server = Server::start(|_, _| Resp::json(DOC)).await;
    let env = Env::new();
    let rc = format!("registry={}\n", server.url());
    let offline = env.client(&rc);
    offline.set_offline(true);
    let err = offline.packument("a").await.unwrap_err();
    assert_eq!(err.code, Code::NotCached);
    assert_eq!(server.requests().len(), 0);

    env.client(&rc).packument("a").await.unwrap();
    assert_eq!(server.requests().len(), 1);
    let c = env.client(&rc);
    c.set_prefer_offline(true);
    assert_eq!(c.packument("a").await.unwrap().name, "a");
    let c = env.client(&rc);
    c.set_offline(true);
    assert_eq!(c.packument("a").await.unwrap().name, "a");
    assert_eq!(
        server.requests().len(),
        1,
        "no request when the cache is used"
    );
    // Without prefer-offline (and no ETag), the document is fetched again.
    env.client(&rc).packument("a").await.unwrap();
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_age_keeps_a_packument_fresh_without_asking() {
    // First a 200 with an ETag and max-age; later 304s renew it.
    let server = Server::start(|i, _| {
        let mut r = if i == 0 {
            Resp::json(DOC)
        } else {
            Resp::status(304)
        };
        r.headers.push(("etag", "\"v1\"".into()));
        r.headers
            .push(("cache-control", "public, max-age=300".into()));
        r
    })
    .await;
    let env = Env::new();
    let rc = format!("registry={}\n", server.url());
    env.client(&rc).packument("a").await.unwrap();
    // Within max-age: served from the cache, no request.
    assert_eq!(env.client(&rc).packument("a").await.unwrap().name, "a");
    assert_eq!(server.requests().len(), 1);
    // --prefer-online asks anyway (a conditional request, answered 304).
    let online = env.client(&rc);
    online.set_prefer_online(true);
    assert_eq!(online.packument("a").await.unwrap().name, "a");
    drop(online);
    assert_eq!(server.requests().len(), 2);
    assert_eq!(
        server.requests()[1]
            .headers
            .get("if-none-match")
            .map(String::as_str),
        Some("\"v1\"")
    );
    // The 304 renewed the copy: still fresh, still no request.
    assert_eq!(env.client(&rc).packument("a").await.unwrap().name, "a");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_max_age_every_operation_revalidates() {
    let server = Server::start(|_, _| {
        let mut r = Resp::json(DOC);
        r.headers.push(("cache-control", "no-cache".into()));
        r
    })
    .await;
    let env = Env::new();
    let rc = format!("registry={}\n", server.url());
    env.client(&rc).packument("a").await.unwrap();
    env.client(&rc).packument("a").await.unwrap();
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_share_one_request() {
    let server = Server::start(|_, _| {
        let mut r = Resp::json(DOC);
        r.delay = Duration::from_millis(200);
        r
    })
    .await;
    let env = Env::new();
    let client = env.client(&format!("registry={}\n", server.url()));
    let calls = (0..10).map(|_| {
        let c = client.clone();
        tokio::spawn(async move { c.packument("a").await })
    });
    for r in futures_util::future::join_all(calls).await {
        assert_eq!(r.unwrap().unwrap().name, "a");
    }
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_is_e_not_found_without_retries() {
    let server = Server::start(|_, _| Resp::status(404)).await;
    let env = Env::new();
    let client = env.client(&format!("registry={}\n", server.url()));
    let err = client.packument("nope").await.unwrap_err();
    assert_eq!(err.code, Code::NotFound);
    assert_eq!(err.code.as_str(), "E_NOT_FOUND");
    assert!(
        err.message.contains("'nope'") && err.message.contains(&server.url()),
        "{}",
        err.message
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_error_is_retried() {
    let server = Server::start(|n, _| {
        if n == 0 {
            Resp::status(500)
        } else {
            Resp::json(DOC)
        }
    })
    .await;
    let env = Env::new();
    let client = env.client(&format!("registry={}\n", server.url()));
    assert_eq!(client.packument("a").await.unwrap().name, "a");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_errors_become_e_network_with_url() {
    let server = Server::start(|_, _| Resp::status(503)).await;
    let env = Env::new();
    let client = env.client(&format!("registry={}\n", server.url()));
    let err = client.packument("a").await.unwrap_err();
    assert_eq!(err.code, Code::Network);
    assert!(
        err.message.contains(&format!("{}a", server.url())),
        "{}",
        err.message
    );
    assert!(err.message.contains("503"), "{}", err.message);
    assert_eq!(server.requests().len(), 3, "first try + two retries");

    // A closed port: connection refused, also E_NETWORK.
    let dead = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    let client = env.client(&format!("registry=http://127.0.0.1:{port}/\n"));
    let err = client.packument("a").await.unwrap_err();
    assert_eq!(err.code, Code::Network);
    assert!(err.message.contains(&port.to_string()), "{}", err.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_cache_is_used_when_revalidation_fails() {
    let server = Server::start(|n, _| {
        if n == 0 {
            Resp::json(DOC)
        } else {
            Resp::status(502)
        }
    })
    .await;
    let env = Env::new();
    let rc = format!("registry={}\n", server.url());
    env.client(&rc).packument("a").await.unwrap();
    let p = env.client(&rc).packument("a").await.unwrap();
    assert_eq!(p.name, "a");
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_e_network() {
    let server = Server::start(|_, _| Resp::json("{\"name\": \"a\", \"versions\": {")).await;
    let env = Env::new();
    let client = env.client(&format!("registry={}\n", server.url()));
    let err = client.packument("a").await.unwrap_err();
    assert_eq!(err.code, Code::Network);
    assert!(
        err.message.contains("invalid packument JSON"),
        "{}",
        err.message
    );
    drop(client);
    assert!(
        !env.cache().join("packuments/v2").exists(),
        "nothing cached"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_only_goes_to_its_host_and_scopes_are_escaped() {
    let main = Server::start(|_, _| Resp::json(DOC)).await;
    let other = Server::start(|_, _| Resp::json(&DOC.replace("\"a\"", "\"@o/b\""))).await;
    let env = Env::new();
    let client = env.client(&format!(
        "registry={}\n@o:registry={}\n//127.0.0.1:{}/:_authToken=secret\n",
        main.url(),
        other.url(),
        main.port
    ));
    client.packument("a").await.unwrap();
    let b = client.packument("@o/b").await.unwrap();
    assert_eq!(b.name, "@o/b");
    let m = main.requests();
    assert_eq!(
        m[0].headers.get("authorization").map(String::as_str),
        Some("Bearer secret")
    );
    let o = other.requests();
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].path, "/@o%2fb");
    assert!(
        !o[0].headers.contains_key("authorization"),
        "token leaked to another host"
    );
    drop(client);
    let disk = cache::DiskCache::new(&env.cache());
    assert!(disk
        .read("@o/b", &format!("{}@o%2fb", other.url()))
        .is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_names_are_rejected_before_any_request() {
    let server = Server::start(|_, _| Resp::json(DOC)).await;
    let env = Env::new();
    let client = env.client(&format!("registry={}\n", server.url()));
    for name in ["", "a b", "../x", "@s", "@s/", "a/b", "x?y", "@s/a/b"] {
        let err = client.packument(name).await.unwrap_err();
        assert_eq!(err.code, Code::Manifest, "{name:?}");
    }
    assert!(server.requests().is_empty());
}

#[test]
fn escapes_scoped_names() {
    assert_eq!(escape_name("@babel/core"), "@babel%2fcore");
    assert_eq!(escape_name("react"), "react");
}

/// Live check against the real registry (not run by default):
/// `cargo test --lib registry::tests::live -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn live_registry() {
    let env = Env::new();
    let client = env.client("");
    for name in ["react", "@babel/core", "typescript", "@types/node"] {
        let t = std::time::Instant::now();
        let p = client.packument(name).await.unwrap();
        let latest = pick_version(&p, "latest").unwrap();
        println!(
            "{name}: {} versions, latest {} license {:?}, fetched+parsed in {:?}",
            p.versions().count(),
            latest.version,
            latest.license,
            t.elapsed(),
        );
    }
    drop(client);
    let cached = env.client("");
    cached.set_offline(true);
    for name in ["react", "typescript"] {
        let t = std::time::Instant::now();
        cached.packument(name).await.unwrap();
        println!("{name}: read from the disk cache in {:?}", t.elapsed());
    }
}

/// `Http::send`'s gate: the first request alone, then everyone at once; a
/// first request that is dropped (cancelled, stalled) hands the turn on.
#[tokio::test]
async fn first_request_goes_alone_then_all_at_once() {
    let gate = Arc::new(FirstAlone::default());
    let in_flight = Arc::new(AtomicUsize::new(0));
    // The rest meet at a barrier: they finish only if they run together.
    let rest = 4;
    let barrier = Arc::new(tokio::sync::Barrier::new(rest));
    // Returns how many were in flight as the task ended (itself included).
    let task = |meet: bool| {
        let (gate, in_flight, barrier) = (gate.clone(), in_flight.clone(), barrier.clone());
        async move {
            gate.run(async {
                in_flight.fetch_add(1, Ordering::SeqCst);
                for _ in 0..10 {
                    tokio::task::yield_now().await;
                }
                if meet {
                    barrier.wait().await;
                }
                in_flight.fetch_sub(1, Ordering::SeqCst)
            })
            .await
        }
    };
    // A first request that never finishes and is dropped: no answer yet.
    let dropped = tokio::time::timeout(
        Duration::from_millis(20),
        gate.run(std::future::pending::<()>()),
    );
    assert!(dropped.await.is_err());
    let first = tokio::spawn(task(false));
    tokio::task::yield_now().await;
    let others: Vec<_> = (0..rest).map(|_| tokio::spawn(task(true))).collect();
    assert_eq!(first.await.unwrap(), 1, "the first request ran alone");
    let all = futures_util::future::join_all(others);
    tokio::time::timeout(Duration::from_secs(10), all)
        .await
        .expect("after the first answer, requests run at once");
}

/// Runs `fut`, failing the test after 30 s: a retry that ignored
/// `Retry-After` would sleep that long (the guard is not a timing claim).
async fn guarded<T>(fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), fut)
        .await
        .expect("the retry waited for the backoff, not for Retry-After")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_on_429_and_503() {
    let server = Server::start(|n, _| match n {
        0 => {
            let mut r = Resp::status(429);
            r.headers.push(("retry-after", "0".into()));
            r
        }
        1 => {
            let mut r = Resp::status(503);
            r.headers
                .push(("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT".into()));
            r
        }
        _ => Resp::json(DOC),
    })
    .await;
    let env = Env::new();
    let client = env.client(&format!("registry={}\n", server.url()));
    // Without Retry-After the retries would wait 60 s each.
    client.set_retry_backoff(Duration::from_secs(3600));
    let p = guarded(client.packument("a")).await.unwrap();
    assert_eq!(p.name, "a");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_capped_by_fetch_retry_maxtimeout() {
    let server = Server::start(|n, _| {
        if n == 0 {
            let mut r = Resp::status(429);
            r.headers.push(("retry-after", "86400".into()));
            r
        } else {
            Resp::json(DOC)
        }
    })
    .await;
    let env = Env::new();
    let client = env.client(&format!(
        "registry={}\nfetch-retry-maxtimeout=20\n",
        server.url()
    ));
    guarded(client.packument("a")).await.unwrap();
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_retries_sets_the_attempts() {
    let server = Server::start(|_, _| Resp::status(503)).await;
    let env = Env::new();
    let client = env.client(&format!("registry={}\nfetch-retries=0\n", server.url()));
    let err = client.packument("a").await.unwrap_err();
    assert_eq!(err.code, Code::Network);
    assert!(err.message.contains("after 1 attempt:"), "{}", err.message);
    assert_eq!(server.requests().len(), 1);

    let server = Server::start(|_, _| Resp::status(503)).await;
    let client = env.client(&format!("registry={}\nfetch-retries=4\n", server.url()));
    let err = client.packument("a").await.unwrap_err();
    assert!(err.message.contains("after 5 attempts"), "{}", err.message);
    assert_eq!(server.requests().len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_never_answers_fails_at_fetch_timeout() {
    let server = Server::start(|_, _| {
        let mut r = Resp::json(DOC);
        r.delay = Duration::from_secs(3600);
        r
    })
    .await;
    let env = Env::new();
    let client = env.client(&format!(
        "registry={}\nfetch-timeout=200\nfetch-retries=1\n",
        server.url()
    ));
    let err = guarded(client.packument("a")).await.unwrap_err();
    assert_eq!(err.code, Code::Network);
    assert!(
        err.message.contains("timed out") && err.message.contains("fetch-timeout=200"),
        "{}",
        err.message
    );
    assert_eq!(server.requests().len(), 2);
}

/// `a`: 1.0.0 published in 2020, 2.0.0 (latest) in 2024.
const DATED: &str = r#"{"name":"a","dist-tags":{"latest":"2.0.0"},
  "time":{"created":"2020-01-01T00:00:00.000Z","1.0.0":"2020-01-01T00:00:00.000Z","2.0.0":"2024-01-01T00:00:00.000Z"},
  "versions":{"1.0.0":{"name":"a","version":"1.0.0","dist":{"tarball":"http://x/a-1.0.0.tgz"}},
              "2.0.0":{"name":"a","version":"2.0.0","dist":{"tarball":"http://x/a-2.0.0.tgz"}}}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_fetches_whole_documents_and_caches_them_apart() {
    let server = Server::start(|_, _| Resp::json(DATED)).await;
    let env = Env::new();
    let rc = format!("registry={}\nbefore=2022-06-01\n", server.url());
    let client = env.client(&rc);
    let p = client.packument("a").await.unwrap();
    assert_eq!(server.requests()[0].headers["accept"], ACCEPT_FULL);
    let opts = PickOptions {
        before: client.config().before,
        ..Default::default()
    };
    assert_eq!(
        pick_version_with(&p, "latest", &opts).unwrap().version,
        "1.0.0"
    );
    drop((p, client));

    // The times survive the cache.
    let cached = env.client(&rc);
    cached.set_offline(true);
    let p = cached.packument("a").await.unwrap();
    assert_eq!(
        p.published("2.0.0"),
        crate::date::parse_iso("2024-01-01T00:00:00Z")
    );
    // The abbreviated cache got nothing.
    let plain = env.client(&format!("registry={}\n", server.url()));
    plain.set_offline(true);
    let err = plain.packument("a").await.unwrap_err();
    assert_eq!(err.code, Code::NotCached);
    assert!(!env.cache().join("packuments/v2").exists());

    // Without `before`, the abbreviated document is asked for.
    let plain = env.client(&format!("registry={}\n", server.url()));
    plain.packument("a").await.unwrap();
    assert_eq!(server.requests()[1].headers["accept"], ACCEPT_CORGI);
}
