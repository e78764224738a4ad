//! One Lambda function per operation. The handlers live here, in the library, so that each
//! binary in `src/bin` is a thin `main`, and tests and the local server call the very same code.

pub mod access;
pub mod handlers;
pub mod jobs;
pub mod routes;
pub mod runtime;
pub mod spec;
pub mod sso_client;
pub mod views;

#[cfg(test)]
mod unit_tests;
