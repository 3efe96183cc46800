use std::fs;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::testserver::{Reply, Server};
use super::*;
use crate::config::FetchPolicy;
use crate::store::sha512_sri;
use crate::store::testutil::simple_package;

struct Env {
    _cache: tempfile::TempDir,
    store: Arc<Store>,
}

fn env() -> Env {
    let cache = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(cache.path()).unwrap());
    Env {
        _cache: cache,
        store,
    }
}

fn fetcher(env: &Env, opts: FetchOptions) -> Fetcher {
    Fetcher::new(env.store.clone(), reqwest::Client::new().into(), opts)
}

fn tarball(server: &Server, name: &str, path: &str, integrity: Option<String>) -> Tarball {
    Tarball {
        name: name.into(),
        version: "1.0.0".into(),
        url: server.url(path),
        integrity,
    }
}

fn tmp_is_empty(store: &Store) -> bool {
    fs::read_dir(store.tmp_dir()).unwrap().next().is_none()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_verifies_stores_then_reuses() {
    let data = simple_package("a");
    let served = data.clone();
    let server = Server::start(move |_, _| Reply::Body(served.clone())).await;
    let env = env();
    let auth: AuthFn =
        Arc::new(|t: &Tarball| t.url.contains("/a.tgz").then(|| "Bearer t0k".into()));
    let f = fetcher(
        &env,
        FetchOptions {
            auth: Some(auth),
            ..Default::default()
        },
    );
    let sri = sha512_sri(&data);

    let t = tarball(&server, "a", "/a.tgz", Some(sri.clone()));
    let got = f.ensure(t.clone()).await.unwrap();
    assert_eq!(got.integrity, sri);
    assert_eq!(got.downloaded_bytes, data.len() as u64);
    assert_eq!(
        fs::read(got.package.dir.join("index.js")).unwrap(),
        b"module.exports = 1\n"
    );
    assert_eq!(env.store.get(&sri), Some(got.package.clone()));

    let again = f.ensure(t).await.unwrap();
    assert_eq!(again.downloaded_bytes, 0);
    assert_eq!(again.package, got.package);
    assert_eq!(server.count("/a.tgz"), 1);
    let stats = f.stats();
    assert_eq!(
        (stats.downloaded, stats.reused, stats.bytes),
        (1, 1, data.len() as u64)
    );

    let request = &server.requests()[0];
    assert_eq!(
        request.headers.get("authorization").map(String::as_str),
        Some("Bearer t0k")
    );
    assert_eq!(
        request.headers.get("accept-encoding").map(String::as_str),
        Some("identity")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_integrity_stores_under_computed_sha512() {
    let data = simple_package("b");
    let served = data.clone();
    let server = Server::start(move |_, _| Reply::Body(served.clone())).await;
    let env = env();
    let f = fetcher(&env, FetchOptions::default());
    let got = f
        .ensure(tarball(&server, "b", "/b.tgz", None))
        .await
        .unwrap();
    assert_eq!(got.integrity, sha512_sri(&data));
    assert_eq!(env.store.get(&got.integrity), Some(got.package));
    let blank = f
        .ensure(tarball(&server, "b", "/b.tgz", Some(" ".into())))
        .await
        .unwrap();
    assert_eq!(blank.integrity, sha512_sri(&data));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integrity_mismatch_stores_nothing() {
    let data = simple_package("c");
    let served = data.clone();
    let server = Server::start(move |_, _| Reply::Body(served.clone())).await;
    let env = env();
    let f = fetcher(&env, FetchOptions::default());
    let expected = sha512_sri(b"something else");
    let err = f
        .ensure(tarball(&server, "c", "/c.tgz", Some(expected.clone())))
        .await
        .unwrap_err();
    assert_eq!(err.code, Code::Integrity);
    let actual = sha512_sri(&data);
    for part in ["c@1.0.0", expected.as_str(), actual.as_str()] {
        assert!(
            err.message.contains(part),
            "{part} missing from: {}",
            err.message
        );
    }
    assert!(env.store.get(&expected).is_none());
    assert!(env.store.get(&actual).is_none());
    assert!(tmp_is_empty(&env.store));
    assert_eq!(
        server.count("/c.tgz"),
        1,
        "integrity failures are not retried"
    );
}

/// A download that failed (its retries spent) is not made again by a later
/// call for the same tarball in the same operation: an early download that
/// failed and the install asking for it later make one request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_download_is_remembered() {
    let server = Server::start(|_, _| Reply::Status(404)).await;
    let env = env();
    let f = fetcher(&env, FetchOptions::default());
    let t = tarball(&server, "gone", "/gone.tgz", None);
    let first = f.ensure(t.clone()).await.unwrap_err();
    let again = f.ensure(t).await.unwrap_err();
    assert_eq!((first.code, again.code), (Code::NotFound, Code::NotFound));
    assert_eq!(server.count("/gone.tgz"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_is_not_retried() {
    let server = Server::start(|_, _| Reply::Status(404)).await;
    let env = env();
    let f = fetcher(&env, FetchOptions::default());
    let t = tarball(&server, "gone", "/gone.tgz", None);
    let err = f.ensure(t.clone()).await.unwrap_err();
    assert_eq!(err.code, Code::NotFound);
    assert!(
        err.message.contains("gone@1.0.0") && err.message.contains(&t.url),
        "{err}"
    );
    assert_eq!(server.count("/gone.tgz"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried() {
    let data = simple_package("d");
    let served = data.clone();
    let server = Server::start(move |path, n| match (path, n) {
        ("/d.tgz", 0 | 1) => Reply::Status(500),
        ("/d.tgz", _) => Reply::Body(served.clone()),
        _ => Reply::Status(503),
    })
    .await;
    let env = env();
    let f = fetcher(&env, FetchOptions::default());
    let got = f
        .ensure(tarball(&server, "d", "/d.tgz", Some(sha512_sri(&data))))
        .await
        .unwrap();
    assert_eq!(got.downloaded_bytes, data.len() as u64);
    assert_eq!(server.count("/d.tgz"), 3);

    let f = fetcher(
        &env,
        FetchOptions {
            policy: FetchPolicy {
                retries: 1,
                ..Default::default()
            },
            ..Default::default()
        },
    );
    let err = f
        .ensure(tarball(&server, "e", "/e.tgz", None))
        .await
        .unwrap_err();
    assert_eq!(err.code, Code::Network);
    assert!(
        err.message.contains("503") && err.message.contains("/e.tgz"),
        "{err}"
    );
    assert_eq!(server.count("/e.tgz"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_errors_and_stalls_are_network_errors() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = env();
    let f = fetcher(
        &env,
        FetchOptions {
            policy: FetchPolicy {
                retries: 0,
                ..Default::default()
            },
            ..Default::default()
        },
    );
    let t = Tarball {
        name: "x".into(),
        version: "1.0.0".into(),
        url: format!("http://127.0.0.1:{port}/x.tgz"),
        integrity: None,
    };
    let err = f.ensure(t).await.unwrap_err();
    assert_eq!(err.code, Code::Network, "{err}");

    let data = simple_package("s");
    let server = Server::start(move |_, _| Reply::Stall(data.clone())).await;
    let opts = FetchOptions {
        policy: FetchPolicy {
            retries: 0,
            idle_timeout: Duration::from_millis(400),
            ..Default::default()
        },
        ..Default::default()
    };
    let err = fetcher(&env, opts)
        .ensure(tarball(&server, "s", "/s.tgz", None))
        .await
        .unwrap_err();
    assert_eq!(err.code, Code::Network, "{err}");
    assert!(err.message.contains("no data"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_ensures_share_one_download() {
    let data = simple_package("shared");
    let served = data.clone();
    let server =
        Server::start(move |_, _| Reply::Slow(Duration::from_millis(300), served.clone())).await;
    let env = env();
    let f = fetcher(&env, FetchOptions::default());
    let t = tarball(&server, "shared", "/shared.tgz", Some(sha512_sri(&data)));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            tokio::spawn({
                let (f, t) = (f.clone(), t.clone());
                async move { f.ensure(t).await }
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        let got = task.await.unwrap().unwrap();
        assert!(got.package.dir.join("package.json").is_file());
        total += got.downloaded_bytes;
    }
    assert_eq!(server.count("/shared.tgz"), 1);
    assert_eq!(total, data.len() as u64, "bytes are reported once");
    let stats = f.stats();
    assert_eq!((stats.downloaded, stats.reused), (1, 7));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_before_and_during_download() {
    let data = simple_package("slow");
    let server = Server::start(move |_, _| Reply::Stall(data.clone())).await;
    let env = env();

    let cancel = CancelToken::new();
    cancel.cancel();
    let f = fetcher(
        &env,
        FetchOptions {
            cancel,
            ..Default::default()
        },
    );
    let err = f
        .ensure(tarball(&server, "n", "/n.tgz", None))
        .await
        .unwrap_err();
    assert_eq!(err.code, Code::Cancelled);
    assert_eq!(server.count("/n.tgz"), 0);

    let cancel = CancelToken::new();
    let f = fetcher(
        &env,
        FetchOptions {
            cancel: cancel.clone(),
            ..Default::default()
        },
    );
    let started = Instant::now();
    let task =
        tokio::spawn(async move { f.ensure(tarball(&server, "slow", "/slow.tgz", None)).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    cancel.cancel();
    let err = task.await.unwrap().unwrap_err();
    assert_eq!(err.code, Code::Cancelled);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(tmp_is_empty(&env.store));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ensure_all_keeps_order_and_fails_fast() {
    let packages: Vec<Vec<u8>> = ["p0", "p1", "p2"]
        .iter()
        .map(|n| simple_package(n))
        .collect();
    let served = packages.clone();
    let server = Server::start(move |path, _| match path {
        "/p0.tgz" => Reply::Body(served[0].clone()),
        "/p1.tgz" => Reply::Body(served[1].clone()),
        "/p2.tgz" => Reply::Body(served[2].clone()),
        _ => Reply::Status(404),
    })
    .await;
    let env = env();
    let f = fetcher(&env, FetchOptions::default());
    let ts: Vec<Tarball> = (0..3)
        .map(|i| {
            let sri = sha512_sri(&packages[i]);
            tarball(&server, &format!("p{i}"), &format!("/p{i}.tgz"), Some(sri))
        })
        .collect();
    let got = f.ensure_all(ts.clone()).await.unwrap();
    for (i, fetched) in got.iter().enumerate() {
        assert_eq!(Some(&fetched.integrity), ts[i].integrity.as_ref());
        let manifest = fs::read_to_string(fetched.package.dir.join("package.json")).unwrap();
        assert!(manifest.contains(&format!("\"p{i}\"")));
    }
    let mut with_missing = ts;
    with_missing.push(tarball(&server, "missing", "/missing.tgz", None));
    let err = f.ensure_all(with_missing).await.unwrap_err();
    assert_eq!(err.code, Code::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_bytes_wait_for_room_and_a_big_body_takes_the_whole_budget() {
    let env = env();
    let f = fetcher(
        &env,
        FetchOptions {
            max_pending_bytes: 100,
            ..Default::default()
        },
    );
    let inner = &f.inner;
    let first = download::reserve(inner, 60).await.unwrap();
    let blocked = tokio::time::timeout(Duration::from_millis(200), download::reserve(inner, 60));
    assert!(
        blocked.await.is_err(),
        "160 bytes do not fit a budget of 100"
    );
    let small = download::reserve(inner, 40).await.unwrap();
    drop((first, small));
    let whole = download::reserve(inner, 1 << 30).await.unwrap();
    assert_eq!(inner.pending.available_permits(), 0);
    drop(whole);
    assert_eq!(inner.pending.available_permits(), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tarballs_bigger_than_the_byte_budgets_all_land() {
    let names: Vec<String> = (0..12).map(|i| format!("b{i}")).collect();
    let packages: Vec<Vec<u8>> = names.iter().map(|n| simple_package(n)).collect();
    let served = packages.clone();
    let server = Server::start(move |path, _| {
        let i: usize = path
            .trim_start_matches("/b")
            .trim_end_matches(".tgz")
            .parse()
            .unwrap();
        Reply::Body(served[i].clone())
    })
    .await;
    let env = env();
    let f = fetcher(
        &env,
        FetchOptions {
            max_pending_bytes: 1,
            max_inflated_bytes: 1,
            max_extracts: 1,
            ..Default::default()
        },
    );
    let ts = names
        .iter()
        .zip(&packages)
        .map(|(n, data)| tarball(&server, n, &format!("/{n}.tgz"), Some(sha512_sri(data))))
        .collect();
    let got = f.ensure_all(ts).await.unwrap();
    assert_eq!(got.len(), 12);
    assert!(got
        .iter()
        .all(|g| g.package.dir.join("package.json").is_file()));
    assert_eq!(
        f.inner.pending.available_permits(),
        1,
        "every share is given back"
    );
    assert_eq!(f.inner.inflating.available_permits(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_archives_skip_an_inflated_budget_held_by_a_big_one() {
    use crate::store::testutil::{tgz, Entry};
    // 64 KB of budget: archives inflating to 4 KB or less skip it.
    let max = 64 << 10;
    let small = simple_package("small");
    let filler = vec![b'x'; 16 << 10];
    let big = tgz(&[
        Entry::File("package/package.json", br#"{"name":"big"}"#, 0o644),
        Entry::File("package/filler.txt", &filler, 0o644),
    ]);
    assert!(crate::store::inflated_size(&small) <= max / SMALL_ARCHIVE_SHARE);
    assert!(crate::store::inflated_size(&big) > max / SMALL_ARCHIVE_SHARE);
    let (s, b) = (small.clone(), big.clone());
    let server = Server::start(move |path, _| {
        Reply::Body(if path == "/small.tgz" {
            s.clone()
        } else {
            b.clone()
        })
    })
    .await;
    let env = env();
    let f = fetcher(
        &env,
        FetchOptions {
            max_inflated_bytes: max,
            ..Default::default()
        },
    );
    // A big archive's extraction holds the whole budget.
    let held = budget(&f.inner.inflating, max, max).await;

    let t = tarball(&server, "small", "/small.tgz", Some(sha512_sri(&small)));
    let got = tokio::time::timeout(Duration::from_secs(10), f.ensure(t))
        .await
        .expect("a small archive does not wait for the budget")
        .unwrap();
    assert!(got.package.dir.join("index.js").is_file());

    let t = tarball(&server, "big", "/big.tgz", Some(sha512_sri(&big)));
    let waiting = tokio::spawn({
        let f = f.clone();
        async move { f.ensure(t).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "a big archive waits for the budget");
    drop(held);
    let got = waiting.await.unwrap().unwrap();
    assert_eq!(
        fs::read(got.package.dir.join("filler.txt")).unwrap(),
        filler
    );
    assert_eq!(f.inner.inflating.available_permits(), max);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_for_tarballs() {
    let data = simple_package("r");
    let served = data.clone();
    let server = Server::start(move |_, n| match n {
        0 => Reply::StatusWith(429, vec![("Retry-After", "0".into())]),
        1 => Reply::StatusWith(
            503,
            vec![("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT".into())],
        ),
        _ => Reply::Body(served.clone()),
    })
    .await;
    let env = env();
    // Without Retry-After each retry would wait a minute.
    let slow_backoff = FetchPolicy {
        min_timeout: Duration::from_secs(60),
        ..Default::default()
    };
    let f = fetcher(
        &env,
        FetchOptions {
            policy: slow_backoff,
            ..Default::default()
        },
    );
    let t = tarball(&server, "r", "/r.tgz", Some(sha512_sri(&data)));
    let got = tokio::time::timeout(Duration::from_secs(30), f.ensure(t))
        .await
        .expect("the retries waited for the backoff, not for Retry-After")
        .unwrap();
    assert_eq!(got.downloaded_bytes, data.len() as u64);
    assert_eq!(server.count("/r.tgz"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_timeout_bounds_the_response_and_the_body() {
    let data = simple_package("t");
    let slow = data.clone();
    let server = Server::start(move |path, _| match path {
        "/silent.tgz" => Reply::Slow(Duration::from_secs(3600), slow.clone()),
        _ => Reply::Stall(slow.clone()),
    })
    .await;
    let env = env();
    let policy = FetchPolicy {
        retries: 1,
        min_timeout: Duration::from_millis(10),
        timeout: Some(Duration::from_millis(200)),
        idle_timeout: Duration::from_millis(200),
        timeout_set: true,
        ..Default::default()
    };
    let f = fetcher(
        &env,
        FetchOptions {
            policy,
            ..Default::default()
        },
    );
    for path in ["/silent.tgz", "/stalled.tgz"] {
        let err = f
            .ensure(tarball(&server, path, path, None))
            .await
            .unwrap_err();
        assert_eq!(err.code, Code::Network, "{err}");
        assert!(
            err.message.contains("fetch-timeout=200") && err.message.contains("2 attempts"),
            "{err}"
        );
        assert_eq!(server.count(path), 2);
    }
}
