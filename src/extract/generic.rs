//! Main-content extraction for pages without a body selector.
//!
//! Parts: the [`BodyExtractor`] trait (so another extractor can be measured or swapped in
//! without touching the field chain) and [`Native`], our own extractor: scores blocks of
//! prose by length and punctuation, credits their containers, takes the best container and
//! its siblings of similar weight, and flattens them without boilerplate.

use std::collections::{HashMap, HashSet};

use ego_tree::{NodeId, NodeRef};
use scraper::{ElementRef, Html, Node};

use super::heuristics::is_boilerplate;
use super::text::{is_block_element, is_hidden, is_skipped_element, Flattener, Para};

/// A main-content extractor: the article body of a parsed page as paragraphs.
pub trait BodyExtractor {
    /// Name for provenance and benchmarks.
    fn name(&self) -> &'static str;
    /// `skip`: subtrees that must not contribute (the site's `remove` selectors).
    /// `title`: the article title when known, so the heading is not repeated in the body.
    fn extract(&self, doc: &Html, skip: &HashSet<NodeId>, title: Option<&str>) -> Vec<Para>;
}

/// The built-in extractor.
#[derive(Debug, Clone, Copy, Default)]
pub struct Native;

/// Visible text length of a subtree and the part of it inside links.
#[derive(Debug, Clone, Copy, Default)]
struct Len {
    text: usize,
    link: usize,
    commas: usize,
}

fn measure(node: NodeRef<'_, Node>, skip: &HashSet<NodeId>, in_link: bool, out: &mut Len) {
    if skip.contains(&node.id()) {
        return;
    }
    match node.value() {
        Node::Text(t) => {
            let n = t.chars().filter(|c| !c.is_whitespace()).count();
            out.text += n;
            if in_link {
                out.link += n;
            }
            out.commas += t.matches([',', '،', '、']).count();
        }
        Node::Element(el) => {
            if is_skipped_element(el.name()) || is_hidden(el) {
                return;
            }
            let link = in_link || el.name() == "a";
            for c in node.children() {
                measure(c, skip, link, out);
            }
        }
        _ => {}
    }
}

fn has_block_child(node: NodeRef<'_, Node>) -> bool {
    node.children().any(|c| {
        c.value()
            .as_element()
            .is_some_and(|e| is_block_element(e.name()) && e.name() != "br")
    })
}

fn is_paragraph_like(node: NodeRef<'_, Node>, name: &str) -> bool {
    match name {
        "p" | "pre" | "blockquote" | "td" | "li" | "h2" | "h3" | "h4" | "dd" => true,
        "div" | "section" | "article" => !has_block_child(node),
        _ => false,
    }
}

fn class_weight(el: &scraper::node::Element) -> f64 {
    let mut w = 0.0;
    let hay: Vec<String> = el
        .classes()
        .chain(el.id())
        .map(|s| s.to_ascii_lowercase())
        .collect();
    for h in &hay {
        if [
            "article", "content", "body", "entry", "post", "story", "detail", "main", "text",
            "noidung", "chitiet",
        ]
        .iter()
        .any(|k| h.contains(k))
        {
            w += 25.0;
        }
    }
    w
}

impl BodyExtractor for Native {
    fn name(&self) -> &'static str {
        "native"
    }

    fn extract(&self, doc: &Html, skip: &HashSet<NodeId>, title: Option<&str>) -> Vec<Para> {
        let root = doc.root_element();
        // Boilerplate containers are left out of scoring and of the output.
        let mut skip: HashSet<NodeId> = skip.clone();
        for el in root.descendent_elements() {
            let name = el.value().name();
            if name != "body" && name != "html" && name != "main" && is_boilerplate(el.value()) {
                skip.insert(el.id());
            }
        }
        let mut scores: HashMap<NodeId, f64> = HashMap::new();
        for el in root.descendent_elements() {
            let name = el.value().name();
            if !is_paragraph_like(*el, name) {
                continue;
            }
            if el.ancestors().any(|a| skip.contains(&a.id())) || skip.contains(&el.id()) {
                continue;
            }
            let mut len = Len::default();
            measure(*el, &skip, false, &mut len);
            if len.text < 25 {
                continue;
            }
            let link_density = len.link as f64 / len.text as f64;
            if link_density > 0.5 {
                continue;
            }
            let score = (1.0 + len.commas as f64 + (len.text as f64 / 100.0).min(3.0))
                * (1.0 - link_density);
            let mut level = 0;
            for a in el.ancestors() {
                if level > 2 {
                    break;
                }
                if !a.value().is_element() {
                    break;
                }
                let share = match level {
                    0 => 1.0,
                    1 => 0.5,
                    _ => 0.25,
                };
                *scores.entry(a.id()).or_insert(0.0) += score * share;
                level += 1;
            }
        }
        let best = scores
            .iter()
            .filter_map(|(id, s)| {
                let el = ElementRef::wrap(doc.tree.get(*id)?)?;
                let mut len = Len::default();
                measure(*el, &skip, false, &mut len);
                let ld = if len.text == 0 {
                    1.0
                } else {
                    len.link as f64 / len.text as f64
                };
                Some((*id, (s + class_weight(el.value())) * (1.0 - ld)))
            })
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let Some((best_id, best_score)) = best else {
            return Vec::new();
        };
        let Some(best_node) = doc.tree.get(best_id) else {
            return Vec::new();
        };
        // Siblings of similar weight are parts of the same article (a lead block, a second
        // column of text).
        let threshold = (best_score * 0.2).max(10.0);
        let parts: Vec<NodeRef<'_, Node>> = match best_node.parent() {
            Some(parent) => parent
                .children()
                .filter(|c| {
                    c.id() == best_id
                        || (!skip.contains(&c.id())
                            && scores.get(&c.id()).copied().unwrap_or(0.0) >= threshold)
                })
                .collect(),
            None => vec![best_node],
        };
        let title_key = title.map(super::text::key_form);
        let mut f = Flattener::new(&skip);
        for p in parts {
            f.add(p);
        }
        let mut paras = f.finish();
        if let Some(k) = title_key {
            if paras
                .first()
                .is_some_and(|p| super::text::key_form(&p.text) == k)
            {
                paras.remove(0);
            }
        }
        paras
    }
}
