//! The contract between planner and stores: SQL text with placeholders, typed parameters, and
//! the typed cells a store hands back. User input only ever travels as a parameter.

use chrono::{DateTime, Utc};

/// SQL flavours the planner can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    DuckDb,
    /// ClickHouse 18.16 and later (the subset both understand: no CTEs, no window
    /// functions, one JOIN per SELECT, timestamps as Int64 microseconds).
    ClickHouse,
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

/// The JSON pointer (RFC 6901) of a path of keys: how plans address nested properties, and how
/// stores that flatten properties name each path.
pub fn json_pointer(keys: &[String]) -> String {
    keys.iter().map(|k| format!("/{}", k.replace('~', "~0").replace('/', "~1"))).collect()
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
            // ClickHouse 18.16 binds nothing over HTTP: its store replaces `$N` with an escaped
            // literal (`store-clickhouse/src/literal.rs`), so the text is the same.
            Dialect::DuckDb | Dialect::ClickHouse => format!("${}", self.params.len()),
        }
    }

    pub(crate) fn finish(self, sql: String) -> Statement {
        Statement { sql, params: self.params }
    }

    /// Bucket start of `column` for an interval (weeks start Monday).
    pub(crate) fn truncate(&self, interval: crate::Interval, column: &str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("date_trunc('{}', {column})", interval.name()),
            Dialect::ClickHouse => clickhouse_truncate(interval, column),
        }
    }

    /// Text at a JSON pointer inside a JSON column (`properties`, `person_properties`); SQL
    /// NULL when absent. The column name comes from the planner, never from input.
    pub(crate) fn json_text(&mut self, column: &'static str, keys: &[String]) -> String {
        let p = self.param(Param::Text(json_pointer(keys)));
        match self.dialect {
            Dialect::DuckDb => format!("json_extract_string({column}, {p})"),
            // Properties are stored flattened: every nested path and its text.
            Dialect::ClickHouse => {
                let (keys, values) = match column {
                    "person_properties" => ("person_keys", "person_values"),
                    _ => ("prop_keys", "prop_values"),
                };
                format!("if(has({keys}, {p}), {values}[indexOf({keys}, {p})], NULL)")
            }
        }
    }

    /// A typed numeric NULL.
    pub(crate) fn null_number(&self) -> String {
        match self.dialect {
            Dialect::DuckDb => "CAST(NULL AS DOUBLE)".to_owned(),
            Dialect::ClickHouse => "CAST(NULL AS Nullable(Float64))".to_owned(),
        }
    }

    /// A typed text NULL (an untyped NULL column has no type drivers can read).
    pub(crate) fn null_text(&self) -> String {
        match self.dialect {
            Dialect::DuckDb => "CAST(NULL AS VARCHAR)".to_owned(),
            Dialect::ClickHouse => "CAST(NULL AS Nullable(String))".to_owned(),
        }
    }

    /// Case-insensitive substring test.
    pub(crate) fn contains(&mut self, expr: &str, needle: String) -> String {
        let p = self.param(Param::Text(needle));
        match self.dialect {
            Dialect::DuckDb => format!("contains(lower({expr}), lower({p}))"),
            Dialect::ClickHouse => format!("(positionCaseInsensitiveUTF8({expr}, {p}) > 0)"),
        }
    }

    /// RE2 regular expression match anywhere in the text.
    pub(crate) fn regex(&mut self, expr: &str, pattern: String) -> String {
        let p = self.param(Param::Text(pattern));
        match self.dialect {
            Dialect::DuckDb => format!("regexp_matches({expr}, {p})"),
            Dialect::ClickHouse => format!("match({expr}, {p})"),
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
                let at = match self.dialect {
                    Dialect::DuckDb => format!("TIMESTAMP '{}'", at.format("%Y-%m-%d %H:%M:%S")),
                    Dialect::ClickHouse => format!("toInt64({})", at.timestamp_micros()),
                };
                arms.push_str(&format!(" WHEN timestamp < {at} THEN {before}"));
                before = *after;
            }
            offset = format!("CASE{arms} ELSE {last} END");
        }
        match self.dialect {
            Dialect::DuckDb => format!("(timestamp + to_seconds({offset}))"),
            Dialect::ClickHouse => format!("(timestamp + ({offset}) * 1000000)"),
        }
    }

    /// Microseconds since the epoch of a timestamp expression.
    pub(crate) fn epoch_micros(&self, expr: &str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("epoch_us({expr})"),
            Dialect::ClickHouse => expr.to_owned(),
        }
    }

    /// Exact quantile `q` (0..1) of a numeric expression, linearly interpolated.
    pub(crate) fn quantile(&self, expr: &str, q: f64) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("quantile_cont({expr}, {q})"),
            // 18.16 has no interpolating exact quantile: interpolate over the sorted values
            // as `quantile_cont` does (the one-element array binds the sorted list to `s`).
            Dialect::ClickHouse => format!(
                "arrayMap(s -> if(length(s) = 0, NULL, s[toUInt64(floor({q} * (length(s) - 1))) + 1] + ({q} * (length(s) - 1) - floor({q} * (length(s) - 1))) * (s[toUInt64(ceil({q} * (length(s) - 1))) + 1] - s[toUInt64(floor({q} * (length(s) - 1))) + 1])), [arraySort(groupArray({expr}))])[1]"
            ),
        }
    }

    /// `arg` of the row with the smallest `key`, NULL `arg`s included (DuckDB's plain
    /// `arg_min` skips them).
    pub(crate) fn arg_min(&self, arg: &str, key: &str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("arg_min_null({arg}, {key})"),
            // A tuple is never NULL, so rows with a NULL `arg` take part.
            Dialect::ClickHouse => format!("argMin(tuple({arg}), {key}).1"),
        }
    }

    /// `arg` of the row with the largest `key`, NULL `arg`s included.
    pub(crate) fn arg_max(&self, arg: &str, key: &str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("arg_max_null({arg}, {key})"),
            Dialect::ClickHouse => format!("argMax(tuple({arg}), {key}).1"),
        }
    }

    /// The list of `expr` over the group, in `order`; lists compare element by element, a
    /// prefix first.
    pub(crate) fn list_agg(&self, expr: &str, order: &str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("list({expr} ORDER BY {order})"),
            Dialect::ClickHouse => {
                format!("arrayMap(x -> x.2, arraySort(x -> x.1, groupArray(({order}, {expr}))))")
            }
        }
    }

    /// A list as JSON text.
    pub(crate) fn list_to_json(&self, expr: &str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("CAST(to_json({expr}) AS VARCHAR)"),
            Dialect::ClickHouse => format!(
                "concat('[', arrayStringConcat(arrayMap(x -> concat('\"', replaceAll(replaceAll(x, '\\\\', '\\\\\\\\'), '\"', '\\\\\"'), '\"'), {expr}), ','), ']')"
            ),
        }
    }

    /// A 64-bit hash of a text expression, to key joins and sorts on an integer.
    pub(crate) fn hash(&self, expr: &str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("hash({expr})"),
            Dialect::ClickHouse => format!("cityHash64({expr})"),
        }
    }

    pub(crate) fn to_text(&self, expr: &str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("CAST({expr} AS VARCHAR)"),
            Dialect::ClickHouse => format!("toString({expr})"),
        }
    }

    /// Whole `interval` units from bucket start `a` to bucket start `b` (local times).
    pub(crate) fn units_between(&self, interval: crate::Interval, a: &str, b: &str) -> String {
        use crate::Interval as I;
        match (self.dialect, interval) {
            (Dialect::DuckDb, I::Week) => format!("(date_diff('day', {a}, {b}) // 7)"),
            (Dialect::DuckDb, unit) => format!("date_diff('{}', {a}, {b})", unit.name()),
            (Dialect::ClickHouse, I::Month | I::Year) => {
                let months = |x: &str| {
                    let t = format!("toDateTime(intDiv({x}, 1000000), 'UTC')");
                    format!("(toYear({t}) * 12 + toMonth({t}))")
                };
                let n = format!("({} - {})", months(b), months(a));
                if interval == I::Year { format!("intDiv({n}, 12)") } else { n }
            }
            (Dialect::ClickHouse, unit) => format!("intDiv({b} - {a}, {})", micros_of(unit)),
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
            Dialect::ClickHouse => match interval {
                I::Month | I::Year => {
                    let months = if interval == I::Year { n * 12 } else { n };
                    format!(
                        "(toInt64(toUInt32(addMonths(toDateTime(intDiv({expr}, 1000000), 'UTC'), {months}))) * 1000000 + {expr} % 1000000)"
                    )
                }
                unit => format!("({expr} + {} * {n})", micros_of(unit)),
            },
        }
    }

    pub(crate) fn to_double(&self, expr: &str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("TRY_CAST({expr} AS DOUBLE)"),
            // `toFloat64OrNull` does not skip spaces around the number, as DuckDB's cast does.
            Dialect::ClickHouse => {
                format!("toFloat64OrNull(replaceRegexpAll({expr}, '^\\\\s+|\\\\s+$', ''))")
            }
        }
    }

    /// `parts` ANDed; true when there are none (ClickHouse 18.16 has no `TRUE`).
    pub(crate) fn all_of(&self, parts: &[String]) -> String {
        match self.dialect {
            Dialect::ClickHouse if parts.is_empty() => "1".to_owned(),
            _ => crate::filter::all_of(parts),
        }
    }

    /// Distinct non-NULL values of `expr`; 0 over no rows (ClickHouse says NULL there when
    /// `expr` is nullable).
    pub(crate) fn count_distinct(&self, expr: &str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("count(DISTINCT {expr})"),
            Dialect::ClickHouse => format!("ifNull(uniqExact({expr}), 0)"),
        }
    }

    /// Aggregate restricted to rows matching `condition`.
    pub(crate) fn count_if(&self, condition: &str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("count(*) FILTER (WHERE {condition})"),
            Dialect::ClickHouse => format!("countIf({condition})"),
        }
    }
}

/// Microseconds in one fixed-length unit (weeks included; months and years vary).
fn micros_of(interval: crate::Interval) -> i64 {
    use crate::Interval as I;
    const MINUTE: i64 = 60_000_000;
    match interval {
        I::Minute => MINUTE,
        I::Hour => 60 * MINUTE,
        I::Day | I::Month | I::Year => 1440 * MINUTE,
        I::Week => 7 * 1440 * MINUTE,
    }
}

/// Bucket start of a local time in microseconds (ClickHouse keeps times as Int64 µs; times
/// are after 1970, where integer division is flooring). Weeks start on Monday: the epoch was
/// a Thursday, three days after one.
fn clickhouse_truncate(interval: crate::Interval, column: &str) -> String {
    use crate::Interval as I;
    let seconds = format!("toDateTime(intDiv({column}, 1000000), 'UTC')");
    let start_of = |function: &str| {
        format!("(toInt64(toUInt32(toDateTime({function}({seconds}), 'UTC'))) * 1000000)")
    };
    match interval {
        I::Month => start_of("toStartOfMonth"),
        I::Year => start_of("toStartOfYear"),
        I::Week => {
            let day = micros_of(I::Day);
            format!(
                "(intDiv({column}, {day}) * {day} - ((intDiv({column}, {day}) + 3) % 7) * {day})"
            )
        }
        unit => format!("(intDiv({column}, {m}) * {m})", m = micros_of(unit)),
    }
}
