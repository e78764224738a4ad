//! What every function writes to its log: plain lines, and errors with their whole chain of
//! causes. Below everything else of the library, so that the store, events and mail can log
//! without depending on the app that holds them.

/// Plain-text logs without colours or timestamps: CloudWatch adds its own time.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .try_init();
}

/// An error and all its sources on one line (`a: b: c`), for logs.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut chain = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    chain
}
