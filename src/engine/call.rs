//! The per-call record: what the transport sent for the call that is
//! running (attempts, the last request id) and what the final answer brought
//! (its headers and body), in a task-local, so that the response and the
//! error of that call can report it. A token source runs outside the record
//! of the call that needs the token.

use std::sync::{Arc, Mutex};

use crate::values::ids::CallOptions;

/// What the transport did for one call.
#[derive(Debug, Default)]
pub(crate) struct CallRecord {
    /// Attempts sent.
    pub attempts: u32,
    /// The `x-request-id` of the last attempt.
    pub request_id: Option<String>,
    /// The provider that answered, to read its error bodies and headers.
    pub provider: Option<crate::engine::hooks::Hooks>,
    /// The status of the final answer, when one came.
    pub status: Option<reqwest::StatusCode>,
    /// Whether the change the call asks for happened, over all its attempts
    /// so far (the most any attempt says).
    pub outcome: crate::values::error::Outcome,
    /// The client's connect limit.
    pub connect_timeout: Option<std::time::Duration>,
    /// When the call started (before its token was had): its operation
    /// limit counts from here.
    pub started: Option<tokio::time::Instant>,
    /// An error the transport met that the generated code cannot carry (a
    /// token that could not be had, a time limit); it wins over what the
    /// generated code reports.
    pub failure: Option<crate::values::error::Error>,
    /// The headers of the final answer, moved out of it (only for an
    /// `execute()` call, which reads them from here).
    pub headers: Option<reqwest::header::HeaderMap>,
    /// The body of the final answer, as the attempt read it (only for an
    /// `execute()` call: the generated code decodes it through
    /// `crate::engine::body::from_response`, an error reads it from here).
    pub body: Option<bytes::Bytes>,
}

/// One call's options and record, shared with the transport through a task-local.
#[derive(Debug, Default)]
pub(crate) struct Call {
    pub options: CallOptions,
    pub record: Mutex<CallRecord>,
    /// An `execute()` call (not a generated `send()` outside one, nor one
    /// made by a token source, which runs as no call).
    pub executing: bool,
}

impl CallRecord {
    /// When the call started: the first time this is asked.
    pub fn start(&mut self) -> tokio::time::Instant {
        *self.started.get_or_insert_with(tokio::time::Instant::now)
    }

    /// The final answer's headers: the ones moved here, else a copy of
    /// `answer`'s (a call whose answer the transport did not hand on).
    pub fn take_headers(&mut self, answer: &reqwest::header::HeaderMap) -> reqwest::header::HeaderMap {
        self.headers.take().unwrap_or_else(|| answer.clone())
    }
}

impl Call {
    pub fn new(options: CallOptions) -> Arc<Self> {
        Arc::new(Self {
            options,
            record: Mutex::default(),
            executing: true,
        })
    }

    pub fn update<R>(&self, f: impl FnOnce(&mut CallRecord) -> R) -> R {
        // A poisoned lock only means a panic elsewhere; the record is still usable.
        let mut record = self.record.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut record)
    }

    /// The request id the record holds now (of the last attempt, or the
    /// server's own).
    pub fn request_id(&self) -> Option<String> {
        self.record
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .request_id
            .clone()
    }

    /// Takes the record out (the call is over).
    pub fn take_record(&self) -> CallRecord {
        std::mem::take(&mut *self.record.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Runs `fut` with `call` as the current call.
    pub fn scope<F: Future>(call: Arc<Call>, fut: F) -> impl Future<Output = F::Output> {
        CURRENT.scope(call, fut)
    }

    /// The call being run; outside one (a generated client's own `send()`),
    /// the call the `pre` hook handed over ([`Call::hand_over`]), else a
    /// fresh one.
    pub fn current() -> Arc<Call> {
        CURRENT
            .try_with(Arc::clone)
            .unwrap_or_else(|_| HANDED.take().unwrap_or_default())
    }

    /// The call a `pre` hook works for: the call being run, or a fresh one
    /// (never one handed over before, which is dropped).
    pub fn for_pre() -> Arc<Call> {
        drop(HANDED.take());
        CURRENT.try_with(Arc::clone).unwrap_or_default()
    }

    /// Hands `call` from a `pre` hook that succeeded to the `exec` hook,
    /// so that both share one record outside a call: the start (the
    /// operation's limit counts from before the token was had) and the
    /// attempts. (reqwest keeps a request's extensions to itself, so the
    /// request cannot carry it.) Within a call it is not needed.
    ///
    /// Sound because progenitor's `send()` runs
    /// `client.pre(&mut request, &info).await?;` and then at once
    /// `client.exec(request, &info)`: this is the last thing `pre` does and
    /// taking it the first thing `exec` does, in the same poll on the same
    /// thread, with no await point in between where another future could
    /// run (the build checks that shape: code patch `PreThenExec`). A
    /// `send()` dropped while `pre` waits for its token never got here;
    /// anything left over (a panic in between) is dropped by the next
    /// [`Call::for_pre`].
    pub fn hand_over(call: &Arc<Call>) {
        if CURRENT.try_with(|_| ()).is_err() {
            HANDED.set(Some(Arc::clone(call)));
        }
    }

    /// The body of the running call's final answer, taken from its record
    /// (none outside a call, or once taken).
    pub fn take_current_body() -> Option<bytes::Bytes> {
        CURRENT
            .try_with(|call| call.update(|r| r.body.take()))
            .ok()
            .flatten()
    }
}

tokio::task_local! {
    static CURRENT: Arc<Call>;
}

std::thread_local! {
    /// The call a `pre` hook hands to the `exec` hook right after it.
    static HANDED: std::cell::Cell<Option<Arc<Call>>> = const { std::cell::Cell::new(None) };
}
