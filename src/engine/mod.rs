//! Layer 2, the HTTP engine every provider shares: the per-call record, the
//! body read within its limit, auth, the attempt decisions, the transport
//! (the request pipeline), `execute()`, the [`Provider`](provider::Provider)
//! trait and the client builder. It imports only from [`crate::values`]; the
//! generated clients call it through [`codegen`] alone.

pub(crate) mod attempt;
pub mod auth;
pub(crate) mod body;
pub mod builder;
pub(crate) mod call;
pub(crate) mod codegen;
pub mod execute;
pub(crate) mod hooks;
pub(crate) mod path;
pub mod provider;
pub(crate) mod redirect;
pub mod retry;
pub mod timeouts;
pub mod tls;
pub mod transport;
