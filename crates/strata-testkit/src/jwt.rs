//! Test support, auth stage: ES256 JWTs in the shape the reference registry verifies
//! (an `x5c` header carrying a self-signed certificate that is also the registry's
//! `rootcertbundle`); key material is generated per issuer, never read from disk.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;

use crate::token::Access;

/// Signs tokens with one P-256 key whose certificate the registry trusts.
#[derive(Debug)]
pub(crate) struct Signer {
    key: EcdsaKeyPair,
    rng: SystemRandom,
    cert_der: Vec<u8>,
    cert_pem: String,
    issuer: String,
    audience: String,
    serial: AtomicU64,
}

impl Signer {
    pub(crate) fn generate(issuer: &str, audience: &str) -> Result<Signer> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| anyhow::anyhow!("generating a P-256 key"))?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .map_err(|_| anyhow::anyhow!("loading the P-256 key"))?;
        // The certificate carries the same key, so the registry verifies our signatures
        // with the public key of the `x5c` leaf, which is its own trusted root.
        let cert_key = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
            &pkcs8.as_ref().into(),
            &rcgen::PKCS_ECDSA_P256_SHA256,
        )
        .context("loading the key into rcgen")?;
        let params = rcgen::CertificateParams::new(vec!["strata-testkit-token-issuer".to_owned()])
            .context("certificate parameters")?;
        let cert = params
            .self_signed(&cert_key)
            .context("self-signing the issuer certificate")?;
        Ok(Signer {
            key,
            rng,
            cert_der: cert.der().to_vec(),
            cert_pem: cert.pem(),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            serial: AtomicU64::new(1),
        })
    }

    pub(crate) fn cert_pem(&self) -> String {
        self.cert_pem.clone()
    }

    /// A compact JWS: `base64url(header).base64url(claims).base64url(r||s)`.
    pub(crate) fn sign(
        &self,
        subject: &str,
        access: &[Access],
        issued_at: u64,
        lifetime: u64,
    ) -> String {
        let header =
            json!({"typ": "JWT", "alg": "ES256", "x5c": [STANDARD.encode(&self.cert_der)]});
        let claims = json!({
            "iss": self.issuer,
            "sub": subject,
            "aud": self.audience,
            "exp": issued_at + lifetime,
            "nbf": issued_at.saturating_sub(1),
            "iat": issued_at,
            "jti": format!("strata-{}", self.serial.fetch_add(1, Ordering::Relaxed)),
            "access": access,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        // Signing with a valid in-memory key only fails on RNG failure; an empty
        // signature then makes the registry reject the token, which a test will see.
        let signature = self
            .key
            .sign(&self.rng, signing_input.as_bytes())
            .map(|s| s.as_ref().to_vec())
            .unwrap_or_default();
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `YYYY-MM-DDTHH:MM:SSZ` for unix seconds (proleptic Gregorian, UTC).
pub(crate) fn rfc3339(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm), shifted to a March-based year.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_798_200_000), "2026-12-25T12:00:00Z");
    }

    #[test]
    fn tokens_have_three_parts_and_a_64_byte_signature() {
        let signer = Signer::generate("iss", "aud").unwrap();
        let token = signer.sign("alice", &[Access::repository("a", &["pull"])], 1_000, 60);
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(URL_SAFE_NO_PAD.decode(parts[2]).unwrap().len(), 64);
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["exp"], 1_060);
        assert_eq!(claims["access"][0]["name"], "a");
    }
}
