//! Test support for strata (never shipped): starts the real reference registry
//! (Debian's `docker-registry`, the CNCF distribution registry) on a loopback port,
//! seeds it through the registry HTTP API, and provides the fakes for faults a real
//! registry will not produce on demand. Everything binds loopback only.
