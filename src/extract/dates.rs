//! Vietnamese date strings as printed by provincial portals, to RFC 3339 values.
//!
//! Parts: [`parse_vn_date`] (one field's text, e.g. a date selector's match or a meta
//! value) and [`find_dates`] (every date-like string in a longer text, with positions, for
//! the date heuristic). A date is a day-month-year (day always first: `31/03/2021`,
//! `31-03-21`, `ngày 31 tháng 3 năm 2021`) or an ISO date, optionally with a time next to
//! it, before or after (`08:35`, `15:42:27`, `8h35`, `3:20 PM`, `3:20 CH`) and an offset
//! (`(GMT+7)`); without an offset it is local time, UTC+07:00. A string that looks like a
//! date but is not one (`31/02/2021`, `25:10`) gives `None`: never a guess.

use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone};
use regex::Regex;

use super::text::clean_text;

/// Vietnam's offset: UTC+7 all year.
pub fn vn_offset() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("+07:00 is a valid offset")
}

/// A date-like string found in a text.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundDate {
    /// Byte range in the normalised (cleaned, lower-cased) text.
    pub start: usize,
    pub end: usize,
    /// The value, or `None` when the string looks like a date but is not a valid one.
    pub value: Option<DateTime<FixedOffset>>,
    /// Whether a time of day was printed with it.
    pub has_time: bool,
}

struct Patterns {
    iso: Regex,
    dmy: Regex,
    words: Regex,
    time: Regex,
    offset: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        iso: Regex::new(
            r"\b(\d{4})-(\d{1,2})-(\d{1,2})(?:[t ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(z\b|[+-]\d{2}:?\d{2})?)?",
        )
        .expect("static regex is valid"),
        dmy: Regex::new(r"\b(\d{1,2})\s?[/.\-]\s?(\d{1,2})\s?[/.\-]\s?(\d{4}|\d{2})\b")
            .expect("static regex is valid"),
        words: Regex::new(
            r"\b(?:ngày\s+)?(\d{1,2})\s+tháng\s+(\d{1,2})\s*(?:,|/)?\s*(?:năm\s+)?(\d{4})\b",
        )
        .expect("static regex is valid"),
        time: Regex::new(
            r"\b(\d{1,2})\s?(?::|h|giờ)\s?(\d{2})(?::(\d{2}))?\b(?:\s*(?:(am|pm|sa|ch|sáng|chiều|tối)\b|(a\.m\.|p\.m\.)))?",
        )
        .expect("static regex is valid"),
        offset: Regex::new(r"\(?\s*(?:gmt|utc)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?\s*\)?")
            .expect("static regex is valid"),
    })
}

fn full_year(y: i32, digits: usize) -> i32 {
    if digits <= 2 {
        // Portals print two-digit years only for this century's dates; 70-99 is kept for
        // old archives.
        if y < 70 {
            2000 + y
        } else {
            1900 + y
        }
    } else {
        y
    }
}

fn plausible_year(y: i32) -> bool {
    (1900..=2100).contains(&y)
}

fn num(m: Option<regex::Match<'_>>) -> Option<u32> {
    m.and_then(|m| m.as_str().parse().ok())
}

/// A time of day found in the text, already validated (`None` in `value` when invalid).
struct FoundTime {
    start: usize,
    end: usize,
    value: Option<NaiveTime>,
}

fn parse_time(c: &regex::Captures<'_>) -> Option<NaiveTime> {
    let mut h = num(c.get(1))?;
    let m = num(c.get(2))?;
    let s = num(c.get(3)).unwrap_or(0);
    let marker = c.get(4).or(c.get(5)).map(|m| m.as_str());
    match marker {
        Some("am" | "sa" | "sáng" | "a.m.") => {
            if !(1..=12).contains(&h) {
                return None;
            }
            if h == 12 {
                h = 0;
            }
        }
        Some("pm" | "ch" | "chiều" | "tối" | "p.m.") => {
            if !(1..=12).contains(&h) {
                return None;
            }
            if h != 12 {
                h += 12;
            }
        }
        _ => {}
    }
    NaiveTime::from_hms_opt(h, m, s)
}

/// Whether the text between a date and a time only joins them ("", " ", ", ", " | ",
/// " - ", " lúc ", " ngày ").
fn is_joiner(gap: &str) -> bool {
    if gap.chars().count() > 16 {
        return false;
    }
    let rest: String = gap
        .split(|c: char| c.is_whitespace() || ",|-–—:()".contains(c))
        .filter(|w| !w.is_empty() && !matches!(*w, "lúc" | "ngày" | "vào" | "giờ"))
        .collect();
    rest.is_empty()
}

fn normalise(s: &str) -> String {
    clean_text(s).to_lowercase()
}

/// Every date-like string in `text` (any case, NFC or not), in order.
pub fn find_dates(text: &str) -> Vec<FoundDate> {
    find_dates_normalised(&normalise(text))
}

/// [`find_dates`] on text already cleaned and lower-cased; positions refer to `s`.
pub fn find_dates_normalised(s: &str) -> Vec<FoundDate> {
    let p = patterns();
    // A date needs a run of digits around a separator; most text nodes have none.
    if !s.bytes().any(|b| b.is_ascii_digit()) {
        return Vec::new();
    }
    struct Raw {
        start: usize,
        end: usize,
        date: Option<NaiveDate>,
        time: Option<Option<NaiveTime>>,
        offset: Option<FixedOffset>,
    }
    let mut raws: Vec<Raw> = Vec::new();
    let overlaps = |raws: &[Raw], a: usize, b: usize| raws.iter().any(|r| a < r.end && r.start < b);

    for c in p.iso.captures_iter(s) {
        let whole = c.get(0).expect("group 0 always matches");
        let date = match (num(c.get(1)), num(c.get(2)), num(c.get(3))) {
            (Some(y), Some(m), Some(d)) if plausible_year(y as i32) => {
                NaiveDate::from_ymd_opt(y as i32, m, d)
            }
            _ => None,
        };
        let time = c.get(4).map(|_| {
            NaiveTime::from_hms_opt(
                num(c.get(4)).unwrap_or(99),
                num(c.get(5)).unwrap_or(99),
                num(c.get(6)).unwrap_or(0),
            )
        });
        let offset = c.get(7).and_then(|m| parse_iso_offset(m.as_str()));
        raws.push(Raw {
            start: whole.start(),
            end: whole.end(),
            date,
            time,
            offset,
        });
    }
    for c in p.words.captures_iter(s) {
        let whole = c.get(0).expect("group 0 always matches");
        if overlaps(&raws, whole.start(), whole.end()) {
            continue;
        }
        let date = match (num(c.get(1)), num(c.get(2)), num(c.get(3))) {
            (Some(d), Some(m), Some(y)) if plausible_year(y as i32) => {
                NaiveDate::from_ymd_opt(y as i32, m, d)
            }
            _ => None,
        };
        raws.push(Raw {
            start: whole.start(),
            end: whole.end(),
            date,
            time: None,
            offset: None,
        });
    }
    for c in p.dmy.captures_iter(s) {
        let whole = c.get(0).expect("group 0 always matches");
        if overlaps(&raws, whole.start(), whole.end()) {
            continue;
        }
        let ydigits = c.get(3).map_or(4, |m| m.as_str().len());
        let date = match (num(c.get(1)), num(c.get(2)), num(c.get(3))) {
            (Some(d), Some(m), Some(y)) => {
                let y = full_year(y as i32, ydigits);
                if plausible_year(y) {
                    NaiveDate::from_ymd_opt(y, m, d)
                } else {
                    None
                }
            }
            _ => None,
        };
        raws.push(Raw {
            start: whole.start(),
            end: whole.end(),
            date,
            time: None,
            offset: None,
        });
    }
    if raws.is_empty() {
        return Vec::new();
    }
    raws.sort_by_key(|r| r.start);

    let times: Vec<FoundTime> = p
        .time
        .captures_iter(s)
        .filter_map(|c| {
            let whole = c.get(0).expect("group 0 always matches");
            if overlaps(&raws, whole.start(), whole.end()) {
                return None;
            }
            Some(FoundTime {
                start: whole.start(),
                end: whole.end(),
                value: parse_time(&c),
            })
        })
        .collect();
    let offsets: Vec<(usize, usize, Option<FixedOffset>)> = p
        .offset
        .captures_iter(s)
        .map(|c| {
            let whole = c.get(0).expect("group 0 always matches");
            let sign = if c.get(1).map(|m| m.as_str()) == Some("-") {
                -1
            } else {
                1
            };
            let secs =
                num(c.get(2)).unwrap_or(99) as i32 * 3600 + num(c.get(3)).unwrap_or(0) as i32 * 60;
            (
                whole.start(),
                whole.end(),
                FixedOffset::east_opt(sign * secs),
            )
        })
        .collect();

    let mut used_times = vec![false; times.len()];
    let mut out = Vec::with_capacity(raws.len());
    for (i, r) in raws.iter().enumerate() {
        let mut start = r.start;
        let mut end = r.end;
        let mut time = r.time;
        if time.is_none() {
            // A time right after the date, else right before it, joined by separators only
            // and not belonging to a neighbouring date.
            let next_date_start = raws.get(i + 1).map_or(s.len(), |n| n.start);
            let prev_date_end = if i > 0 { raws[i - 1].end } else { 0 };
            let after = times.iter().enumerate().find(|(j, t)| {
                !used_times[*j]
                    && t.start >= r.end
                    && t.end <= next_date_start
                    && is_joiner(&s[r.end..t.start])
            });
            let before = times.iter().enumerate().rev().find(|(j, t)| {
                !used_times[*j]
                    && t.end <= r.start
                    && t.start >= prev_date_end
                    && is_joiner(&s[t.end..r.start])
            });
            if let Some((j, t)) = after.or(before) {
                used_times[j] = true;
                time = Some(t.value);
                start = start.min(t.start);
                end = end.max(t.end);
            }
        }
        let mut offset = r.offset;
        if offset.is_none() {
            if let Some((os, oe, o)) = offsets
                .iter()
                .find(|(os, _, _)| *os >= end && is_joiner(&s[end..*os]))
            {
                let _ = os;
                offset = *o;
                end = *oe;
                if o.is_none() {
                    // "(GMT+99)": stated but invalid, so the instant is unknown.
                    out.push(FoundDate {
                        start,
                        end,
                        value: None,
                        has_time: time.is_some(),
                    });
                    continue;
                }
            }
        }
        let value = match (r.date, time) {
            (None, _) | (Some(_), Some(None)) => None,
            (Some(d), t) => {
                let naive = d.and_time(t.flatten().unwrap_or(NaiveTime::MIN));
                offset
                    .unwrap_or_else(vn_offset)
                    .from_local_datetime(&naive)
                    .single()
            }
        };
        out.push(FoundDate {
            start,
            end,
            value,
            has_time: time.is_some(),
        });
    }
    out
}

fn parse_iso_offset(s: &str) -> Option<FixedOffset> {
    if s == "z" {
        return FixedOffset::east_opt(0);
    }
    let sign = if s.starts_with('-') { -1 } else { 1 };
    let digits: String = s[1..].chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() != 4 {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = digits[2..].parse().ok()?;
    if h > 14 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// Parses one date string as printed by Vietnamese portals (or an ISO/RFC 2822 value from
/// metadata). The first date-like string decides: if it is not a valid date the result is
/// `None`.
pub fn parse_vn_date(s: &str) -> Option<DateTime<FixedOffset>> {
    let found = find_dates(s);
    match found.first() {
        Some(f) => f.value,
        None => DateTime::parse_from_rfc2822(s.trim()).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<String> {
        parse_vn_date(s).map(|d| d.to_rfc3339())
    }

    #[test]
    fn weekday_space_date_time() {
        assert_eq!(
            p("Thứ Hai 19/09/2022 17:07").as_deref(),
            Some("2022-09-19T17:07:00+07:00")
        );
        assert_eq!(
            p("Thứ Tư 31/03/2021 08:35").as_deref(),
            Some("2021-03-31T08:35:00+07:00")
        );
    }

    #[test]
    fn weekday_comma_date_time_gmt() {
        assert_eq!(
            p("Thứ tư, 22/10/2025, 19:25 (GMT+7)").as_deref(),
            Some("2025-10-22T19:25:00+07:00")
        );
        assert_eq!(
            p("Thứ tư, 22/10/2025, 19:25 (GMT+9)").as_deref(),
            Some("2025-10-22T19:25:00+09:00")
        );
    }

    #[test]
    fn weekday_dash_date_time() {
        assert_eq!(
            p("Thứ tư - 28/09/2022 21:45").as_deref(),
            Some("2022-09-28T21:45:00+07:00")
        );
        assert_eq!(
            p("THỨ TƯ - 28/09/2022 21:45").as_deref(),
            Some("2022-09-28T21:45:00+07:00")
        );
    }

    #[test]
    fn time_before_date() {
        assert_eq!(
            p("04:35 15/03/2016").as_deref(),
            Some("2016-03-15T04:35:00+07:00")
        );
    }

    #[test]
    fn date_time_seconds() {
        assert_eq!(
            p("16/12/2016 07:53:54").as_deref(),
            Some("2016-12-16T07:53:54+07:00")
        );
    }

    #[test]
    fn date_dash_time() {
        assert_eq!(
            p("31/03/2021 - 08:35").as_deref(),
            Some("2021-03-31T08:35:00+07:00")
        );
    }

    #[test]
    fn date_pipe_time() {
        assert_eq!(
            p("31/03/2021 | 08:35").as_deref(),
            Some("2021-03-31T08:35:00+07:00")
        );
    }

    #[test]
    fn updated_at_time_pipe_date() {
        assert_eq!(
            p("Cập nhật lúc: 18:00 |22/05/2022").as_deref(),
            Some("2022-05-22T18:00:00+07:00")
        );
    }

    #[test]
    fn views_then_sent_at() {
        assert_eq!(
            p("Lượt xem: 7370 | Gửi lúc: 05/12/2013 15:42:27").as_deref(),
            Some("2013-12-05T15:42:27+07:00")
        );
    }

    #[test]
    fn posted_date_only() {
        assert_eq!(
            p("Ngày đăng: 05/12/2013").as_deref(),
            Some("2013-12-05T00:00:00+07:00")
        );
    }

    #[test]
    fn time_ngay_dashed_date() {
        assert_eq!(
            p("08:35 ngày 31-03-2021").as_deref(),
            Some("2021-03-31T08:35:00+07:00")
        );
    }

    #[test]
    fn ngay_thang_nam() {
        assert_eq!(
            p("Ngày 31 tháng 3 năm 2021").as_deref(),
            Some("2021-03-31T00:00:00+07:00")
        );
    }

    #[test]
    fn upper_ngay_thang_comma_year_time() {
        assert_eq!(
            p("NGÀY 31 THÁNG 3, 2021 | 08:35").as_deref(),
            Some("2021-03-31T08:35:00+07:00")
        );
    }

    #[test]
    fn am_pm() {
        assert_eq!(
            p("12/05/2023 3:20 PM").as_deref(),
            Some("2023-05-12T15:20:00+07:00")
        );
        assert_eq!(
            p("12/05/2023 12:10 AM").as_deref(),
            Some("2023-05-12T00:10:00+07:00")
        );
        assert_eq!(
            p("12/05/2023 12:10 pm").as_deref(),
            Some("2023-05-12T12:10:00+07:00")
        );
    }

    #[test]
    fn sa_ch() {
        assert_eq!(
            p("12/05/2023 9:05 SA").as_deref(),
            Some("2023-05-12T09:05:00+07:00")
        );
        assert_eq!(
            p("12/05/2023 3:20 CH").as_deref(),
            Some("2023-05-12T15:20:00+07:00")
        );
        assert_eq!(p("12/05/2023 13:20 CH"), None);
    }

    #[test]
    fn two_digit_year() {
        assert_eq!(
            p("15/03/16 04:35").as_deref(),
            Some("2016-03-15T04:35:00+07:00")
        );
        assert_eq!(p("31-12-99").as_deref(), Some("1999-12-31T00:00:00+07:00"));
    }

    #[test]
    fn one_digit_day_month_and_h_separator() {
        assert_eq!(
            p("Thứ tư, ngày 24/4/2024").as_deref(),
            Some("2024-04-24T00:00:00+07:00")
        );
        assert_eq!(
            p("8h35 ngày 1/4/2024").as_deref(),
            Some("2024-04-01T08:35:00+07:00")
        );
    }

    #[test]
    fn iso_with_offset() {
        assert_eq!(
            p("2025-10-22T19:25:52+07:00").as_deref(),
            Some("2025-10-22T19:25:52+07:00")
        );
        assert_eq!(
            p("2025-10-22T12:25:52Z").as_deref(),
            Some("2025-10-22T12:25:52+00:00")
        );
        assert_eq!(
            p("2025-10-22T19:25:52.123+0700").as_deref(),
            Some("2025-10-22T19:25:52+07:00")
        );
    }

    #[test]
    fn iso_without_offset_is_local() {
        assert_eq!(
            p("2025-10-22T19:25:52").as_deref(),
            Some("2025-10-22T19:25:52+07:00")
        );
        assert_eq!(
            p("2025-10-22").as_deref(),
            Some("2025-10-22T00:00:00+07:00")
        );
        assert_eq!(
            p("2025-10-22 19:25").as_deref(),
            Some("2025-10-22T19:25:00+07:00")
        );
    }

    #[test]
    fn rfc2822_from_metadata() {
        assert_eq!(
            p("Wed, 31 Mar 2021 08:35:00 +0700").as_deref(),
            Some("2021-03-31T08:35:00+07:00")
        );
    }

    #[test]
    fn invalid_dates_are_none() {
        assert_eq!(p("31/02/2021"), None);
        assert_eq!(p("Thứ Hai 31/02/2021 10:00"), None);
        assert_eq!(p("32/01/2021"), None);
        assert_eq!(p("12/13/2021"), None);
        assert_eq!(p("31/03/2021 25:10"), None);
        assert_eq!(p("Ngày 30 tháng 2 năm 2021"), None);
        assert_eq!(p("2021-02-30T10:00:00+07:00"), None);
        assert_eq!(p("Đã xem: 1234"), None);
        assert_eq!(p(""), None);
        assert_eq!(p("01/01/0001"), None);
    }

    #[test]
    fn nfd_and_nbsp_input() {
        use unicode_normalization::UnicodeNormalization;
        let s: String = "Thứ\u{00A0}Tư 31/03/2021\u{00A0}08:35".nfd().collect();
        assert_eq!(p(&s).as_deref(), Some("2021-03-31T08:35:00+07:00"));
    }

    #[test]
    fn find_dates_keeps_order_and_times_apart() {
        let found = find_dates("Thứ tư, ngày 24/4/2024 Tiêu đề Thứ Tư 31/03/2021 08:35 nội dung");
        let values: Vec<String> = found
            .iter()
            .map(|f| f.value.map(|v| v.to_rfc3339()).unwrap_or_default())
            .collect();
        assert_eq!(
            values,
            ["2024-04-24T00:00:00+07:00", "2021-03-31T08:35:00+07:00"]
        );
        assert!(!found[0].has_time);
        assert!(found[1].has_time);
    }
}
