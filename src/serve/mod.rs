//! `luutru serve`: a read-only web UI and JSON API over one store.
//!
//! The server holds the store (its lock) for as long as it runs, like every other command,
//! so a crawl cannot run on the same store meanwhile: stop serve first, or serve a copy.
//! It answers GET and HEAD only and writes nothing to the archive.
//!
//! Safety, since every archived page is hostile input: pages are rendered by maud, which
//! escapes every value; no page of the UI carries a script; every response carries
//! [`UI_CSP`] (no script source at all, frames only from the UI itself), and the one route
//! that returns archived HTML as fetched (`/raw/content`) carries [`RAW_CSP`] instead: a
//! `sandbox` without `allow-scripts` (the page gets an opaque origin and cannot run script)
//! and `default-src 'none'` (nothing is loaded from the live site). The UI embeds it in an
//! `<iframe sandbox>` as well. On a loopback address, requests that name another host are
//! refused (421), so a web page cannot reach the archive through DNS rebinding.
//!
//! Routes (HTML, Vietnamese): `/` search, `/article`, `/diff`, `/raw` (+ `/raw/content`),
//! `/changes`, `/sites`, `/runs`, `/runs/{id}`, `/style.css`. JSON under `/api/`: `query`,
//! `show`, `history`, `diff`, `changes`, `runs`, `runs/{id}`, `sites`, with the fields of
//! the CLI's `--format json`. Unknown paths are 404, bad parameters 400 with a message.
//!
//! Parts: [`ServeArgs`] and [`run`] (bind, serve until shutdown), [`AppState`], [`router`],
//! [`exposure_warning`], [`host_is_local`]; submodules `params` (query strings), `data` (what pages and API
//! read: one source for both), `pages` (maud templates), `ui` (HTML handlers), `api` (JSON
//! handlers).

pub mod api;
pub mod data;
pub mod pages;
pub mod params;
pub mod ui;

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::config::Config;
use crate::store::{ArticleStore, Store};
use crate::{Error, Result};
use data::SearchBackend;
use params::Failure;

/// Where `serve` listens unless told otherwise: loopback only.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8484";

/// Content-Security-Policy of every UI page and API answer: no script from anywhere,
/// styles and images only from the UI, frames only of the UI's own `/raw/content`.
pub const UI_CSP: &str = "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Content-Security-Policy of archived HTML: sandboxed without `allow-scripts` (opaque
/// origin, no script, no forms, no popups), nothing loaded from anywhere but inline styles
/// and data: images, framable by the UI only.
pub const RAW_CSP: &str = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

/// `luutru serve` options.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address and port to listen on (port 0: any free port). Loopback by default; any
    /// other address opens the archive to the network and prints a warning.
    #[arg(long, default_value = DEFAULT_ADDR, value_name = "IP:PORT")]
    pub addr: SocketAddr,
}

/// What every handler reads: the store (held for the server's life), the config (for the
/// sites page), the search backend and the site names for the filters.
pub struct AppState {
    pub store: Store,
    pub config: Option<Config>,
    pub search: SearchBackend,
    /// Configured sites and sites present in the store, sorted.
    pub sites: Vec<String>,
}

impl AppState {
    /// Reads what the pages need once: the site names, and whether the search index covers
    /// the store (one pass over the articles).
    pub fn new(store: Store, config: Option<Config>) -> Result<AppState> {
        let mut sites: Vec<String> = config
            .iter()
            .flat_map(|c| c.sites.iter().map(|s| s.name.clone()))
            .collect();
        let mut articles = 0u64;
        for a in store.articles() {
            let a = a?;
            articles += 1;
            if !sites.contains(&a.site) {
                sites.push(a.site);
            }
        }
        sites.sort();
        let search = SearchBackend::choose(&store, articles);
        Ok(AppState {
            store,
            config,
            search,
            sites,
        })
    }
}

/// Why listening on `addr` deserves a warning, if it does.
pub fn exposure_warning(addr: SocketAddr) -> Option<String> {
    let ip = addr.ip();
    if ip.is_loopback() {
        return None;
    }
    let reach = if ip.is_unspecified() {
        "every network interface of this machine".to_string()
    } else {
        format!("the network behind {ip}")
    };
    Some(format!(
        "serving on {addr}: the archive is readable by anyone who can reach {reach}; \
         luutru serve has no authentication (use a loopback address, or a reverse proxy with \
         access control)"
    ))
}

/// Serves `store` on `args.addr` until `shutdown` resolves. Prints the address it listens
/// on (one line on stdout) once the socket is bound.
pub async fn run(
    store: Store,
    config: Option<Config>,
    args: &ServeArgs,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let serve_err = |message: String| Error::Serve {
        addr: args.addr.to_string(),
        message,
    };
    if let Some(w) = exposure_warning(args.addr) {
        tracing::warn!("{w}");
        eprintln!("warning: {w}");
    }
    let dir = store.dir().to_path_buf();
    let state = tokio::task::spawn_blocking(move || AppState::new(store, config))
        .await
        .map_err(|e| serve_err(e.to_string()))??;
    let search = state.search.describe();
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| serve_err(e.to_string()))?;
    let local = listener
        .local_addr()
        .map_err(|e| serve_err(e.to_string()))?;
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "luutru serve: http://{local}/ (store {}, read-only; search: {search}; Ctrl-C stops)",
            dir.display()
        )
        .and_then(|_| out.flush())
        .map_err(Error::WriteOutput)?;
    }
    tracing::info!(addr = %local, store = %dir.display(), search = %search, "serving");
    // axum wants a `Send + 'static` shutdown future; the caller's need be neither.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let local_only = args.addr.ip().is_loopback();
    let server = axum::serve(listener, router(Arc::new(state), local_only))
        .with_graceful_shutdown(async move {
            let _ = stopped.await;
        })
        .into_future();
    tokio::pin!(server);
    let served = tokio::select! {
        r = &mut server => r,
        () = shutdown => {
            tracing::info!("serve: stopping (open requests finish first)");
            let _ = stop.send(());
            server.await
        }
    };
    served.map_err(|e| serve_err(e.to_string()))?;
    tracing::info!("serve stopped");
    Ok(())
}

/// Every route, with the security headers on every response. With `local_only` (serving
/// on loopback), requests must name a loopback host (see [`host_is_local`]).
pub fn router(state: Arc<AppState>, local_only: bool) -> Router {
    Router::new()
        .route("/", get(ui::search))
        .route("/article", get(ui::article))
        .route("/diff", get(ui::diff))
        .route("/raw", get(ui::raw))
        .route("/raw/content", get(ui::raw_content))
        .route("/changes", get(ui::changes))
        .route("/sites", get(ui::sites))
        .route("/runs", get(ui::runs))
        .route("/runs/{id}", get(ui::run))
        .route("/style.css", get(ui::style))
        .route("/api/query", get(api::query))
        .route("/api/show", get(api::show))
        .route("/api/history", get(api::history))
        .route("/api/diff", get(api::diff))
        .route("/api/changes", get(api::changes))
        .route("/api/runs", get(api::runs))
        .route("/api/runs/{id}", get(api::run))
        .route("/api/sites", get(api::sites))
        .fallback(not_found)
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(local_only, host_guard))
        .layer(axum::middleware::from_fn(security_headers))
}

/// Whether a `Host` header names this machine's loopback (`localhost`, `127.x.y.z`,
/// `[::1]`, any port). A web page elsewhere can point its own host name at 127.0.0.1 (DNS
/// rebinding) and so reach a loopback server from the reader's browser; its requests
/// still carry its own name, which this refuses.
pub fn host_is_local(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        },
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

async fn host_guard(
    axum::extract::State(local_only): axum::extract::State<bool>,
    req: Request,
    next: Next,
) -> Response {
    if local_only {
        let host = req
            .headers()
            .get(axum::http::header::HOST)
            .map(|h| h.to_str().unwrap_or("?"));
        if let Some(host) = host.filter(|h| !host_is_local(h)) {
            let f = Failure {
                status: StatusCode::MISDIRECTED_REQUEST,
                message: format!(
                    "this server answers requests for its loopback address only, not for `{host}`"
                ),
            };
            let path = req.uri().path();
            return if path == "/api" || path.starts_with("/api/") {
                api::failure(f)
            } else {
                ui::failure(f)
            };
        }
    }
    next.run(req).await
}

/// Adds the UI's policy headers to every response that did not set its own.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.entry(CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(UI_CSP));
    h.entry(X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    h.entry(REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("no-referrer"));
    h.entry(X_FRAME_OPTIONS)
        .or_insert(HeaderValue::from_static("DENY"));
    h.entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-cache"));
    resp
}

async fn not_found(req: Request) -> Response {
    let path = req.uri().path().to_string();
    let f = Failure::not_found(format!("no page at {path}"));
    if path == "/api" || path.starts_with("/api/") {
        api::failure(f)
    } else {
        ui::failure(f)
    }
}

/// Runs `f` on the blocking pool (store reads and scans are synchronous).
async fn blocking<T, F>(state: &Arc<AppState>, f: F) -> std::result::Result<T, Failure>
where
    T: Send + 'static,
    F: FnOnce(&AppState) -> std::result::Result<T, Failure> + Send + 'static,
{
    let s = Arc::clone(state);
    tokio::task::spawn_blocking(move || f(&s))
        .await
        .unwrap_or_else(|e| Err(Failure::internal(format!("request handler failed: {e}"))))
}

/// A response with a body and its content type.
fn with_type(status: StatusCode, content_type: &'static str, body: String) -> Response {
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_non_loopback_addresses_warn() {
        for ok in ["127.0.0.1:8484", "127.0.7.3:0", "[::1]:8484"] {
            assert_eq!(exposure_warning(ok.parse().unwrap()), None, "{ok}");
        }
        let w = exposure_warning("0.0.0.0:8484".parse().unwrap()).unwrap();
        assert!(w.contains("every network interface"), "{w}");
        let w = exposure_warning("192.168.1.5:80".parse().unwrap()).unwrap();
        assert!(w.contains("192.168.1.5"), "{w}");
        assert!(exposure_warning("[::]:80".parse().unwrap()).is_some());
    }

    #[test]
    fn only_loopback_host_names_are_local() {
        for ok in [
            "127.0.0.1:8484",
            "127.0.7.3",
            "localhost:8484",
            "LOCALHOST",
            "[::1]:8484",
            "[::1]",
        ] {
            assert!(host_is_local(ok), "{ok}");
        }
        for bad in [
            "evil.example:8484",
            "evil.example",
            "localhost.evil.example",
            "10.0.0.1:8484",
            "[::2]:80",
            "127.0.0.1.nip.io",
            "",
        ] {
            assert!(!host_is_local(bad), "{bad}");
        }
    }

    #[test]
    fn default_address_is_loopback() {
        let a: SocketAddr = DEFAULT_ADDR.parse().unwrap();
        assert!(a.ip().is_loopback());
    }

    #[test]
    fn raw_policy_sandboxes_without_scripts() {
        assert!(RAW_CSP.starts_with("sandbox;"));
        assert!(!RAW_CSP.contains("allow-scripts"));
        assert!(RAW_CSP.contains("default-src 'none'"));
        assert!(!UI_CSP.contains("script-src"));
        assert!(UI_CSP.contains("default-src 'none'"));
    }
}
