//! The contract between planner and stores: SQL text with placeholders, typed parameters, and
//! the typed cells a store hands back. User input only ever travels as a parameter.

use chrono::{DateTime, Utc};

/// SQL flavours the planner can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    DuckDb,
}

/// A bound value.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(String),
    Int(i64),
    Float(f64),
    Timestamp(DateTime<Utc>),
}

/// A value read back from a result row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    /// Microseconds since the epoch, UTC.
    Timestamp(i64),
}

impl Cell {
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Cell::Int(v) | Cell::Timestamp(v) => Some(*v),
            _ => None,
        }
    }

    /// A count: non-negative integers; 0 for NULL and anything else.
    pub fn as_count(&self) -> u64 {
        self.as_i64().and_then(|v| u64::try_from(v).ok()).unwrap_or(0)
    }

    /// Numbers as `f64`; `None` for NULL and non-numbers.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            #[allow(clippy::cast_precision_loss)]
            Cell::Int(v) => Some(*v as f64),
            Cell::Float(v) => Some(*v),
            _ => None,
        }
    }

    pub fn into_text(self) -> Option<String> {
        match self {
            Cell::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// One statement ready for a store to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<Param>,
}

/// Writes SQL for one dialect, numbering parameters as they are added.
#[derive(Debug)]
pub(crate) struct SqlBuilder {
    pub(crate) dialect: Dialect,
    params: Vec<Param>,
}

impl SqlBuilder {
    pub(crate) fn new(dialect: Dialect) -> Self {
        Self { dialect, params: Vec::new() }
    }

    /// The placeholder of a breakdown's group limit, clamped to `1..=MAX_BREAKDOWN_LIMIT`.
    pub(crate) fn breakdown_limit(&mut self, breakdown: &crate::Breakdown) -> String {
        let limit = breakdown.limit.clamp(1, crate::MAX_BREAKDOWN_LIMIT);
        self.param(Param::Int(i64::try_from(limit).unwrap_or(25)))
    }

    /// Registers a parameter and returns its placeholder.
    pub(crate) fn param(&mut self, value: Param) -> String {
        self.params.push(value);
        match self.dialect {
            Dialect::DuckDb => format!("${}", self.params.len()),
        }
    }

    pub(crate) fn finish(self, sql: String) -> Statement {
        Statement { sql, params: self.params }
    }

    /// Bucket start of `column` for an interval (weeks start Monday).
    pub(crate) fn truncate(&self, interval: crate::Interval, column: &str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("date_trunc('{}', {column})", interval.name()),
        }
    }

    /// Text at a JSON pointer inside a JSON column (`properties`, `person_properties`); SQL
    /// NULL when absent. The column name comes from the planner, never from input.
    pub(crate) fn json_text(&mut self, column: &'static str, keys: &[String]) -> String {
        let pointer: String =
            keys.iter().map(|k| format!("/{}", k.replace('~', "~0").replace('/', "~1"))).collect();
        let p = self.param(Param::Text(pointer));
        match self.dialect {
            Dialect::DuckDb => format!("json_extract_string({column}, {p})"),
        }
    }

    /// A typed numeric NULL.
    pub(crate) fn null_number(&self) -> String {
        match self.dialect {
            Dialect::DuckDb => "CAST(NULL AS DOUBLE)".to_owned(),
        }
    }

    /// A typed text NULL (an untyped NULL column has no type drivers can read).
    pub(crate) fn null_text(&self) -> String {
        match self.dialect {
            Dialect::DuckDb => "CAST(NULL AS VARCHAR)".to_owned(),
        }
    }

    /// Case-insensitive substring test.
    pub(crate) fn contains(&mut self, expr: &str, needle: String) -> String {
        let p = self.param(Param::Text(needle));
        match self.dialect {
            Dialect::DuckDb => format!("contains(lower({expr}), lower({p}))"),
        }
    }

    /// RE2 regular expression match anywhere in the text.
    pub(crate) fn regex(&mut self, expr: &str, pattern: String) -> String {
        let p = self.param(Param::Text(pattern));
        match self.dialect {
            Dialect::DuckDb => format!("regexp_matches({expr}, {p})"),
        }
    }

    /// Local time of the `timestamp` column in `zone` over `range`: the UTC offset is
    /// piecewise constant there, so a `CASE` over the zone's transitions (usually none, at
    /// most a few) shifts it. Offsets come from the tz database, never from input.
    pub(crate) fn local_timestamp(
        &self,
        zone: crate::zone::Zone,
        range: crate::TimeRange,
    ) -> String {
        let (first, changes) = zone.offsets(range.from, range.to);
        if first == 0 && changes.is_empty() {
            return "timestamp".to_owned();
        }
        let mut offset = first.to_string();
        if let Some((_, last)) = changes.last() {
            let mut arms = String::new();
            let mut before = first;
            for (at, after) in &changes {
                arms.push_str(&format!(
                    " WHEN timestamp < TIMESTAMP '{}' THEN {before}",
                    at.format("%Y-%m-%d %H:%M:%S")
                ));
                before = *after;
            }
            offset = format!("CASE{arms} ELSE {last} END");
        }
        match self.dialect {
            Dialect::DuckDb => format!("(timestamp + to_seconds({offset}))"),
        }
    }

    /// Microseconds since the epoch of a timestamp expression.
    pub(crate) fn epoch_micros(&self, expr: &str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("epoch_us({expr})"),
        }
    }

    /// Exact quantile `q` (0..1) of a numeric expression, linearly interpolated.
    pub(crate) fn quantile(&self, expr: &str, q: f64) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("quantile_cont({expr}, {q})"),
        }
    }

    /// `arg` of the row with the smallest `key`, NULL `arg`s included (DuckDB's plain
    /// `arg_min` skips them).
    pub(crate) fn arg_min(&self, arg: &str, key: &str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("arg_min_null({arg}, {key})"),
        }
    }

    /// `arg` of the row with the largest `key`, NULL `arg`s included.
    pub(crate) fn arg_max(&self, arg: &str, key: &str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("arg_max_null({arg}, {key})"),
        }
    }

    /// The list of `expr` over the group, in `order`; lists compare element by element, a
    /// prefix first.
    pub(crate) fn list_agg(&self, expr: &str, order: &str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("list({expr} ORDER BY {order})"),
        }
    }

    /// A list as JSON text.
    pub(crate) fn list_to_json(&self, expr: &str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("CAST(to_json({expr}) AS VARCHAR)"),
        }
    }

    /// A 64-bit hash of a text expression, to key joins and sorts on an integer.
    pub(crate) fn hash(&self, expr: &str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("hash({expr})"),
        }
    }

    pub(crate) fn to_text(&self, expr: &str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("CAST({expr} AS VARCHAR)"),
        }
    }

    /// Whole `interval` units from bucket start `a` to bucket start `b` (local times).
    pub(crate) fn units_between(&self, interval: crate::Interval, a: &str, b: &str) -> String {
        use crate::Interval as I;
        match (self.dialect, interval) {
            (Dialect::DuckDb, I::Week) => format!("(date_diff('day', {a}, {b}) // 7)"),
            (Dialect::DuckDb, unit) => format!("date_diff('{}', {a}, {b})", unit.name()),
        }
    }

    /// A local time moved by `n` calendar units.
    pub(crate) fn shift(&self, expr: &str, interval: crate::Interval, n: i32) -> String {
        use crate::Interval as I;
        let (amount, unit) = match interval {
            I::Minute => (n, "MINUTE"),
            I::Hour => (n, "HOUR"),
            I::Day => (n, "DAY"),
            I::Week => (n * 7, "DAY"),
            I::Month => (n, "MONTH"),
            I::Year => (n, "YEAR"),
        };
        match self.dialect {
            Dialect::DuckDb => format!("({expr} + INTERVAL ({amount}) {unit})"),
        }
    }

    pub(crate) fn to_double(&self, expr: &str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("TRY_CAST({expr} AS DOUBLE)"),
        }
    }

    /// Aggregate restricted to rows matching `condition`.
    pub(crate) fn count_if(&self, condition: &str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("count(*) FILTER (WHERE {condition})"),
        }
    }
}
