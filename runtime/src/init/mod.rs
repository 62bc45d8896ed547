//! Setting up tracing for a process: one call in `main`, configured by the standard `OTEL_*`
//! environment variables.
//!
//! See [`init`](crate::init()) for an example.

pub mod config;
#[cfg(feature = "console")]
pub mod console;
#[cfg(feature = "console")]
mod console_metrics;
#[cfg(feature = "prometheus")]
mod exemplars;
mod export_failures;
mod files;
mod global_meter;
pub(crate) mod guard;
mod metrics_pipeline;
#[cfg(feature = "prometheus")]
mod openmetrics;
#[cfg(feature = "otlp")]
mod otlp;
mod pipeline;
#[cfg(feature = "prometheus")]
mod prometheus_endpoint;
#[cfg(feature = "propagators")]
mod propagators;
pub(crate) mod setup;
mod shutdown_signal;
mod subscriber;
mod terminal;

pub use shutdown_signal::{shutdown_signal, ShutdownSignal};
