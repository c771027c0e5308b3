//! Main-content extraction for pages without a body selector.
//!
//! Parts:
//! - the [`BodyExtractor`] trait, so another extractor can be measured or swapped in
//!   without touching the field chain;
//! - [`Native`], our extractor, in the line of Mozilla's Readability: one pass over the DOM
//!   builds an arena of element statistics (text, link text, commas, paragraphs, images,
//!   list items, inputs, embeds, class weight), then prose blocks credit their ancestors,
//!   the best-scored container and its siblings of similar weight are taken, and
//!   boilerplate inside them (share bars, related lists, link farms, forms) is cleaned out
//!   before the text is flattened. When stripping "unlikely" containers by class leaves too
//!   little text, the choice is made again without that step (page wrappers are sometimes
//!   named like sidebars);
//! - paragraph filters after flattening: "read also" link lists with their label, and the
//!   dateline before the first real paragraph.
//!
//! Measured against rs-trafilatura on the article-extraction benchmark: see
//! `benches/README.md`, section "Extraction".

use std::sync::OnceLock;

use ego_tree::iter::Edge;
use ego_tree::{NodeId, NodeRef};
use regex::Regex;
use scraper::{Html, Node};

use super::text::{is_hidden, is_skipped_element, key_form, Flattener, NodeSet, Para};

/// A main-content extractor: the article body of a parsed page as paragraphs.
pub trait BodyExtractor {
    /// Name for provenance and benchmarks.
    fn name(&self) -> &'static str;
    /// `skip`: subtrees that must not contribute (the site's `remove` selectors).
    /// `title`: the article title when known, so the heading is not repeated in the body.
    fn extract(&self, doc: &Html, skip: &NodeSet, title: Option<&str>) -> Vec<Para>;
}

/// The built-in extractor.
#[derive(Debug, Clone, Copy, Default)]
pub struct Native;

struct Patterns {
    unlikely: Regex,
    maybe: Regex,
    positive: Regex,
    negative: Regex,
    share: Regex,
    meta: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        unlikely: Regex::new(
            r"(?i)-ad-|ai2html|banner|breadcrumb|combx|comment|community|cover-wrap|disqus|extra|footer|gdpr|header|legends|menu|related|remark|replies|rss|shoutbox|sidebar|skyscraper|social|sponsor|supplemental|ad-break|agegate|pagination|pager|popup|yom-remote|binh-?luan|y-?kien-?ban-?doc|lien-?quan|tin-?khac|bai-?khac|tin-?moi|other-?news|quang-?cao|font-?size|co-?chu|newsletter|subscribe",
        )
        .expect("static regex is valid"),
        maybe: Regex::new(r"(?i)and|article|body|column|content|main|shadow|noi-?dung|chi-?tiet|bai-?viet")
            .expect("static regex is valid"),
        positive: Regex::new(
            r"(?i)article|body|content|entry|hentry|h-entry|main|page|pagination|post|text|blog|story|noi-?dung|chi-?tiet|bai-?viet|detail",
        )
        .expect("static regex is valid"),
        negative: Regex::new(
            r"(?i)-ad-|hidden|^hid$| hid$| hid |^hid |banner|combx|comment|com-|contact|foot|footer|footnote|gdpr|masthead|media|meta|outbrain|promo|related|scroll|share|shoutbox|sidebar|skyscraper|sponsor|shopping|tags|tool|widget|binh-?luan|lien-?quan|tin-?khac|quang-?cao",
        )
        .expect("static regex is valid"),
        share: Regex::new(r"(?i)share|sharing|social|print|font-?size|co-?chu")
            .expect("static regex is valid"),
        meta: Regex::new(
            r"(?i)byline|dateline|timestamp|post-?date|pub-?date|date-?time|ngay-?dang|posted-?on|post-?meta|entry-?meta|article-?meta|author|publish|(?:^|[\s_-])date|tags|newsletter|subscribe|read-?more|more-?stories|recommend|promo|advert|ad-?slot|gallery|slideshow|carousel|breadcrumb|toolbar|rating|pagination|ngay-?dang|tac-?gia",
        )
        .expect("static regex is valid"),
    })
}

/// Tags that make a `div` more than a paragraph (Readability's DIV_TO_P_ELEMS, widened).
fn is_structural_block(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "aside"
            | "blockquote"
            | "dl"
            | "div"
            | "fieldset"
            | "figure"
            | "footer"
            | "form"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "header"
            | "hr"
            | "img"
            | "li"
            | "main"
            | "nav"
            | "ol"
            | "p"
            | "pre"
            | "section"
            | "table"
            | "ul"
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Body,
    Div,
    P,
    Pre,
    Td,
    Heading,
    H1,
    List,
    Li,
    Table,
    Form,
    Section,
    Figure,
    Img,
    Input,
    Embed,
    Structural,
    Other,
}

fn tag_of(name: &str) -> Tag {
    match name {
        "body" | "html" => Tag::Body,
        "div" => Tag::Div,
        "p" => Tag::P,
        "pre" => Tag::Pre,
        "td" => Tag::Td,
        "h2" | "h3" | "h4" | "h5" | "h6" => Tag::Heading,
        "h1" => Tag::H1,
        "ul" | "ol" | "dl" => Tag::List,
        "li" | "dd" | "dt" => Tag::Li,
        "table" => Tag::Table,
        "form" | "fieldset" => Tag::Form,
        "section" | "article" | "main" => Tag::Section,
        "figure" => Tag::Figure,
        "img" | "picture" => Tag::Img,
        "input" | "textarea" | "select" | "button" => Tag::Input,
        "iframe" | "embed" | "object" | "video" | "audio" => Tag::Embed,
        _ if is_structural_block(name) => Tag::Structural,
        _ => Tag::Other,
    }
}

/// Statistics of one element's subtree.
struct Info<'a> {
    node: NodeRef<'a, Node>,
    parent: Option<usize>,
    tag: Tag,
    /// Non-whitespace characters of visible text.
    text: usize,
    /// ... of which inside links.
    link: usize,
    /// ... of which inside headings.
    heading: usize,
    commas: usize,
    /// Text not inside any structural block descendant (a `div` with bare text and `<br>`s).
    own_text: usize,
    own_commas: usize,
    has_block_child: bool,
    p: usize,
    img: usize,
    li: usize,
    input: usize,
    embed: usize,
    class_weight: f64,
    /// Matches the "unlikely to be content" class/id pattern.
    unlikely: bool,
    /// Structurally not content: nav, footer, aside, header, role=navigation …
    structural_junk: bool,
    share: bool,
    /// Byline, dateline, tags, galleries…: metadata around the text, not the text.
    meta: bool,
    in_figure: bool,
    /// One past the last arena index of this element's subtree.
    end: usize,
}

fn class_and_id(el: &scraper::node::Element) -> String {
    let mut s = String::new();
    if let Some(c) = el.attr("class") {
        s.push_str(c);
    }
    if let Some(id) = el.id() {
        s.push(' ');
        s.push_str(id);
    }
    s
}

fn class_weight(s: &str) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let p = patterns();
    let mut w = 0.0;
    if p.negative.is_match(s) {
        w -= 25.0;
    }
    if p.positive.is_match(s) {
        w += 25.0;
    }
    w
}

/// Builds the arena in one traversal.
fn build<'a>(root: NodeRef<'a, Node>, skip: &NodeSet) -> Vec<Info<'a>> {
    let pats = patterns();
    let mut arena: Vec<Info<'a>> = Vec::with_capacity(1024);
    let mut stack: Vec<usize> = Vec::with_capacity(64);
    // A skipped subtree is ignored until its own Close edge.
    let mut skipping: Option<NodeId> = None;
    let mut link_depth = 0usize;
    let mut heading_depth = 0usize;
    // Depth of structural blocks below the current element, to tell its own text apart.
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Element(el) => {
                        let name = el.name();
                        if skip.contains(&node.id()) || is_hidden(el) {
                            skipping = Some(node.id());
                            continue;
                        }
                        let tag = tag_of(name);
                        // Leaves that only count for the container's shape.
                        if matches!(tag, Tag::Img | Tag::Input | Tag::Embed)
                            || is_skipped_element(name)
                        {
                            if let Some(&p) = stack.last() {
                                let pi = &mut arena[p];
                                match tag {
                                    Tag::Img => {
                                        pi.img += 1;
                                        pi.has_block_child = true;
                                    }
                                    Tag::Input => pi.input += 1,
                                    Tag::Embed => pi.embed += 1,
                                    _ => {}
                                }
                            }
                            skipping = Some(node.id());
                            continue;
                        }
                        let ci = class_and_id(el);
                        let role = el.attr("role").unwrap_or("");
                        let parent = stack.last().copied();
                        let in_figure = parent
                            .is_some_and(|p| arena[p].in_figure || arena[p].tag == Tag::Figure);
                        let structural_junk = matches!(name, "nav" | "footer" | "aside" | "header")
                            || matches!(
                                role,
                                "navigation"
                                    | "complementary"
                                    | "banner"
                                    | "contentinfo"
                                    | "dialog"
                                    | "menu"
                                    | "menubar"
                            );
                        let unlikely = tag != Tag::Body
                            && !ci.is_empty()
                            && pats.unlikely.is_match(&ci)
                            && !pats.maybe.is_match(&ci);
                        if let Some(p) = parent {
                            if is_structural_block(name) {
                                arena[p].has_block_child = true;
                            }
                        }
                        if name == "a" {
                            link_depth += 1;
                        }
                        if matches!(tag, Tag::Heading | Tag::H1) {
                            heading_depth += 1;
                        }
                        arena.push(Info {
                            node,
                            parent,
                            tag,
                            text: 0,
                            link: 0,
                            heading: 0,
                            commas: 0,
                            own_text: 0,
                            own_commas: 0,
                            has_block_child: false,
                            p: usize::from(tag == Tag::P),
                            img: 0,
                            li: usize::from(tag == Tag::Li),
                            input: 0,
                            embed: 0,
                            class_weight: class_weight(&ci),
                            unlikely,
                            structural_junk,
                            share: !ci.is_empty() && pats.share.is_match(&ci),
                            meta: !ci.is_empty() && pats.meta.is_match(&ci),
                            in_figure,
                            end: usize::MAX,
                        });
                        stack.push(arena.len() - 1);
                    }
                    Node::Text(t) => {
                        let Some(&cur) = stack.last() else { continue };
                        let n = t.chars().filter(|c| !c.is_whitespace()).count();
                        if n == 0 {
                            continue;
                        }
                        let commas = t.matches([',', '，', '、', '،']).count();
                        let info = &mut arena[cur];
                        info.text += n;
                        info.commas += commas;
                        info.own_text += n;
                        info.own_commas += commas;
                        if link_depth > 0 {
                            info.link += n;
                        }
                        if heading_depth > 0 {
                            info.heading += n;
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if let Some(id) = skipping {
                    if id == node.id() {
                        skipping = None;
                    }
                    continue;
                }
                let Node::Element(el) = node.value() else {
                    continue;
                };
                let Some(idx) = stack.pop() else { continue };
                arena[idx].end = arena.len();
                if el.name() == "a" {
                    link_depth = link_depth.saturating_sub(1);
                }
                if matches!(arena[idx].tag, Tag::Heading | Tag::H1) {
                    heading_depth = heading_depth.saturating_sub(1);
                }
                if let Some(p) = arena[idx].parent {
                    let (c, rest) = split_pair(&mut arena, idx, p);
                    rest.text += c.text;
                    rest.link += c.link;
                    rest.heading += c.heading;
                    rest.commas += c.commas;
                    rest.p += c.p;
                    rest.img += c.img;
                    rest.li += c.li;
                    rest.input += c.input;
                    rest.embed += c.embed;
                    if !is_structural_block(el.name()) {
                        rest.own_text += c.own_text;
                        rest.own_commas += c.own_commas;
                    }
                }
            }
        }
    }
    arena
}

/// Borrows a child (read) and its parent (write) from the arena; parents come first.
fn split_pair<'v, 'a>(
    arena: &'v mut [Info<'a>],
    child: usize,
    parent: usize,
) -> (&'v Info<'a>, &'v mut Info<'a>) {
    debug_assert!(parent < child, "the arena is in document order");
    let (head, tail) = arena.split_at_mut(child);
    (&tail[0], &mut head[parent])
}

fn link_density(i: &Info<'_>) -> f64 {
    if i.text == 0 {
        0.0
    } else {
        i.link as f64 / i.text as f64
    }
}

/// Which containers are left out of scoring in one attempt.
#[derive(Clone, Copy)]
struct Flags {
    strip_unlikely: bool,
    weigh_classes: bool,
}

/// Scores every element (Readability's algorithm on the arena) and returns the scores
/// (`NaN` for elements never credited) and which elements were excluded.
fn score(arena: &[Info<'_>], flags: Flags) -> (Vec<f64>, Vec<bool>) {
    let n = arena.len();
    let mut excluded = vec![false; n];
    for i in 0..n {
        let info = &arena[i];
        let parent_excluded = info.parent.is_some_and(|p| excluded[p]);
        excluded[i] = parent_excluded
            || info.structural_junk
            || (flags.strip_unlikely && info.unlikely && !info.in_figure);
    }
    let mut scores = vec![f64::NAN; n];
    let init = |i: usize, scores: &mut Vec<f64>| {
        if scores[i].is_nan() {
            let base = match arena[i].tag {
                Tag::Div => 5.0,
                Tag::Pre | Tag::Td => 3.0,
                Tag::List | Tag::Li | Tag::Form => -3.0,
                Tag::Heading | Tag::H1 => -5.0,
                _ => 0.0,
            };
            let w = if flags.weigh_classes {
                arena[i].class_weight
            } else {
                0.0
            };
            scores[i] = base + w;
        }
    };
    for i in 0..n {
        if excluded[i] {
            continue;
        }
        let info = &arena[i];
        // A paragraph of prose: a <p>/<pre>/<td>/heading, a leaf div, or the bare text of a
        // container (Readability wraps it in a <p> first).
        let (len, commas, first_level_is_self) = match info.tag {
            Tag::P | Tag::Pre | Tag::Heading => (info.text, info.commas, false),
            Tag::Td | Tag::Div | Tag::Section | Tag::Structural if !info.has_block_child => {
                (info.text, info.commas, false)
            }
            _ if info.has_block_child && info.own_text >= 20 => {
                (info.own_text, info.own_commas, true)
            }
            _ => continue,
        };
        if len < 20 {
            continue;
        }
        let content = 1.0 + commas as f64 + (len as f64 / 85.0).floor().min(3.0);
        let mut level = 0usize;
        let mut cur = if first_level_is_self {
            Some(i)
        } else {
            info.parent
        };
        while let Some(a) = cur {
            if level > 4 {
                break;
            }
            init(a, &mut scores);
            let divider = match level {
                0 => 1.0,
                1 => 2.0,
                l => l as f64 * 3.0,
            };
            scores[a] += content / divider;
            level += 1;
            cur = arena[a].parent;
        }
    }
    for (i, s) in scores.iter_mut().enumerate() {
        if !s.is_nan() {
            *s *= 1.0 - link_density(&arena[i]);
        }
    }
    (scores, excluded)
}

/// The top candidate: the best score, moved up to a common ancestor when several good
/// candidates share one, and past wrappers that only hold it.
fn top_candidate(arena: &[Info<'_>], scores: &[f64]) -> Option<usize> {
    let mut ranked: Vec<usize> = (0..arena.len()).filter(|&i| !scores[i].is_nan()).collect();
    ranked.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut top = *ranked.first()?;
    if arena[top].tag == Tag::Body {
        return Some(top);
    }
    let top_score = scores[top];
    // Several of the best candidates inside one ancestor: the article is that ancestor.
    let alternatives: Vec<usize> = ranked
        .iter()
        .skip(1)
        .take(4)
        .copied()
        .filter(|&a| scores[a] / top_score >= 0.75)
        .collect();
    if alternatives.len() >= 3 {
        let mut anc = arena[top].parent;
        while let Some(a) = anc {
            if arena[a].tag == Tag::Body {
                break;
            }
            let holds = alternatives
                .iter()
                .filter(|&&alt| is_ancestor(arena, a, alt))
                .count();
            if holds >= 3 {
                top = a;
                break;
            }
            anc = arena[a].parent;
        }
    }
    // Climb while the parent's score keeps up (the content is split over siblings).
    let mut last = scores[top];
    let threshold = last / 3.0;
    while let Some(p) = arena[top].parent {
        if arena[p].tag == Tag::Body {
            break;
        }
        let ps = scores[p];
        if ps.is_nan() {
            break;
        }
        if ps < threshold {
            break;
        }
        if ps > last {
            top = p;
            break;
        }
        last = ps;
        top = p;
    }
    // A wrapper with one element child adds nothing but is where siblings would be found.
    while let Some(p) = arena[top].parent {
        if arena[p].tag == Tag::Body {
            break;
        }
        let only_child = arena[p]
            .node
            .children()
            .filter(|c| c.value().is_element())
            .count()
            == 1;
        if !only_child {
            break;
        }
        top = p;
    }
    Some(top)
}

/// The arena is in document order and `end` closes each subtree, so ancestry is a range
/// test.
fn is_ancestor(arena: &[Info<'_>], anc: usize, node: usize) -> bool {
    anc < node && node < arena[anc].end
}

/// Whether a sentence ends in the text (for short sibling paragraphs).
fn has_sentence_end(node: NodeRef<'_, Node>) -> bool {
    let mut text = String::new();
    for d in node.descendants() {
        if let Some(t) = d.value().as_text() {
            text.push_str(t);
        }
    }
    let t = text.trim_end();
    t.ends_with('.') || t.contains(". ")
}

/// The top candidate and the siblings that belong with it.
fn gather(arena: &[Info<'_>], scores: &[f64], excluded: &[bool], top: usize) -> Vec<usize> {
    let Some(parent) = arena[top].parent else {
        return vec![top];
    };
    let top_score = scores[top];
    let threshold = (top_score * 0.2).max(10.0);
    let top_class = arena[top]
        .node
        .value()
        .as_element()
        .and_then(|e| e.attr("class"));
    let mut out = Vec::new();
    // Children of `parent` in the arena: each child's subtree ends where the next begins.
    let mut next = parent + 1;
    while next < arena[parent].end {
        let i = next;
        next = arena[i].end;
        let info = &arena[i];
        let take = if i == top {
            true
        } else if excluded[i] || info.unlikely || info.structural_junk {
            false
        } else {
            let mut bonus = 0.0;
            let class = info.node.value().as_element().and_then(|e| e.attr("class"));
            if class.is_some() && class == top_class {
                bonus = top_score * 0.2;
            }
            let s = scores[i];
            if !s.is_nan() && s + bonus >= threshold {
                true
            } else if info.tag == Tag::P || (info.tag == Tag::Div && !info.has_block_child) {
                let ld = link_density(info);
                (info.text > 70 && ld < 0.25)
                    || (info.text > 0 && ld == 0.0 && has_sentence_end(info.node))
            } else {
                false
            }
        };
        if take {
            out.push(i);
        }
    }
    out
}

/// Subtrees inside the gathered content that are boilerplate (Readability's cleaning).
fn clean(arena: &[Info<'_>], scores: &[f64], parts: &[usize], title_key: Option<&str>) -> NodeSet {
    let mut removed = NodeSet::default();
    for &root in parts {
        let mut i = root;
        let end = subtree_end(arena, root);
        while i < end {
            let info = &arena[i];
            let minor = info.text * 5 < arena[root].text * 2;
            let drop = if i == root {
                false
            } else if (info.structural_junk && !info.in_figure)
                || info.tag == Tag::Form
                // Scoring may have kept "unlikely" containers (a retry without that
                // filter); inside the content they are still menus, footers, comments.
                || (info.unlikely && !info.in_figure && minor)
                || ((info.share || info.meta) && info.text < 400)
                // The page title; the body never repeats it.
                || info.tag == Tag::H1
            {
                true
            } else if info.tag == Tag::Heading {
                info.class_weight < 0.0
                    || link_density(info) > 0.33
                    || title_key.is_some_and(|k| heading_is_title(info.node, k))
            } else if matches!(
                info.tag,
                Tag::Div | Tag::Section | Tag::Structural | Tag::List | Tag::Table
            ) {
                // The shape rules are for side blocks; a block holding most of the
                // content's prose is the article itself, whatever widgets it embeds.
                let bulk = !minor && link_density(info) < 0.3;
                let score = if scores[i].is_nan() { 0.0 } else { scores[i] };
                if bulk {
                    info.class_weight + score < 0.0
                } else {
                    conditionally_junk(info, scores[i])
                }
            } else {
                false
            };
            if drop {
                removed.insert(info.node.id());
                i = subtree_end(arena, i);
            } else {
                i += 1;
            }
        }
    }
    removed
}

fn heading_is_title(node: NodeRef<'_, Node>, title_key: &str) -> bool {
    let mut text = String::new();
    for d in node.descendants() {
        if let Some(t) = d.value().as_text() {
            text.push_str(t);
        }
    }
    key_form(&text) == title_key
}

/// Readability's `_cleanConditionally`: a block with few commas that is mostly links,
/// images, list items or inputs is not prose.
fn conditionally_junk(info: &Info<'_>, score: f64) -> bool {
    let weight = info.class_weight;
    let score = if score.is_nan() { 0.0 } else { score };
    if weight + score < 0.0 {
        return true;
    }
    if info.commas >= 10 {
        return false;
    }
    let is_list = info.tag == Tag::List;
    let p = info.p as f64;
    let img = info.img as f64;
    let li = info.li as f64 - 100.0;
    let input = info.input as f64;
    let ld = link_density(info);
    let heading_density = if info.text == 0 {
        0.0
    } else {
        info.heading as f64 / info.text as f64
    };
    (img > 1.0 && p / img < 0.5 && !info.in_figure)
        || (!is_list && li > p)
        || (input > (p / 3.0).floor())
        || (!is_list
            && heading_density < 0.9
            && info.text < 20
            && (img == 0.0 || img > 2.0)
            && !info.in_figure
            && info.tag != Tag::Table)
        || (!is_list && weight < 25.0 && ld > 0.2)
        || (weight >= 25.0 && ld > 0.5)
        || (info.embed == 1 && info.text < 65)
        || info.embed > 1
        || (is_list && ld > 0.5)
}

/// One past the last arena index of `i`'s subtree.
fn subtree_end(arena: &[Info<'_>], i: usize) -> usize {
    arena[i].end
}

/// Paragraphs that are mostly a link are "read also" lists, not text; a short label right
/// before such a run ("Related:", "CÁC BÀI VIẾT KHÁC:") goes with it.
fn drop_link_lists(paras: Vec<Para>) -> Vec<Para> {
    let is_link = |p: &Para| p.link_ratio > 0.5;
    let n = paras.len();
    let mut keep = vec![true; n];
    for i in 0..n {
        if is_link(&paras[i]) {
            keep[i] = false;
            // Labels before the run.
            let mut j = i;
            while j > 0 {
                let prev = &paras[j - 1];
                let label = !prev.caption
                    && prev.text.chars().count() < 60
                    && !prev.text.ends_with(['.', '!', '?', '"', '”']);
                if !keep[j - 1] || !label {
                    break;
                }
                keep[j - 1] = false;
                j -= 1;
            }
        }
    }
    paras
        .into_iter()
        .zip(keep)
        .filter_map(|(p, k)| k.then_some(p))
        .collect()
}

/// Short lines holding a date before the first real paragraph are the article's dateline
/// ("Ngày đăng: 24/04/2024 | 15:20"), metadata rather than text.
fn drop_leading_date_lines(mut paras: Vec<Para>) -> Vec<Para> {
    let lead = paras
        .iter()
        .position(|p| p.text.chars().count() > 120)
        .unwrap_or(paras.len());
    let mut i = 0;
    paras.retain(|p| {
        let idx = i;
        i += 1;
        idx >= lead
            || p.caption
            || p.text.chars().count() > 80
            || super::dates::find_dates(&p.text).is_empty()
    });
    paras
}

/// Non-whitespace characters of a result, to judge whether an attempt found enough.
fn para_len(paras: &[Para]) -> usize {
    paras
        .iter()
        .map(|p| p.text.chars().filter(|c| !c.is_whitespace()).count())
        .sum()
}

impl BodyExtractor for Native {
    fn name(&self) -> &'static str {
        "native"
    }

    fn extract(&self, doc: &Html, skip: &NodeSet, title: Option<&str>) -> Vec<Para> {
        let root = doc.root_element();
        let arena = build(*root, skip);
        if arena.is_empty() {
            return Vec::new();
        }
        let title_key = title.map(key_form);
        let attempts = [
            Flags {
                strip_unlikely: true,
                weigh_classes: true,
            },
            Flags {
                strip_unlikely: false,
                weigh_classes: true,
            },
            Flags {
                strip_unlikely: false,
                weigh_classes: false,
            },
        ];
        let mut best: Vec<Para> = Vec::new();
        for flags in attempts {
            let (scores, excluded) = score(&arena, flags);
            let Some(top) = top_candidate(&arena, &scores) else {
                continue;
            };
            let parts = gather(&arena, &scores, &excluded, top);
            let mut removed = clean(&arena, &scores, &parts, title_key.as_deref());
            removed.extend(skip.iter().copied());
            let mut f = Flattener::new(&removed);
            for &p in &parts {
                f.add(arena[p].node);
            }
            let mut paras = drop_leading_date_lines(drop_link_lists(f.finish()));
            if let Some(k) = &title_key {
                if paras.first().is_some_and(|p| key_form(&p.text) == *k) {
                    paras.remove(0);
                }
            }
            // Readability's threshold: an article has at least ~500 characters.
            if para_len(&paras) >= 420 {
                return paras;
            }
            if para_len(&paras) > para_len(&best) {
                best = paras;
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn para(text: &str, link_ratio: f32) -> Para {
        Para {
            text: text.to_string(),
            caption: false,
            link_ratio,
        }
    }

    fn texts(paras: &[Para]) -> Vec<&str> {
        paras.iter().map(|p| p.text.as_str()).collect()
    }

    #[test]
    fn link_lists_go_with_their_label() {
        let paras = vec![
            para(
                "Nội dung chính của bài viết, đủ dài để là một đoạn văn.",
                0.1,
            ),
            para("CÁC BÀI VIẾT KHÁC:", 0.0),
            para("Hội nghị Ban Chấp hành Đảng bộ tỉnh", 1.0),
            para("Kiểm tra công tác phòng chống dịch", 0.9),
            para("Đoạn kết có một liên kết nhỏ.", 0.2),
        ];
        assert_eq!(
            texts(&drop_link_lists(paras)),
            [
                "Nội dung chính của bài viết, đủ dài để là một đoạn văn.",
                "Đoạn kết có một liên kết nhỏ."
            ]
        );
    }

    #[test]
    fn leading_datelines_are_dropped_but_not_dates_in_text() {
        let long = "Ngày 30/3/2021, đồng chí Lê Văn Hiệu, Phó Bí thư Thường trực Tỉnh ủy làm việc với Thường trực Thành ủy Chí Linh để nghe báo cáo.";
        let paras = vec![
            para("Ngày đăng: 24/04/2024 | 15:20", 0.0),
            para("Sáng 24/4, hội nghị khai mạc.", 0.0),
            para(long, 0.0),
            para("Cập nhật 25/04/2024", 0.0),
        ];
        assert_eq!(
            texts(&drop_leading_date_lines(paras)),
            ["Sáng 24/4, hội nghị khai mạc.", long, "Cập nhật 25/04/2024"]
        );
    }

    #[test]
    fn picks_article_over_comments_and_menus() {
        let doc = Html::parse_document(
            "<html><body><ul class=menu><li><a href=/>Trang chủ</a></li><li><a href=/a>Tin tức</a></li></ul>\
             <div class=main><div class=article-body>\
             <p>Đoạn một của bài báo, có dấu phẩy, có nội dung dài hơn hai mươi lăm ký tự.</p>\
             <p>Đoạn hai của bài báo, cũng có dấu phẩy, và nội dung dài hơn nữa để được chấm điểm.</p></div>\
             <div id=comments><p>Bình luận của bạn đọc, rất dài, rất nhiều dấu phẩy, rất nhiều chữ, hay quá.</p></div>\
             </div></body></html>",
        );
        let paras = Native.extract(&doc, &NodeSet::default(), None);
        let t = texts(&paras);
        assert_eq!(t.len(), 2, "{t:?}");
        assert!(t[0].starts_with("Đoạn một"));
    }
}
