//! Text normalisation and block-aware text flattening.
//!
//! Parts:
//! - [`clean_text`]: NFC, NBSP and zero-width characters cleaned, whitespace collapsed: the
//!   form every stored field takes. [`is_nfc`]: the check that decides whether text needs
//!   composing, fast for Vietnamese.
//! - [`key_form`]: the comparison form (lower case, one tone-mark placement) used only for
//!   hashing, dedup and search, never stored as text.
//! - [`Flattener`]: turns a DOM subtree into paragraphs, one per block element, without
//!   repeating text of nested blocks, with image captions marked.

use std::collections::HashSet;

use ego_tree::{NodeId, NodeRef};
use scraper::{ElementRef, Node};
use unicode_normalization::UnicodeNormalization;

/// Hashes node ids (small distinct integers) with one multiply: sets of nodes are probed
/// for every node visited, where SipHash would cost more than the visit itself.
#[derive(Debug, Default, Clone, Copy)]
pub struct NodeIdHasher(u64);

impl std::hash::Hasher for NodeIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// A set of DOM nodes (subtrees to skip, ancestors of the title …).
pub type NodeSet = HashSet<NodeId, std::hash::BuildHasherDefault<NodeIdHasher>>;

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
    if is_nfc(&out) {
        out
    } else {
        out.nfc().collect()
    }
}

/// Characters that are in NFC whatever stands around them: quick-check Yes and combining
/// class 0 (a unit test checks every one against the Unicode tables). Latin up to U+02FF,
/// the precomposed Vietnamese letters, general punctuation and currency signs (₫).
/// [`always_nfc_len`] is the same set read from UTF-8 bytes.
#[cfg(test)]
fn always_nfc(c: char) -> bool {
    c < '\u{0300}'
        || matches!(c, '\u{1EA0}'..='\u{1EF9}' | '\u{2010}'..='\u{2027}' | '\u{2030}'..='\u{205E}' | '\u{20A0}'..='\u{20C0}')
}

/// The length in bytes of the longest prefix of `text` made of `always_nfc` characters,
/// read from the UTF-8 bytes, nothing decoded. Every byte below 0xCC is ASCII, a
/// continuation byte or the lead of a char below U+0300, all fine, so only bytes from 0xCC
/// up are looked at: found sixteen bytes at a time (a loop the compiler vectorises), then
/// each checked with the two bytes after it.
fn always_nfc_len(text: &str) -> usize {
    const BLOCK: usize = 16;
    let b = text.as_bytes();
    let mut i = 0;
    loop {
        while let Some(block) = b.get(i..i + BLOCK) {
            if !block.iter().fold(false, |any, &x| any | (x >= 0xCC)) {
                i += BLOCK;
                continue;
            }
            i += block.iter().position(|&x| x >= 0xCC).unwrap_or(0);
            break;
        }
        let Some(&lead) = b.get(i) else {
            return b.len();
        };
        if lead < 0xCC {
            i += 1;
            continue;
        }
        // A byte from 0xCC up is a lead byte, so `i` is at a char boundary.
        let next = |k: usize| b.get(i + k).copied().unwrap_or(0);
        i += match (lead, next(1), next(2)) {
            // U+1EA0–U+1EBF, U+1EC0–U+1EF9
            (0xE1, 0xBA, 0xA0..=0xBF) | (0xE1, 0xBB, 0x80..=0xB9) => 3,
            // U+2010–U+2027, U+2030–U+203F, U+2040–U+205E
            (0xE2, 0x80, 0x90..=0xA7 | 0xB0..=0xBF) | (0xE2, 0x81, 0x80..=0x9E) => 3,
            // U+20A0–U+20BF, U+20C0
            (0xE2, 0x82, 0xA0..=0xBF) | (0xE2, 0x83, 0x80) => 3,
            _ => return i,
        };
    }
}

/// True when `text` is certainly in NFC (false: it may need composing; `nfc()` decides).
///
/// Every page and every extracted field is checked, and Unicode's quick check looks up two
/// tables per character: about 4% of a crawl's CPU time. Text of Vietnamese pages is
/// nearly all `always_nfc` characters, which need no lookup; the quick check starts at
/// the first other character (after a class-0 quick-check-Yes character, the check's state
/// is the same as at the start of a text, so checking the rest alone gives the same answer).
pub(crate) fn is_nfc(text: &str) -> bool {
    let i = always_nfc_len(text);
    i == text.len()
        || unicode_normalization::is_nfc_quick(text[i..].chars())
            == unicode_normalization::IsNormalized::Yes
}

/// Visible characters (not whitespace) of a text, a cheap size measure.
pub(crate) fn visible_len(s: &str) -> usize {
    s.chars().filter(|c| !c.is_whitespace()).count()
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
    if always_nfc_len(&lower) == lower.len() {
        return new_style_tones_composed(lower);
    }
    key_form_decomposed(lower)
}

/// [`key_form`] of lower-case text made only of `always_nfc` characters, where it can work
/// on the composed text: there a word is a run of letters (each letter one char, no loose
/// marks), and an old-style ending is "o" + a toned a/e, or "u" + a toned y, as its last two
/// chars. Same result as [`key_form_decomposed`] (a test compares them), without decomposing
/// every char and collecting every word: the content hash of every page fetched goes
/// through here, and so do the title comparisons of the generic extractor.
fn new_style_tones_composed(lower: String) -> String {
    let mut out = String::with_capacity(lower.len());
    // The last three letters of the current word, newest last.
    let mut tail: [Option<char>; 3] = [None; 3];
    let end_word = |out: &mut String, tail: &mut [Option<char>; 3]| {
        if let [before, Some(v1), Some(v2)] = *tail {
            if let Some((new_v1, base)) = moved_tone(before, v1, v2) {
                out.truncate(out.len() - v1.len_utf8() - v2.len_utf8());
                out.push(new_v1);
                out.push(base);
            }
        }
        *tail = [None; 3];
    };
    for c in lower.chars() {
        if c.is_alphabetic() {
            tail = [tail[1], tail[2], Some(c)];
        } else {
            end_word(&mut out, &mut tail);
        }
        out.push(c);
    }
    end_word(&mut out, &mut tail);
    out
}

/// For a word ending in `v1` `v2` (after `before`, if any) in old style ("oà", "oé",
/// "uỳ" …), the new-style pair's chars: the tone composed onto `v1`, and `v2` bare.
fn moved_tone(before: Option<char>, v1: char, v2: char) -> Option<(char, char)> {
    if !matches!(v1, 'o' | 'u') || before == Some('q') {
        return None;
    }
    let mut parts = [None; 3];
    let mut n = 0;
    unicode_normalization::char::decompose_canonical(v2, |d| {
        if n < 3 {
            parts[n] = Some(d);
        }
        n += 1;
    });
    let (Some(base), Some(tone), 2) = (parts[0], parts[1], n) else {
        return None;
    };
    let pair = matches!((v1, base), ('o', 'a') | ('o', 'e') | ('u', 'y'));
    if !pair || !is_tone_mark(tone) {
        return None;
    }
    Some((unicode_normalization::char::compose(v1, tone)?, base))
}

/// [`key_form`] the general way, for any text: on NFD, where a tone mark is a char of its
/// own that can be moved.
fn key_form_decomposed(lower: String) -> String {
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
        // Checked without allocating: this runs for every element of every page.
        Some(style) if contains_ci(style, "none") || contains_ci(style, "hidden") => {
            let s: String = style
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_ascii_lowercase();
            s.contains("display:none") || s.contains("visibility:hidden")
        }
        _ => false,
    }
}

/// ASCII case-insensitive substring test, without allocating.
pub(crate) fn contains_ci(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// Whether an element is an image caption (or photo credit) by its markup. Text inside a
/// `<figure>` is a caption too; the flattener handles that by nesting.
pub(crate) fn is_caption_element(el: &scraper::node::Element) -> bool {
    if matches!(el.name(), "figcaption" | "figure") {
        return true;
    }
    let marked = |s: &str| {
        [
            "caption",
            "credit",
            "image_desc",
            "img-desc",
            "image-desc",
            "photo-desc",
            "desc_image",
            "chu-thich",
            "chuthich",
        ]
        .iter()
        .any(|k| contains_ci(s, k))
            || s.eq_ignore_ascii_case("expnoedit")
    };
    el.attr("class").is_some_and(marked)
        || el.id().is_some_and(marked)
        || (el.name() == "p" && el.has_class("Image", scraper::CaseSensitivity::CaseSensitive))
}

/// One paragraph of flattened text.
#[derive(Debug, Clone, PartialEq)]
pub struct Para {
    pub text: String,
    /// An image caption or photo credit.
    pub caption: bool,
    /// Share of the paragraph's characters that are link text (0 to 1).
    pub link_ratio: f32,
}

/// Collects the text of a subtree as paragraphs: each block element starts a new one, so
/// the text of nested blocks is taken once, by the innermost block that holds it.
pub struct Flattener<'s> {
    skip: &'s NodeSet,
    paras: Vec<Para>,
    cur: String,
    cur_chars: usize,
    cur_link_chars: usize,
    caption_depth: usize,
    link_depth: usize,
    cur_caption: bool,
}

impl<'s> Flattener<'s> {
    /// `skip`: subtrees left out entirely (the `remove` selectors, boilerplate).
    pub fn new(skip: &'s NodeSet) -> Self {
        Self {
            skip,
            paras: Vec::new(),
            cur: String::new(),
            cur_chars: 0,
            cur_link_chars: 0,
            caption_depth: 0,
            link_depth: 0,
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
        if !self.cur.is_empty() {
            let text = clean_text(&self.cur);
            if !text.is_empty() {
                let link_ratio = if self.cur_chars == 0 {
                    0.0
                } else {
                    self.cur_link_chars as f32 / self.cur_chars as f32
                };
                self.paras.push(Para {
                    text,
                    caption: self.cur_caption,
                    link_ratio,
                });
            }
        }
        self.cur.clear();
        self.cur_chars = 0;
        self.cur_link_chars = 0;
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
                // Bytes, not characters: the ratio is all that is used, and counting
                // characters would cost a pass over every text node.
                let n = t.trim().len();
                self.cur_chars += n;
                if self.link_depth > 0 {
                    self.cur_link_chars += n;
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
                let link = name == "a";
                if block || caption {
                    self.flush();
                }
                if caption {
                    self.caption_depth += 1;
                    self.cur_caption = true;
                }
                if link {
                    self.link_depth += 1;
                }
                for child in node.children() {
                    self.walk(child);
                }
                if link {
                    self.link_depth -= 1;
                }
                if block || caption {
                    self.flush();
                }
                if caption {
                    self.caption_depth -= 1;
                    self.cur_caption = self.caption_depth > 0;
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
pub fn paragraphs(el: ElementRef<'_>, skip: &NodeSet) -> Vec<Para> {
    let mut f = Flattener::new(skip);
    f.add(*el);
    f.finish()
}

/// The element's text on one line, cleaned (for titles, authors, summaries).
pub fn inline_text(el: ElementRef<'_>, skip: &NodeSet) -> String {
    let paras = paragraphs(el, skip);
    let joined: Vec<&str> = paras.iter().map(|p| p.text.as_str()).collect();
    clean_text(&joined.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::{Html, Selector};

    #[test]
    fn always_nfc_characters_are_nfc_starters() {
        use unicode_normalization::char::canonical_combining_class;
        use unicode_normalization::{is_nfc_quick, IsNormalized};
        let mut checked = 0;
        for c in (0..=0x10FFFF)
            .filter_map(char::from_u32)
            .filter(|&c| always_nfc(c))
        {
            assert_eq!(canonical_combining_class(c), 0, "{c:?} U+{:04X}", c as u32);
            assert_eq!(
                is_nfc_quick(std::iter::once(c)),
                IsNormalized::Yes,
                "U+{:04X}",
                c as u32
            );
            checked += 1;
        }
        assert!(checked > 800, "{checked}");
    }

    #[test]
    fn always_nfc_len_reads_the_same_set_from_bytes() {
        let mut buf = [0u8; 4];
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let s = c.encode_utf8(&mut buf);
            let want = if always_nfc(c) { s.len() } else { 0 };
            assert_eq!(always_nfc_len(s), want, "U+{:04X}", c as u32);
        }
        assert_eq!(always_nfc_len("Hải Dương – 2026"), "Hải Dương – 2026".len());
        assert_eq!(always_nfc_len("ab\u{0301}c"), 2);
        // Longer texts, where ASCII is read eight bytes at a time: the stop is found at
        // every offset.
        let by_chars = |t: &str| {
            t.char_indices()
                .find(|&(_, c)| !always_nfc(c))
                .map_or(t.len(), |(i, _)| i)
        };
        for prefix in ["", "a", "Tỉnh ủy ", "abcdefgh", "Hải Dương – 2026 "] {
            for k in 0..40 {
                for stop in ["", "\u{0301}", "Ω", "\u{2126}", "中", "😀", "x"] {
                    let t = format!("{}{}{stop}tail", prefix.repeat(3), "b".repeat(k));
                    assert_eq!(always_nfc_len(&t), by_chars(&t), "{t:?}");
                }
            }
        }
    }

    #[test]
    fn key_form_composed_path_gives_the_decomposed_result() {
        use rand::{Rng, SeedableRng};
        let lower = |s: &str| clean_text(s).to_lowercase();
        for word in [
            "Hoà", "hòa", "thuý", "quý", "quỳnh", "khoẻ", "Thuỵ", "toà án", "hoàng", "oà", "uý",
            "xoè", "hoạ", "ngoãi", "qoà", "tuỷ", "ai", "a", "",
        ] {
            let l = lower(word);
            assert_eq!(
                new_style_tones_composed(l.clone()),
                key_form_decomposed(l),
                "{word:?}"
            );
        }
        assert_eq!(key_form("Hoà, THUÝ, quý, hoàng"), "hòa, thúy, quý, hoàng");
        // Random text over the letters and marks these rules look at.
        let alphabet: Vec<char> = "oauyeqhtnOAUYÉÈÀÁẢÃẠàáảãạèéẻẽẹỳýỷỹỵòóỏõọôơưăâđ ,.-–\"1"
            .chars()
            .collect();
        let mut rng = rand::rngs::StdRng::seed_from_u64(8);
        for _ in 0..20_000 {
            let n = rng.random_range(0..12);
            let text: String = (0..n)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect();
            let l = lower(&text);
            if always_nfc_len(&l) != l.len() {
                continue;
            }
            assert_eq!(
                new_style_tones_composed(l.clone()),
                key_form_decomposed(l),
                "{text:?}"
            );
        }
    }

    #[test]
    fn is_nfc_agrees_with_the_quick_check_and_composes_what_it_must() {
        use unicode_normalization::{is_nfc_quick, IsNormalized};
        let precomposed = "Tỉnh ủy Hải Dương — 29/11/2026, 1.000.000₫";
        let decomposed: String = precomposed.nfd().collect();
        let samples = [
            precomposed.to_string(),
            decomposed.clone(),
            // A combining mark right after a fast-path letter, and a singleton (U+2126).
            "Hà Nội a\u{0301}".to_string(),
            "Ω is U+2126, not U+03A9".replace('Ω', "\u{2126}"),
            "Dấu ̣ đứng một mình".to_string(),
            String::new(),
        ];
        for s in &samples {
            let quick = is_nfc_quick(s.chars()) == IsNormalized::Yes;
            assert_eq!(is_nfc(s), quick, "{s:?}");
        }
        assert!(is_nfc(precomposed));
        assert!(!is_nfc(&decomposed));
        assert_eq!(clean_text(&decomposed), precomposed);
    }

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
        let paras = paragraphs(el, &NodeSet::default());
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
