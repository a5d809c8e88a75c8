//! rust-threads: one OS thread per task (`std::thread::spawn`, default
//! 2 MiB stack), each sleeping SECONDS; then joins them all.
//!
//! usage: rust-threads N [SECONDS]   (SECONDS defaults to 10)

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

const MAX_TASKS: u64 = 1_000_000_000;
const MAX_SECONDS: u64 = 86_400;

/// SECONDS, read by every thread: the article's closure captures nothing.
static SECONDS: AtomicU64 = AtomicU64::new(10);

/// Parses `NAME N [SECONDS]`; on a bad command line prints one line to
/// stderr and exits with status 2.
fn parse_args(name: &str) -> (u64, u64) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let fail = |problem: String| -> ! {
        eprintln!("{name}: {problem} (usage: {name} N [SECONDS])");
        std::process::exit(2)
    };
    // Digits only (no sign, no blanks), value at most max.
    let count = |s: &str, what: &str, max: u64| -> u64 {
        match s.parse::<u64>() {
            Ok(v) if v <= max && s.bytes().all(|b| b.is_ascii_digit()) => v,
            _ => fail(format!(
                "{what} must be an integer from 0 to {max}, got '{s}'"
            )),
        }
    };
    match args.len() {
        0 => fail("missing N".to_string()),
        1 | 2 => {}
        _ => fail("too many arguments".to_string()),
    }
    let n = count(&args[0], "N", MAX_TASKS);
    let secs = args.get(1).map_or(10, |s| count(s, "SECONDS", MAX_SECONDS));
    (n, secs)
}

fn main() {
    let (n, secs) = parse_args("rust-threads");
    SECONDS.store(secs, Ordering::Relaxed);

    // The article's loop: Vec::new() grown by push.
    let mut handles = Vec::new();
    for _ in 0..n {
        let handle = thread::spawn(|| {
            thread::sleep(Duration::from_secs(SECONDS.load(Ordering::Relaxed)));
        });
        handles.push(handle);
    }
    for handle in handles {
        handle.join().expect("a sleeping thread panicked");
    }
}
