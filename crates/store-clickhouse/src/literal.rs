//! The one place where values enter ClickHouse SQL text. ClickHouse 18.16 has no bound
//! parameters over HTTP (`{name:Type}` placeholders arrived in 19.x), so the planner's `$N`
//! placeholders are replaced here by literals that cannot leave their quotes: strings are
//! single-quoted with every backslash and quote escaped, numbers are written by Rust's
//! formatter (never from text), timestamps become integer microseconds. Audit this file when
//! touching how values reach the server.

use sextant_query::{Param, Statement};
use sextant_store::StoreError;

/// `statement` with each `$N` placeholder outside quoted text replaced by the literal of
/// parameter `N`. Quoted text in the template (written by the planner, never by users) is
/// copied as it is.
pub(crate) fn bind(statement: &Statement) -> Result<String, StoreError> {
    let sql = &statement.sql;
    let mut out = String::with_capacity(sql.len() + 16 * statement.params.len());
    let mut chars = sql.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match c {
            '\'' | '"' | '`' => {
                out.push(c);
                // Copy the quoted run verbatim, honouring backslash escapes.
                while let Some((_, q)) = chars.next() {
                    out.push(q);
                    if q == '\\' {
                        if let Some((_, escaped)) = chars.next() {
                            out.push(escaped);
                        }
                    } else if q == c {
                        break;
                    }
                }
            }
            '$' if chars.peek().is_some_and(|(_, d)| d.is_ascii_digit()) => {
                let mut number = 0usize;
                while let Some(&(_, d)) = chars.peek() {
                    let Some(digit) = d.to_digit(10) else { break };
                    number = number.saturating_mul(10).saturating_add(digit as usize);
                    chars.next();
                }
                let param =
                    number.checked_sub(1).and_then(|i| statement.params.get(i)).ok_or_else(
                        || StoreError::Internal(format!("statement has no parameter ${number}")),
                    )?;
                out.push_str(&literal(param));
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// A parameter as a ClickHouse literal.
pub(crate) fn literal(param: &Param) -> String {
    match param {
        Param::Text(text) => quote(text),
        Param::Int(v) => v.to_string(),
        Param::Float(v) if v.is_nan() => "nan".to_owned(),
        Param::Float(v) if v.is_infinite() => {
            if *v > 0.0 {
                "inf".to_owned()
            } else {
                "-inf".to_owned()
            }
        }
        // `{:?}` keeps a decimal point or exponent, so the literal is a Float64.
        Param::Float(v) => format!("toFloat64({v:?})"),
        Param::Timestamp(t) => format!("toInt64({})", t.timestamp_micros()),
    }
}

/// A string literal: `'` and `\` are the only characters with meaning inside ClickHouse
/// single quotes, so escaping both keeps any text inside its quotes.
pub(crate) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            // Not needed for safety, but keeps statements one line per value in logs.
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            other => out.push(other),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn bound(sql: &str, params: Vec<Param>) -> String {
        bind(&Statement { sql: sql.into(), params }).unwrap()
    }

    #[test]
    fn placeholders_become_literals_and_quoted_text_is_left_alone() {
        let sql = bound(
            "SELECT '$1', x FROM t WHERE a = $1 AND b = $2 AND c < $10 LIMIT $3",
            (1..=10)
                .map(|i| match i {
                    1 => Param::Text("it's \\ here".into()),
                    2 => Param::Float(2.0),
                    3 => Param::Int(-7),
                    n => Param::Int(n),
                })
                .collect(),
        );
        assert_eq!(
            sql,
            "SELECT '$1', x FROM t WHERE a = 'it\\'s \\\\ here' AND b = toFloat64(2.0) AND c < 10 LIMIT -7"
        );
    }

    #[test]
    fn hostile_text_stays_inside_its_quotes() {
        for text in ["'; DROP TABLE events; --", "\\'", "\\", "a\nb", "\u{0}", "$1", "''"] {
            let sql = bound("SELECT $1", vec![Param::Text(text.into())]);
            // Walking the literal with ClickHouse's rules ends exactly at the last character.
            let body = &sql["SELECT '".len()..];
            let mut escaped = false;
            let mut closed_at = None;
            for (i, c) in body.char_indices() {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '\'') => {
                        closed_at = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            assert_eq!(closed_at, Some(body.len() - 1), "{text:?} escaped its quotes: {sql}");
        }
    }

    #[test]
    fn missing_parameters_are_errors() {
        let err = bind(&Statement { sql: "SELECT $2".into(), params: vec![Param::Int(1)] });
        assert!(err.is_err());
    }

    #[test]
    fn timestamps_are_microseconds() {
        let t = chrono::DateTime::from_timestamp(1_700_000_000, 5_000).unwrap();
        assert_eq!(literal(&Param::Timestamp(t)), "toInt64(1700000000000005)");
    }
}
