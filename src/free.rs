//! Freeing a large structure on a thread of its own, so that the caller
//! (and the process behind the CLI, which exits right after) does not wait
//! for it. A resolve of a large tree ends by freeing tens of thousands of
//! small allocations (its packuments, its tree and the lockfile's JSON
//! document), one after the other, on the path to the answer. The value
//! must not do anything but free memory when dropped: whatever reaches the
//! disk or the network is done before it is handed here, because nothing
//! waits for that thread.

/// Drop `value` on a new thread (inline if no thread can be started).
pub(crate) fn later<T: Send + 'static>(value: T) {
    // A failed spawn drops the closure, and the value with it, right here.
    let _ = std::thread::Builder::new()
        .name("brisk-free".into())
        .spawn(move || drop(value));
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::thread::{self, ThreadId};
    use std::time::Duration;

    struct Tell(mpsc::Sender<ThreadId>);
    impl Drop for Tell {
        fn drop(&mut self) {
            let _ = self.0.send(thread::current().id());
        }
    }

    #[test]
    fn drops_on_another_thread() {
        let (tx, rx) = mpsc::channel();
        super::later(Tell(tx));
        let dropped_on = rx.recv_timeout(Duration::from_secs(10)).expect("dropped");
        assert_ne!(dropped_on, thread::current().id());
    }
}
