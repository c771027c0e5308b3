//! Canonical URLs: the one spelling under which an article is stored.
//!
//! Portals hand out many spellings of one page: tracking parameters added by social
//! networks and newsletters, session ids in the path (`;jsessionid=…`, ASP.NET's
//! `/(S(…))/`) or the query, parameters in a different order, a fragment, an explicit
//! default port. [`canonicalize`] removes all of them so the frontier and the article
//! records are keyed by one string; every other spelling seen is kept as an alias.
//!
//! Parts: [`canonicalize`], [`parse_canonical`], and the parameter lists
//! [`TRACKING_PARAMS`] / [`SESSION_PARAMS`].

use url::Url;

use crate::{Error, Result};

/// Query parameters that only say where a click came from.
pub const TRACKING_PARAMS: &[&str] = &[
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "mc_cid",
    "mc_eid", "_ga", "_gl", "zarsrc", "gidzl", "utm_id", "_hsenc", "_hsmi", "mkt_tok",
];

/// Query parameters that carry a server session (compared case-insensitively; any
/// parameter starting with `aspsessionid` is one too).
pub const SESSION_PARAMS: &[&str] = &["jsessionid", "phpsessid", "sessionid", "cfid", "cftoken"];

fn is_noise_param(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.starts_with("utm_")
        || k.starts_with("aspsessionid")
        || TRACKING_PARAMS.contains(&k.as_str())
        || SESSION_PARAMS.contains(&k.as_str())
}

/// Returns the canonical form of `url`: lower-case scheme and host and default port
/// dropped (the `url` crate already does both), fragment dropped, tracking parameters and
/// session ids removed, remaining query parameters sorted by name (stable, so repeated
/// names keep their order). Parameter bytes are kept as they were encoded: re-encoding
/// could change what an old server answers.
pub fn canonicalize(url: &Url) -> Url {
    let mut out = url.clone();
    out.set_fragment(None);

    // Path-borne sessions: `/a/b.jsp;jsessionid=ABC?x` and ASP.NET `/(S(abc))/page.aspx`.
    let path = out.path().to_string();
    let mut new_path = String::with_capacity(path.len());
    for (i, seg) in path.split('/').enumerate() {
        if i > 0 {
            new_path.push('/');
        }
        let seg = match seg.find(';') {
            Some(pos) if is_noise_param(seg[pos + 1..].split('=').next().unwrap_or("")) => {
                &seg[..pos]
            }
            _ => seg,
        };
        let lower = seg.to_ascii_lowercase();
        if lower.starts_with("(s(") && lower.ends_with("))") {
            // Drop the segment and the slash that followed it.
            new_path.pop();
            if i == 0 {
                new_path.push('/');
            }
            continue;
        }
        new_path.push_str(seg);
    }
    let new_path = new_path.replace("//", "/");
    if new_path != path {
        out.set_path(if new_path.is_empty() { "/" } else { &new_path });
    }

    if let Some(query) = out.query() {
        let mut pairs: Vec<&str> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .filter(|p| {
                let key = p.split('=').next().unwrap_or("");
                let decoded = percent_decode(key);
                !is_noise_param(&decoded)
            })
            .collect();
        pairs.sort_by_key(|p| percent_decode(p.split('=').next().unwrap_or("")));
        let joined = pairs.join("&");
        out.set_query(if joined.is_empty() {
            None
        } else {
            Some(&joined)
        });
    }
    out
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(s.as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default()
}

/// Parses `input` as an absolute http(s) URL and canonicalizes it.
pub fn parse_canonical(input: &str) -> Result<Url> {
    let url = Url::parse(input.trim()).map_err(|e| Error::InvalidUrl {
        url: input.to_string(),
        message: e.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::InvalidUrl {
            url: input.to_string(),
            message: "only http and https URLs can be crawled".into(),
        });
    }
    Ok(canonicalize(&url))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> String {
        parse_canonical(s).unwrap().to_string()
    }

    #[test]
    fn lowercases_scheme_and_host_and_drops_default_port_and_fragment() {
        assert_eq!(
            c("HTTP://TinhUyHaiDuong.VN:80/news/Pages/new.aspx?ItemID=1#top"),
            "http://tinhuyhaiduong.vn/news/Pages/new.aspx?ItemID=1"
        );
        assert_eq!(c("https://a.vn:443/x"), "https://a.vn/x");
        assert_eq!(c("http://a.vn:8080/x"), "http://a.vn:8080/x");
    }

    #[test]
    fn removes_tracking_parameters() {
        assert_eq!(
            c("http://a.vn/x.html?utm_source=fb&utm_medium=social&id=3&fbclid=abc&gclid=1&zarsrc=30"),
            "http://a.vn/x.html?id=3"
        );
        assert_eq!(c("http://a.vn/x.html?UTM_Source=fb"), "http://a.vn/x.html");
    }

    #[test]
    fn removes_session_ids() {
        assert_eq!(
            c("http://a.gov.vn/web/guest/tin;jsessionid=0A1B2C3D?p_id=5"),
            "http://a.gov.vn/web/guest/tin?p_id=5"
        );
        assert_eq!(
            c("http://a.vn/p.asp?ASPSESSIONIDQQ=XYZ&id=2"),
            "http://a.vn/p.asp?id=2"
        );
        assert_eq!(
            c("http://a.vn/(S(abc123xyz))/Pages/new.aspx?ItemID=4"),
            "http://a.vn/Pages/new.aspx?ItemID=4"
        );
        assert_eq!(c("http://a.vn/x?PHPSESSID=1&b=2"), "http://a.vn/x?b=2");
    }

    #[test]
    fn sorts_remaining_parameters_and_keeps_their_encoding() {
        assert_eq!(
            c("http://tinhuyhaiduong.vn/news/Pages/new.aspx?ItemID=8&CateID=2"),
            "http://tinhuyhaiduong.vn/news/Pages/new.aspx?CateID=2&ItemID=8"
        );
        assert_eq!(
            c("http://a.vn/s?q=ch%C3%AD+linh&a=1"),
            "http://a.vn/s?a=1&q=ch%C3%AD+linh"
        );
        assert_eq!(c("http://a.vn/s?b=2&a=1&a=0"), "http://a.vn/s?a=1&a=0&b=2");
    }

    #[test]
    fn keeps_parameters_that_look_similar_but_are_content() {
        assert_eq!(
            c("http://a.vn/x?side=1&page=2"),
            "http://a.vn/x?page=2&side=1"
        );
    }

    #[test]
    fn rejects_non_http() {
        assert!(parse_canonical("ftp://a.vn/x").is_err());
        assert!(parse_canonical("not a url").is_err());
    }
}
