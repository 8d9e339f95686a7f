//! Measuring one run in a child process: the bench binary runs itself
//! again with `--child` and some arguments; the child does the work and
//! prints its figures, the time the work took and its own peak RSS
//! (`VmHWM`), which the parent reads back. A child's peak memory is its
//! own, not the server's nor that of the runs before it.

use std::ffi::OsStr;
use std::process::Command;
use std::time::Duration;

/// The flag a child run gets first.
const FLAG: &str = "--child";

/// What one child run measured.
#[derive(Debug, Clone)]
pub struct Measured {
    /// The figures the child printed before its time (a count, ...).
    pub figures: Vec<u64>,
    /// The time the child's work took.
    pub time: Duration,
    /// The child's peak resident set size, KiB.
    pub rss_kib: u64,
}

/// The best time and the highest peak RSS of several runs.
#[derive(Debug, Clone, Copy)]
pub struct Best {
    pub time: Duration,
    pub rss_kib: u64,
}

impl Default for Best {
    fn default() -> Self {
        Self {
            time: Duration::MAX,
            rss_kib: 0,
        }
    }
}

impl Best {
    /// Counts one more run.
    pub fn add(&mut self, run: &Measured) {
        self.time = self.time.min(run.time);
        self.rss_kib = self.rss_kib.max(run.rss_kib);
    }
}

/// The arguments after `--child` when this process is a child run; `None`
/// in the parent.
pub fn args() -> Option<Vec<String>> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == FLAG)?;
    Some(args[at + 1..].to_vec())
}

/// In the child: prints `figures`, then `time` in nanoseconds, then this
/// process's peak RSS in KiB, for [`run`] to read.
pub fn report(figures: &[u64], time: Duration) {
    let rss = super::peak_rss_kib().unwrap_or(0);
    let mut line: Vec<String> = figures.iter().map(u64::to_string).collect();
    line.push(time.as_nanos().to_string());
    line.push(rss.to_string());
    println!("{}", line.join(" "));
}

/// Runs this binary again with `--child` and `args`, and `env` in its
/// environment, and reads what it [reported](report). Panics, naming
/// `what`, when the child fails or reports something else.
pub fn run<A: AsRef<OsStr>>(what: &str, args: &[A], env: &[(&str, &str)]) -> Measured {
    let exe = std::env::current_exe().expect("this bench's path");
    let out = Command::new(exe)
        .arg(FLAG)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run the child");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the {what} child failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut fields: Vec<u64> = text.split_whitespace().filter_map(|f| f.parse().ok()).collect();
    let (Some(rss_kib), Some(nanos)) = (fields.pop(), fields.pop()) else {
        panic!("unexpected child output: {text}");
    };
    Measured {
        figures: fields,
        time: Duration::from_nanos(nanos),
        rss_kib,
    }
}
