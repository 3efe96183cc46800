//! Inflate buffers kept for reuse within one install.
//!
//! Fresh memory costs a page fault per 4 KB page on first touch, and on a VM
//! that reports free pages to its host a host fault as well. Archives are
//! inflated whole, and a buffer freed after each use is faulted in again
//! for every archive. Kept, each buffer grows to the biggest archive it has
//! met and is faulted in once. The pool belongs to the [`super::Store`] of
//! one install, so a long-lived process keeps nothing afterwards.
//!
//! Archives of 8 MB and more do not come here: see `extract::MAPPED_MIN`.

use std::sync::Mutex;

/// At most `max_count` idle buffers, `max_bytes` of capacity between them.
#[derive(Debug)]
pub(crate) struct Buffers {
    idle: Mutex<Vec<Vec<u8>>>,
    max_count: usize,
    max_bytes: usize,
}

impl Buffers {
    pub fn new(max_count: usize, max_bytes: usize) -> Buffers {
        Buffers {
            idle: Mutex::new(Vec::new()),
            max_count,
            max_bytes,
        }
    }

    /// An idle buffer: the smallest holding `capacity` bytes, else the
    /// biggest (the caller grows it), else a new one. Its length and
    /// contents are whatever its last user left.
    pub fn take(&self, capacity: usize) -> Vec<u8> {
        let Ok(mut idle) = self.idle.lock() else {
            return Vec::new();
        };
        let fits = (0..idle.len())
            .filter(|&i| idle[i].capacity() >= capacity)
            .min_by_key(|&i| idle[i].capacity());
        let pick = fits.or_else(|| (0..idle.len()).max_by_key(|&i| idle[i].capacity()));
        pick.map(|i| idle.swap_remove(i)).unwrap_or_default()
    }

    /// Keeps `buf` for the next [`Buffers::take`], dropping the smallest
    /// idle buffers while the pool is over its limits.
    pub fn give(&self, buf: Vec<u8>) {
        if buf.capacity() == 0 || buf.capacity() > self.max_bytes {
            return;
        }
        let Ok(mut idle) = self.idle.lock() else {
            return;
        };
        idle.push(buf);
        let total = |idle: &Vec<Vec<u8>>| idle.iter().map(Vec::capacity).sum::<usize>();
        while idle.len() > self.max_count || total(&idle) > self.max_bytes {
            let smallest = (0..idle.len())
                .min_by_key(|&i| idle[i].capacity())
                .expect("not empty while over a limit");
            idle.swap_remove(smallest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_prefers_the_smallest_that_fits_then_the_biggest() {
        let pool = Buffers::new(4, 1 << 20);
        for cap in [100, 400, 200] {
            pool.give(Vec::with_capacity(cap));
        }
        assert_eq!(pool.take(150).capacity(), 200);
        assert_eq!(pool.take(1000).capacity(), 400, "none fits: the biggest");
        assert_eq!(pool.take(1).capacity(), 100);
        assert_eq!(pool.take(1).capacity(), 0, "empty: a new buffer");
    }

    #[test]
    fn give_keeps_the_biggest_within_both_limits() {
        let pool = Buffers::new(2, 1000);
        for cap in [300, 100, 500, 2000] {
            pool.give(Vec::with_capacity(cap));
        }
        let kept: Vec<usize> = (0..3).map(|_| pool.take(0).capacity()).collect();
        assert_eq!(kept, [300, 500, 0], "two kept, the 100 dropped, 2000 never");

        let pool = Buffers::new(8, 1000);
        for cap in [400, 300, 500] {
            pool.give(Vec::with_capacity(cap));
        }
        assert_eq!(pool.take(450).capacity(), 500);
        assert_eq!(
            pool.take(0).capacity(),
            400,
            "300 dropped to stay under 1000 bytes"
        );
        assert_eq!(pool.take(0).capacity(), 0);
    }
}
