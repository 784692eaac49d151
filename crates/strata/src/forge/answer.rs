//! act stage: reading the parts of forge answers that are not the payload: the error
//! message in an error body (each forge shapes it differently), whether an answer is a
//! rate limit and when it lifts, and where the next page is. Pure functions, no I/O.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use url::Url;

/// The longest forge message quoted in an error.
const MAX_MESSAGE: usize = 500;

/// The forge's message from an error body: GitHub `{message, errors: [{message|code}]}`,
/// GitLab `{message: "…" | ["…"] | {field: ["…"]}}` or `{error, error_description}`,
/// Gitea `{message, errors}`; a non-JSON body is quoted (shortened).
pub(crate) fn error_message(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(fields)) => {
            let mut parts = Vec::new();
            for key in ["message", "error", "error_description"] {
                if let Some(value) = fields.get(key) {
                    flatten(value, "", &mut parts);
                }
            }
            let mut details = Vec::new();
            if let Some(errors) = fields.get("errors") {
                flatten(errors, "", &mut details);
            }
            let mut text = parts.join("; ");
            if !details.is_empty() {
                if !text.is_empty() {
                    text.push_str(": ");
                }
                text.push_str(&details.join("; "));
            }
            text
        }
        Ok(other) => {
            let mut parts = Vec::new();
            flatten(&other, "", &mut parts);
            parts.join("; ")
        }
        Err(_) => String::from_utf8_lossy(body).trim().to_owned(),
    };
    if text.is_empty() {
        return "(no message)".to_owned();
    }
    shorten(&text)
}

/// Collects the human-readable strings of an error value. Objects contribute their
/// `message` (or `code`) when they have one; otherwise each field, as `field: text`.
fn flatten(value: &Value, field: &str, out: &mut Vec<String>) {
    match value {
        Value::String(text) if field.is_empty() => out.push(text.clone()),
        Value::String(text) => out.push(format!("{field} {text}")),
        Value::Array(items) => items.iter().for_each(|item| flatten(item, field, out)),
        Value::Object(fields) => {
            if let Some(text) = ["message", "code"]
                .iter()
                .find_map(|key| fields.get(*key).and_then(Value::as_str))
            {
                out.push(text.to_owned());
            } else {
                for (key, value) in fields {
                    flatten(value, key, out);
                }
            }
        }
        Value::Null => {}
        Value::Bool(_) | Value::Number(_) => out.push(value.to_string()),
    }
}

/// `text` cut to [`MAX_MESSAGE`] characters, with an ellipsis when cut.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// Whether an answer is a rate limit: any 429, or a 403 with an exhausted budget
/// (`X-RateLimit-Remaining: 0`), a `Retry-After`, or a message saying so (GitHub's
/// secondary limits).
pub(crate) fn is_rate_limited(status: StatusCode, headers: &HeaderMap, message: &str) -> bool {
    if status == StatusCode::TOO_MANY_REQUESTS {
        return true;
    }
    status == StatusCode::FORBIDDEN
        && (header(headers, "x-ratelimit-remaining") == Some("0")
            || header(headers, "ratelimit-remaining") == Some("0")
            || headers.contains_key("retry-after")
            || message.to_ascii_lowercase().contains("rate limit"))
}

/// When a rate limit lifts: `Retry-After` (seconds or an HTTP date), else GitHub's
/// `X-RateLimit-Reset` or GitLab's `RateLimit-Reset` (epoch seconds; small values are
/// taken as seconds from now, as the IETF draft has it).
pub(crate) fn rate_limit_reset(headers: &HeaderMap, now: SystemTime) -> Option<SystemTime> {
    if let Some(value) = header(headers, "retry-after") {
        let value = value.trim();
        if let Ok(secs) = value.parse::<u64>() {
            return now.checked_add(Duration::from_secs(secs));
        }
        if let Ok(when) = httpdate::parse_http_date(value) {
            return Some(when);
        }
    }
    let value = header(headers, "x-ratelimit-reset").or(header(headers, "ratelimit-reset"))?;
    let secs = value.trim().parse::<u64>().ok()?;
    // Anything before 2001 cannot be an epoch time: it is a delta.
    if secs > 1_000_000_000 {
        UNIX_EPOCH.checked_add(Duration::from_secs(secs))
    } else {
        now.checked_add(Duration::from_secs(secs))
    }
}

/// The next page after `current`: the `Link` header's `rel="next"` (GitHub, Gitea,
/// GitLab), else GitLab's `X-Next-Page` number put into `current`'s `page` parameter.
/// `Ok(None)` on the last page; `Err` when the link is not a URL.
pub(crate) fn next_page(current: &Url, headers: &HeaderMap) -> Result<Option<Url>, String> {
    for value in headers.get_all("link") {
        let Ok(value) = value.to_str() else { continue };
        if let Some(target) = next_link(value) {
            return current
                .join(target)
                .map(Some)
                .map_err(|err| format!("next-page link {target:?} is not a URL: {err}"));
        }
    }
    let Some(page) = header(headers, "x-next-page").map(str::trim) else {
        return Ok(None);
    };
    if page.is_empty() {
        return Ok(None);
    }
    if page.parse::<u64>().is_err() {
        return Err(format!("X-Next-Page {page:?} is not a page number"));
    }
    let kept: Vec<(String, String)> = current
        .query_pairs()
        .filter(|(key, _)| key != "page")
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    let mut next = current.clone();
    next.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair("page", page);
    Ok(Some(next))
}

/// The target of the `rel="next"` entry of one `Link` header value.
fn next_link(value: &str) -> Option<&str> {
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>')?;
        let target = &after[..close];
        let params_end = after[close..]
            .find('<')
            .map_or(after.len(), |at| close + at);
        // The entry's parameters run to the next entry's `<`, less the separating comma.
        let params = after[close + 1..params_end].trim().trim_end_matches(',');
        let is_next = params.split(';').any(|param| {
            let Some((key, rels)) = param.split_once('=') else {
                return false;
            };
            key.trim().eq_ignore_ascii_case("rel")
                && rels
                    .trim()
                    .trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|rel| rel.eq_ignore_ascii_case("next"))
        });
        if is_next {
            return Some(target);
        }
        rest = &after[params_end..];
    }
    None
}

/// A header as text, if present and valid.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn error_messages_of_each_forge() {
        let github = br#"{"message":"Validation Failed","errors":[{"resource":"PullRequest",
            "code":"custom","message":"A pull request already exists for o:b."}]}"#;
        assert_eq!(
            error_message(github),
            "Validation Failed: A pull request already exists for o:b."
        );
        let gitlab = br#"{"message":["Another open merge request already exists for this source branch: !5"]}"#;
        assert!(error_message(gitlab).starts_with("Another open merge request"));
        let fields = br#"{"message":{"title":["can't be blank"]}}"#;
        assert_eq!(error_message(fields), "title can't be blank");
        let oauth = br#"{"error":"invalid_token","error_description":"Token was revoked."}"#;
        assert_eq!(error_message(oauth), "invalid_token; Token was revoked.");
        assert_eq!(
            error_message(b"<html>Bad Gateway</html>\n"),
            "<html>Bad Gateway</html>"
        );
        assert_eq!(error_message(b""), "(no message)");
        assert!(error_message("é".repeat(900).as_bytes()).ends_with('…'));
    }

    #[test]
    fn rate_limits_are_told_from_permission_errors() {
        let none = HeaderMap::new();
        assert!(is_rate_limited(StatusCode::TOO_MANY_REQUESTS, &none, ""));
        assert!(!is_rate_limited(
            StatusCode::FORBIDDEN,
            &none,
            "Resource not accessible"
        ));
        let spent = headers(&[("x-ratelimit-remaining", "0")]);
        assert!(is_rate_limited(StatusCode::FORBIDDEN, &spent, ""));
        let secondary = "You have exceeded a secondary rate limit";
        assert!(is_rate_limited(StatusCode::FORBIDDEN, &none, secondary));
    }

    #[test]
    fn reset_times_from_each_header() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let retry = headers(&[("retry-after", "30")]);
        assert_eq!(
            rate_limit_reset(&retry, now),
            Some(now + Duration::from_secs(30))
        );
        let epoch = headers(&[("x-ratelimit-reset", "1700000600")]);
        assert_eq!(
            rate_limit_reset(&epoch, now),
            Some(now + Duration::from_secs(600))
        );
        let gitlab = headers(&[("ratelimit-reset", "1700000060")]);
        assert_eq!(
            rate_limit_reset(&gitlab, now),
            Some(now + Duration::from_secs(60))
        );
        assert_eq!(rate_limit_reset(&HeaderMap::new(), now), None);
    }

    #[test]
    fn next_page_from_link_headers() {
        let current = Url::parse("http://127.0.0.1:1/repos/o/r/pulls?state=open").unwrap();
        let link = headers(&[(
            "link",
            r#"<http://127.0.0.1:1/repos/o/r/pulls?state=open&page=2>; rel="next", <http://127.0.0.1:1/repos/o/r/pulls?state=open&page=5>; rel="last""#,
        )]);
        let next = next_page(&current, &link).unwrap().unwrap();
        assert_eq!(
            next.as_str(),
            "http://127.0.0.1:1/repos/o/r/pulls?state=open&page=2"
        );
        let last = headers(&[(
            "link",
            r#"<http://x/?page=1>; rel="first", <http://x/?page=1>; rel="prev""#,
        )]);
        assert_eq!(next_page(&current, &last).unwrap(), None);
    }

    #[test]
    fn next_page_from_gitlab_x_next_page() {
        let current =
            Url::parse("http://h/api/v4/projects/g%2Fp/merge_requests?state=opened&page=1")
                .unwrap();
        let next = next_page(&current, &headers(&[("x-next-page", "2")]))
            .unwrap()
            .unwrap();
        assert_eq!(
            next.as_str(),
            "http://h/api/v4/projects/g%2Fp/merge_requests?state=opened&page=2"
        );
        assert_eq!(
            next_page(&current, &headers(&[("x-next-page", "")])).unwrap(),
            None
        );
        assert!(next_page(&current, &headers(&[("x-next-page", "x")])).is_err());
    }
}
