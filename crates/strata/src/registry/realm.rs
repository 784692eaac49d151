//! resolve stage: getting a Bearer token from a challenge's realm: anonymously, with
//! Basic credentials, or with an identity token through the OAuth2 refresh grant. It
//! neither caches tokens (the token cache does) nor puts secrets in messages.

use std::time::Instant;

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderMap};
use serde::Deserialize;

use super::RegistryError;
use super::auth::{RegistryState, SMALL_LIMIT, bad_secret, basic_header, unauthorized, who};
use super::client::Inner;
use super::content::protocol;
use super::credentials::Credential;
use super::stats::Kind;
use super::token::Token;
use super::transport::Call;

impl Inner {
    /// Asks the token service at `realm` for a pull token for `scope`.
    pub(crate) async fn fetch_token(
        &self,
        registry: &RegistryState,
        repository: &str,
        realm: &str,
        service: Option<&str>,
        scope: &str,
    ) -> Result<Token, RegistryError> {
        let credential = self.credential(registry).await?;
        let mut url = reqwest::Url::parse(realm)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https"))
            .ok_or_else(|| {
                protocol(
                    registry,
                    "/v2/",
                    None,
                    format!("invalid token realm {realm:?}"),
                )
            })?;
        let mut headers = HeaderMap::new();
        let mut form = None;
        if let Some(Credential::IdentityToken { token }) = &credential {
            // Docker's identity tokens are OAuth2 refresh tokens.
            let mut body = url::form_urlencoded::Serializer::new(String::new());
            body.append_pair("grant_type", "refresh_token")
                .append_pair("refresh_token", token)
                .append_pair("client_id", "strata")
                .append_pair("scope", scope);
            if let Some(service) = service {
                body.append_pair("service", service);
            }
            form = Some(body.finish());
        } else {
            let mut query = url.query_pairs_mut();
            if let Some(service) = service {
                query.append_pair("service", service);
            }
            query.append_pair("scope", scope);
        }
        if let Some(Credential::Basic { username, password }) = &credential {
            let header = basic_header(username, password).ok_or_else(|| bad_secret(registry))?;
            headers.insert(AUTHORIZATION, header);
        }
        let target = format!("token for {scope}");
        let call = Call {
            registry: &registry.domain,
            shown: &registry.shown,
            mirror: registry.mirror.as_deref(),
            target: &target,
            kind: Kind::Token,
            method: if form.is_some() {
                Method::POST
            } else {
                Method::GET
            },
            url: url.as_str(),
            headers,
            form,
            body_limit: SMALL_LIMIT,
        };
        let received = Instant::now();
        let reply = self.transport.send(&call).await?;
        if matches!(reply.status.as_u16(), 401 | 403) {
            let detail = format!(
                "the token service at {realm} refused {} (HTTP {})",
                who(&credential),
                reply.status.as_u16()
            );
            return Err(unauthorized(registry, repository, detail));
        }
        if !reply.status.is_success() {
            let detail = format!("token service at {realm} answered HTTP {}", reply.status);
            return Err(protocol(
                registry,
                &target,
                Some(reply.status.as_u16()),
                detail,
            ));
        }
        parse_token(&reply.body, received).ok_or_else(|| {
            protocol(
                registry,
                &target,
                None,
                format!("token service at {realm} sent no token"),
            )
        })
    }
}

#[derive(Deserialize)]
struct TokenReply {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// A token answer: `token` (or the OAuth2 `access_token`) and `expires_in`.
fn parse_token(body: &[u8], received: Instant) -> Option<Token> {
    let reply: TokenReply = serde_json::from_slice(body).ok()?;
    let value = reply
        .token
        .filter(|t| !t.is_empty())
        .or(reply.access_token.filter(|t| !t.is_empty()))?;
    Some(Token::new(value, received, reply.expires_in))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn token_answers_in_both_spellings() {
        let now = Instant::now();
        let t = parse_token(br#"{"token":"abc","expires_in":300}"#, now).unwrap();
        assert_eq!(t.value, "abc");
        assert_eq!(t.renew_at, now + Duration::from_secs(290));
        let t = parse_token(br#"{"access_token":"xyz"}"#, now).unwrap();
        assert_eq!(t.value, "xyz");
        let t = parse_token(br#"{"token":"","access_token":"xyz"}"#, now).unwrap();
        assert_eq!(t.value, "xyz");
        assert!(parse_token(br#"{"token":""}"#, now).is_none());
        assert!(parse_token(b"<html>", now).is_none());
    }
}
