//! A request to stop long work early, made from outside it: a tool sets it when the scheduler
//! sends SIGTERM (or the user presses Ctrl-C), and library loops that can stop cleanly (the
//! trainer, between batches) read it.

use std::sync::atomic::{AtomicI32, Ordering};

/// Whether (and by which signal) the work has been asked to stop.
#[derive(Debug, Default)]
pub struct StopRequest(AtomicI32);

impl StopRequest {
    /// No stop requested.
    pub const fn new() -> Self {
        Self(AtomicI32::new(0))
    }

    /// Ask the work to stop; `signal` is the signal's number (it sets the exit code).
    pub fn request(&self, signal: i32) {
        self.0.store(signal, Ordering::SeqCst);
    }

    /// The signal that asked the work to stop, if any.
    pub fn requested(&self) -> Option<i32> {
        match self.0.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(signal),
        }
    }
}

/// The usual name of a signal number, for messages.
pub fn signal_name(signal: i32) -> String {
    match signal {
        1 => "SIGHUP".into(),
        2 => "SIGINT".into(),
        15 => "SIGTERM".into(),
        n => format!("signal {n}"),
    }
}
