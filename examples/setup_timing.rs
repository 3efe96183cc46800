// TEMP: times lockfile read + to_tree + render on a project dir.
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let dir = Path::new(&dir);
    let n: usize = std::env::args().nth(2).map(|s| s.parse().unwrap()).unwrap_or(20);
    let project = brisk::project::Project::load(dir).unwrap();
    let (mut a, mut b, mut c, mut d) = (0.0, 0.0, 0.0, 0.0);
    for _ in 0..n {
        let t = Instant::now();
        let lock = brisk::lockfile::Lockfile::read(&dir.join("package-lock.json")).unwrap().unwrap();
        a += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let opts = brisk::tree::EdgeOptions {
            legacy_peer_deps: true,
            overrides: project.overrides.clone(),
            root_dir: Arc::new(dir.to_path_buf()),
            workspaces: Default::default(),
        };
        let tree = lock.to_tree(brisk::tree::Package::from_project(&project), opts).unwrap();
        b += t.elapsed().as_secs_f64();
        let t = Instant::now();
        brisk::lockfile::in_sync(&lock, &tree, &project).unwrap();
        c += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let s = brisk::lockfile::render(&tree, brisk::lockfile::RenderOptions { omit_resolved: false, hidden: true }, |_| true);
        d += t.elapsed().as_secs_f64();
        std::hint::black_box(s);
    }
    let k = 1e3 / n as f64;
    println!("read+parse {:.1} ms, to_tree {:.1} ms, in_sync {:.1} ms, render hidden {:.1} ms", a * k, b * k, c * k, d * k);
}
