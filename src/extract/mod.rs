//! Extraction: from one fetched HTML page to its links and article fields.
//!
//! Parts:
//! - this file: the public types, [`parse_page`] (one parse for links and article) and the
//!   per-field chain: site selector → JSON-LD → `<meta>` → generic body extractor →
//!   visible-text heuristics, recording in [`FieldSources`] what produced each field;
//! - [`text`]: NFC cleaning, block-aware flattening into paragraphs, [`key_form`];
//! - [`encoding`]: bytes to text ([`decode_html`]);
//! - [`dates`]: Vietnamese date strings ([`parse_vn_date`]);
//! - [`jsonld`], [`meta`]: structured metadata;
//! - [`generic`]: main-content extraction for pages without a body selector;
//! - [`heuristics`]: title (the h1 that best matches `<title>`), date (nearest to the
//!   title in the article header, distractors rejected) and author (author markup, a
//!   "Tác giả:" line, or the byline closing the body; source credits such as "Theo TTXVN"
//!   are not authors);
//! - [`links`]: outgoing links and the canonical URL.

pub mod dates;
pub mod encoding;
pub mod generic;
pub mod heuristics;
pub mod jsonld;
pub mod links;
pub mod meta;
pub mod text;

use chrono::{DateTime, FixedOffset};
use scraper::{ElementRef, Html, Selector};

pub use dates::parse_vn_date;
pub use encoding::decode_html;
pub use text::key_form;

use generic::BodyExtractor;
use text::{clean_text, inline_text, NodeSet, Para};

/// A CSS selector with the text it was written as (for provenance and messages).
#[derive(Debug, Clone)]
pub struct SelectorSpec {
    pub text: String,
    pub selector: Selector,
}

impl SelectorSpec {
    /// Parses a CSS selector; the error is a message for humans.
    pub fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err("empty selector".to_string());
        }
        Selector::parse(trimmed)
            .map(|selector| Self {
                text: trimmed.to_string(),
                selector,
            })
            .map_err(|e| e.to_string())
    }
}

/// The selectors configured for one site; every one is optional.
#[derive(Debug, Clone, Default)]
pub struct SiteSelectors {
    pub title: Option<SelectorSpec>,
    pub date: Option<SelectorSpec>,
    pub body: Option<SelectorSpec>,
    pub author: Option<SelectorSpec>,
    pub summary: Option<SelectorSpec>,
    /// Elements dropped from the body before its text is taken.
    pub remove: Vec<SelectorSpec>,
}

/// The article fields of one page.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Extracted {
    pub title: Option<String>,
    /// RFC 3339; +07:00 unless the page states an offset.
    pub published: Option<DateTime<FixedOffset>>,
    pub modified: Option<DateTime<FixedOffset>>,
    pub author: Option<String>,
    pub summary: Option<String>,
    /// Paragraphs joined by "\n\n", whitespace collapsed, NFC.
    pub body: String,
    /// Image captions; each is also its own paragraph of `body`.
    pub captions: Vec<String>,
    pub sources: FieldSources,
    /// Problems met, e.g. "date: cannot parse `…`".
    pub warnings: Vec<String>,
}

/// What produced each field: "selector:h1.title", "json-ld", "meta:og:title", "generic",
/// "heuristic".
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FieldSources {
    pub title: Option<String>,
    pub published: Option<String>,
    pub modified: Option<String>,
    pub author: Option<String>,
    pub summary: Option<String>,
    pub body: Option<String>,
}

/// Links and (optionally) the article of one page.
#[derive(Debug, Clone)]
pub struct ParsedPage {
    /// Absolute http(s) links (`<base href>` honoured), fragment dropped, deduplicated, in
    /// document order.
    pub links: Vec<url::Url>,
    /// `<link rel=canonical>`, resolved.
    pub canonical: Option<url::Url>,
    /// `Some` only when asked for.
    pub article: Option<Extracted>,
}

/// Parses the HTML once and returns links and (optionally) the article.
pub fn parse_page(
    html: &str,
    base: &url::Url,
    selectors: &SiteSelectors,
    want_article: bool,
    fetched_at: DateTime<FixedOffset>,
) -> ParsedPage {
    let doc = Html::parse_document(html);
    let (links, canonical) = links::links_and_canonical(&doc, base);
    let article = want_article.then(|| extract_article(&doc, selectors, fetched_at));
    ParsedPage {
        links,
        canonical,
        article,
    }
}

/// Extracts the article of an HTML page (convenience for callers that do not need links).
pub fn extract_html(
    html: &str,
    selectors: &SiteSelectors,
    fetched_at: DateTime<FixedOffset>,
) -> Extracted {
    extract_article(&Html::parse_document(html), selectors, fetched_at)
}

/// Dates later than the fetch by more than this are rejected: clocks of small portals drift,
/// and a page can state a time a few minutes ahead.
const FUTURE_TOLERANCE_MINUTES: i64 = 15;

fn is_future(d: &DateTime<FixedOffset>, fetched_at: &DateTime<FixedOffset>) -> bool {
    *d > *fetched_at + chrono::Duration::minutes(FUTURE_TOLERANCE_MINUTES)
}

/// The first element a selector matches, with its text. `remove` applies to the body
/// only: an author line is often inside the body block, removed from it and still wanted
/// as the author.
fn selected_text<'a>(doc: &'a Html, spec: &SelectorSpec) -> Option<(String, ElementRef<'a>)> {
    let el = doc.select(&spec.selector).next()?;
    let t = inline_text(el, &NodeSet::default());
    Some((t, el))
}

fn source_of(spec: &SelectorSpec) -> String {
    format!("selector:{}", spec.text)
}

/// Parses a date value; an unparseable one yields a warning and `None`, a future one too.
fn checked_date(
    raw: &str,
    field: &str,
    fetched_at: &DateTime<FixedOffset>,
    warnings: &mut Vec<String>,
) -> Option<DateTime<FixedOffset>> {
    match parse_vn_date(raw) {
        Some(d) if is_future(&d, fetched_at) => {
            warnings.push(format!(
                "{field}: `{raw}` is after the fetch time {}",
                fetched_at.to_rfc3339()
            ));
            None
        }
        Some(d) => Some(d),
        None => {
            warnings.push(format!("{field}: cannot parse `{raw}`"));
            None
        }
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| clean_text(&s)).filter(|s| !s.is_empty())
}

/// The remove selectors' matches: subtrees left out of the body's text.
///
/// The selectors are matched as one selector list, in one pass over the tree, instead of
/// one pass each; the combined list is parsed once per thread and site configuration.
fn removed_nodes(doc: &Html, selectors: &SiteSelectors) -> NodeSet {
    thread_local! {
        static COMBINED: std::cell::RefCell<Option<(String, Selector)>> =
            const { std::cell::RefCell::new(None) };
    }
    let mut skip = NodeSet::default();
    match selectors.remove.as_slice() {
        [] => {}
        [one] => skip.extend(doc.select(&one.selector).map(|el| el.id())),
        many => {
            let text = many
                .iter()
                .map(|s| s.text.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let done = COMBINED.with(|c| {
                let mut c = c.borrow_mut();
                if c.as_ref().is_none_or(|(t, _)| *t != text) {
                    *c = Selector::parse(&text).ok().map(|sel| (text.clone(), sel));
                }
                match c.as_ref() {
                    Some((_, sel)) => {
                        skip.extend(doc.select(sel).map(|el| el.id()));
                        true
                    }
                    None => false,
                }
            });
            if !done {
                // Each part parsed alone, so their list should too; keep going regardless.
                for spec in many {
                    skip.extend(doc.select(&spec.selector).map(|el| el.id()));
                }
            }
        }
    }
    skip
}

fn join_paras(paras: &[Para]) -> (String, Vec<String>) {
    let body = paras
        .iter()
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join("\n\n");
    let captions = paras
        .iter()
        .filter(|p| p.caption)
        .map(|p| p.text.clone())
        .collect();
    (body, captions)
}

/// Paragraphs of every match of the body selector, except matches nested in an earlier one
/// (so `".sapo, .content"` takes the lead and the body, and `"div.content"` nested in
/// `div.content` is read once).
fn selected_body(doc: &Html, spec: &SelectorSpec, skip: &NodeSet) -> Option<Vec<Para>> {
    let mut taken: Vec<ElementRef<'_>> = Vec::new();
    for el in doc.select(&spec.selector) {
        if skip.contains(&el.id()) {
            continue;
        }
        let nested = el
            .ancestors()
            .any(|a| taken.iter().any(|t| t.id() == a.id()));
        if !nested {
            taken.push(el);
        }
    }
    if taken.is_empty() {
        return None;
    }
    let mut f = text::Flattener::new(skip);
    for el in taken {
        f.add(*el);
    }
    Some(f.finish())
}

fn extract_article(
    doc: &Html,
    selectors: &SiteSelectors,
    fetched_at: DateTime<FixedOffset>,
) -> Extracted {
    let mut ex = Extracted::default();
    let skip = removed_nodes(doc, selectors);
    let ld = jsonld::find_article(doc);
    let meta = meta::MetaTags::read(doc);
    let mut title_el: Option<ElementRef<'_>> = None;

    // Title.
    if let Some(spec) = &selectors.title {
        match selected_text(doc, spec) {
            Some((t, el)) if !t.is_empty() => {
                ex.title = Some(t);
                ex.sources.title = Some(source_of(spec));
                title_el = Some(el);
            }
            Some(_) => ex
                .warnings
                .push(format!("title: selector `{}` matched no text", spec.text)),
            None => {}
        }
    }
    if ex.title.is_none() {
        if let Some(t) = non_empty(ld.as_ref().and_then(|a| a.headline.clone())) {
            ex.title = Some(t);
            ex.sources.title = Some("json-ld".into());
        } else if let Some((t, key)) = meta.title() {
            ex.title = Some(t);
            ex.sources.title = Some(format!("meta:{key}"));
        } else if let Some((t, el)) = heuristics::title(doc) {
            ex.title = Some(t);
            ex.sources.title = Some("heuristic".into());
            title_el = el;
        }
    }
    if title_el.is_none() {
        if let Some(t) = &ex.title {
            title_el = heuristics::title_element(doc, t);
        }
    }

    // Dates.
    let mut date_from_selector_failed = false;
    if let Some(spec) = &selectors.date {
        if let Some(el) = doc.select(&spec.selector).next() {
            let attr = el
                .value()
                .attr("datetime")
                .or_else(|| el.value().attr("content"))
                .map(str::to_string);
            let raw = attr
                .filter(|a| parse_vn_date(a).is_some())
                .unwrap_or_else(|| inline_text(el, &NodeSet::default()));
            match checked_date(&raw, "date", &fetched_at, &mut ex.warnings) {
                Some(d) => {
                    ex.published = Some(d);
                    ex.sources.published = Some(source_of(spec));
                }
                None => date_from_selector_failed = true,
            }
        }
    }
    if ex.published.is_none() {
        if let Some(raw) = ld.as_ref().and_then(|a| a.date_published.clone()) {
            if let Some(d) = checked_date(&raw, "date", &fetched_at, &mut ex.warnings) {
                ex.published = Some(d);
                ex.sources.published = Some("json-ld".into());
            }
        }
    }
    if ex.published.is_none() {
        if let Some((raw, key)) = meta.published() {
            if let Some(d) = checked_date(&raw, "date", &fetched_at, &mut ex.warnings) {
                ex.published = Some(d);
                ex.sources.published = Some(format!("meta:{key}"));
            }
        }
    }
    // A configured date selector that matched unparseable text is a template problem to
    // report, not something to paper over with a guess from the visible text.
    if ex.published.is_none() && !date_from_selector_failed {
        if let Some(d) = heuristics::date(doc, title_el, &fetched_at) {
            ex.published = Some(d);
            ex.sources.published = Some("heuristic".into());
        }
    }
    if let Some(raw) = ld.as_ref().and_then(|a| a.date_modified.clone()) {
        if let Some(d) = checked_date(&raw, "modified", &fetched_at, &mut ex.warnings) {
            ex.modified = Some(d);
            ex.sources.modified = Some("json-ld".into());
        }
    }
    if ex.modified.is_none() {
        if let Some((raw, key)) = meta.modified() {
            if let Some(d) = checked_date(&raw, "modified", &fetched_at, &mut ex.warnings) {
                ex.modified = Some(d);
                ex.sources.modified = Some(format!("meta:{key}"));
            }
        }
    }

    // Author (the visible-text fallback comes after the body, whose byline it reads).
    if let Some(spec) = &selectors.author {
        if let Some((t, _)) = selected_text(doc, spec) {
            if !t.is_empty() {
                ex.author = Some(t);
                ex.sources.author = Some(source_of(spec));
            }
        }
    }
    if ex.author.is_none() {
        if let Some(a) = non_empty(ld.as_ref().and_then(|a| a.author.clone())) {
            ex.author = Some(a);
            ex.sources.author = Some("json-ld".into());
        } else if let Some((a, key)) = meta.author() {
            ex.author = Some(a);
            ex.sources.author = Some(format!("meta:{key}"));
        }
    }

    // Summary.
    if let Some(spec) = &selectors.summary {
        if let Some((t, _)) = selected_text(doc, spec) {
            if !t.is_empty() {
                ex.summary = Some(t);
                ex.sources.summary = Some(source_of(spec));
            }
        }
    }
    if ex.summary.is_none() {
        if let Some(s) = non_empty(ld.as_ref().and_then(|a| a.description.clone())) {
            ex.summary = Some(s);
            ex.sources.summary = Some("json-ld".into());
        } else if let Some((s, key)) = meta.summary() {
            ex.summary = Some(s);
            ex.sources.summary = Some(format!("meta:{key}"));
        }
    }

    // Body.
    let mut paras: Vec<Para> = Vec::new();
    if let Some(spec) = &selectors.body {
        match selected_body(doc, spec, &skip) {
            Some(found) if !found.is_empty() => {
                paras = found;
                ex.sources.body = Some(source_of(spec));
            }
            Some(_) => ex
                .warnings
                .push(format!("body: selector `{}` matched no text", spec.text)),
            None => {}
        }
    }
    if ex.sources.body.is_none() {
        let found = generic::Native.extract(doc, &skip, ex.title.as_deref());
        if !found.is_empty() {
            paras = found;
            ex.sources.body = Some("generic".into());
        } else if let Some(b) = non_empty(ld.as_ref().and_then(|a| a.article_body.clone())) {
            ex.body = b;
            ex.sources.body = Some("json-ld".into());
        } else {
            ex.warnings.push("body: no article text found".into());
        }
    }

    // Author from the visible page, the last fallback: it reads the body's closing byline.
    if ex.author.is_none() {
        if let Some(found) = heuristics::author(doc, title_el, &paras) {
            // A generic body loses the byline it ends with, as a configured body loses it
            // to a `remove` selector; a configured body is kept as the site's selectors
            // make it.
            if ex.sources.body.as_deref() == Some("generic") {
                drop_closing_line(&mut paras, &found.line);
            }
            ex.author = Some(found.name);
            ex.sources.author = Some("heuristic".into());
        }
    }
    if !paras.is_empty() {
        let (body, captions) = join_paras(&paras);
        ex.body = body;
        ex.captions = captions;
    }
    ex
}

/// Drops `line` from the end of a body: the last paragraph, or the one before a closing
/// source credit ("Theo TTXVN"). A body is never emptied.
fn drop_closing_line(paras: &mut Vec<Para>, line: &str) {
    let n = paras.len();
    if n < 2 {
        return;
    }
    if let Some(i) = (n.saturating_sub(2)..n)
        .rev()
        .find(|&i| !paras[i].caption && paras[i].text == line)
    {
        paras.remove(i);
    }
}

#[cfg(test)]
mod tests;
