//! How library code reports progress without drawing anything itself. A library takes a
//! `&dyn Progress`; a tool passes a progress bar on stderr (the `gkd-cli` crate), a test or
//! another library passes [`Silent`].

/// Receives the progress of long work: tasks started one after another, each counted in items.
pub trait Progress: Sync {
    /// A task named `what` of `total` items (`None`: size unknown) starts and replaces the
    /// previous one.
    fn start(&self, what: &str, total: Option<u64>);
    /// `n` more items of the current task are done.
    fn advance(&self, n: u64);
    /// The position of the current task, for work that counts by itself.
    fn set_position(&self, done: u64);
    /// A short status shown beside the current task (e.g. the running loss).
    fn message(&self, text: String);
    /// The current task is done; its display is cleared.
    fn finish(&self);
}

/// Progress that goes nowhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _what: &str, _total: Option<u64>) {}
    fn advance(&self, _n: u64) {}
    fn set_position(&self, _done: u64) {}
    fn message(&self, _text: String) {}
    fn finish(&self) {}
}
