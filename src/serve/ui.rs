//! HTML handlers: parse the parameters, read through [`super::data`], render with
//! [`super::pages`]; failures become an error page with their status.
//!
//! Parts: one handler per page ([`search`], [`article`], [`diff`], [`raw`],
//! [`raw_content`], [`changes`], [`sites`], [`runs`], [`run`], [`style`]) and [`failure`].

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::header::{CONTENT_SECURITY_POLICY, X_FRAME_OPTIONS};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use maud::Markup;

use super::data;
use super::pages::{self, ChangesForm, RawView, SearchForm};
use super::params::{Failure, Params};
use super::{blocking, with_type, AppState, RAW_CSP};

/// Results per search page.
pub const PER_PAGE: usize = 20;
/// Highest page number accepted (deep pages cost a search of page × 20 results).
const MAX_PAGE: u64 = 500;
/// Changes listed on one page.
const CHANGES_SHOWN: usize = 200;

type St = State<Arc<AppState>>;

fn html(status: StatusCode, m: Markup) -> Response {
    with_type(status, "text/html; charset=utf-8", m.into_string())
}

/// An error page with the failure's status.
pub fn failure(f: Failure) -> Response {
    html(f.status, pages::error_page(&f))
}

fn page(r: Result<Markup, Failure>) -> Response {
    match r {
        Ok(m) => html(StatusCode::OK, m),
        Err(f) => failure(f),
    }
}

pub async fn style() -> Response {
    with_type(
        StatusCode::OK,
        "text/css; charset=utf-8",
        pages::STYLE.to_string(),
    )
}

pub async fn search(State(state): St, RawQuery(q): RawQuery) -> Response {
    page(
        blocking(&state, move |s| {
            let p = Params::parse(
                q.as_deref(),
                &[
                    "q", "site", "since", "until", "status", "as_of", "changed", "sort", "page",
                ],
            )?;
            let req = p.search_request()?;
            let page_no = p.number("page", 1, MAX_PAGE)?.unwrap_or(1) as usize;
            let value = |key: &str| -> Result<String, Failure> {
                Ok(p.one(key)?.unwrap_or("").to_string())
            };
            let form = SearchForm {
                q: req.text.clone(),
                sites: p.sites()?,
                since: value("since")?,
                until: value("until")?,
                status: value("status")?,
                as_of: value("as_of")?,
                changed: req.changed,
                sort: value("sort")?,
            };
            let results = data::search(s, &req, (page_no - 1) * PER_PAGE, PER_PAGE, true)?;
            Ok(pages::search_page(
                &s.sites, &form, &results, page_no, PER_PAGE,
            ))
        })
        .await,
    )
}

pub async fn article(State(state): St, RawQuery(q): RawQuery) -> Response {
    page(
        blocking(&state, move |s| {
            let p = Params::parse(q.as_deref(), &["url", "version"])?;
            let d = data::article(&s.store, p.url()?, p.version("version")?)?;
            Ok(pages::article_page(&d))
        })
        .await,
    )
}

pub async fn diff(State(state): St, RawQuery(q): RawQuery) -> Response {
    page(
        blocking(&state, move |s| {
            let p = Params::parse(q.as_deref(), &["url", "from", "to"])?;
            let url = p.url()?;
            let diff = data::diff(&s.store, url, p.version("from")?, p.version("to")?)?;
            let d = data::article(&s.store, url, None)?;
            Ok(pages::diff_page(&d, &diff))
        })
        .await,
    )
}

pub async fn raw(State(state): St, RawQuery(q): RawQuery) -> Response {
    page(
        blocking(&state, move |s| {
            let p = Params::parse(q.as_deref(), &["url", "version", "view"])?;
            let view = match p.one("view")? {
                None | Some("frame") => RawView::Frame,
                Some("source") => RawView::Source,
                Some(other) => {
                    return Err(Failure::bad_request(format!(
                        "parameter `view`: expected frame or source, got `{other}`"
                    )))
                }
            };
            let d = data::article(&s.store, p.url()?, p.version("version")?)?;
            let raw = data::raw_html(&s.store, d.version())?;
            Ok(pages::raw_page(&d, view, &raw))
        })
        .await,
    )
}

/// The archived HTML itself, for the raw page's iframe: sandboxed by its own CSP.
pub async fn raw_content(State(state): St, RawQuery(q): RawQuery) -> Response {
    let r = blocking(&state, move |s| {
        let p = Params::parse(q.as_deref(), &["url", "version"])?;
        let d = data::article(&s.store, p.url()?, p.version("version")?)?;
        Ok(data::raw_html(&s.store, d.version())?.html)
    })
    .await;
    match r {
        Ok(body) => {
            let mut resp = with_type(StatusCode::OK, "text/html; charset=utf-8", body);
            let h = resp.headers_mut();
            h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(RAW_CSP));
            h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
            resp
        }
        Err(f) => failure(f),
    }
}

pub async fn changes(State(state): St, RawQuery(q): RawQuery) -> Response {
    page(
        blocking(&state, move |s| {
            let p = Params::parse(q.as_deref(), &["site", "since", "until"])?;
            let sites = p.sites()?;
            let mut entries = data::changes(
                &s.store,
                &sites,
                p.date("since", false)?,
                p.date("until", true)?,
            )?;
            let more = entries.len() > CHANGES_SHOWN;
            entries.truncate(CHANGES_SHOWN);
            let form = ChangesForm {
                sites: sites.clone(),
                since: p.one("since")?.unwrap_or("").to_string(),
                until: p.one("until")?.unwrap_or("").to_string(),
            };
            Ok(pages::changes_page(&s.sites, &form, &entries, more))
        })
        .await,
    )
}

pub async fn sites(State(state): St, RawQuery(q): RawQuery) -> Response {
    page(
        blocking(&state, move |s| {
            Params::parse(q.as_deref(), &[])?;
            Ok(pages::sites_page(&data::sites(s)?))
        })
        .await,
    )
}

pub async fn runs(State(state): St, RawQuery(q): RawQuery) -> Response {
    page(
        blocking(&state, move |s| {
            let p = Params::parse(q.as_deref(), &["limit"])?;
            let limit = p.number("limit", 1, 10_000)?.unwrap_or(50) as usize;
            Ok(pages::runs_page(&data::runs(&s.store, limit)?))
        })
        .await,
    )
}

/// A run id from the path.
pub fn run_id(raw: &str) -> Result<u64, Failure> {
    raw.parse::<u64>()
        .map_err(|_| Failure::bad_request(format!("`{raw}` is not a run id (a whole number)")))
}

pub async fn run(State(state): St, Path(id): Path<String>, RawQuery(q): RawQuery) -> Response {
    page(
        blocking(&state, move |s| {
            Params::parse(q.as_deref(), &[])?;
            Ok(pages::run_page(&data::run(&s.store, run_id(&id)?)?))
        })
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::CONTENT_TYPE;

    #[test]
    fn run_ids_are_numbers() {
        assert_eq!(run_id("12"), Ok(12));
        assert_eq!(run_id("x").unwrap_err().status, StatusCode::BAD_REQUEST);
        assert_eq!(run_id("-1").unwrap_err().status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn error_pages_escape_the_message() {
        let resp = failure(Failure::bad_request("bad `<script>`"));
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            resp.headers().get(CONTENT_TYPE).unwrap(),
            "text/html; charset=utf-8"
        );
        let page = pages::error_page(&Failure::bad_request("bad `<script>`")).into_string();
        assert!(page.contains("bad `&lt;script&gt;`"));
        assert!(!page.contains("<script"));
    }
}
