//! The JSON API under `/api/`: the same records as the CLI's `--format json`, read through
//! [`super::data`]. Failures are `{"error": message, "status": code}` with that status.
//!
//! | route | parameters | answer |
//! |---|---|---|
//! | `/api/query` | `q` (`--text`), `site`…, `since`, `until`, `status`, `as_of`, `changed`, `sort`, `limit` (default 100, 0 = all), `offset` | `luutru query --format json` |
//! | `/api/show` | `url`, `version` | `luutru show --format json` |
//! | `/api/history` | `url` | `luutru history --format json` |
//! | `/api/diff` | `url`, `from`, `to` | `luutru diff --format json` |
//! | `/api/changes` | `site`…, `since`, `until`, `limit` (default 100, 0 = all), `offset` | [`data::ChangeEntry`] list, newest first |
//! | `/api/runs` | `limit` (default 20) | `luutru runs --format json` |
//! | `/api/runs/{id}` | | `luutru runs show ID` |
//! | `/api/sites` | | `luutru sites --format json` |

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::data::{self, ShowJson};
use super::params::{Failure, Params};
use super::ui::run_id;
use super::{blocking, with_type, AppState};

const DEFAULT_LIMIT: u64 = 100;
const MAX_LIMIT: u64 = 10_000;
const MAX_OFFSET: u64 = 10_000_000;

type St = State<Arc<AppState>>;

/// A failure as JSON with its status.
pub fn failure(f: Failure) -> Response {
    #[derive(Serialize)]
    struct ErrorJson<'a> {
        error: &'a str,
        status: u16,
    }
    let body = ErrorJson {
        error: &f.message,
        status: f.status.as_u16(),
    };
    match serde_json::to_string(&body) {
        Ok(b) => with_type(f.status, "application/json", b),
        Err(_) => with_type(f.status, "text/plain; charset=utf-8", f.message),
    }
}

/// Encodes on the blocking pool too: a long list is real work.
fn answer(r: Result<String, Failure>) -> Response {
    match r {
        Ok(body) => with_type(StatusCode::OK, "application/json", body),
        Err(f) => failure(f),
    }
}

fn encode<T: Serialize>(value: &T) -> Result<String, Failure> {
    serde_json::to_string(value)
        .map_err(|e| Failure::internal(format!("cannot encode the answer: {e}")))
}

fn paging(p: &Params) -> Result<(usize, usize), Failure> {
    let limit = p.number("limit", 0, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
    let offset = p.number("offset", 0, MAX_OFFSET)?.unwrap_or(0);
    Ok((offset as usize, limit as usize))
}

pub async fn query(State(state): St, RawQuery(q): RawQuery) -> Response {
    answer(
        blocking(&state, move |s| {
            let p = Params::parse(
                q.as_deref(),
                &[
                    "q", "site", "since", "until", "status", "as_of", "changed", "sort", "limit",
                    "offset",
                ],
            )?;
            let req = p.search_request()?;
            let (offset, limit) = paging(&p)?;
            let page = data::search(s, &req, offset, limit, false)?;
            encode(&page.items)
        })
        .await,
    )
}

pub async fn show(State(state): St, RawQuery(q): RawQuery) -> Response {
    answer(
        blocking(&state, move |s| {
            let p = Params::parse(q.as_deref(), &["url", "version"])?;
            let d = data::article(&s.store, p.url()?, p.version("version")?)?;
            encode(&ShowJson::of(&d))
        })
        .await,
    )
}

pub async fn history(State(state): St, RawQuery(q): RawQuery) -> Response {
    answer(
        blocking(&state, move |s| {
            let p = Params::parse(q.as_deref(), &["url"])?;
            let (_, versions) = data::find(&s.store, p.url()?)?;
            encode(&data::history(&versions))
        })
        .await,
    )
}

pub async fn diff(State(state): St, RawQuery(q): RawQuery) -> Response {
    answer(
        blocking(&state, move |s| {
            let p = Params::parse(q.as_deref(), &["url", "from", "to"])?;
            let d = data::diff(&s.store, p.url()?, p.version("from")?, p.version("to")?)?;
            encode(&d)
        })
        .await,
    )
}

pub async fn changes(State(state): St, RawQuery(q): RawQuery) -> Response {
    answer(
        blocking(&state, move |s| {
            let p = Params::parse(q.as_deref(), &["site", "since", "until", "limit", "offset"])?;
            let sites = p.sites()?;
            let since = p.date("since", false)?;
            let until = p.date("until", true)?;
            let (offset, limit) = paging(&p)?;
            let entries = data::changes(&s.store, &sites, since, until)?;
            let take = if limit == 0 { usize::MAX } else { limit };
            let page: Vec<_> = entries.into_iter().skip(offset).take(take).collect();
            encode(&page)
        })
        .await,
    )
}

pub async fn runs(State(state): St, RawQuery(q): RawQuery) -> Response {
    answer(
        blocking(&state, move |s| {
            let p = Params::parse(q.as_deref(), &["limit"])?;
            let limit = p.number("limit", 0, MAX_LIMIT)?.unwrap_or(20) as usize;
            encode(&data::runs(&s.store, limit)?)
        })
        .await,
    )
}

pub async fn run(State(state): St, Path(id): Path<String>, RawQuery(q): RawQuery) -> Response {
    answer(
        blocking(&state, move |s| {
            Params::parse(q.as_deref(), &[])?;
            encode(&data::run(&s.store, run_id(&id)?)?)
        })
        .await,
    )
}

pub async fn sites(State(state): St, RawQuery(q): RawQuery) -> Response {
    answer(
        blocking(&state, move |s| {
            Params::parse(q.as_deref(), &[])?;
            encode(&data::sites(s)?)
        })
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_json_with_their_status() {
        let resp = failure(Failure::not_found("no article stored under x"));
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            resp.headers()
                .get(axum::http::header::CONTENT_TYPE)
                .unwrap(),
            "application/json"
        );
    }

    #[test]
    fn paging_defaults_and_bounds() {
        let p = Params::parse(None, &["limit", "offset"]).unwrap();
        assert_eq!(paging(&p).unwrap(), (0, DEFAULT_LIMIT as usize));
        let p = Params::parse(Some("limit=0&offset=5"), &["limit", "offset"]).unwrap();
        assert_eq!(paging(&p).unwrap(), (5, 0));
        let p = Params::parse(Some("limit=100000"), &["limit", "offset"]).unwrap();
        assert_eq!(paging(&p).unwrap_err().status, StatusCode::BAD_REQUEST);
    }
}
