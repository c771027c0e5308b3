//! Visible-text heuristics, the last fallback for title, date and author.
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
//! - [`author`]: author markup after the title (`[class*=author]` in any case, `.tacgia`,
//!   `itemprop=author` …), else a labelled line ("Tác giả: …"), else the byline closing the
//!   body (right-aligned or bold, or strictly a name list such as "PV" or "Nguyễn Văn A -
//!   Trần Thị B"). Comment authors, related lists, prose, date lines and source credits
//!   ("Theo TTXVN", "Nguồn: …") are never taken.

use std::collections::{HashSet, VecDeque};
use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset};
use ego_tree::{NodeId, NodeRef};
use regex::Regex;
use scraper::{ElementRef, Html, Node, Selector};

use super::dates::find_dates;
use super::text::{
    clean_text, contains_ci, inline_text, is_block_element, is_hidden, is_skipped_element,
    key_form, visible_len, NodeSet, Para,
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
    /// Inside a boilerplate container (related list, comments, footer …).
    excluded: bool,
    /// Holds link text.
    linked: bool,
}

impl Chunk {
    /// Not a candidate for the article's date line.
    fn skipped(&self) -> bool {
        self.excluded || self.linked
    }
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
    cur_linked: bool,
    position: Position,
    excluded_depth: usize,
    /// How many chunks after the title are collected.
    max_after: usize,
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
                linked: self.cur_linked,
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
                    self.done = self.after.len() >= self.max_after;
                }
                Position::InTitle => {}
            }
        }
        self.cur.clear();
        self.cur_first = None;
        self.cur_excluded = false;
        self.cur_linked = false;
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
                if self.excluded_depth > 0 {
                    self.cur_excluded = true;
                }
                if in_link {
                    self.cur_linked = true;
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

/// Collects the visible text around the title element: up to [`BEFORE_WINDOW_CHUNKS`]
/// chunks before it and `max_after` chunks after it, walking the title's own block (its
/// grandparent) and then what follows that block in document order: never the whole page,
/// nor anything before the block. Returns the chunks and the block.
fn chunks_around_title<'a>(
    title_el: ElementRef<'a>,
    max_after: usize,
) -> Option<(Chunker, NodeRef<'a, Node>)> {
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
        after: Vec::with_capacity(max_after.min(64)),
        cur: String::new(),
        cur_first: None,
        cur_excluded: false,
        cur_linked: false,
        position: Position::Before,
        excluded_depth: 0,
        max_after,
        done: false,
    };
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
    Some((ch, block))
}

/// The article's date from the visible text, anchored on the title element.
pub fn date(
    doc: &Html,
    title_el: Option<ElementRef<'_>>,
    fetched_at: &DateTime<FixedOffset>,
) -> Option<DateTime<FixedOffset>> {
    let (ch, block) = chunks_around_title(title_el?, AFTER_WINDOW_CHUNKS)?;
    let limit = *fetched_at + chrono::Duration::minutes(15);
    // The dates of a chunk that may hold the article's date line, cleaned on demand.
    let candidates = |c: &Chunk| -> Option<(String, DateTime<FixedOffset>)> {
        if c.skipped() || !c.text.bytes().any(|b| b.is_ascii_digit()) {
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
        if !c.skipped() && len > MAX_DATE_LINE.max(200) {
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

// ------------------------------------------------------------------------------- author

/// An author read from the visible page by [`author`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundAuthor {
    /// The name(s), without label ("Tác giả:"), date or source credit.
    pub name: String,
    /// The whole line the name was read from, cleaned as a body paragraph is: the field
    /// chain drops a paragraph equal to it from the end of a generic body.
    pub line: String,
}

/// How much the page itself says that a short line is a byline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Evidence {
    /// Author markup (`class*=author`, `.tacgia`, `itemprop=author` …) or a label
    /// ("Tác giả:", "Bài và ảnh:"): the line only has to be name-sized.
    Marked,
    /// The last paragraph set apart as Vietnamese portals set bylines: right-aligned or
    /// wholly bold/italic. Most of its words must be capitalised (a bold sentence-case line
    /// such as an intertitle or "Tin cùng chuyên mục" is not a name).
    Styled,
    /// A plain last paragraph: only a strict name list ("PV", "Nguyễn Văn A - Trần Thị B",
    /// "Phạm Thị Hoài, VPTU").
    Bare,
}

/// Longest line an author can be read from.
const MAX_AUTHOR_LINE: usize = 120;
/// Longest name (list) taken as an author.
const MAX_AUTHOR_NAME: usize = 80;
/// Chunks after the title searched for a labelled author line ("Tác giả: …").
const AUTHOR_WINDOW_CHUNKS: usize = 300;

fn author_label_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)^(?:(?:tác giả(?: bài viết)?|người viết|phóng viên|nhóm phóng viên|bút danh|thực hiện|(?:bài|tin|bài viết)(?: ?(?:,|và|&|\+|-) ?ảnh)?|author|written by)\s*:\s*|(?:viết bởi|by)\s+)",
        )
        .expect("static regex is valid")
    })
}

fn right_style_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)(?:text-align|float)\s*:\s*right").expect("static regex is valid")
    })
}

/// First words of lines that are labels, navigation or credits, never a name.
const NOT_A_NAME_START: &[&str] = &[
    "theo", "nguồn", "ảnh", "video", "clip", "xem", "đọc", "tin", "từ", "chia", "bình", "ý",
    "liên", "trang", "các", "in", "gửi", "lượt", "ngày", "cập", "đăng", "thứ", "chủ", "tags",
    "tag", "share", "read", "related", "tham", "quay", "về", "trở",
];

/// A credit of where the text was taken from ("Theo TTXVN", "Nguồn: Báo Hải Dương",
/// "(Theo VOV)"), or of the photos ("Ảnh: …"): not the author.
///
/// "Theo X" / "Nguồn: X" name the outlet a portal republished the text from (a news agency,
/// another portal, a newspaper), not the person who wrote it; they are the provenance of a
/// republication, and the republished text keeps them as its last paragraph (the `baomoi`
/// fixture's "Theo Tỉnh ủy Hải Dương"), while "Tác giả: X" is literally "author: X".
fn is_credit_line(s: &str) -> bool {
    let t = s.trim_start_matches(|c: char| !c.is_alphanumeric());
    let first = t
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("")
        .to_lowercase();
    matches!(
        first.as_str(),
        "theo" | "nguồn" | "ảnh" | "source" | "photo"
    )
}

/// Strips a leading author label; says whether there was one.
fn strip_author_label(s: &str) -> (&str, bool) {
    match author_label_re().find(s) {
        Some(m) => (s[m.end()..].trim(), true),
        None => (s, false),
    }
}

fn trim_name_punct(s: &str) -> &str {
    s.trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, '-' | '–' | '—' | ',' | ';' | '|' | '/' | '*')
    })
}

/// The name read from an author line: the label stripped; with `drop_pieces` (author
/// markup), the pieces holding digits (dates, times, view counters) and source credits
/// are dropped, without it such a line is no byline at all. Also says whether a label was
/// found.
fn name_from_line(line: &str, drop_pieces: bool) -> Option<(String, bool)> {
    if line.chars().count() > MAX_AUTHOR_LINE {
        return None;
    }
    let mut labelled = false;
    let mut kept: Vec<&str> = Vec::new();
    for segment in line.split(['|', '•', '·']) {
        let (segment, label) = strip_author_label(segment.trim());
        labelled |= label;
        for piece in segment.split(" - ") {
            let piece = trim_name_punct(piece);
            if piece.is_empty() {
                continue;
            }
            let dated = piece.chars().any(|c| c.is_ascii_digit());
            if dated || is_credit_line(piece) {
                if drop_pieces {
                    continue;
                }
                return None;
            }
            kept.push(piece);
        }
    }
    let name = kept.join(" - ");
    (!name.is_empty()).then_some((name, labelled))
}

/// The words of a name line, separators and connectors left out.
fn name_words(s: &str) -> Vec<&str> {
    s.split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty() && !matches!(*w, "và" | "and"))
        .collect()
}

fn is_capitalised(w: &str) -> bool {
    w.chars().next().is_some_and(char::is_uppercase)
}

/// "PV", "CTV", "TTXVN", "VPTU": an upper-case abbreviation.
fn is_abbreviation(w: &str) -> bool {
    let n = w.chars().count();
    (2..=6).contains(&n) && w.chars().all(|c| c.is_ascii_uppercase())
}

/// "Nguyễn", "Văn", "A": one syllable of a personal name.
fn is_name_syllable(w: &str) -> bool {
    let mut cs = w.chars();
    cs.next().is_some_and(char::is_uppercase) && cs.all(|c| c.is_lowercase())
}

/// Whether `name` has the shape of an author for the given evidence.
fn is_name_shaped(name: &str, evidence: Evidence) -> bool {
    let n = name.chars().count();
    if n == 0 || n > MAX_AUTHOR_NAME || name.contains(':') {
        return false;
    }
    // A sentence, a question, a label: not a name.
    if name.ends_with(['.', '!', '?', ';', '…', '"', '”']) {
        return false;
    }
    let words = name_words(name);
    let Some(first) = words.first() else {
        return false;
    };
    if words.len() > 12 || !is_capitalised(first) {
        return false;
    }
    if NOT_A_NAME_START.contains(&first.to_lowercase().as_str()) {
        return false;
    }
    match evidence {
        Evidence::Marked => true,
        Evidence::Styled => words.iter().filter(|w| is_capitalised(w)).count() * 2 >= words.len(),
        Evidence::Bare => {
            if n > 60 {
                return false;
            }
            // Every part a personal name of 2 to 5 syllables or an abbreviation.
            let parts = name
                .split([',', '-', '–', '&', '/', '(', ')'])
                .flat_map(|p| p.split(" và "))
                .map(name_words)
                .filter(|w| !w.is_empty());
            let mut all_abbrev = true;
            for part in parts {
                let abbrev = part.len() == 1 && is_abbreviation(part[0]);
                let person = (2..=5).contains(&part.len())
                    && part
                        .iter()
                        .all(|w| is_name_syllable(w) || is_abbreviation(w));
                if !abbrev && !person {
                    return false;
                }
                all_abbrev &= part.iter().all(|w| is_abbreviation(w));
            }
            // Vietnamese personal names carry diacritics ("Minh Đức", "Trần Thị B"); a
            // plain ASCII title-case line ("Related Articles") at the end of a body is not
            // taken without styling, an abbreviation ("PV") is.
            all_abbrev || !name.is_ascii()
        }
    }
}

/// Whether an element is marked up as an author: `class`/`id` with "author", "tacgia",
/// "tac-gia", "byline", "butdanh", `itemprop=author`, `rel=author`.
fn is_author_marked(el: &scraper::node::Element) -> bool {
    let has_token = |attr: &str| {
        el.attr(attr).is_some_and(|v| {
            v.split_ascii_whitespace()
                .any(|t| t.eq_ignore_ascii_case("author"))
        })
    };
    let marked = |s: &str| {
        [
            "author", "tacgia", "tac-gia", "tac_gia", "byline", "butdanh", "but-danh",
        ]
        .iter()
        .any(|k| contains_ci(s, k))
    };
    has_token("itemprop")
        || has_token("rel")
        || el.attr("class").is_some_and(marked)
        || el.id().is_some_and(marked)
}

/// Inside a comment or review (by class or microdata), a related or other-articles list,
/// a menu, sidebar or footer, an item of a list of articles, or hidden.
fn is_in_comment_or_list(el: ElementRef<'_>) -> bool {
    if is_boilerplate(el.value()) || is_hidden(el.value()) || is_inside_boilerplate(*el) {
        return true;
    }
    let own = visible_len(&el.text().collect::<String>());
    el.ancestors().filter_map(ElementRef::wrap).any(|a| {
        let v = a.value();
        let in_thread = ["itemtype", "itemprop"].iter().any(|k| {
            v.attr(k)
                .is_some_and(|t| contains_ci(t, "comment") || contains_ci(t, "review"))
        });
        // An item of a list of articles: its link (the article's title) is longer than
        // the author line.
        let article_item = v.name() == "li"
            && a.descendants()
                .filter_map(ElementRef::wrap)
                .filter(|d| d.value().name() == "a" && !d.ancestors().any(|x| x.id() == el.id()))
                .any(|d| visible_len(&d.text().collect::<String>()) > own);
        in_thread || article_item || is_hidden(v)
    })
}

/// Author markup after the title (or inside the title's own block).
fn marked_author(doc: &Html, title_el: Option<ElementRef<'_>>) -> Option<FoundAuthor> {
    let body = body_of(doc)?;
    let title_block = title_el.and_then(|t| t.parent()).and_then(|p| p.parent());
    let none = NodeSet::default();
    let mut after_title = title_el.is_none();
    for node in body.descendants() {
        if title_el.is_some_and(|t| t.id() == node.id()) {
            after_title = true;
            continue;
        }
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        if is_skipped_element(el.value().name()) || !is_author_marked(el.value()) {
            continue;
        }
        let near_title =
            after_title || title_block.is_some_and(|b| el.ancestors().any(|a| a.id() == b.id()));
        if !near_title || is_in_comment_or_list(el) {
            continue;
        }
        let mut line = inline_text(el, &none);
        if line.is_empty() {
            line = el
                .value()
                .attr("content")
                .map(clean_text)
                .unwrap_or_default();
        }
        // A label alone ("<span class=author>Tác giả:</span> Minh Anh"): the name is next
        // to it, in the parent's line.
        if !line.is_empty() && strip_author_label(&line).0.is_empty() {
            if let Some(parent) = el.parent().and_then(ElementRef::wrap) {
                line = inline_text(parent, &none);
            }
        }
        if let Some((name, _)) = name_from_line(&line, true) {
            if is_name_shaped(&name, Evidence::Marked) {
                return Some(FoundAuthor { name, line });
            }
        }
    }
    None
}

/// A labelled line ("Tác giả: Minh Anh", "Bài và ảnh: PV") after the title, outside
/// related lists, comments, menus and footers.
fn labelled_author(title_el: Option<ElementRef<'_>>) -> Option<FoundAuthor> {
    let (ch, _) = chunks_around_title(title_el?, AUTHOR_WINDOW_CHUNKS)?;
    ch.after.iter().find_map(|c| {
        if c.excluded || c.text.len() > MAX_AUTHOR_LINE * 4 || !c.text.contains(':') {
            return None;
        }
        let line = clean_text(&c.text);
        let (name, labelled) = name_from_line(&line, true)?;
        (labelled && is_name_shaped(&name, Evidence::Marked)).then_some(FoundAuthor { name, line })
    })
}

fn is_right_aligned(el: &scraper::node::Element) -> bool {
    el.attr("align")
        .is_some_and(|a| a.trim().eq_ignore_ascii_case("right"))
        || el
            .attr("style")
            .is_some_and(|s| right_style_re().is_match(s))
        || el
            .classes()
            .any(|c| contains_ci(c, "right") && !contains_ci(c, "copyright"))
}

/// Whether every bit of text of `el` is bold or italic.
fn is_emphasised(el: ElementRef<'_>) -> bool {
    let emphasis = |n: &str| matches!(n, "b" | "strong" | "em" | "i");
    if emphasis(el.value().name()) {
        return true;
    }
    let mut any = false;
    for node in el.descendants() {
        let Some(t) = node.value().as_text() else {
            continue;
        };
        if t.trim().is_empty() {
            continue;
        }
        any = true;
        let inside = node
            .ancestors()
            .take_while(|a| a.id() != el.id())
            .filter_map(|a| a.value().as_element())
            .any(|a| emphasis(a.name()));
        if !inside {
            return false;
        }
    }
    any
}

/// The block showing `text` as its whole line (the last one outside boilerplate).
fn block_showing<'a>(doc: &'a Html, text: &str) -> Option<ElementRef<'a>> {
    let none = NodeSet::default();
    let mut last_block = None;
    let mut found = None;
    for node in body_of(doc)?.descendants() {
        let Some(t) = node.value().as_text() else {
            continue;
        };
        let t = clean_text(t);
        if t.is_empty() || !text.contains(t.as_str()) {
            continue;
        }
        let Some(block) = node.ancestors().filter_map(ElementRef::wrap).find(|a| {
            let name = a.value().name();
            is_block_element(name) || name == "td"
        }) else {
            continue;
        };
        if last_block == Some(block.id()) {
            continue;
        }
        last_block = Some(block.id());
        if inline_text(block, &none) == text && !is_in_comment_or_list(block) {
            found = Some(block);
        }
    }
    found
}

/// Whether the page sets the line apart as a byline: right-aligned (the block, an
/// element inside it, or a close wrapper) or wholly bold/italic.
fn is_styled_as_byline(block: ElementRef<'_>) -> bool {
    let len = visible_len(&block.text().collect::<String>());
    let right = block
        .descendants()
        .filter_map(|n| n.value().as_element())
        .any(is_right_aligned)
        || block
            .ancestors()
            .filter_map(ElementRef::wrap)
            .take(2)
            .take_while(|a| visible_len(&a.text().collect::<String>()) <= len * 2)
            .any(|a| is_right_aligned(a.value()));
    right || is_emphasised(block)
}

/// A byline closing the body: the last paragraph (or the one before a closing "Theo …"
/// credit), short, name-shaped, and either labelled, styled as a byline, or a strict name
/// list.
fn body_end_author(doc: &Html, body: &[Para]) -> Option<FoundAuthor> {
    let mut i = body.len().checked_sub(1)?;
    if is_credit_line(&body[i].text) {
        i = i.checked_sub(1)?;
    }
    // A body that is only a name is no body.
    if i == 0 {
        return None;
    }
    let p = &body[i];
    if p.caption || p.link_ratio > 0.5 {
        return None;
    }
    let (name, labelled) = name_from_line(&p.text, false)?;
    let ok = if labelled {
        is_name_shaped(&name, Evidence::Marked)
    } else {
        is_name_shaped(&name, Evidence::Bare)
            || (is_name_shaped(&name, Evidence::Styled)
                && block_showing(doc, &p.text).is_some_and(is_styled_as_byline))
    };
    ok.then(|| FoundAuthor {
        name,
        line: p.text.clone(),
    })
}

/// The article's author from the visible page, the last fallback after the site's
/// selector, JSON-LD and `<meta>`. In order:
/// 1. author markup after the title: `[class*=author]` in any case (DNN's
///    `.ArticleAuthor`, Liferay's `.author_post`, `.news-author`, `.cms-author`),
///    `.tacgia`, `.byline`, `itemprop=author`, `rel=author`;
/// 2. a labelled line after the title: "Tác giả: …", "Người viết: …", "Bài và ảnh: …";
/// 3. the byline closing the body (`body`: the extracted paragraphs): a right-aligned or
///    bold last paragraph with a name (NukeViet's `p.text-right strong`, tinhuy portals),
///    or a plain one that is strictly a name list ("PV", "Nguyễn Văn A - Trần Thị B").
///
/// Never taken: anything inside comments (by class or microdata), related or other-article
/// lists, menus, sidebars and footers ([`is_boilerplate`]), items of article lists, text
/// before the title's block, prose, date lines and counters, and source credits: "Theo
/// TTXVN", "Nguồn: …" name the outlet the text was republished from, not its writer (see
/// [`is_credit_line`]).
pub fn author(doc: &Html, title_el: Option<ElementRef<'_>>, body: &[Para]) -> Option<FoundAuthor> {
    marked_author(doc, title_el)
        .or_else(|| labelled_author(title_el))
        .or_else(|| body_end_author(doc, body))
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
    fn author_lines_are_read_without_labels_dates_and_credits() {
        let read = |line: &str, drop: bool| name_from_line(line, drop).map(|(n, _)| n);
        assert_eq!(read("Tác giả: Minh Anh", true).as_deref(), Some("Minh Anh"));
        assert_eq!(
            read("TÁC GIẢ BÀI VIẾT: Minh Anh", true).as_deref(),
            Some("Minh Anh")
        );
        assert_eq!(read("Bài, ảnh: PV", true).as_deref(), Some("PV"));
        assert_eq!(
            read("Minh Anh - 24/04/2024 | Nguồn: TTXVN", true).as_deref(),
            Some("Minh Anh")
        );
        // Outside author markup such a line is no byline.
        assert_eq!(read("Minh Anh - 24/04/2024", false), None);
        assert_eq!(read("Theo TTXVN", true), None);
        assert_eq!(read("Nguồn: Báo Hải Dương", false), None);
        assert_eq!(read("24/04/2024 15:20", true), None);
    }

    #[test]
    fn author_name_shapes() {
        use Evidence::*;
        for (name, ev, ok) in [
            ("PV", Bare, true),
            ("Nguyễn Văn A - Trần Thị B", Bare, true),
            ("Phạm Thị Hoài, VPTU", Bare, true),
            ("Minh Đức (TTXVN)", Bare, true),
            ("Minh Anh và Thu Hà", Bare, true),
            // No diacritics and no styling: not a Vietnamese personal name for sure.
            ("Related Articles", Bare, false),
            ("Văn phòng Tỉnh ủy", Bare, false),
            ("Văn phòng Tỉnh ủy", Styled, true),
            ("Phòng Thông tin", Styled, true),
            ("Tin cùng chuyên mục", Styled, false),
            ("Phát triển du lịch gắn với bảo tồn văn hóa", Styled, false),
            ("Trung tâm Văn hóa - Thể thao huyện", Marked, true),
            ("Chúc lễ hội thành công.", Marked, false),
            ("Theo TTXVN", Marked, false),
            ("Lượt xem: 120", Marked, false),
            ("admin", Marked, false),
        ] {
            assert_eq!(is_name_shaped(name, ev), ok, "{name} {ev:?}");
        }
    }

    #[test]
    fn date_line_just_above_title() {
        let html = "<title>Hội nghị tổng kết</title><body><div class=top>Thứ tư, ngày 24/4/2024</div>\
            <div class=art><div class=head><span>16/12/2016 07:53:54</span><h1>Hội nghị tổng kết</h1></div>\
            <p>Nội dung.</p></div></body>";
        assert_eq!(date_of(html).as_deref(), Some("2016-12-16T07:53:54+07:00"));
    }
}
