//! A provider's answers to the engine, as plain function pointers: what the
//! transport, the call record and the error mapping keep, so that none of
//! them is generic over the provider.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::values::rate_limit::RateLimit;

/// A provider's answers to the shared layer, as plain function pointers the
/// transport keeps (it is not generic over the provider).
#[derive(Clone, Copy)]
pub(crate) struct Hooks {
    pub name: &'static str,
    pub request_id_header: &'static str,
    pub trace_id_header: &'static str,
    pub server_request_id: fn(&HeaderMap, Option<&Value>) -> Option<String>,
    pub error_message: fn(&Value) -> Option<String>,
    pub rate_limit: fn(&HeaderMap) -> Option<RateLimit>,
    pub retry_after: fn(&HeaderMap, SystemTime) -> Option<Duration>,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name)
            .field("request_id_header", &self.request_id_header)
            .field("trace_id_header", &self.trace_id_header)
            .finish_non_exhaustive()
    }
}

/// A non-empty string field of a JSON object.
pub(crate) fn text_field(body: &Value, field: &str) -> Option<String> {
    body.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}
