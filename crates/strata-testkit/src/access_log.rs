//! Test support, observation stage: parses the registry's access log (combined log
//! format on stdout) into requests; pure text, no I/O.

/// One request line from the registry's access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// `GET`, `HEAD`, `PUT`, ...
    pub method: String,
    /// The URI path, e.g. `/v2/library/alpine/manifests/3.20` (no query).
    pub path: String,
    /// The query string without `?`, if any.
    pub query: Option<String>,
    /// The HTTP status the registry answered.
    pub status: u16,
}

impl LoggedRequest {
    /// True for requests to `/v2/<repo>/manifests/<reference>`.
    pub fn is_manifest(&self) -> bool {
        self.path.contains("/manifests/")
    }

    /// True for requests to `/v2/<repo>/blobs/...` (including uploads).
    pub fn is_blob(&self) -> bool {
        self.path.contains("/blobs/")
    }
}

/// Parse every well-formed line; others (partial writes) are skipped.
pub(crate) fn parse(text: &str) -> Vec<LoggedRequest> {
    text.lines().filter_map(parse_line).collect()
}

// `127.0.0.1 - user [22/Nov/2026:11:35:55 +0000] "GET /v2/ HTTP/1.1" 200 2 "" "curl/7.88.1"`
fn parse_line(line: &str) -> Option<LoggedRequest> {
    let open = line.find('"')?;
    let rest = &line[open + 1..];
    let close = rest.find('"')?;
    let mut request = rest[..close].split(' ');
    let method = request.next()?.to_owned();
    let uri = request.next()?;
    let status = rest[close + 1..].split_whitespace().next()?.parse().ok()?;
    let (path, query) = match uri.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (uri.to_owned(), None),
    };
    Some(LoggedRequest {
        method,
        path,
        query,
        status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_combined_log_lines_and_skips_partial_ones() {
        let text = "127.0.0.1 - - [22/Nov/2026:11:35:55 +0000] \"GET /v2/ HTTP/1.1\" 200 2 \"\" \"curl/7.88.1\"\n\
                    127.0.0.1 - alice [22/Nov/2026:11:35:55 +0000] \"PUT /v2/a/blobs/uploads/x?digest=sha256:1 HTTP/1.1\" 201 0 \"\" \"ua\"\n\
                    127.0.0.1 - - [22/Nov/2026:11:35";
        let got = parse(text);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].method, "GET");
        assert_eq!(got[0].path, "/v2/");
        assert_eq!(got[0].status, 200);
        assert_eq!(got[1].query.as_deref(), Some("digest=sha256:1"));
        assert!(got[1].is_blob());
    }
}
