//! Test support, process stage: a certificate authority made for one test, and a server
//! certificate it signs for `127.0.0.1` and `localhost`, so the reference registry can serve
//! TLS that only a client given this CA trusts. Pure key and certificate generation.

use anyhow::{Context, Result};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// A fresh CA and a server certificate signed by it, all PEM.
#[derive(Debug, Clone)]
pub struct TestCa {
    /// The CA certificate: what a client must trust.
    pub ca_pem: String,
    /// The server certificate (for `127.0.0.1`, `::1` and `localhost`).
    pub cert_pem: String,
    /// The server certificate's private key (PKCS#8).
    pub key_pem: String,
}

impl TestCa {
    /// Generates a CA (P-256) and a server certificate signed by it.
    pub fn generate() -> Result<TestCa> {
        let ca_key = KeyPair::generate().context("generating the CA key")?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).context("CA params")?;
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "strata-testkit CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params
            .self_signed(&ca_key)
            .context("self-signing the CA")?;
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate().context("generating the server key")?;
        let mut server_params = CertificateParams::new(vec![
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
            "localhost".to_owned(),
        ])
        .context("server params")?;
        server_params
            .distinguished_name
            .push(DnType::CommonName, "strata-testkit registry");
        let server_cert = server_params
            .signed_by(&server_key, &issuer)
            .context("signing the server certificate")?;
        Ok(TestCa {
            ca_pem: ca_cert.pem(),
            cert_pem: server_cert.pem(),
            key_pem: server_key.serialize_pem(),
        })
    }
}
