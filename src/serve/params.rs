//! Query strings of the web UI and the API, checked before anything reads the store.
//!
//! Every route names the parameters it knows; anything else, a repeated single-valued
//! parameter, a malformed number, date, status or site name is a [`Failure`] with status
//! 400 and a message naming the parameter. Empty values (what a form sends for a field left
//! blank) count as absent.
//!
//! Parts: [`Params`] (parse and typed getters) and [`Failure`] (an HTTP status and a
//! message, what every handler returns on error).

use axum::http::StatusCode;

use crate::query::{parse_date_bound, Filter};
use crate::search::SearchOrder;
use crate::store::model::ArticleStatus;
use crate::Error;

/// Longest accepted search text: a query, not a document.
const MAX_TEXT_CHARS: usize = 500;
/// Longest accepted article URL.
const MAX_URL_CHARS: usize = 4096;

/// Why a request could not be answered: the status to send and a message for the reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub status: StatusCode,
    pub message: String,
}

impl Failure {
    pub fn bad_request(message: impl Into<String>) -> Failure {
        Failure {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Failure {
        Failure {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Failure {
        Failure {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: message.into(),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        let status = match &e {
            Error::ArticleNotFound(_) | Error::VersionNotFound { .. } | Error::RunNotFound(_) => {
                StatusCode::NOT_FOUND
            }
            Error::InvalidDateFilter { .. } | Error::NothingToDiff { .. } => {
                StatusCode::BAD_REQUEST
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %e, "serve: request failed");
        }
        Failure {
            status,
            message: e.to_string(),
        }
    }
}

/// The decoded parameters of one request.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Decodes `raw` (the query string, without `?`) and refuses parameters not in
    /// `allowed`.
    pub fn parse(raw: Option<&str>, allowed: &[&str]) -> Result<Params, Failure> {
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        for (k, _) in &pairs {
            if !allowed.contains(&k.as_str()) {
                let known = if allowed.is_empty() {
                    "none".to_string()
                } else {
                    allowed.join(", ")
                };
                return Err(Failure::bad_request(format!(
                    "unknown parameter `{k}` (known here: {known})"
                )));
            }
        }
        Ok(Params { pairs })
    }

    /// The non-empty values of `key`, in order.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The value of a single-valued parameter (`None` when absent or empty).
    pub fn one(&self, key: &str) -> Result<Option<&str>, Failure> {
        match self.all(key).as_slice() {
            [] => Ok(None),
            [v] => Ok(Some(v.trim())),
            _ => Err(Failure::bad_request(format!(
                "parameter `{key}` given more than once"
            ))),
        }
    }

    pub fn required(&self, key: &str) -> Result<&str, Failure> {
        self.one(key)?
            .ok_or_else(|| Failure::bad_request(format!("parameter `{key}` is required")))
    }

    /// The article URL parameter `url` (required).
    pub fn url(&self) -> Result<&str, Failure> {
        let url = self.required("url")?;
        if url.chars().count() > MAX_URL_CHARS {
            return Err(Failure::bad_request(format!(
                "parameter `url` is longer than {MAX_URL_CHARS} characters"
            )));
        }
        Ok(url)
    }

    /// Search text `q` (empty when absent).
    pub fn text(&self) -> Result<String, Failure> {
        let q = self.one("q")?.unwrap_or("");
        if q.chars().count() > MAX_TEXT_CHARS {
            return Err(Failure::bad_request(format!(
                "parameter `q` is longer than {MAX_TEXT_CHARS} characters"
            )));
        }
        Ok(q.to_string())
    }

    /// An integer in `min..=max`.
    pub fn number(&self, key: &str, min: u64, max: u64) -> Result<Option<u64>, Failure> {
        let Some(v) = self.one(key)? else {
            return Ok(None);
        };
        match v.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(Failure::bad_request(format!(
                "parameter `{key}`: expected a whole number from {min} to {max}, got `{v}`"
            ))),
        }
    }

    /// A version number (1 or more).
    pub fn version(&self, key: &str) -> Result<Option<u32>, Failure> {
        Ok(self
            .number(key, 1, u64::from(u32::MAX))?
            .and_then(|n| u32::try_from(n).ok()))
    }

    /// A date bound (`2021-03-31`, `2021-03`, `2021`): the start of the period, or with
    /// `end` the start of the next one, as `luutru query` reads `--since` / `--until`.
    pub fn date(
        &self,
        key: &str,
        end: bool,
    ) -> Result<Option<chrono::DateTime<chrono::FixedOffset>>, Failure> {
        let Some(v) = self.one(key)? else {
            return Ok(None);
        };
        parse_date_bound(v, end)
            .map(Some)
            .map_err(|e| Failure::bad_request(format!("parameter `{key}`: {e}")))
    }

    /// Site names (`site`, repeatable): the config's name syntax, `[a-z0-9-]+`.
    pub fn sites(&self) -> Result<Vec<String>, Failure> {
        let mut out = Vec::new();
        for s in self.all("site") {
            let s = s.trim();
            let ok = s
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !ok || s.len() > 100 {
                return Err(Failure::bad_request(format!(
                    "parameter `site`: `{s}` is not a site name (lower-case letters, digits, -)"
                )));
            }
            if !out.iter().any(|o| o == s) {
                out.push(s.to_string());
            }
        }
        Ok(out)
    }

    /// `status=live|gone` (`all` or absent: no filter).
    pub fn status(&self) -> Result<Option<ArticleStatus>, Failure> {
        match self.one("status")? {
            None | Some("all") => Ok(None),
            Some("live") => Ok(Some(ArticleStatus::Live)),
            Some("gone") => Ok(Some(ArticleStatus::Gone)),
            Some(other) => Err(Failure::bad_request(format!(
                "parameter `status`: expected live, gone or all, got `{other}`"
            ))),
        }
    }

    /// The filter of the search page and `/api/query`: `site`, `since`, `until`, `status`.
    pub fn filter(&self) -> Result<Filter, Failure> {
        let filter = Filter {
            sites: self.sites()?,
            since: self.date("since", false)?,
            until: self.date("until", true)?,
            status: self.status()?,
        };
        if let (Some(s), Some(u)) = (filter.since, filter.until) {
            if s >= u {
                return Err(Failure::bad_request(
                    "parameter `since` is after `until`: nothing can match",
                ));
            }
        }
        Ok(filter)
    }

    /// `as_of`: each article as it read at that moment, as `luutru query --as-of` reads
    /// it: an RFC 3339 time, or the last moment of the day, month or year named.
    pub fn as_of(&self) -> Result<Option<chrono::DateTime<chrono::FixedOffset>>, Failure> {
        let Some(v) = self.one("as_of")? else {
            return Ok(None);
        };
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
            return Ok(Some(t));
        }
        parse_date_bound(v, true)
            .map(|end| Some(end - chrono::Duration::nanoseconds(1)))
            .map_err(|e| {
                Failure::bad_request(format!("parameter `as_of`: {e}, or an RFC 3339 time"))
            })
    }

    /// A yes/no switch: `1`, `true`, `on` (a ticked checkbox) or `0`, `false`, `off`.
    pub fn flag(&self, key: &str) -> Result<bool, Failure> {
        match self.one(key)? {
            None | Some("0" | "false" | "off") => Ok(false),
            Some("1" | "true" | "on") => Ok(true),
            Some(other) => Err(Failure::bad_request(format!(
                "parameter `{key}`: expected 1, true, on, 0, false or off, got `{other}`"
            ))),
        }
    }

    /// `luutru query`'s options: `q`, the filter, `as_of`, `changed`, `sort`.
    pub fn search_request(&self) -> Result<crate::serve::data::SearchRequest, Failure> {
        let text = self.text()?;
        let order = self.order(!text.trim().is_empty())?;
        Ok(crate::serve::data::SearchRequest {
            filter: self.filter()?,
            as_of: self.as_of()?,
            changed: self.flag("changed")?,
            order,
            text,
        })
    }

    /// `sort=relevance|date`; without it, relevance for a text search and newest first
    /// for browsing.
    pub fn order(&self, has_text: bool) -> Result<SearchOrder, Failure> {
        match self.one("sort")? {
            None if has_text => Ok(SearchOrder::Relevance),
            None => Ok(SearchOrder::Newest),
            Some("relevance") => Ok(SearchOrder::Relevance),
            Some("date") => Ok(SearchOrder::Newest),
            Some(other) => Err(Failure::bad_request(format!(
                "parameter `sort`: expected relevance or date, got `{other}`"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(raw: &str, allowed: &[&str]) -> Result<Params, Failure> {
        Params::parse(Some(raw), allowed)
    }

    #[test]
    fn unknown_and_repeated_parameters_are_refused() {
        let e = p("q=a&x=1", &["q"]).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.message.contains("`x`"), "{}", e.message);
        let params = p("q=a&q=b", &["q"]).unwrap();
        assert!(params
            .text()
            .unwrap_err()
            .message
            .contains("more than once"));
    }

    #[test]
    fn empty_values_count_as_absent() {
        let params = p("q=&since=&status=&site=", &["q", "since", "status", "site"]).unwrap();
        assert_eq!(params.text().unwrap(), "");
        let f = params.filter().unwrap();
        assert!(f.since.is_none() && f.status.is_none() && f.sites.is_empty());
    }

    #[test]
    fn values_are_decoded_and_checked() {
        let params = p(
            "q=chi+linh&site=tinhuy&site=baomoi&since=2021-03&until=2021&status=gone&page=2",
            &["q", "site", "since", "until", "status", "page"],
        )
        .unwrap();
        assert_eq!(params.text().unwrap(), "chi linh");
        let f = params.filter().unwrap();
        assert_eq!(f.sites, ["tinhuy", "baomoi"]);
        assert_eq!(f.since.unwrap().to_rfc3339(), "2021-03-01T00:00:00+07:00");
        assert_eq!(f.until.unwrap().to_rfc3339(), "2022-01-01T00:00:00+07:00");
        assert_eq!(f.status, Some(ArticleStatus::Gone));
        assert_eq!(params.number("page", 1, 10).unwrap(), Some(2));

        for (raw, key) in [
            ("since=31/03/2021", "since"),
            ("status=deleted", "status"),
            ("site=Tinh%20uy", "site"),
            ("page=0", "page"),
            ("page=x", "page"),
            ("since=2022&until=2021", "since"),
        ] {
            let params = p(raw, &["since", "until", "status", "site", "page"]).unwrap();
            let e = params
                .filter()
                .and_then(|_| params.number("page", 1, 10).map(|_| Filter::default()))
                .unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{raw}");
            assert!(e.message.contains(key), "{raw}: {}", e.message);
        }
    }

    #[test]
    fn as_of_and_changed_read_like_the_cli() {
        let params = p("as_of=2021-03&changed=on", &["as_of", "changed"]).unwrap();
        assert_eq!(
            params.as_of().unwrap().unwrap().to_rfc3339(),
            "2021-03-31T23:59:59.999999999+07:00"
        );
        assert!(params.flag("changed").unwrap());
        let params = p("as_of=2021-03-31T08:00:00Z", &["as_of"]).unwrap();
        assert_eq!(
            params.as_of().unwrap().unwrap().to_rfc3339(),
            "2021-03-31T08:00:00+00:00"
        );
        let params = p("as_of=hom+qua&changed=maybe", &["as_of", "changed"]).unwrap();
        assert!(params.as_of().unwrap_err().message.contains("as_of"));
        assert!(params
            .flag("changed")
            .unwrap_err()
            .message
            .contains("changed"));
    }

    #[test]
    fn store_errors_map_to_statuses() {
        let f: Failure = Error::ArticleNotFound("http://x/".into()).into();
        assert_eq!(f.status, StatusCode::NOT_FOUND);
        let f: Failure = Error::NothingToDiff {
            url: "u".into(),
            message: "it has only one version".into(),
        }
        .into();
        assert_eq!(f.status, StatusCode::BAD_REQUEST);
    }
}
