//! Text normalisation and block-aware text flattening.
//!
//! Parts:
//! - [`clean_text`]: NFC, NBSP and zero-width characters cleaned, whitespace collapsed: the
//!   form every stored field takes.
//! - [`key_form`]: the comparison form (lower case, one tone-mark placement) used only for
//!   hashing, dedup and search, never stored as text.
//! - [`Flattener`]: turns a DOM subtree into paragraphs, one per block element, without
//!   repeating text of nested blocks, with image captions marked.

use std::collections::HashSet;

use ego_tree::{NodeId, NodeRef};
use scraper::{ElementRef, Node};
use unicode_normalization::UnicodeNormalization;

/// True for characters that carry no visible content and only break matching
/// (zero-width space/joiners, word joiner, BOM, soft hyphen).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}'
    )
}

/// Whitespace as HTML authors use it, NBSP and the typographic spaces included.
fn is_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{00A0}' | '\u{2007}' | '\u{202F}')
}

/// NFC, invisible characters dropped, every run of whitespace (NBSP included) made one
/// space, trimmed.
pub fn clean_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if is_invisible(c) {
            continue;
        }
        if is_space(c) {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    if out.is_ascii() {
        out
    } else {
        out.nfc().collect()
    }
}

const GRAVE: char = '\u{0300}';
const ACUTE: char = '\u{0301}';
const TILDE: char = '\u{0303}';
const HOOK: char = '\u{0309}';
const DOT_BELOW: char = '\u{0323}';

fn is_tone_mark(c: char) -> bool {
    matches!(c, GRAVE | ACUTE | TILDE | HOOK | DOT_BELOW)
}

/// The comparison form of a text: [`clean_text`], lower case, and one tone-mark placement.
///
/// Vietnamese writes the tone of the open syllables "oa", "oe", "uy" either on the second
/// vowel (old style: "hoà", "thuý") or on the first (new style: "hòa", "thúy"). Both are
/// correct and both are seen on the same site; the key form always uses the new style, so
/// "hoà" and "hòa" compare equal. Syllables with a final consonant ("hoàng") and "qu" + y
/// ("quý", where u belongs to the consonant) are the same in both styles and left as they are.
pub fn key_form(s: &str) -> String {
    let lower = clean_text(s).to_lowercase();
    if lower.is_ascii() {
        return lower;
    }
    // Work on NFD so a tone mark is a separate char that can be moved.
    let chars: Vec<char> = lower.nfd().collect();
    let mut out: Vec<char> = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        // A word: letters with their combining marks.
        if !chars[i].is_alphabetic() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len()
            && (chars[i].is_alphabetic()
                || unicode_normalization::char::is_combining_mark(chars[i]))
        {
            i += 1;
        }
        out.extend(new_style_tone(&chars[start..i]));
    }
    out.into_iter().nfc().collect()
}

/// Moves the tone of a word ending in old-style "oà/oè/uỳ" onto the first vowel.
fn new_style_tone(word: &[char]) -> Vec<char> {
    let n = word.len();
    // Old style ends: [.., V1, V2, TONE] with V1V2 in {oa, oe, uy} and no other mark on
    // either vowel (a circumflex or horn would make a different vowel).
    if n >= 3 && is_tone_mark(word[n - 1]) {
        let (v1, v2) = (word[n - 3], word[n - 2]);
        let pair = matches!((v1, v2), ('o', 'a') | ('o', 'e') | ('u', 'y'));
        let after_q = n >= 4 && word[n - 4] == 'q';
        if pair && !after_q {
            let mut w = word[..n - 3].to_vec();
            w.extend([v1, word[n - 1], v2]);
            return w;
        }
    }
    word.to_vec()
}

/// Elements whose content is never text of the page.
pub(crate) fn is_skipped_element(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "head"
            | "iframe"
            | "object"
            | "embed"
            | "svg"
            | "math"
            | "canvas"
            | "select"
            | "option"
            | "textarea"
            | "input"
            | "button"
            | "video"
            | "audio"
            | "map"
    )
}

/// Elements that end the current paragraph and start a new one.
pub(crate) fn is_block_element(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "section"
            | "article"
            | "main"
            | "aside"
            | "header"
            | "footer"
            | "nav"
            | "blockquote"
            | "figure"
            | "figcaption"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "ul"
            | "ol"
            | "li"
            | "dl"
            | "dt"
            | "dd"
            | "table"
            | "thead"
            | "tbody"
            | "tfoot"
            | "tr"
            | "td"
            | "th"
            | "caption"
            | "pre"
            | "address"
            | "hr"
            | "br"
            | "form"
            | "fieldset"
            | "legend"
            | "center"
            | "details"
            | "summary"
            | "body"
            | "html"
    )
}

/// Whether an element hides itself (`hidden`, `aria-hidden`, inline `display:none`).
pub(crate) fn is_hidden(el: &scraper::node::Element) -> bool {
    if el.attr("hidden").is_some() || el.attr("aria-hidden") == Some("true") {
        return true;
    }
    match el.attr("style") {
        Some(style) => {
            let s: String = style
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_ascii_lowercase();
            s.contains("display:none") || s.contains("visibility:hidden")
        }
        None => false,
    }
}

/// Whether an element is an image caption by its markup.
pub(crate) fn is_caption_element(el: &scraper::node::Element) -> bool {
    if el.name() == "figcaption" {
        return true;
    }
    el.classes().any(|c| {
        let c = c.to_ascii_lowercase();
        c.contains("caption")
            || c == "image_desc"
            || c == "img-desc"
            || c == "image-desc"
            || c == "photo-desc"
            || c == "desc_image"
            || c == "pcaption"
            || c == "expnoedit"
    }) || (el.name() == "p" && el.has_class("Image", scraper::CaseSensitivity::CaseSensitive))
}

/// One paragraph of flattened text.
#[derive(Debug, Clone, PartialEq)]
pub struct Para {
    pub text: String,
    pub caption: bool,
}

/// Collects the text of a subtree as paragraphs: each block element starts a new one, so
/// the text of nested blocks is taken once, by the innermost block that holds it.
pub struct Flattener<'s> {
    skip: &'s HashSet<NodeId>,
    paras: Vec<Para>,
    cur: String,
    caption_depth: usize,
    cur_caption: bool,
}

impl<'s> Flattener<'s> {
    /// `skip`: subtrees left out entirely (the `remove` selectors, boilerplate).
    pub fn new(skip: &'s HashSet<NodeId>) -> Self {
        Self {
            skip,
            paras: Vec::new(),
            cur: String::new(),
            caption_depth: 0,
            cur_caption: false,
        }
    }

    /// Adds the text of `root` (and its descendants).
    pub fn add(&mut self, root: NodeRef<'_, Node>) {
        self.walk(root);
        self.flush();
    }

    /// The paragraphs collected so far.
    pub fn finish(mut self) -> Vec<Para> {
        self.flush();
        self.paras
    }

    fn flush(&mut self) {
        if self.cur.is_empty() {
            return;
        }
        let text = clean_text(&self.cur);
        self.cur.clear();
        if !text.is_empty() {
            self.paras.push(Para {
                text,
                caption: self.cur_caption,
            });
        }
        self.cur_caption = self.caption_depth > 0;
    }

    fn walk(&mut self, node: NodeRef<'_, Node>) {
        if self.skip.contains(&node.id()) {
            return;
        }
        match node.value() {
            Node::Text(t) => {
                if self.cur.is_empty() {
                    self.cur_caption = self.caption_depth > 0;
                }
                self.cur.push_str(t);
            }
            Node::Element(el) => {
                let name = el.name();
                if is_skipped_element(name) || is_hidden(el) {
                    return;
                }
                if name == "img" {
                    // An image separates the text around it without adding any.
                    self.cur.push(' ');
                    return;
                }
                let block = is_block_element(name);
                let caption = is_caption_element(el);
                if block || caption {
                    self.flush();
                }
                if caption {
                    self.caption_depth += 1;
                    self.cur_caption = true;
                }
                for child in node.children() {
                    self.walk(child);
                }
                if block || caption {
                    self.flush();
                }
                if caption {
                    self.caption_depth -= 1;
                    self.cur_caption = self.caption_depth > 0;
                }
                if !block && !caption {
                    // Inline elements next to each other keep their words apart only when
                    // the source had whitespace, so nothing is added here.
                }
            }
            Node::Document | Node::Fragment => {
                for child in node.children() {
                    self.walk(child);
                }
            }
            _ => {}
        }
    }
}

/// The paragraphs of an element's subtree.
pub fn paragraphs(el: ElementRef<'_>, skip: &HashSet<NodeId>) -> Vec<Para> {
    let mut f = Flattener::new(skip);
    f.add(*el);
    f.finish()
}

/// The element's text on one line, cleaned (for titles, authors, summaries).
pub fn inline_text(el: ElementRef<'_>, skip: &HashSet<NodeId>) -> String {
    let paras = paragraphs(el, skip);
    let joined: Vec<&str> = paras.iter().map(|p| p.text.as_str()).collect();
    clean_text(&joined.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::{Html, Selector};

    #[test]
    fn clean_text_collapses_nbsp_and_zero_width() {
        assert_eq!(
            clean_text("  Hải\u{00A0}\u{00A0}Dương\u{200B} \n\t tỉnh\u{FEFF} "),
            "Hải Dương tỉnh"
        );
    }

    #[test]
    fn clean_text_makes_nfc() {
        let nfd: String = "Tỉnh ủy Hải Dương".nfd().collect();
        assert_ne!(nfd, "Tỉnh ủy Hải Dương");
        assert_eq!(clean_text(&nfd), "Tỉnh ủy Hải Dương");
    }

    #[test]
    fn key_form_unifies_tone_placement() {
        assert_eq!(key_form("Hoà bình"), key_form("hòa BÌNH"));
        assert_eq!(key_form("Thuý"), "thúy");
        assert_eq!(key_form("hoà"), "hòa");
        assert_eq!(key_form("khoẻ"), "khỏe");
        assert_eq!(key_form("tuỳ"), "tùy");
        assert_eq!(key_form("HOẠ"), "họa");
        // Closed syllables and qu+y are the same in both styles.
        assert_eq!(key_form("hoàng"), "hoàng");
        assert_eq!(key_form("quý"), "quý");
        assert_eq!(key_form("Thuỷ lợi"), key_form("thủy lợi"));
    }

    #[test]
    fn key_form_of_nfd_old_style_equals_clean_new_style() {
        let nfd_old: String = "Phạm Thị Hoài, hoà giải, thuý".nfd().collect();
        assert_eq!(
            key_form(&nfd_old),
            key_form("Phạm Thị Hoài, hòa giải, thúy")
        );
        // The stored text keeps the author's choice.
        assert_eq!(clean_text(&nfd_old), "Phạm Thị Hoài, hoà giải, thuý");
    }

    #[test]
    fn flattener_takes_nested_blocks_once() {
        let html = Html::parse_fragment(
            "<div id=a>Lead <b>bold</b> text<div><p>One</p><p>Two<br>Three</p></div>\
             <ul><li>x</li><li>y <span>z</span></li></ul><figure><img src=a.jpg>\
             <figcaption>Ảnh: caption</figcaption></figure><script>var x;</script>\
             <p style='display: none'>hidden</p></div>",
        );
        let sel = Selector::parse("#a").expect("static selector");
        let el = html.select(&sel).next().expect("fixture has #a");
        let paras = paragraphs(el, &HashSet::new());
        let texts: Vec<&str> = paras.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Lead bold text",
                "One",
                "Two",
                "Three",
                "x",
                "y z",
                "Ảnh: caption"
            ]
        );
        assert!(paras[6].caption);
        assert!(!paras[0].caption);
    }
}
