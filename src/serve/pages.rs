//! The HTML pages of `luutru serve`, rendered on the server with maud (every value is
//! escaped by the template engine; nothing from the archive is ever written as markup), in
//! Vietnamese, usable on a phone and without JavaScript.
//!
//! Parts: [`layout`] (head, navigation, stylesheet link) and one function per page:
//! [`search_page`], [`article_page`], [`diff_page`], [`raw_page`], [`changes_page`],
//! [`sites_page`], [`runs_page`], [`run_page`], [`error_page`]; the stylesheet [`STYLE`];
//! small helpers for times, links and snippets.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use maud::{html, Markup, DOCTYPE};

use super::data::{ArticleDetail, ChangeEntry, RawPage, SearchPage};
use super::params::Failure;
use crate::cli::SiteRow;
use crate::crawl::RunSummary;
use crate::diff::{DiffOp, VersionDiff};
use crate::search::{MARK_CLOSE, MARK_OPEN};
use crate::store::model::{ArticleStatus, VersionRecord};

/// The stylesheet, served as `/style.css` (the pages' CSP allows styles from 'self').
pub const STYLE: &str = r#"
*{box-sizing:border-box}
body{margin:0;font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:#1b1b1b;background:#fafafa}
header{background:#7a1f1f;color:#fff;padding:.5rem 1rem}
header a{color:#fff;text-decoration:none;margin-right:1rem;display:inline-block;padding:.25rem 0}
header .brand{font-weight:700}
main{max-width:62rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;line-height:1.3;margin:.5rem 0 1rem}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
a{color:#0b4f9c}
form.search{display:grid;gap:.5rem;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));margin-bottom:1rem}
form.search .q{grid-column:1/-1}
input,select,button{font:inherit;padding:.45rem .5rem;border:1px solid #999;border-radius:4px;width:100%;background:#fff}
input[type=checkbox]{width:1.4rem;height:1.4rem;margin:.4rem 0}
button{background:#7a1f1f;color:#fff;border-color:#7a1f1f;cursor:pointer}
label{display:block;font-size:.85rem;color:#555}
ol.results{list-style:none;padding:0;margin:0}
ol.results li{background:#fff;border:1px solid #e2e2e2;border-radius:6px;padding:.75rem;margin-bottom:.6rem}
.result-title{font-weight:600;font-size:1.05rem}
.meta{font-size:.85rem;color:#555;margin:.2rem 0}
.snippet{margin:.3rem 0 0}
mark{background:#ffe27a;padding:0 .1em}
.badge{display:inline-block;font-size:.75rem;padding:0 .4rem;border-radius:3px;background:#e6f2e6;color:#205020}
.badge.gone{background:#f6dede;color:#7a1f1f}
dl.fields{display:grid;grid-template-columns:minmax(7rem,max-content) 1fr;gap:.2rem .8rem;margin:0 0 1rem}
dl.fields dt{color:#555}
dl.fields dd{margin:0;overflow-wrap:anywhere}
.url{font-family:ui-monospace,monospace;font-size:.85rem;overflow-wrap:anywhere}
.body p{margin:0 0 .8rem}
.summary{font-weight:600}
ol.timeline{padding-left:1.2rem}
ol.timeline li{margin-bottom:.5rem}
ol.timeline li.current{font-weight:600}
.pager{display:flex;justify-content:space-between;margin:1rem 0}
.diff{white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;border:1px solid #e2e2e2;border-radius:6px;padding:.75rem}
ins{background:#c9f0c9;text-decoration:none}
del{background:#f8caca;text-decoration:line-through}
.diff p{margin:0 0 .8rem}
.diff p:last-child{margin-bottom:0}
.inline details.same,.diff details.same{margin:0 0 .8rem}
details.same>summary{color:#555;font-size:.9rem;cursor:pointer}
.sides{display:flex;gap:.5rem;margin-bottom:.5rem}
.sides>div{flex:1 1 0;min-width:0}
.sides.head{margin-bottom:.2rem}
.sides .diff{padding:.5rem;font-size:.9rem}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.9rem}
th,td{border:1px solid #e2e2e2;padding:.3rem .5rem;text-align:left;vertical-align:top}
td.n{text-align:right}
iframe.raw{width:100%;height:75vh;border:1px solid #999;background:#fff}
pre.source{white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;border:1px solid #e2e2e2;padding:.75rem;font-size:.8rem}
.note{color:#555;font-size:.9rem}
.error{background:#f6dede;border:1px solid #d9a0a0;padding:.75rem;border-radius:6px}
"#;

/// Which navigation entry is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Search,
    Changes,
    Sites,
    Runs,
    None,
}

/// The page frame: title, navigation, content.
pub fn layout(title: &str, nav: Nav, content: Markup) -> Markup {
    let item = |target: Nav, href: &str, label: &str| {
        html! {
            a href=(href) aria-current=[(nav == target).then_some("page")] { (label) }
        }
    };
    html! {
        (DOCTYPE)
        html lang="vi" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " · luutru" }
                link rel="stylesheet" href="/style.css";
            }
            body {
                header {
                    a.brand href="/" { "luutru · lưu trữ" }
                    (item(Nav::Search, "/", "Tìm kiếm"))
                    (item(Nav::Changes, "/changes", "Thay đổi"))
                    (item(Nav::Sites, "/sites", "Trang web"))
                    (item(Nav::Runs, "/runs", "Lượt thu thập"))
                }
                main { (content) }
            }
        }
    }
}

/// `path?k=v&…`, values percent-encoded; empty values left out.
pub fn link(path: &str, params: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        if !v.is_empty() {
            s.append_pair(k, v);
        }
    }
    let q = s.finish();
    if q.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{q}")
    }
}

fn vn() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("valid offset")
}

/// A capture time in Vietnam time.
fn when<Tz: TimeZone>(t: &DateTime<Tz>) -> Markup
where
    Tz::Offset: std::fmt::Display,
{
    let local = t.with_timezone(&vn());
    html! { time datetime=(t.to_rfc3339()) { (local.format("%d/%m/%Y %H:%M")) } }
}

/// A date as the page stated it (its own offset kept).
fn stated(t: &DateTime<FixedOffset>) -> Markup {
    html! { time datetime=(t.to_rfc3339()) { (t.format("%d/%m/%Y %H:%M")) } }
}

fn status_badge(s: ArticleStatus) -> Markup {
    match s {
        ArticleStatus::Live => html! { span.badge { "còn trên trang" } },
        ArticleStatus::Gone => html! { span.badge.gone { "đã gỡ" } },
    }
}

/// Vietnamese name of an extracted field.
pub fn field_label(field: &str) -> &str {
    match field {
        "title" => "tiêu đề",
        "published" => "ngày đăng",
        "modified" => "ngày sửa",
        "author" => "tác giả",
        "summary" => "tóm tắt",
        "body" => "nội dung",
        other => other,
    }
}

fn field_list(fields: &[String]) -> String {
    fields
        .iter()
        .map(|f| field_label(f))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A search snippet: its text escaped, each matched run (between the search module's
/// marks) in `<mark>`. Marks that do not pair up (the archive's own `«`, `»`) stay text.
pub fn snippet(s: &str) -> Markup {
    let mut parts: Vec<(bool, &str)> = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find(MARK_OPEN) {
        let after = &rest[open + MARK_OPEN.len()..];
        let Some(close) = after.find(MARK_CLOSE) else {
            break;
        };
        if after[..close].contains(MARK_OPEN) {
            // An unpaired opening mark: keep it as text and look again after it.
            let keep = open + MARK_OPEN.len();
            parts.push((false, &rest[..keep]));
            rest = &rest[keep..];
            continue;
        }
        parts.push((false, &rest[..open]));
        parts.push((true, &after[..close]));
        rest = &after[close + MARK_CLOSE.len()..];
    }
    parts.push((false, rest));
    html! {
        @for (marked, text) in parts {
            @if marked { mark { (text) } } @else { (text) }
        }
    }
}

/// What the search form shows (the request's values, as typed).
#[derive(Debug, Clone, Default)]
pub struct SearchForm {
    pub q: String,
    pub sites: Vec<String>,
    pub since: String,
    pub until: String,
    pub status: String,
    pub as_of: String,
    pub changed: bool,
    pub sort: String,
}

impl SearchForm {
    fn params(&self) -> Vec<(&str, &str)> {
        let mut p = vec![("q", self.q.as_str())];
        p.extend(self.sites.iter().map(|s| ("site", s.as_str())));
        p.extend([
            ("since", self.since.as_str()),
            ("until", self.until.as_str()),
            ("status", self.status.as_str()),
            ("as_of", self.as_of.as_str()),
            ("changed", if self.changed { "1" } else { "" }),
            ("sort", self.sort.as_str()),
        ]);
        p
    }

    fn page_link(&self, page: usize) -> String {
        let page = page.to_string();
        let mut p = self.params();
        if page != "1" {
            p.push(("page", page.as_str()));
        }
        link("/", &p)
    }
}

/// The site picker: one site, or several when the request named several.
fn site_select(sites: &[String], chosen: &[String]) -> Markup {
    html! {
        select #site name="site" multiple[chosen.len() > 1] {
            option value="" selected[chosen.is_empty()] { "Tất cả" }
            @for s in sites { option value=(s) selected[chosen.contains(s)] { (s) } }
        }
    }
}

fn search_form(sites: &[String], f: &SearchForm) -> Markup {
    let opt = |value: &str, label: &str, current: &str| {
        html! { option value=(value) selected[value == current] { (label) } }
    };
    html! {
        form.search method="get" action="/" role="search" {
            div.q {
                label for="q" { "Từ khóa (gõ có dấu hay không dấu đều được)" }
                input #q type="search" name="q" value=(f.q) placeholder="ví dụ: camera giam sat";
            }
            div {
                label for="site" { "Trang web" }
                (site_select(sites, &f.sites))
            }
            div {
                label for="since" { "Đăng từ ngày" }
                input #since type="text" name="since" value=(f.since) placeholder="2021-03-31"
                    inputmode="numeric" pattern="[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?";
            }
            div {
                label for="until" { "Đến hết ngày" }
                input #until type="text" name="until" value=(f.until) placeholder="2021-12"
                    inputmode="numeric" pattern="[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?";
            }
            div {
                label for="status" { "Trạng thái" }
                select #status name="status" {
                    (opt("", "Tất cả", &f.status))
                    (opt("live", "Còn trên trang", &f.status))
                    (opt("gone", "Đã gỡ", &f.status))
                }
            }
            div {
                label for="as_of" { "Nội dung như vào ngày" }
                input #as_of type="text" name="as_of" value=(f.as_of) placeholder="2021-06-30"
                    inputmode="numeric";
            }
            div {
                label for="changed" { "Chỉ bài đã sửa hoặc gỡ" }
                input #changed type="checkbox" name="changed" value="1" checked[f.changed];
            }
            div {
                label for="sort" { "Sắp xếp" }
                select #sort name="sort" {
                    (opt("", "Mặc định", &f.sort))
                    (opt("relevance", "Phù hợp nhất", &f.sort))
                    (opt("date", "Mới đăng nhất", &f.sort))
                }
            }
            div {
                label { "\u{a0}" }
                button type="submit" { "Tìm" }
            }
        }
    }
}

/// The search page: form, one page of results, pager.
pub fn search_page(
    sites: &[String],
    form: &SearchForm,
    results: &SearchPage,
    page: usize,
    per_page: usize,
) -> Markup {
    let first = (page - 1) * per_page + 1;
    let title = if form.q.is_empty() {
        "Tìm kiếm".to_string()
    } else {
        format!("Tìm: {}", form.q)
    };
    layout(
        &title,
        Nav::Search,
        html! {
            h1 { "Tìm trong kho lưu trữ" }
            (search_form(sites, form))
            @if results.items.is_empty() {
                p.note { "Không có bài viết nào phù hợp." }
            } @else {
                p.note {
                    "Trang " (page) " · kết quả " (first) "–" (first + results.items.len() - 1)
                }
                ol.results start=(first) {
                    @for v in &results.items {
                        @let n = v.version.to_string();
                        // The version that matched: the latest, or the one of `as_of`.
                        @let version = if v.version == v.versions && form.as_of.is_empty() { "" } else { n.as_str() };
                        li {
                            a.result-title href=(link("/article", &[("url", &v.url), ("version", version)])) {
                                (v.title.as_deref().unwrap_or("(không có tiêu đề)"))
                            }
                            div.meta {
                                (v.site)
                                @if let Some(p) = &v.published { " · " (stated(p)) }
                                " · " (status_badge(v.status))
                                " · " (v.versions) " phiên bản"
                            }
                            @if let Some(s) = v.snippet.as_deref().filter(|s| !s.is_empty()) {
                                p.snippet { (snippet(s)) }
                            }
                        }
                    }
                }
            }
            nav.pager aria-label="Phân trang" {
                @if page > 1 {
                    a rel="prev" href=(form.page_link(page - 1)) { "‹ Trang trước" }
                } @else { span {} }
                @if results.more {
                    a rel="next" href=(form.page_link(page + 1)) { "Trang sau ›" }
                }
            }
        },
    )
}

fn body_paragraphs(body: &str) -> Markup {
    html! {
        @for p in body.split("\n\n").filter(|p| !p.trim().is_empty()) {
            p { (p) }
        }
    }
}

fn timeline(url: &str, versions: &[VersionRecord], current: u32) -> Markup {
    html! {
        ol.timeline {
            @for v in versions {
                @let n = v.number.to_string();
                li.current[v.number == current] {
                    "Phiên bản " (v.number) " · tải lúc " (when(&v.fetched_at))
                    " · HTTP " (v.http_status)
                    @if v.number == 1 {
                        " · bản đầu tiên"
                    } @else if v.changed.is_empty() {
                        " · không rõ trường nào đổi"
                    } @else {
                        " · thay đổi: " (field_list(&v.changed))
                    }
                    @if v.reextracted { " · trích xuất lại" }
                    br;
                    a href=(link("/article", &[("url", url), ("version", &n)])) { "Xem" }
                    @if v.number > 1 {
                        @let prev = (v.number - 1).to_string();
                        " · "
                        a.diff-link href=(link("/diff", &[("url", url), ("from", &prev), ("to", &n)])) {
                            "So sánh với bản " (prev)
                        }
                    }
                    " · "
                    a href=(link("/raw", &[("url", url), ("version", &n)])) { "HTML gốc" }
                }
            }
        }
    }
}

/// The article page: fields, aliases, near-duplicates, version timeline.
pub fn article_page(d: &ArticleDetail) -> Markup {
    let v = &d.view;
    let rec = d.version();
    let title = v.title.as_deref().unwrap_or("(không có tiêu đề)");
    let n = v.version.to_string();
    let src = |s: &Option<String>| s.clone().unwrap_or_else(|| "không có".into());
    layout(
        title,
        Nav::None,
        html! {
            h1 { (title) }
            dl.fields {
                dt { "Địa chỉ" } dd.url { (v.url) }
                dt { "Trang web" } dd { a href=(link("/", &[("site", &v.site)])) { (v.site) } }
                dt { "Ngày đăng" } dd { @if let Some(p) = &v.published { (stated(p)) } @else { "không rõ" } }
                @if let Some(m) = &v.modified { dt { "Ngày sửa" } dd { (stated(m)) } }
                dt { "Tác giả" } dd { (v.author.as_deref().unwrap_or("không rõ")) }
                dt { "Trạng thái" } dd {
                    (status_badge(v.status))
                    @if let Some(g) = &d.record.gone_since { " từ " (when(g)) }
                }
                dt { "Phiên bản" } dd {
                    (v.version) " / " (v.versions) " · tải lúc " (when(&v.captured_at))
                    @if v.version != v.versions {
                        " · " a href=(link("/article", &[("url", &v.url)])) { "xem bản mới nhất" }
                    }
                }
                dt { "Thấy lần đầu" } dd { (when(&v.first_seen)) }
                dt { "Thấy lần cuối" } dd { (when(&v.last_seen)) " (" (d.record.fetches) " lần tải)" }
                dt { "Mã băm nội dung" } dd.url { (v.content_hash) }
                dt { "Nguồn các trường" } dd {
                    "tiêu đề: " (src(&rec.fields.sources.title))
                    "; ngày: " (src(&rec.fields.sources.published))
                    "; nội dung: " (src(&rec.fields.sources.body))
                }
                @if !rec.fields.warnings.is_empty() {
                    dt { "Cảnh báo" } dd { (rec.fields.warnings.join("; ")) }
                }
                dt { "Dữ liệu" } dd {
                    a href=(link("/api/show", &[("url", &v.url), ("version", &n)])) { "JSON" }
                    " · "
                    a href=(link("/raw", &[("url", &v.url), ("version", &n)])) { "HTML gốc của phiên bản này" }
                }
            }
            @if let Some(s) = &v.summary { p.summary { (s) } }
            div.body { (body_paragraphs(&v.body)) }

            h2 { "Các phiên bản" }
            (timeline(&v.url, &d.versions, v.version))
            @if d.versions.len() > 1 {
                p { a href=(link("/diff", &[("url", &v.url)])) { "So sánh hai bản mới nhất" } }
            }

            h2 { "Địa chỉ khác của bài (bí danh)" }
            @if v.aliases.is_empty() {
                p.note { "Không có." }
            } @else {
                ul { @for a in &v.aliases { li.url { (a) } } }
            }

            h2 { "Bài gần trùng ở trang khác" }
            @if v.near_duplicates.is_empty() {
                p.note { "Không có." }
            } @else {
                ul {
                    @for m in &v.near_duplicates {
                        li {
                            a.url href=(link("/article", &[("url", &m.url)])) { (m.url) }
                            " · giống " (format!("{:.0}", m.similarity * 100.0)) "%"
                        }
                    }
                }
            }
        },
    )
}

fn ops_markup<'a>(ops: impl Iterator<Item = &'a DiffOp>) -> Markup {
    html! {
        @for op in ops {
            @match op {
                DiffOp::Equal { text } => (text),
                DiffOp::Insert { text } => ins { (text) },
                DiffOp::Delete { text } => del { (text) },
            }
        }
    }
}

/// One paragraph of a field diff.
#[derive(Debug, Clone, Default, PartialEq)]
struct DiffParagraph {
    ops: Vec<DiffOp>,
    changed: bool,
}

/// Splits a field's spans at paragraph breaks (whitespace holding a blank line, as the diff
/// tokenizer reads it). A break inside an inserted or deleted span ends the paragraph with
/// a marked `¶`, so a split or merged paragraph shows.
fn diff_paragraphs(ops: &[DiffOp]) -> Vec<DiffParagraph> {
    let mut out = vec![DiffParagraph::default()];
    for op in ops {
        let (text, make): (&str, fn(String) -> DiffOp) = match op {
            DiffOp::Equal { text } => (text, |text| DiffOp::Equal { text }),
            DiffOp::Insert { text } => (text, |text| DiffOp::Insert { text }),
            DiffOp::Delete { text } => (text, |text| DiffOp::Delete { text }),
        };
        let changed = !matches!(op, DiffOp::Equal { .. });
        let mut piece = String::new();
        for t in crate::diff::tokenize(text) {
            if t.kind != crate::diff::TokenKind::Break {
                piece.push_str(t.text);
                continue;
            }
            if changed {
                piece.push('¶');
            }
            let para = out.last_mut().expect("starts non-empty, only grows");
            if !piece.is_empty() {
                para.ops.push(make(std::mem::take(&mut piece)));
                para.changed |= changed;
            }
            out.push(DiffParagraph::default());
        }
        if !piece.is_empty() {
            let para = out.last_mut().expect("starts non-empty, only grows");
            para.ops.push(make(piece));
            para.changed |= changed;
        }
    }
    out.retain(|p| !p.ops.is_empty());
    out
}

/// Paragraphs to show (changed, or next to a change) and runs of the others, folded into
/// a `<details>` that opens without script.
fn diff_blocks(paras: &[DiffParagraph]) -> Vec<(bool, &[DiffParagraph])> {
    let near = |i: usize| {
        let lo = i.saturating_sub(1);
        let hi = (i + 1).min(paras.len().saturating_sub(1));
        paras[lo..=hi].iter().any(|p| p.changed)
    };
    let mut out: Vec<(bool, &[DiffParagraph])> = Vec::new();
    let mut start = 0;
    for i in 0..=paras.len() {
        let boundary = i == paras.len() || (i > start && near(i) != near(start));
        if boundary && i > start {
            out.push((near(start), &paras[start..i]));
            start = i;
        }
    }
    out
}

fn folded(n: usize, content: Markup) -> Markup {
    html! {
        details.same {
            summary { (n) " đoạn không đổi" }
            (content)
        }
    }
}

fn field_diff(f: &crate::diff::FieldDiff, from: u32, to: u32) -> Markup {
    let paras = diff_paragraphs(&f.ops);
    let blocks = diff_blocks(&paras);
    let old = |p: &DiffParagraph| {
        ops_markup(p.ops.iter().filter(|o| !matches!(o, DiffOp::Insert { .. })))
    };
    let new = |p: &DiffParagraph| {
        ops_markup(p.ops.iter().filter(|o| !matches!(o, DiffOp::Delete { .. })))
    };
    html! {
        h3 { "Gộp" }
        div.diff.inline {
            @for (shown, ps) in &blocks {
                @if *shown {
                    @for p in *ps { p { (ops_markup(p.ops.iter())) } }
                } @else {
                    (folded(ps.len(), html! { @for p in *ps { p { (ops_markup(p.ops.iter())) } } }))
                }
            }
        }
        h3 { "Song song" }
        div.sides.head {
            div.meta { "Phiên bản " (from) }
            div.meta { "Phiên bản " (to) }
        }
        @for (shown, ps) in &blocks {
            @if *shown {
                @for p in *ps {
                    div.sides {
                        div.diff.old { p { (old(p)) } }
                        div.diff.new { p { (new(p)) } }
                    }
                }
            } @else {
                (folded(ps.len(), html! {
                    @for p in *ps {
                        div.sides {
                            div.diff.old { p { (old(p)) } }
                            div.diff.new { p { (new(p)) } }
                        }
                    }
                }))
            }
        }
    }
}

/// The diff page: a version picker, then per changed field the inline diff and the two
/// versions side by side, paragraph by paragraph (unchanged ones folded).
pub fn diff_page(d: &ArticleDetail, diff: &VersionDiff) -> Markup {
    let url = &d.record.url;
    let title = d.view.title.as_deref().unwrap_or("(không có tiêu đề)");
    let pick = |name: &str, current: u32| {
        html! {
            select name=(name) id=(name) {
                @for v in &d.versions {
                    option value=(v.number) selected[v.number == current] {
                        "Bản " (v.number) " · " (v.fetched_at.with_timezone(&vn()).format("%d/%m/%y %H:%M"))
                    }
                }
            }
        }
    };
    let from = diff.from.to_string();
    let to = diff.to.to_string();
    layout(
        &format!("So sánh: {title}"),
        Nav::None,
        html! {
            h1 { "So sánh phiên bản" }
            p { a href=(link("/article", &[("url", url)])) { (title) } }
            p.url { (url) }
            form.search method="get" action="/diff" {
                input type="hidden" name="url" value=(url);
                div { label for="from" { "Từ bản" } (pick("from", diff.from)) }
                div { label for="to" { "Đến bản" } (pick("to", diff.to)) }
                div { label { "\u{a0}" } button type="submit" { "So sánh" } }
            }
            p.note {
                "Phiên bản " (diff.from) " (" (when(&diff.from_fetched_at)) ") → phiên bản "
                (diff.to) " (" (when(&diff.to_fetched_at)) "). "
                "Chữ thêm vào được " ins { "tô xanh" } ", chữ bị xóa được " del { "tô đỏ, gạch ngang" } ". "
                a href=(link("/api/diff", &[("url", url), ("from", &from), ("to", &to)])) { "JSON" }
            }
            @if diff.fields.is_empty() {
                p { "Không có thay đổi nào về nội dung giữa hai phiên bản này." }
            }
            @for f in &diff.fields {
                section.field-diff data-field=(f.field) {
                    h2 { "Thay đổi ở " (field_label(&f.field)) }
                    (field_diff(f, diff.from, diff.to))
                }
            }
        },
    )
}

/// How the raw page shows the archived HTML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawView {
    /// Rendered in a sandboxed iframe (no scripts, no requests out).
    Frame,
    /// As escaped source text.
    Source,
}

/// The raw page: what was fetched, and the page itself framed or as source.
pub fn raw_page(d: &ArticleDetail, view: RawView, raw: &RawPage) -> Markup {
    let v = d.version();
    let url = &d.record.url;
    let n = v.number.to_string();
    let title = d.view.title.as_deref().unwrap_or("(không có tiêu đề)");
    layout(
        &format!("HTML gốc: {title}"),
        Nav::None,
        html! {
            h1 { "HTML gốc đã lưu" }
            p { a href=(link("/article", &[("url", url), ("version", &n)])) { (title) } }
            dl.fields {
                dt { "Đã tải từ" } dd.url { (v.fetched_url) }
                dt { "Lúc" } dd { (when(&v.fetched_at)) " · phiên bản " (v.number) }
                dt { "HTTP" } dd { (raw.status) " · " (raw.content_type.as_deref().unwrap_or("không rõ kiểu")) }
                dt { "Tệp WARC" } dd.url { (v.warc.file) " @ " (v.warc.offset) }
            }
            p {
                @if view == RawView::Frame {
                    strong { "Trang hiển thị" } " · "
                    a href=(link("/raw", &[("url", url), ("version", &n), ("view", "source")])) { "Mã nguồn" }
                } @else {
                    a href=(link("/raw", &[("url", url), ("version", &n)])) { "Trang hiển thị" }
                    " · " strong { "Mã nguồn" }
                }
            }
            @if view == RawView::Frame {
                p.note {
                    "Trang được hiển thị trong khung cách ly: không chạy mã JavaScript, không tải "
                    "ảnh, kiểu hay bất cứ gì từ trang gốc."
                }
                iframe.raw sandbox="" referrerpolicy="no-referrer" title="Trang đã lưu"
                    src=(link("/raw/content", &[("url", url), ("version", &n)])) {}
            } @else {
                pre.source { (raw.html) }
            }
        },
    )
}

/// What the changes form shows.
#[derive(Debug, Clone, Default)]
pub struct ChangesForm {
    pub sites: Vec<String>,
    pub since: String,
    pub until: String,
}

/// Articles edited or gone in a period.
pub fn changes_page(
    sites: &[String],
    form: &ChangesForm,
    entries: &[ChangeEntry],
    more: bool,
) -> Markup {
    layout(
        "Thay đổi",
        Nav::Changes,
        html! {
            h1 { "Bài bị sửa hoặc bị gỡ" }
            form.search method="get" action="/changes" {
                div {
                    label for="site" { "Trang web" }
                    (site_select(sites, &form.sites))
                }
                div {
                    label for="since" { "Từ ngày" }
                    input #since type="text" name="since" value=(form.since) placeholder="2024-06-01";
                }
                div {
                    label for="until" { "Đến hết ngày" }
                    input #until type="text" name="until" value=(form.until) placeholder="2024-06";
                }
                div { label { "\u{a0}" } button type="submit" { "Xem" } }
            }
            @if entries.is_empty() {
                p.note { "Không có thay đổi nào trong khoảng này." }
            }
            ol.results {
                @for e in entries {
                    li {
                        a.result-title href=(link("/article", &[("url", &e.url)])) {
                            (e.title.as_deref().unwrap_or("(không có tiêu đề)"))
                        }
                        div.meta {
                            (e.site) " · " (when(&e.at)) " · "
                            @if e.kind == "gone" {
                                span.badge.gone { "bị gỡ" }
                            } @else {
                                @let (from, to) = (e.from.unwrap_or(0).to_string(), e.version.to_string());
                                "sửa " (field_list(&e.fields)) " · "
                                a href=(link("/diff", &[("url", &e.url), ("from", &from), ("to", &to)])) {
                                    "bản " (from) " → " (to)
                                }
                                @if e.reextracted { " · trích xuất lại" }
                            }
                        }
                        @if !e.removed.is_empty() || !e.added.is_empty() {
                            p.snippet {
                                @if !e.removed.is_empty() { del { (e.removed.join(" ")) } " " }
                                @if !e.added.is_empty() { ins { (e.added.join(" ")) } }
                            }
                        }
                    }
                }
            }
            @if more { p.note { "Còn nữa: thu hẹp khoảng thời gian để xem hết." } }
        },
    )
}

fn opt_time(t: Option<DateTime<Utc>>) -> Markup {
    match t {
        Some(t) => when(&t),
        None => html! { "–" },
    }
}

/// Per-site counts, last run, last change, template health.
pub fn sites_page(rows: &[SiteRow]) -> Markup {
    layout(
        "Trang web",
        Nav::Sites,
        html! {
            h1 { "Các trang web được lưu trữ" }
            div.table-wrap {
                table {
                    thead { tr {
                        th { "Trang" } th { "Bài" } th { "Phiên bản" } th { "Đã gỡ" }
                        th { "Lượt gần nhất" } th { "Thay đổi gần nhất" } th { "Độ khớp mẫu (lượt gần nhất)" }
                    } }
                    tbody {
                        @for r in rows {
                            tr {
                                td { a href=(link("/", &[("site", &r.name)])) { (r.name) } }
                                td.n { (r.articles) } td.n { (r.versions) } td.n { (r.gone) }
                                td { (opt_time(r.last_run)) } td { (opt_time(r.last_change)) }
                                td {
                                    @if r.template_health.is_empty() { "–" }
                                    @for (field, h) in &r.template_health {
                                        (field_label(field)) ": " (h) br;
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p.note { a href="/api/sites" { "JSON" } }
        },
    )
}

fn duration(r: &RunSummary) -> String {
    match (r.started, r.ended) {
        (Some(s), Some(e)) => format!("{} giây", (e - s).num_seconds()),
        _ => "–".into(),
    }
}

/// The last runs.
pub fn runs_page(runs: &[RunSummary]) -> Markup {
    layout(
        "Lượt thu thập",
        Nav::Runs,
        html! {
            h1 { "Các lượt thu thập" }
            @if runs.is_empty() { p.note { "Chưa có lượt nào." } }
            div.table-wrap {
                table {
                    thead { tr {
                        th { "Số" } th { "Bắt đầu" } th { "Thời gian" } th { "Kết quả" } th { "Đã tải" }
                        th { "Bài mới" } th { "Bản mới" } th { "Không đổi" } th { "Bị gỡ" } th { "Lỗi" }
                    } }
                    tbody {
                        @for r in runs {
                            tr {
                                td { a href=(format!("/runs/{}", r.id)) { (r.id) } }
                                td { (opt_time(r.started)) } td { (duration(r)) } td { (r.outcome) }
                                td.n { (r.fetched) } td.n { (r.new_articles) } td.n { (r.new_versions) }
                                td.n { (r.unchanged) } td.n { (r.gone) } td.n { (r.failed) }
                            }
                        }
                    }
                }
            }
            p.note { a href="/api/runs" { "JSON" } }
        },
    )
}

/// One run in full.
pub fn run_page(r: &RunSummary) -> Markup {
    layout(
        &format!("Lượt {}", r.id),
        Nav::Runs,
        html! {
            h1 { "Lượt thu thập " (r.id) }
            dl.fields {
                dt { "Kết quả" } dd { (r.outcome) @if r.resumed { " (tiếp tục lượt " (r.run) ")" } }
                dt { "Bắt đầu" } dd { (opt_time(r.started)) }
                dt { "Kết thúc" } dd { (opt_time(r.ended)) " · " (duration(r)) }
                @if let Some(e) = &r.error { dt { "Lỗi" } dd { (e) } }
                dt { "Đã tải" } dd { (r.fetched) " trang · " (r.bytes_downloaded / 1024) " KiB nhận · " (r.bytes_stored / 1024) " KiB lưu" }
                dt { "Bài mới / bản mới" } dd { (r.new_articles) " / " (r.new_versions) }
                dt { "Không đổi / bị gỡ" } dd { (r.unchanged) " / " (r.gone) }
                dt { "Bỏ qua / lỗi / còn chờ" } dd { (r.skipped) " / " (r.failed) " / " (r.queued) }
            }
            @for w in &r.template_warnings { p.error { (w) } }
            h2 { "Theo trang web" }
            div.table-wrap {
                table {
                    thead { tr {
                        th { "Trang" } th { "Đã tải" } th { "Bài mới" } th { "Bản mới" } th { "Không đổi" }
                        th { "Bị gỡ" } th { "Danh mục" } th { "Bỏ qua" } th { "Lỗi" } th { "Lý do" } th { "Nguồn trường" }
                    } }
                    tbody {
                        @for (name, c) in &r.sites {
                            tr {
                                td { (name) } td.n { (c.fetched) } td.n { (c.new_articles) } td.n { (c.new_versions) }
                                td.n { (c.unchanged) } td.n { (c.gone) } td.n { (c.listings) } td.n { (c.skipped) }
                                td.n { (c.failed) }
                                td { @for (reason, n) in &c.reasons { (reason) ": " (n) br; } }
                                td {
                                    @for (field, kinds) in &c.field_sources {
                                        (field_label(field)) ": "
                                        (kinds.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", "))
                                        br;
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Theo máy chủ" }
            div.table-wrap {
                table {
                    thead { tr { th { "Máy chủ" } th { "Yêu cầu" } th { "Trễ trung bình" } } }
                    tbody {
                        @for (host, h) in &r.hosts {
                            tr { td { (host) } td.n { (h.requests) } td.n { (format!("{:.0} ms", h.mean_latency_ms)) } }
                        }
                    }
                }
            }
            p.note { a href=(format!("/api/runs/{}", r.id)) { "JSON" } }
        },
    )
}

/// An error page: what went wrong, in Vietnamese, with the precise message.
pub fn error_page(f: &Failure) -> Markup {
    let heading = match f.status.as_u16() {
        400 => "Yêu cầu không hợp lệ",
        404 => "Không tìm thấy",
        _ => "Lỗi máy chủ",
    };
    layout(
        heading,
        Nav::None,
        html! {
            h1 { (heading) }
            p.error { (f.message) }
            p { a href="/" { "Về trang tìm kiếm" } }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_mark_matches_and_escape_everything_else() {
        let s = snippet("a <b>«Chí Linh»</b> & «x");
        assert_eq!(
            s.into_string(),
            "a &lt;b&gt;<mark>Chí Linh</mark>&lt;/b&gt; &amp; «x"
        );
        let s = snippet("«a «b» c");
        assert_eq!(s.into_string(), "«a <mark>b</mark> c");
        assert_eq!(snippet("» x «").into_string(), "» x «");
    }

    #[test]
    fn links_encode_values() {
        assert_eq!(
            link(
                "/article",
                &[("url", "http://x/a?b=1&c=<2>"), ("version", "")]
            ),
            "/article?url=http%3A%2F%2Fx%2Fa%3Fb%3D1%26c%3D%3C2%3E"
        );
        assert_eq!(link("/", &[("q", "")]), "/");
    }

    #[test]
    fn page_links_keep_every_filter() {
        let f = SearchForm {
            q: "chi linh".into(),
            sites: vec!["tinhuy".into(), "baomoi".into()],
            changed: true,
            ..Default::default()
        };
        assert_eq!(
            f.page_link(2),
            "/?q=chi+linh&site=tinhuy&site=baomoi&changed=1&page=2"
        );
        assert_eq!(
            f.page_link(1),
            "/?q=chi+linh&site=tinhuy&site=baomoi&changed=1"
        );
        let select = site_select(&["a".into(), "b".into()], &["a".into(), "b".into()]);
        assert!(select.into_string().contains("multiple"));
    }

    fn eq(t: &str) -> DiffOp {
        DiffOp::Equal { text: t.into() }
    }

    #[test]
    fn diffs_split_into_paragraphs_and_fold_unchanged_runs() {
        let ops = [
            eq("một\n\nhai\n\nba\n\nbốn ở "),
            DiffOp::Delete { text: "19".into() },
            DiffOp::Insert {
                text: "21\n\nmới".into(),
            },
            eq(" xã\n\nnăm\n\nsáu\n\nbảy"),
        ];
        let paras = diff_paragraphs(&ops);
        let changed: Vec<bool> = paras.iter().map(|p| p.changed).collect();
        assert_eq!(
            changed,
            [false, false, false, true, true, false, false, false]
        );
        assert_eq!(
            paras[3].ops,
            [
                eq("bốn ở "),
                DiffOp::Delete { text: "19".into() },
                DiffOp::Insert {
                    text: "21¶".into()
                }
            ]
        );
        let blocks: Vec<(bool, usize)> = diff_blocks(&paras)
            .iter()
            .map(|(shown, ps)| (*shown, ps.len()))
            .collect();
        assert_eq!(blocks, [(false, 2), (true, 4), (false, 2)]);
        let html = field_diff(
            &crate::diff::FieldDiff {
                field: "body".into(),
                ops: ops.to_vec(),
            },
            1,
            2,
        )
        .into_string();
        assert!(
            html.contains("<summary>2 đoạn không đổi</summary>"),
            "{html}"
        );
        assert!(html.contains("<del>19</del><ins>21¶</ins>"), "{html}");
        assert!(
            html.contains(r#"<div class="diff new"><p><ins>mới</ins> xã</p></div>"#),
            "{html}"
        );
    }

    #[test]
    fn diff_spans_become_ins_and_del() {
        let ops = [
            DiffOp::Equal {
                text: "ở ".into()
            },
            DiffOp::Delete { text: "19".into() },
            DiffOp::Insert {
                text: "<21>".into(),
            },
        ];
        assert_eq!(
            ops_markup(ops.iter()).into_string(),
            "ở <del>19</del><ins>&lt;21&gt;</ins>"
        );
    }
}
