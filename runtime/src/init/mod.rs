//! Setting up tracing for a process: exporters and their configuration.

pub mod config;
pub mod console;
