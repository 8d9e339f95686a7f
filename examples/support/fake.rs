//! What the `fake_*` examples share: their command line (an address, two
//! image counts, then faults) and how they fail.
#![allow(dead_code)]

use cloud_images::testing::Fault;

/// The command line of a `fake_*` example: `[ADDRESS [COUNT [COUNT [FAULT...]]]]`.
pub struct FakeArgs {
    /// Where to listen.
    pub addr: String,
    /// The two image counts (the fake's own two kinds of image).
    pub counts: (usize, usize),
    /// Faults to inject, `[METHOD:]STATUS:MATCH:COUNT` each.
    pub faults: Vec<Fault>,
}

impl FakeArgs {
    /// The process's arguments, with these defaults; exits with a message on
    /// a fault that does not parse.
    pub fn from_env(addr: &str, counts: (usize, usize)) -> Self {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let number = |i: usize, default: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
        let faults = args
            .get(3..)
            .unwrap_or_default()
            .iter()
            .map(|spec| spec.parse::<Fault>())
            .collect::<Result<Vec<_>, _>>()
            .unwrap_or_else(|e| fail(&e.to_string()));
        Self {
            addr: args.first().map_or(addr, String::as_str).to_owned(),
            counts: (number(1, counts.0), number(2, counts.1)),
            faults,
        }
    }
}

/// Prints `error: MESSAGE` and exits with status 2.
pub fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2);
}
