//! Progress bars on stderr that hide themselves when stderr is not a terminal or `-q` is set.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar counting `total` items of `unit` (e.g. "seqs"), with a message prefix.
pub fn bar(total: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(Some(total), draw_target());
    pb.set_style(
        ProgressStyle::with_template(
            "{prefix} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} ({per_sec}, eta {eta})",
        )
        .expect("valid template"),
    );
    pb.set_prefix(what.to_owned());
    pb
}

/// A spinner for work of unknown size.
pub fn spinner(what: &str) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(None, draw_target());
    pb.set_style(ProgressStyle::with_template("{prefix} {spinner} {human_pos} ({per_sec})").expect("valid template"));
    pb.set_prefix(what.to_owned());
    pb
}

fn draw_target() -> ProgressDrawTarget {
    if crate::cli::is_quiet() || !std::io::stderr().is_terminal() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    }
}
