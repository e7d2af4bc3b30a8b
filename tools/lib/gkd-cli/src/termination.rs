//! What a tool does when the scheduler or the user stops it (SIGTERM, SIGINT, SIGHUP): it removes
//! the temporary files of outputs it has not committed and exits with 128 + the signal's number,
//! so no partial output is left at any path. A tool that can stop cleanly (gkd-train, between
//! batches) asks for the first signal as a [`StopRequest`] instead; a second signal ends it at once.

use std::sync::atomic::{AtomicBool, Ordering};

use gkd_io::stop::{StopRequest, signal_name};

static STOP: StopRequest = StopRequest::new();
static GRACEFUL: AtomicBool = AtomicBool::new(false);

/// Start watching for the stop signals (once, from `run_main`).
pub(crate) fn install(tool: &'static str) {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGXFSZ};
        // A write past the file-size limit (`ulimit -f`, a quota) then fails with an error the
        // tool reports, naming the file, instead of SIGXFSZ ending it with the output half-written.
        let _ = signal_hook::flag::register(SIGXFSZ, std::sync::Arc::new(AtomicBool::new(false)));
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP]) else {
            log::debug!("cannot watch for termination signals; outputs are still written atomically");
            return;
        };
        std::thread::spawn(move || {
            for signal in signals.forever() {
                if GRACEFUL.load(Ordering::SeqCst) && STOP.requested().is_none() {
                    STOP.request(signal);
                    log::warn!(
                        "{}: stopping after the current step (send it again to stop at once)",
                        signal_name(signal)
                    );
                    continue;
                }
                let removed = gkd_io::atomic::remove_uncommitted();
                eprintln!(
                    "{tool}: stopped by {}; {} unfinished output file(s) removed",
                    signal_name(signal),
                    removed.len()
                );
                std::process::exit(128 + signal);
            }
        });
    }
    #[cfg(not(unix))]
    let _ = tool;
}

/// For a tool that can stop cleanly: the first stop signal sets the returned request (its work
/// checks it and returns [`gkd_io::Error::Interrupted`]); a second signal ends the tool at once.
pub fn graceful_stop() -> &'static StopRequest {
    GRACEFUL.store(true, Ordering::SeqCst);
    &STOP
}
