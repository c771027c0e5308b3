//! Visible-text heuristics, the last fallback for title and date.
//!
//! Parts:
//! - [`title`]: the heading (h1 first) whose words best match `<title>`;
//!   [`title_element`]: the element showing a title found elsewhere (JSON-LD, meta), used as
//!   the anchor of the date search;
//! - [`date`]: the date-like string nearest after the title inside the article header
//!   (or just before it, inside the title's own block). Distractors are rejected: the site
//!   header's "today" line, dates in related lists, comments, footers, menus and sidebars
//!   ([`is_boilerplate`]), dates inside links, dates in prose paragraphs, and dates after the
//!   fetch time.

use std::collections::{HashSet, VecDeque};
use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset};
use ego_tree::{NodeId, NodeRef};
use regex::Regex;
use scraper::{ElementRef, Html, Node, Selector};

use super::dates::find_dates;
use super::text::{
    clean_text, inline_text, is_block_element, is_hidden, is_skipped_element, key_form,
    visible_len, NodeSet,
};

fn boilerplate_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)comment|binh-?luan|y-?kien|related|lien-?quan|tin-?khac|bai-?khac|other|more-?news|footer|sidebar|widget|menu|navbar|breadcrumb|share|social|banner|advert|quang-?cao|popup|modal|cookie|topbar|top-bar|masthead|site-?header|^header|tags?$|keyword|rating|print|fontsize|font-size|tool",
        )
        .expect("static regex is valid")
    })
}

/// Whether an element is a container of non-article material by its tag, class or id:
/// comments, related or other articles, menus, sidebars, footers, share bars.
pub fn is_boilerplate(el: &scraper::node::Element) -> bool {
    if matches!(el.name(), "nav" | "footer" | "aside") {
        return true;
    }
    let re = boilerplate_re();
    el.id().is_some_and(|id| re.is_match(id)) || el.classes().any(|c| re.is_match(c))
}

/// The `<body>` element (a child of `<html>` in every parsed document).
pub(crate) fn body_of(doc: &Html) -> Option<ElementRef<'_>> {
    doc.root_element()
        .child_elements()
        .find(|e| e.value().name() == "body")
}

fn selector(s: &'static str) -> Selector {
    Selector::parse(s).expect("static selector is valid")
}

struct Sels {
    title: Selector,
    headings: Selector,
    titled: Selector,
}

fn sels() -> &'static Sels {
    static S: OnceLock<Sels> = OnceLock::new();
    S.get_or_init(|| Sels {
        title: selector("title"),
        headings: selector("h1, h2"),
        titled: selector(
            "h1, h2, h3, h4, [class*=title], [class*=Title], [class*=TITLE], [id*=title], [id*=Title], [class*=headline], [itemprop=headline]",
        ),
    })
}

fn words(s: &str) -> Vec<String> {
    key_form(s)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// How well a candidate heading matches the page's `<title>`: the share of the candidate's
/// words found in the title, weighted by how much of the title they cover.
fn similarity(candidate: &[String], title: &HashSet<String>) -> f64 {
    if candidate.is_empty() || title.is_empty() {
        return 0.0;
    }
    let hit = candidate.iter().filter(|w| title.contains(*w)).count() as f64;
    let precision = hit / candidate.len() as f64;
    let coverage = hit / title.len() as f64;
    precision * coverage.sqrt()
}

fn is_inside_boilerplate(node: NodeRef<'_, Node>) -> bool {
    node.ancestors()
        .filter_map(|a| a.value().as_element())
        .any(is_boilerplate)
}

/// The visible title: the h1 (else h2) whose words best match `<title>`, or, with no
/// usable heading, `<title>` itself without its site-name part.
pub fn title(doc: &Html) -> Option<(String, Option<ElementRef<'_>>)> {
    let s = sels();
    let none = NodeSet::default();
    let page_title = doc
        .select(&s.title)
        .next()
        .map(|t| clean_text(&t.text().collect::<String>()))
        .unwrap_or_default();
    let title_words: HashSet<String> = words(&page_title).into_iter().collect();
    let mut best: Option<(f64, String, ElementRef<'_>)> = None;
    for el in doc.select(&s.headings) {
        let t = inline_text(el, &none);
        let w = words(&t);
        if w.len() < 2 || is_inside_boilerplate(*el) {
            continue;
        }
        // An h1 is the page's own heading far more often than an h2.
        let weight = if el.value().name() == "h1" { 1.0 } else { 0.8 };
        let mut score = similarity(&w, &title_words) * weight;
        if title_words.is_empty() && el.value().name() == "h1" {
            score = 0.5;
        }
        if best.as_ref().is_none_or(|(b, _, _)| score > *b) {
            best = Some((score, t, el));
        }
    }
    match best {
        Some((score, t, el)) if score >= 0.3 => Some((t, Some(el))),
        _ => {
            let stripped = strip_site_name(&page_title);
            (words(&stripped).len() >= 2).then_some((stripped, None))
        }
    }
}

/// `<title>` often reads "Article - Site" or "Site | Article": keep the longest part.
fn strip_site_name(title: &str) -> String {
    let mut pieces = vec![title];
    for sep in [" | ", " - ", " – ", " — ", " :: "] {
        pieces = pieces.into_iter().flat_map(|p| p.split(sep)).collect();
    }
    pieces
        .into_iter()
        .map(str::trim)
        .max_by_key(|p| p.chars().count())
        .unwrap_or("")
        .to_string()
}

/// The element that shows `title` on the page: a heading or title-classed element whose
/// text is the title, else the parent of a text node equal to it.
pub fn title_element<'a>(doc: &'a Html, title: &str) -> Option<ElementRef<'a>> {
    let key = key_form(title);
    if key.is_empty() {
        return None;
    }
    // Sizes are compared first: normalising the text of every candidate is the expensive
    // part, and most candidates are far shorter or longer than the title.
    let title_len = visible_len(title);
    let size_ok = |n: usize, lo: f64, hi: f64| {
        (n as f64) >= title_len as f64 * lo && (n as f64) <= title_len as f64 * hi
    };
    let none = NodeSet::default();
    let title_words: HashSet<String> = words(title).into_iter().collect();
    let mut best: Option<(f64, ElementRef<'a>)> = None;
    for el in doc.select(&sels().titled) {
        let n: usize = el.text().map(visible_len).sum();
        if !size_ok(n, 0.6, 1.8) || is_inside_boilerplate(*el) {
            continue;
        }
        let t = inline_text(el, &none);
        if key_form(&t) == key {
            return Some(el);
        }
        let score = similarity(&words(&t), &title_words);
        if score >= 0.75 && best.as_ref().is_none_or(|(b, _)| score > *b) {
            best = Some((score, el));
        }
    }
    if let Some((_, el)) = best {
        return Some(el);
    }
    let body = body_of(doc)?;
    body.descendants().find_map(|n| {
        let t = n.value().as_text()?;
        if !size_ok(visible_len(t), 0.9, 1.1) || key_form(t) != key {
            return None;
        }
        n.parent().and_then(ElementRef::wrap)
    })
}

/// A run of visible text between block boundaries, with what the date search needs.
struct Chunk {
    text: String,
    first_node: Option<NodeId>,
    excluded: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    Before,
    InTitle,
    After,
}

struct Chunker {
    title: Option<NodeId>,
    /// The title element and its ancestors: containers of the title are never distractors.
    title_ancestors: NodeSet,
    /// The last chunks before the title (only the nearest ones are ever looked at).
    before: VecDeque<Chunk>,
    after: Vec<Chunk>,
    cur: String,
    cur_first: Option<NodeId>,
    cur_excluded: bool,
    position: Position,
    excluded_depth: usize,
    /// Enough text after the title has been collected: the rest of the page is not read.
    done: bool,
}

impl Chunker {
    fn flush(&mut self) {
        if !self.cur.trim().is_empty() {
            // Text is kept raw and cleaned only if it is looked at.
            let chunk = Chunk {
                text: std::mem::take(&mut self.cur),
                first_node: self.cur_first,
                excluded: self.cur_excluded,
            };
            match self.position {
                Position::Before => {
                    if self.before.len() == BEFORE_WINDOW_CHUNKS {
                        self.before.pop_front();
                    }
                    self.before.push_back(chunk);
                }
                Position::After => {
                    self.after.push(chunk);
                    self.done = self.after.len() >= AFTER_WINDOW_CHUNKS;
                }
                Position::InTitle => {}
            }
        }
        self.cur.clear();
        self.cur_first = None;
        self.cur_excluded = false;
    }

    fn walk(&mut self, node: NodeRef<'_, Node>, in_link: bool) {
        if self.done {
            return;
        }
        match node.value() {
            Node::Text(t) => {
                if self.cur_first.is_none() {
                    self.cur_first = Some(node.id());
                }
                if self.excluded_depth > 0 || in_link {
                    self.cur_excluded = true;
                }
                self.cur.push_str(t);
            }
            Node::Element(el) => {
                if is_skipped_element(el.name()) || is_hidden(el) {
                    return;
                }
                let is_title = Some(node.id()) == self.title;
                let block = is_block_element(el.name()) || is_title;
                // A boilerplate-looking container that holds the title is the article's
                // own header ("article-header", "title-bar"), not a distractor.
                let excluded = is_boilerplate(el) && !self.title_ancestors.contains(&node.id());
                if block {
                    self.flush();
                }
                if is_title {
                    self.position = Position::InTitle;
                }
                if excluded {
                    self.excluded_depth += 1;
                }
                let link = in_link || el.name() == "a";
                for c in node.children() {
                    self.walk(c, link);
                }
                if block {
                    self.flush();
                }
                if excluded {
                    self.excluded_depth -= 1;
                }
                if is_title {
                    self.position = Position::After;
                }
            }
            _ => {
                for c in node.children() {
                    self.walk(c, in_link);
                }
            }
        }
    }
}

/// Longest chunk that can hold an article's date line; longer chunks are prose.
const MAX_DATE_LINE: usize = 160;
/// After the title, the search stops at the first prose paragraph or after this much text.
const AFTER_WINDOW_CHARS: usize = 1500;
const AFTER_WINDOW_CHUNKS: usize = 25;
/// Before the title, only this many chunks inside the title's own block are looked at.
const BEFORE_WINDOW_CHUNKS: usize = 3;

/// The article's date from the visible text, anchored on the title element.
pub fn date(
    doc: &Html,
    title_el: Option<ElementRef<'_>>,
    fetched_at: &DateTime<FixedOffset>,
) -> Option<DateTime<FixedOffset>> {
    let title_el = title_el?;
    // The title's own block (its grandparent): where a "posted at" line above the heading
    // lives. The site header's today line is outside it.
    let block = title_el
        .parent()
        .and_then(|p| p.parent())
        .or_else(|| title_el.parent())?;
    let mut ch = Chunker {
        title: Some(title_el.id()),
        title_ancestors: std::iter::once(title_el.id())
            .chain(title_el.ancestors().map(|a| a.id()))
            .collect(),
        before: VecDeque::with_capacity(BEFORE_WINDOW_CHUNKS),
        after: Vec::with_capacity(AFTER_WINDOW_CHUNKS),
        cur: String::new(),
        cur_first: None,
        cur_excluded: false,
        position: Position::Before,
        excluded_depth: 0,
        done: false,
    };
    // The block, then what follows it in document order (the following siblings of the
    // block and of each of its ancestors): never the whole page, nor anything before the
    // block.
    ch.walk(block, false);
    let mut node = block;
    while !ch.done {
        for sib in node.next_siblings() {
            ch.walk(sib, false);
            if ch.done {
                break;
            }
        }
        match node.parent() {
            Some(p) => node = p,
            None => break,
        }
    }
    ch.flush();
    let limit = *fetched_at + chrono::Duration::minutes(15);
    // The dates of a chunk that may hold the article's date line, cleaned on demand.
    let candidates = |c: &Chunk| -> Option<(String, DateTime<FixedOffset>)> {
        if c.excluded || !c.text.bytes().any(|b| b.is_ascii_digit()) {
            return None;
        }
        let text = clean_text(&c.text);
        if text.chars().count() > MAX_DATE_LINE {
            return None;
        }
        let d = find_dates(&text)
            .into_iter()
            .filter_map(|f| f.value)
            .find(|d| *d <= limit)?;
        Some((text, d))
    };

    let mut seen_chars = 0;
    for c in &ch.after {
        let len = visible_len(&c.text);
        if !c.excluded && len > MAX_DATE_LINE.max(200) {
            break;
        }
        if let Some((_, d)) = candidates(c) {
            return Some(d);
        }
        seen_chars += len;
        if seen_chars > AFTER_WINDOW_CHARS {
            break;
        }
    }

    // Before the title: only inside the title's own block.
    let in_block = |id: NodeId| {
        doc.tree
            .get(id)
            .is_some_and(|n| n.ancestors().any(|a| a.id() == block.id()))
    };
    let today = fetched_at.date_naive();
    ch.before
        .iter()
        .rev()
        .filter(|c| c.first_node.is_some_and(in_block))
        .find_map(|c| {
            let (text, d) = candidates(c)?;
            // A bare date equal to the fetch day above the title is the "today" line.
            let bare_today =
                d.date_naive() == today && find_dates(&text).first().is_some_and(|f| !f.has_time);
            (!bare_today).then_some(d)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetched() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2024-04-24T10:00:00+07:00").expect("static date")
    }

    fn date_of(html: &str) -> Option<String> {
        let doc = Html::parse_document(html);
        let (_, el) = title(&doc)?;
        date(&doc, el, &fetched()).map(|d| d.to_rfc3339())
    }

    #[test]
    fn title_is_the_h1_matching_title_tag() {
        let doc = Html::parse_document(
            "<title>Đồng chí Phó Bí thư làm việc với Chí Linh - Tỉnh ủy Hải Dương</title>\
             <h1 class=logo>Tỉnh ủy Hải Dương</h1><h2>Tin mới</h2>\
             <h1>Đồng chí Phó Bí thư làm việc với Chí Linh</h1>",
        );
        let (t, el) = title(&doc).expect("a title");
        assert_eq!(t, "Đồng chí Phó Bí thư làm việc với Chí Linh");
        assert!(el.is_some());
    }

    #[test]
    fn title_falls_back_to_title_tag_without_site_name() {
        let doc = Html::parse_document(
            "<title>Tỉnh ủy Hải Dương | Hội nghị tổng kết công tác năm 2023</title><p>x</p>",
        );
        let (t, el) = title(&doc).expect("a title");
        assert_eq!(t, "Hội nghị tổng kết công tác năm 2023");
        assert!(el.is_none());
    }

    #[test]
    fn skips_site_header_today_line() {
        let html = "<title>Hội nghị tổng kết</title><body>\
            <div class=top><span>Thứ tư, ngày 24/4/2024</span></div>\
            <div class=main><div class=box><h1>Hội nghị tổng kết</h1>\
            <div class=date>Thứ Tư 31/03/2021 08:35</div><p>Nội dung.</p></div></div></body>";
        assert_eq!(date_of(html).as_deref(), Some("2021-03-31T08:35:00+07:00"));
        // No date near the title: the header's today line is still not taken.
        let html = "<title>Hội nghị tổng kết</title><body>\
            <div class=top><span>Thứ tư, ngày 24/4/2024</span></div>\
            <div class=main><div class=box><h1>Hội nghị tổng kết</h1><p>Nội dung.</p></div></div></body>";
        assert_eq!(date_of(html), None);
    }

    #[test]
    fn skips_related_list_dates() {
        let html = "<title>Hội nghị tổng kết</title><body><h1>Hội nghị tổng kết</h1>\
            <div class=content><p>Nội dung.</p></div>\
            <div class=related><ul><li><a href=/a>Bài khác</a> <em>(20/03/2021)</em></li></ul></div></body>";
        assert_eq!(date_of(html), None);
        let html = "<title>Hội nghị tổng kết</title><body><h1>Hội nghị tổng kết</h1>\
            <ul><li><a href=/a>Bài khác 20/03/2021</a></li></ul></body>";
        assert_eq!(date_of(html), None);
    }

    #[test]
    fn skips_comment_dates() {
        let html = "<title>Hội nghị tổng kết</title><body><h1>Hội nghị tổng kết</h1>\
            <div id=comments><div class=item><b>Minh</b> 22/03/2021 10:00<p>Hay quá</p></div></div></body>";
        assert_eq!(date_of(html), None);
    }

    #[test]
    fn skips_footer_dates() {
        let html = "<title>Hội nghị tổng kết</title><body><h1>Hội nghị tổng kết</h1>\
            <footer>Cập nhật lần cuối: 23/04/2024</footer>\
            <div class=site-footer>Cập nhật: 22/04/2024 08:00</div></body>";
        assert_eq!(date_of(html), None);
    }

    #[test]
    fn skips_future_dates() {
        let html = "<title>Hội nghị tổng kết</title><body><h1>Hội nghị tổng kết</h1>\
            <div>Ngày 30/12/2030 09:00</div><div>Đăng lúc 31/03/2021 08:35</div></body>";
        assert_eq!(date_of(html).as_deref(), Some("2021-03-31T08:35:00+07:00"));
    }

    #[test]
    fn skips_dates_in_prose() {
        let prose = "Ngày 30/3/2021, đồng chí Lê Văn Hiệu, Phó Bí thư Thường trực Tỉnh ủy làm việc với Thường trực Thành ủy Chí Linh để nghe báo cáo tình hình công tác phòng chống dịch Covid-19; chủ trương xây dựng đề án ứng dụng công nghệ";
        let html = format!(
            "<title>Hội nghị tổng kết</title><body><h1>Hội nghị tổng kết</h1><p>{prose}</p></body>"
        );
        assert_eq!(date_of(&html), None);
    }

    #[test]
    fn date_line_just_above_title() {
        let html = "<title>Hội nghị tổng kết</title><body><div class=top>Thứ tư, ngày 24/4/2024</div>\
            <div class=art><div class=head><span>16/12/2016 07:53:54</span><h1>Hội nghị tổng kết</h1></div>\
            <p>Nội dung.</p></div></body>";
        assert_eq!(date_of(html).as_deref(), Some("2016-12-16T07:53:54+07:00"));
    }
}
