//! Command-line plumbing for the gkd tools, and only for them (libraries never depend on it):
//! the flags every tool shares (`-t/--threads`, `-v`/`-q`), logging to stderr, one `main` wrapper
//! that turns errors into a one-line message and an exit code (docs/architecture.md §3), what a
//! tool does on SIGTERM / SIGINT ([`graceful_stop`]), progress bars ([`progress`]) and the parser
//! for library enums on the command line ([`choice`]).

mod choice;
pub mod progress;
mod termination;

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};

use gkd_io::error::{Error, Result};

pub use choice::{CommandLineName, choice};
pub use progress::Bar;
pub use termination::graceful_stop;

/// Flags shared by every tool; `#[command(flatten)]` them into a tool's arguments. They are
/// global, so tools with subcommands accept them after the subcommand too.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct CommonArgs {
    /// Total threads for everything the tool runs [default: all cores].
    #[arg(short = 't', long, value_name = "N", global = true)]
    pub threads: Option<usize>,
    /// More log output on stderr (repeat for debug messages).
    #[arg(short, long, action = clap::ArgAction::Count, conflicts_with = "quiet", global = true)]
    pub verbose: u8,
    /// Only errors on stderr; no progress bars.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// How a data tool stores the NPZ splits it writes; `#[command(flatten)]` it into the tool's
/// arguments.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct StorageArgs {
    /// Compress the NPZ (numpy.savez_compressed) instead of storing it (numpy.savez).
    #[arg(long)]
    pub compress: bool,
    /// How x is stored: float32, float16 (half the size) or uint8 (a quarter; exact for
    /// one-hot DNA and whole-number counts up to 255, refused for other values). Models compute
    /// in float32.
    #[arg(long, value_parser = choice::<gkd_io::dtype::Dtype>(), default_value = "float32")]
    pub dtype: gkd_io::dtype::Dtype,
}

static QUIET: AtomicU8 = AtomicU8::new(0);

/// True when `-q` was given (progress bars stay hidden).
pub fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed) != 0
}

impl CommonArgs {
    /// Set up logging and the thread pool. Call once, first thing in `main`.
    pub fn init(&self, tool: &'static str) -> Result<()> {
        let level = if self.quiet {
            log::LevelFilter::Error
        } else {
            match self.verbose {
                0 => log::LevelFilter::Info,
                1 => log::LevelFilter::Debug,
                _ => log::LevelFilter::Trace,
            }
        };
        QUIET.store(self.quiet as u8, Ordering::Relaxed);
        let _ = log::set_boxed_logger(Box::new(StderrLogger { tool }));
        log::set_max_level(level);
        let threads = self.threads.unwrap_or(0);
        if self.threads == Some(0) {
            return Err(Error::usage("--threads must be at least 1"));
        }
        if threads > 0 {
            // Polars reads this once, before its own pool starts.
            // SAFETY: called at start-up before any other thread exists.
            unsafe { std::env::set_var("POLARS_MAX_THREADS", threads.to_string()) };
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .map_err(|e| Error::runtime(format!("cannot start thread pool: {e}")))?;
        Ok(())
    }
}

struct StderrLogger {
    tool: &'static str,
}

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let level = match record.level() {
                log::Level::Error => "error",
                log::Level::Warn => "warning",
                log::Level::Info => "info",
                log::Level::Debug => "debug",
                log::Level::Trace => "trace",
            };
            let _ = writeln!(std::io::stderr().lock(), "{}: {level}: {}", self.tool, record.args());
        }
    }

    fn flush(&self) {}
}

/// Split a `NAME=PATH` command-line value; a bare PATH is labelled by its file name without
/// extension. `None` when NAME or PATH is empty.
pub fn labelled_path(item: &str) -> Option<(String, std::path::PathBuf)> {
    match item.split_once('=') {
        Some((label, path)) if !label.is_empty() && !path.is_empty() => Some((label.to_owned(), path.into())),
        Some(_) => None,
        None => {
            let path = std::path::PathBuf::from(item);
            let label = path.file_stem().map(|s| s.to_string_lossy().into_owned()).filter(|s| !s.is_empty())?;
            Some((label, path))
        }
    }
}

/// Run a tool's body and exit: 0 on success, the error's exit code (1 data/runtime, 2 usage)
/// with one message on stderr otherwise. A panic is reported as an internal error with exit
/// code 1 rather than Rust's 101.
pub fn run_main(tool: &'static str, body: impl FnOnce() -> Result<()>) -> ! {
    std::panic::set_hook(Box::new(move |info| {
        let _ = writeln!(std::io::stderr(), "{tool}: internal error (please report): {info}");
    }));
    termination::install(tool);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
    let code = match outcome {
        Ok(Ok(())) => 0,
        // A signal's clean-up has run and its thread is exiting with the signal's code: an error
        // met since (an output that can no longer be created) is not reported, and the signal's
        // exit code stands.
        Ok(Err(_)) if gkd_io::atomic::stopping() => loop {
            std::thread::park();
        },
        Ok(Err(e)) => {
            let _ = writeln!(std::io::stderr(), "{tool}: error: {e}");
            e.exit_code()
        }
        Err(_) => 1,
    };
    std::process::exit(code)
}

/// A `--shard I/N` value: shard I (1 ≤ I ≤ N) of N.
pub fn parse_shard(text: &str) -> std::result::Result<gkd_io::scan_manifest::ShardOf, String> {
    let parsed = text.split_once('/').and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)));
    match parsed {
        Some((index, count)) if index >= 1 && index <= count => Ok(gkd_io::scan_manifest::ShardOf { index, count }),
        _ => Err(format!("'{text}' is not I/N with 1 <= I <= N (e.g. 2/8)")),
    }
}

/// The `merge` subcommand of a tool that runs in shards (`--shard I/N`): the shards' output
/// prefixes and the merged output's.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The shards' output prefixes (each sharded run's -o), every shard once, in any order.
    #[arg(required = true, value_name = "PREFIX")]
    pub parts: Vec<String>,
    /// Output prefix of the merged files.
    #[arg(short, long, value_name = "PREFIX")]
    pub output: std::path::PathBuf,
    /// Options every tool has.
    #[command(flatten)]
    pub common: CommonArgs,
}

impl MergeArgs {
    /// The merged output's prefix, as text.
    pub fn prefix(&self) -> String {
        self.output.to_string_lossy().into_owned()
    }
}
