//! `GET /events/segmentation`: the events, metric and formula as a trends query. Pure; an
//! error is the message of a 400.

use super::params::{Event, Invalid, Params, breakdown, event};
use sextant_query::{Math, Series, TrendsQuery};

/// The metric `m` of an event segmentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Metric {
    Uniques,
    Totals,
    /// Events per user who did them.
    Average,
    /// Uniques ÷ active users × 100.
    PctDau,
    /// Sum of the property in the event's first `group_by`.
    Sums,
    /// Average of that property.
    ValueAvg,
    Formula,
}

/// `GET /events/segmentation`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Segmentation {
    pub(crate) query: TrendsQuery,
    pub(crate) metric: Metric,
    /// The events asked for (`e`, `e2`): the query's first series. For `pct_dau` the series
    /// after them counts active users.
    pub(crate) events: usize,
    pub(crate) grouped: bool,
}

pub(crate) const SEGMENTATION: &[&str] =
    &["e", "e2", "m", "start", "end", "i", "s", "g", "limit", "formula", "n"];

pub(crate) fn segmentation(p: &Params) -> Result<Segmentation, Invalid> {
    let mut events = vec![event(p.required("e")?, "e", &[])?];
    if let Some(second) = p.one("e2")? {
        events.push(event(second, "e2", &[])?);
    }
    let metric = match p.one("m")?.unwrap_or("uniques") {
        "uniques" => Metric::Uniques,
        "totals" => Metric::Totals,
        "average" => Metric::Average,
        "pct_dau" => Metric::PctDau,
        "sums" => Metric::Sums,
        "value_avg" => Metric::ValueAvg,
        "formula" => Metric::Formula,
        "histogram" => return Err("`m=histogram` is not supported".to_owned()),
        other => {
            return Err(format!(
                "`m` must be uniques, totals, pct_dau, average, sums, value_avg or formula, not \
                 `{other}`"
            ));
        }
    };
    if let Some(n) = p.one("n")?
        && n != "any"
        && n != "active"
    {
        return Err(format!("`n` must be `any` or `active`, not `{n}`"));
    }
    if metric != Metric::Formula && p.one("formula")?.is_some() {
        return Err("`formula` needs `m=formula`".to_owned());
    }
    let (series, formula, measured) = if metric == Metric::Formula {
        let (series, formula, measured) = formula_series(p.required("formula")?, &events)?;
        (series, Some(formula), measured)
    } else {
        let math = match metric {
            Metric::Uniques | Metric::PctDau => Math::UniqueUsers,
            Metric::Totals => Math::Total,
            Metric::Average => Math::PerUserAverage,
            Metric::Sums => Math::Sum,
            _ => Math::Avg,
        };
        let mut series = (0..events.len())
            .map(|i| series_of(&events, i, math))
            .collect::<Result<Vec<_>, _>>()?;
        if metric == Metric::PctDau {
            series.push(Series {
                event: None,
                math: Math::UniqueUsers,
                property: None,
                filters: Vec::new(),
                label: Some("active users".to_owned()),
            });
        }
        (series, None, vec![math.needs_property(); events.len()])
    };
    // One breakdown for every series: the events' group-bys (after the measured property)
    // must agree; `g` adds to them.
    let mut groups = events.iter().zip(measured).map(|(e, measured)| {
        e.group_by.iter().skip(usize::from(measured)).cloned().collect::<Vec<_>>()
    });
    let mut group_by = groups.next().unwrap_or_default();
    if groups.any(|other| other != group_by) {
        return Err("`e` and `e2` must group by the same properties".to_owned());
    }
    group_by.extend(p.group_by()?);
    let breakdown = breakdown(group_by, p.limit()?, 2)?;
    let grouped = breakdown.is_some();
    let query = TrendsQuery {
        version: 1,
        series,
        interval: p.interval(true)?,
        date_range: p.date_range()?,
        timezone: None,
        filters: p.segment()?,
        breakdown,
        compare: None,
        formula,
        cumulative: false,
    };
    Ok(Segmentation { query, metric, events: events.len(), grouped })
}

/// The series of `math` over event `index`; maths over a property measure the event's first
/// `group_by`.
fn series_of(events: &[Event], index: usize, math: Math) -> Result<Series, Invalid> {
    let e = &events[index];
    let property = if math.needs_property() {
        let first = e.group_by.first().cloned().ok_or_else(|| {
            format!(
                "this metric measures the property given as the first `group_by` of `{}`",
                if index == 0 { "e" } else { "e2" }
            )
        })?;
        Some(first)
    } else {
        None
    };
    Ok(Series {
        event: e.matcher.event.clone(),
        math,
        property,
        filters: e.matcher.filters.clone(),
        label: e.matcher.label.clone(),
    })
}

/// An Amplitude formula (`UNIQUES(A) / UNIQUES(B) * 100`; A is `e`, B `e2`) as Sextant series
/// and a formula over their letters. Also says which events have their first `group_by`
/// measured (by PROPSUM, PROPAVG, ...).
fn formula_series(
    text: &str,
    events: &[Event],
) -> Result<(Vec<Series>, String, Vec<bool>), Invalid> {
    let unsupported = |what: &str| {
        format!(
            "formula `{text}`: {what}; formulas take UNIQUES, TOTALS, PROPSUM, PROPAVG, PROPMIN \
             and PROPMAX of A (`e`) or B (`e2`), numbers, + - * / and parentheses"
        )
    };
    let mut used: Vec<(Math, usize)> = Vec::new();
    let mut formula = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if !c.is_ascii_alphabetic() {
            if !(c.is_ascii_digit() || c.is_whitespace() || "+-*/().".contains(c)) {
                return Err(unsupported(&format!("`{c}` is not supported")));
            }
            formula.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let end = rest.find(|c: char| !c.is_ascii_alphanumeric() && c != '_').unwrap_or(rest.len());
        let function = &rest[..end];
        let args = rest[end..].trim_start().strip_prefix('(');
        let Some((letter, after)) = args.and_then(|a| a.split_once(')')) else {
            return Err(unsupported(&format!(
                "`{function}` needs one event letter in parentheses"
            )));
        };
        rest = after;
        let math = match function.to_ascii_uppercase().as_str() {
            "UNIQUES" => Math::UniqueUsers,
            "TOTALS" => Math::Total,
            "PROPSUM" => Math::Sum,
            "PROPAVG" => Math::Avg,
            "PROPMIN" => Math::Min,
            "PROPMAX" => Math::Max,
            _ => return Err(unsupported(&format!("`{function}` is not supported"))),
        };
        let index = match letter.trim() {
            "A" => 0,
            "B" => 1,
            other => return Err(unsupported(&format!("`{other}` is not an event letter"))),
        };
        if index >= events.len() {
            return Err(unsupported("B refers to `e2`, which is not given"));
        }
        let position = used.iter().position(|u| *u == (math, index)).unwrap_or_else(|| {
            used.push((math, index));
            used.len() - 1
        });
        formula.push(series_letter(position));
    }
    if used.is_empty() {
        return Err(unsupported("it uses no event"));
    }
    let mut measured = vec![false; events.len()];
    let series = used
        .iter()
        .map(|&(math, index)| {
            measured[index] |= math.needs_property();
            series_of(events, index, math)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((series, formula, measured))
}

/// `A`, `B`, ... for series 0, 1, ... (formulas use at most 12 series).
fn series_letter(position: usize) -> char {
    char::from(b'A' + u8::try_from(position % 26).unwrap_or_default())
}

#[cfg(test)]
#[path = "segmentation_tests.rs"]
mod tests;
