//! Result rows in ClickHouse's `TabSeparatedWithNamesAndTypes`, parsed as they stream in: the
//! second header line gives each column's type, which decides the [`Cell`] of its values.

use sextant_query::Cell;
use sextant_store::StoreError;

/// How a column's values become cells.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Int,
    Float,
    Text,
    Null,
}

fn kind(type_name: &str) -> Kind {
    let mut inner = type_name;
    for wrapper in ["Nullable(", "LowCardinality("] {
        if let Some(rest) = inner.strip_prefix(wrapper).and_then(|r| r.strip_suffix(')')) {
            inner = rest;
        }
    }
    if inner.starts_with("Int") || inner.starts_with("UInt") {
        Kind::Int
    } else if inner.starts_with("Float") || inner.starts_with("Decimal") {
        Kind::Float
    } else if inner == "Nothing" {
        Kind::Null
    } else {
        Kind::Text
    }
}

/// Splits a byte stream into lines and lines into typed rows.
#[derive(Debug, Default)]
pub(crate) struct TsvReader {
    pending: Vec<u8>,
    names_seen: bool,
    kinds: Option<Vec<Kind>>,
    /// The query's time limit, to name a timeout that interrupts the result.
    limit: Option<std::time::Duration>,
}

impl TsvReader {
    pub(crate) fn new(limit: Option<std::time::Duration>) -> Self {
        Self { limit, ..Self::default() }
    }

    pub(crate) fn feed(
        &mut self,
        chunk: &[u8],
        sink: &mut impl FnMut(Vec<Cell>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.pending.extend_from_slice(chunk);
        let mut start = 0;
        while let Some(end) = self.pending[start..].iter().position(|&b| b == b'\n') {
            let line = self.pending[start..start + end].to_vec();
            start += end + 1;
            self.line(&line, sink)?;
        }
        self.pending.drain(..start);
        Ok(())
    }

    pub(crate) fn finish(
        mut self,
        sink: &mut impl FnMut(Vec<Cell>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.line(&line, sink)?;
        }
        Ok(())
    }

    fn line(
        &mut self,
        line: &[u8],
        sink: &mut impl FnMut(Vec<Cell>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let text = std::str::from_utf8(line)
            .map_err(|_| StoreError::Internal("clickhouse sent a row that is not UTF-8".into()))?;
        if !self.names_seen {
            self.names_seen = true;
            return Ok(());
        }
        let Some(kinds) = &self.kinds else {
            self.kinds = Some(text.split('\t').map(kind).collect());
            return Ok(());
        };
        let fields: Vec<&str> = text.split('\t').collect();
        // Once rows are on their way the status is 200: a failure after them (a timeout, a
        // limit) arrives as ClickHouse's error text in place of a row. (A text value that
        // reads exactly like one fails its query rather than passing for data.)
        if text.starts_with("Code: ") && text.contains("DB::Exception") {
            return Err(crate::http::refused(
                reqwest::StatusCode::INTERNAL_SERVER_ERROR,
                text,
                self.limit,
            ));
        }
        if fields.len() != kinds.len() {
            return Err(StoreError::Internal(format!(
                "clickhouse sent {} fields for {} columns",
                fields.len(),
                kinds.len()
            )));
        }
        let row = fields
            .iter()
            .zip(kinds)
            .map(|(field, kind)| cell(field, *kind))
            .collect::<Result<_, _>>()?;
        sink(row)
    }
}

fn cell(field: &str, kind: Kind) -> Result<Cell, StoreError> {
    if field == "\\N" {
        return Ok(Cell::Null);
    }
    let bad = || StoreError::Internal(format!("clickhouse sent `{field}` for a number"));
    Ok(match kind {
        Kind::Null => Cell::Null,
        Kind::Int => Cell::Int(field.parse().map_err(|_| bad())?),
        Kind::Float => match field {
            // An aggregate over nothing (avg of no rows): SQL's NULL, as DuckDB answers.
            "nan" | "-nan" => Cell::Null,
            "inf" => Cell::Float(f64::INFINITY),
            "-inf" => Cell::Float(f64::NEG_INFINITY),
            _ => Cell::Float(field.parse().map_err(|_| bad())?),
        },
        Kind::Text => Cell::Text(unescape(field)),
    })
}

/// Undoes ClickHouse's TSV escaping of text.
fn unescape(field: &str) -> String {
    if !field.contains('\\') {
        return field.to_owned();
    }
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn typed_rows_arrive_whatever_the_chunking() {
        let body = b"a\tb\tc\td\nInt64\tNullable(String)\tFloat64\tNullable(Nothing)\n-5\tx\\ty\\\\z\\'\t1.5\t\\N\n7\t\\N\tnan\t\\N\n";
        for size in [1, 3, 1000] {
            let mut rows = Vec::new();
            let mut reader = TsvReader::default();
            let mut sink = |row| {
                rows.push(row);
                Ok(())
            };
            for chunk in body.chunks(size) {
                reader.feed(chunk, &mut sink).unwrap();
            }
            reader.finish(&mut sink).unwrap();
            assert_eq!(
                rows,
                vec![
                    vec![
                        Cell::Int(-5),
                        Cell::Text("x\ty\\z'".into()),
                        Cell::Float(1.5),
                        Cell::Null
                    ],
                    vec![Cell::Int(7), Cell::Null, Cell::Null, Cell::Null],
                ]
            );
        }
    }
}

#[cfg(test)]
mod failures {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_error_after_some_rows_fails_the_result() {
        let body = b"n\nUInt64\n1\nCode: 159, e.displayText() = DB::Exception: Timeout exceeded\n";
        let mut reader = TsvReader::new(Some(std::time::Duration::from_secs(1)));
        let mut rows = 0;
        let err = reader
            .feed(body, &mut |_| {
                rows += 1;
                Ok(())
            })
            .unwrap_err();
        assert_eq!(rows, 1);
        assert!(matches!(err, StoreError::Timeout(_)), "{err}");
    }
}
