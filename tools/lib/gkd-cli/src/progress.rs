//! Progress bars on stderr, hidden when stderr is not a terminal or `-q` is set: the tools'
//! implementation of the libraries' [`Progress`] reports.

use std::io::IsTerminal;

use gkd_io::progress::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// One progress line on stderr, reused by every task a library starts.
#[derive(Debug)]
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    /// A hidden bar until a task starts.
    pub fn new() -> Self {
        Self { bar: ProgressBar::with_draw_target(None, draw_target()) }
    }
}

impl Default for Bar {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for Bar {
    fn start(&self, what: &str, total: Option<u64>) {
        let template = match total {
            Some(_) => "{prefix} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} ({per_sec}, eta {eta}) {msg}",
            None => "{prefix} {spinner} {human_pos} ({per_sec}) {msg}",
        };
        self.bar.reset();
        self.bar.set_length(total.unwrap_or(0));
        self.bar.set_position(0);
        self.bar.set_message("");
        self.bar.set_style(ProgressStyle::with_template(template).expect("valid template"));
        self.bar.set_prefix(what.to_owned());
    }

    fn advance(&self, n: u64) {
        self.bar.inc(n);
    }

    fn set_position(&self, done: u64) {
        self.bar.set_position(done);
    }

    fn message(&self, text: String) {
        self.bar.set_message(text);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn draw_target() -> ProgressDrawTarget {
    if crate::is_quiet() || !std::io::stderr().is_terminal() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    }
}
