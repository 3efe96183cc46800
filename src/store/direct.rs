//! Big files written with `O_DIRECT`, while the disk keeps up.
//!
//! A direct write skips the page-cache copy that is most of a cold
//! install's system time, but the writing thread waits on the disk. On a
//! fast disk that wait hides behind the CPU work of other extractions. On
//! a slow one (a VM disk allocating fresh blocks) the install waits on the
//! disk instead, and a buffered write, which returns once the data is in
//! the page cache, is faster.
//!
//! So direct writes are timed: once [`SAMPLE_BYTES`] have gone that way,
//! a disk that took them at under [`MIN_BYTES_PER_SEC`] (counting the time
//! at least one direct write was in flight) gets buffered writes for the
//! rest of the install. A write's time also counts the wait for a core
//! after the disk is done, so on a fast disk under heavy CPU load small
//! direct writes could look slow and turn an install to buffered writes:
//! slower there, never wrong.

use std::fs;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Direct writes timed before deciding whether the disk keeps up.
const SAMPLE_BYTES: u64 = 64 << 20;
/// Slower than this, the rest of an install writes through the page cache.
const MIN_BYTES_PER_SEC: u64 = 512 << 20;

/// Whether big files still go straight to the disk, and how fast the disk
/// has taken them so far. One per store, shared by its extractions.
#[derive(Debug)]
pub(super) struct DirectWrites {
    on: AtomicBool,
    meter: Mutex<Meter>,
}

/// Bytes written directly, and the time at least one direct write was in
/// flight (concurrent writes share the disk, so their times do not add).
#[derive(Debug, Default)]
struct Meter {
    in_flight: u32,
    since: Option<Instant>,
    busy: Duration,
    bytes: u64,
}

impl Meter {
    fn start(&mut self, now: Instant) {
        if self.in_flight == 0 {
            self.since = Some(now);
        }
        self.in_flight += 1;
    }

    /// Ends a write of `bytes`; false once the sample says the disk is slow.
    fn end(&mut self, now: Instant, bytes: u64) -> bool {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.bytes += bytes;
        if self.in_flight == 0 {
            if let Some(since) = self.since.take() {
                self.busy += now.saturating_duration_since(since);
            }
        }
        let secs = self.busy.as_secs_f64();
        self.bytes < SAMPLE_BYTES
            || secs == 0.0
            || self.bytes as f64 / secs >= MIN_BYTES_PER_SEC as f64
    }
}

impl DirectWrites {
    pub fn new(on: bool) -> DirectWrites {
        DirectWrites {
            on: AtomicBool::new(on),
            meter: Mutex::default(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    pub fn disable(&self) {
        self.on.store(false, Ordering::Relaxed);
    }

    fn meter(&self) -> std::sync::MutexGuard<'_, Meter> {
        self.meter.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes `data` to the new `file`, opened with `O_DIRECT`: its whole
    /// blocks straight to the disk (timed), then the tail through the page
    /// cache. A direct write refused (an alignment the disk does not take)
    /// disables direct writes and the rest goes through the page cache
    /// too.
    #[cfg(target_os = "linux")]
    pub fn write(&self, file: &mut fs::File, data: &[u8], align: usize) -> io::Result<()> {
        use std::os::unix::io::AsRawFd;
        let whole = data.len() / align * align;
        self.meter().start(Instant::now());
        let mut done = 0;
        let result = loop {
            if done >= whole {
                break Ok(());
            }
            match file.write(&data[done..whole]) {
                Ok(0) => break Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                    self.disable();
                    break Ok(());
                }
                Err(e) => break Err(e),
            }
        };
        if !self.meter().end(Instant::now(), done as u64) {
            self.disable();
        }
        result?;
        let fd = file.as_raw_fd();
        // SAFETY: `fd` is open for as long as `file`; F_GETFL/F_SETFL only
        // read and change its status flags.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_DIRECT) } < 0 {
            return Err(io::Error::last_os_error());
        }
        file.write_all(&data[done..])
    }

    #[cfg(not(target_os = "linux"))]
    pub fn write(&self, file: &mut fs::File, data: &[u8], _: usize) -> io::Result<()> {
        file.write_all(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1 << 20;

    /// Feeds `writes` (start and end offsets in ms, bytes) to a meter,
    /// events in time order; whether the disk still counts as fast.
    fn fast(writes: &[(u64, u64, u64)]) -> bool {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut events: Vec<(u64, Option<u64>)> = Vec::new();
        for &(start, end, bytes) in writes {
            events.push((start, None));
            events.push((end, Some(bytes)));
        }
        events.sort_by_key(|&(ms, end)| (ms, end.is_some()));
        let mut meter = Meter::default();
        let mut fast = true;
        for (ms, end) in events {
            match end {
                None => meter.start(at(ms)),
                Some(bytes) => fast = meter.end(at(ms), bytes),
            }
        }
        fast
    }

    #[test]
    fn a_disk_is_judged_on_a_whole_sample() {
        // 32 MB in 1 s: slow, but not enough written to judge.
        assert!(fast(&[(0, 1000, 32 * MB)]));
        // 64 MB in 1 s: slow.
        assert!(!fast(&[(0, 1000, 64 * MB)]));
        // 64 MB in 50 ms: 1.28 GB/s.
        assert!(fast(&[(0, 50, 64 * MB)]));
    }

    /// Writes in flight together share the disk: their overlap counts
    /// once, and gaps between writes do not count.
    #[test]
    fn overlapping_writes_count_their_union() {
        // Four 32 MB writes in flight together for 200 ms: 640 MB/s (their
        // times added up would make it 160 MB/s).
        let together = [
            (0, 200, 32 * MB),
            (0, 200, 32 * MB),
            (10, 200, 32 * MB),
            (20, 200, 32 * MB),
        ];
        assert!(fast(&together));
        // Two at a time, 200 ms each pair: 128 MB in 400 ms, 320 MB/s.
        let pairs = [
            (0, 200, 32 * MB),
            (0, 200, 32 * MB),
            (500, 700, 32 * MB),
            (550, 700, 32 * MB),
        ];
        assert!(!fast(&pairs));
        // Two 32 MB writes a second apart, 50 ms each: 640 MB/s.
        assert!(fast(&[(0, 50, 32 * MB), (1000, 1050, 32 * MB)]));
    }
}
