//! resolve stage: parsing `WWW-Authenticate` challenges (RFC 7235 auth-params, quoted
//! strings with escapes and commas). Pure parsing; it never contacts the realm.

/// One authentication challenge a registry sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    /// Get a token from `realm` (the distribution token protocol).
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    /// Send a username and password on every request.
    Basic,
}

/// The challenges in one `WWW-Authenticate` header value, in order. Unknown schemes and
/// Bearer challenges without a realm are dropped: we could not answer them anyway.
pub(crate) fn parse(header: &str) -> Vec<Challenge> {
    let mut parser = Parser { rest: header };
    let mut out = Vec::new();
    let mut pending = parser.token();
    while let Some(scheme) = pending.take() {
        let mut params: Vec<(String, String)> = Vec::new();
        loop {
            parser.skip(|c| c == ' ' || c == '\t' || c == ',');
            let Some(name) = parser.token() else { break };
            parser.skip(|c| c == ' ' || c == '\t');
            if parser.eat('=') {
                parser.skip(|c| c == ' ' || c == '\t');
                let value = parser.value();
                params.push((name.to_ascii_lowercase(), value));
            } else {
                // A token not followed by '=' starts the next challenge.
                pending = Some(name);
                break;
            }
        }
        if let Some(challenge) = build(&scheme, params) {
            out.push(challenge);
        }
    }
    out
}

/// The challenge we prefer from all `WWW-Authenticate` values: Bearer over Basic.
pub(crate) fn preferred<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<Challenge> {
    let all: Vec<Challenge> = values.into_iter().flat_map(parse).collect();
    all.iter()
        .find(|c| matches!(c, Challenge::Bearer { .. }))
        .or_else(|| all.first())
        .cloned()
}

fn build(scheme: &str, params: Vec<(String, String)>) -> Option<Challenge> {
    let get = |key: &str| {
        params
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.clone())
    };
    if scheme.eq_ignore_ascii_case("bearer") {
        Some(Challenge::Bearer {
            realm: get("realm").filter(|realm| !realm.is_empty())?,
            service: get("service"),
            scope: get("scope"),
        })
    } else if scheme.eq_ignore_ascii_case("basic") {
        Some(Challenge::Basic)
    } else {
        None
    }
}

/// A cursor over the header text.
struct Parser<'a> {
    rest: &'a str,
}

impl Parser<'_> {
    fn skip(&mut self, what: impl Fn(char) -> bool) {
        self.rest = self.rest.trim_start_matches(what);
    }

    fn eat(&mut self, c: char) -> bool {
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    /// An RFC 7230 token (scheme or parameter name).
    fn token(&mut self) -> Option<String> {
        self.skip(|c| c == ' ' || c == '\t');
        let end = self
            .rest
            .find(|c: char| !is_token_char(c))
            .unwrap_or(self.rest.len());
        if end == 0 {
            return None;
        }
        let (token, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some(token.to_owned())
    }

    /// A parameter value: a quoted string (backslash escapes, commas allowed) or a token.
    fn value(&mut self) -> String {
        if !self.eat('"') {
            return self.token().unwrap_or_default();
        }
        let mut out = String::new();
        let mut chars = self.rest.char_indices();
        while let Some((at, c)) = chars.next() {
            match c {
                '"' => {
                    self.rest = &self.rest[at + 1..];
                    return out;
                }
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        out.push(escaped);
                    }
                }
                _ => out.push(c),
            }
        }
        // Unterminated quote: take what there is rather than failing the whole header.
        self.rest = "";
        out
    }
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~/:".contains(c)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn bearer(realm: &str, service: Option<&str>, scope: Option<&str>) -> Challenge {
        Challenge::Bearer {
            realm: realm.into(),
            service: service.map(Into::into),
            scope: scope.map(Into::into),
        }
    }

    #[test]
    fn parses_docker_hub_challenge() {
        let header = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/python:pull""#;
        assert_eq!(
            parse(header),
            vec![bearer(
                "https://auth.docker.io/token",
                Some("registry.docker.io"),
                Some("repository:library/python:pull"),
            )]
        );
    }

    #[test]
    fn quoted_values_keep_commas_and_escapes() {
        let header = r#"Bearer realm="http://127.0.0.1:1/token", scope="repository:a/b:pull,push", service="say \"hi\"""#;
        assert_eq!(
            parse(header),
            vec![bearer(
                "http://127.0.0.1:1/token",
                Some(r#"say "hi""#),
                Some("repository:a/b:pull,push"),
            )]
        );
    }

    #[test]
    fn scheme_and_names_are_case_insensitive_and_tokens_unquoted() {
        let header = "bearer REALM=https://r.example/token,Service=reg";
        assert_eq!(
            parse(header),
            vec![bearer("https://r.example/token", Some("reg"), None)]
        );
    }

    #[test]
    fn several_challenges_in_one_header() {
        let header = r#"Basic realm="Registry Realm", Bearer realm="https://t/x",service="s""#;
        assert_eq!(
            parse(header),
            vec![Challenge::Basic, bearer("https://t/x", Some("s"), None)]
        );
        assert_eq!(
            preferred([header]),
            Some(bearer("https://t/x", Some("s"), None))
        );
    }

    #[test]
    fn basic_challenge_from_htpasswd_registry() {
        assert_eq!(
            parse(r#"Basic realm="basic-realm""#),
            vec![Challenge::Basic]
        );
        assert_eq!(preferred(["Basic realm=x"]), Some(Challenge::Basic));
    }

    #[test]
    fn unanswerable_or_broken_headers_give_nothing_and_never_panic() {
        for header in [
            "",
            "Negotiate",
            "Bearer",
            "Bearer service=x",
            "Bearer realm=\"",
            "=,=,\"",
            "Bearer realm=\"\\",
            "Bearer realm=\"é\u{0}\"x",
        ] {
            let _ = parse(header);
        }
        assert_eq!(parse("Bearer service=x"), vec![]);
        assert_eq!(
            parse(r#"Bearer realm="unterminated"#),
            vec![bearer("unterminated", None, None)]
        );
        assert_eq!(preferred(["Negotiate abc"]), None);
    }
}
