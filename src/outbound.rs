//! Outbound HTTPS (PostHog from the worker, Sentry from both processes, the
//! OpenID provider from the web process).
//!
//! reqwest is built without a crypto provider of its own, so that the binaries
//! carry one crypto library (ring, already there for sqlx's TLS). Every
//! process that makes an outbound HTTPS request calls
//! [`install_tls_provider`] first.

/// Installs ring as the process's TLS crypto provider. Idempotent: a second
/// call finds one installed and changes nothing.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
