//! Request ids and per-call options.
//!
//! Every HTTP request carries an `x-request-id`: a fresh UUID v4 per attempt
//! unless the caller chose one for that call. A client-wide `x-trace-id` (set on
//! the client builder) can be overridden per call. [`CallOptions`] holds the
//! per-call choices; [`crate::Execute::execute_with`] applies them.
//!
//! A chosen request or trace id (per call, on the client builder, or through
//! a generated builder's `x_request_id`/`x_trace_id`) must be 1 to
//! [`MAX_ID_LEN`] printable ASCII characters without a leading or trailing
//! space; anything else is refused before a request is sent.
//!

/// The request-id header.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// The trace-id header.
pub const TRACE_ID_HEADER: &str = "x-trace-id";

/// The longest request or trace id that is sent.
pub const MAX_ID_LEN: usize = 128;

/// Why `id` cannot be sent as the `what` (e.g. `request id`), if it cannot:
/// it must be 1 to [`MAX_ID_LEN`] printable ASCII characters (space to `~`),
/// not starting or ending with a space.
pub(crate) fn check_id(what: &str, id: &[u8]) -> Result<(), String> {
    let shown = || crate::values::text::shorten(&String::from_utf8_lossy(id), 40).into_owned();
    if id.is_empty() {
        return Err(format!("{what} is empty"));
    }
    if id.len() > MAX_ID_LEN {
        return Err(format!(
            "{what} is {} bytes long, more than the {MAX_ID_LEN} allowed (`{}`)",
            id.len(),
            shown()
        ));
    }
    if let Some(at) = id.iter().position(|b| !(b' '..=b'~').contains(b)) {
        return Err(format!(
            "{what} `{}` is not printable ASCII (byte {at} is 0x{:02x})",
            shown(),
            id[at]
        ));
    }
    if id.starts_with(b" ") || id.ends_with(b" ") {
        return Err(format!("{what} `{}` starts or ends with a space", shown()));
    }
    Ok(())
}

/// A fresh request id: a random UUID v4, hyphenated lower case.
///
/// The random bits come from the operating system's random source, read
/// 4 KiB at a time into a per-thread buffer (a system call per 256 ids, not
/// one per id). Should that source fail, from a keyed hash (SipHash, as
/// `std`'s `HashMap` uses) of a per-thread counter, with keys `std` had
/// from the same source: still unique and unpredictable enough for ids.
/// Like any user-space buffer of random bytes, a process forked (without
/// `exec`) by a thread that made ids repeats that thread's next ids (up to
/// 255) in the child.
///
/// ```
/// let id = cloud_images::request_id::new_request_id();
/// assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
/// assert_ne!(id, cloud_images::request_id::new_request_id());
/// ```
pub fn new_request_id() -> String {
    let uuid = uuid::Builder::from_random_bytes(random_bytes()).into_uuid();
    uuid.hyphenated()
        .encode_lower(&mut uuid::Uuid::encode_buffer())
        .to_owned()
}

/// Bytes of the per-thread buffer of random bytes.
const POOL_LEN: usize = 4096;

/// Random bytes handed out 16 at a time, refilled when used up.
struct Pool {
    bytes: [u8; POOL_LEN],
    used: usize,
}

impl Pool {
    const EMPTY: Pool = Pool {
        bytes: [0; POOL_LEN],
        used: POOL_LEN,
    };

    /// The next 16 bytes, after a refill by `fill` when none are left; none
    /// when that refill fails (the pool stays empty, to be refilled next time).
    fn take<E>(&mut self, fill: impl FnOnce(&mut [u8]) -> Result<(), E>) -> Option<[u8; 16]> {
        if self.used + 16 > POOL_LEN {
            fill(&mut self.bytes).ok()?;
            self.used = 0;
        }
        let mut out = [0; 16];
        out.copy_from_slice(&self.bytes[self.used..self.used + 16]);
        self.used += 16;
        Some(out)
    }
}

/// 16 random bytes: from the thread's [`Pool`], which the operating
/// system's source refills, or [`hashed_bytes`] when that source gives none.
fn random_bytes() -> [u8; 16] {
    thread_local! {
        static POOL: std::cell::RefCell<Pool> = const { std::cell::RefCell::new(Pool::EMPTY) };
    }
    POOL.with_borrow_mut(|pool| pool.take(getrandom::fill))
        .unwrap_or_else(hashed_bytes)
}

/// 16 pseudo-random bytes: two keyed hashes of a per-thread counter.
fn hashed_bytes() -> [u8; 16] {
    use std::cell::Cell;
    use std::hash::{BuildHasher, RandomState};

    thread_local! {
        static KEYS: RandomState = RandomState::new();
        static COUNTER: Cell<u64> = const { Cell::new(0) };
    }
    let n = COUNTER.with(|c| {
        let n = c.get();
        c.set(n.wrapping_add(1));
        n
    });
    KEYS.with(|keys| {
        let high = keys.hash_one((n, 0u8));
        let low = keys.hash_one((n, 1u8));
        ((u128::from(high) << 64) | u128::from(low)).to_be_bytes()
    })
}

/// Choices for one call.
///
/// ```
/// use cloud_images::CallOptions;
///
/// let options = CallOptions::new()
///     .with_request_id("3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f")
///     .with_trace_id("deploy-42");
/// assert_eq!(options.request_id(), Some("3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"));
/// ```
///
/// The ids are checked when the call is made (see [`MAX_ID_LEN`]).
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    request_id: Option<String>,
    trace_id: Option<String>,
}

impl CallOptions {
    /// No overrides: fresh request ids, the client's trace id.
    pub fn new() -> Self {
        Self::default()
    }

    /// Send this `x-request-id` (on every attempt of this call) instead of a
    /// fresh one per attempt.
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }

    /// Send this `x-trace-id` instead of the client's.
    pub fn with_trace_id(mut self, id: impl Into<String>) -> Self {
        self.trace_id = Some(id.into());
        self
    }

    /// The request id this call will send, if one was chosen.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The trace id this call will send, if one was chosen.
    pub fn trace_id(&self) -> Option<&str> {
        self.trace_id.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_ids_are_distinct_uuid_v4s() {
        let ids: std::collections::HashSet<String> = (0..10_000).map(|_| new_request_id()).collect();
        assert_eq!(ids.len(), 10_000);
        for id in ids.iter().take(100) {
            let uuid = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(uuid.get_version_num(), 4);
            assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122);
            assert_eq!(id, &uuid.hyphenated().to_string());
        }
        let other: String = std::thread::spawn(new_request_id).join().unwrap();
        assert!(!ids.contains(&other));
    }

    #[test]
    fn the_pool_hands_out_each_filled_byte_once_and_refills_when_used_up() {
        let mut pool = Pool::EMPTY;
        let mut fills = 0u8;
        let mut fill = |bytes: &mut [u8]| -> Result<(), ()> {
            fills += 1;
            for (i, b) in bytes.iter_mut().enumerate() {
                *b = (i / 16) as u8 ^ fills;
            }
            Ok(())
        };
        let first: Vec<[u8; 16]> = (0..POOL_LEN / 16)
            .map(|_| pool.take(&mut fill).unwrap())
            .collect();
        let distinct: std::collections::HashSet<&[u8; 16]> = first.iter().collect();
        assert_eq!(distinct.len(), 256);
        assert_eq!(first[0], [1; 16]);
        assert_eq!(first[255], [255 ^ 1; 16]);
        let next = pool.take(&mut fill).unwrap();
        assert_eq!(next, [2; 16], "a refill after 256 ids");
    }

    #[test]
    fn a_failing_source_gives_none_and_is_asked_again() {
        let mut pool = Pool::EMPTY;
        assert_eq!(pool.take(|_: &mut [u8]| Err(())), None);
        let filled = pool.take(|b: &mut [u8]| {
            b.fill(7);
            Ok::<(), ()>(())
        });
        assert_eq!(filled, Some([7; 16]));
    }

    #[test]
    fn the_fallback_without_the_os_source_gives_distinct_bytes() {
        let all: std::collections::HashSet<[u8; 16]> = (0..10_000).map(|_| hashed_bytes()).collect();
        assert_eq!(all.len(), 10_000);
    }

    #[test]
    fn ids_are_short_printable_ascii() {
        assert_eq!(check_id("request id", new_request_id().as_bytes()), Ok(()));
        assert_eq!(check_id("trace id", b"deploy 42 / run:7"), Ok(()));
        assert_eq!(check_id("trace id", &[b'a'; MAX_ID_LEN]), Ok(()));
        assert_eq!(check_id("trace id", b""), Err("trace id is empty".into()));
        let long = check_id("trace id", &[b'a'; MAX_ID_LEN + 1]).unwrap_err();
        assert!(
            long.starts_with("trace id is 129 bytes long, more than the 128 allowed"),
            "{long}"
        );
        assert_eq!(
            check_id("request id", b"two\nlines"),
            Err("request id `two\\nlines` is not printable ASCII (byte 3 is 0x0a)".into())
        );
        let umlaut = check_id("request id", "grüße".as_bytes()).unwrap_err();
        assert!(
            umlaut.ends_with("is not printable ASCII (byte 2 is 0xc3)"),
            "{umlaut}"
        );
        assert!(
            check_id("request id", b" x")
                .unwrap_err()
                .contains("starts or ends with a space")
        );
        assert!(check_id("request id", b"x\x7f").is_err());
    }
}
