//! What the rollup tables hold, shared by the stores that maintain them and the planner that
//! reads them: the dimensions counted per hour, and the log-bucket sketch of `value` (its
//! bucket function, in Rust for the writer and in SQL for backfills and partial hours, and its
//! error bound).
//!
//! The sketch is DDSketch's mapping: bucket `i` holds the values in `(γ^(i−1), γ^i]` with
//! `γ = (1 + α) / (1 − α)`, and stands for `2γ^i / (γ + 1)`, which is within a relative `α` of
//! every value in it. Bucket counts add up across hours, so any range's quantiles come from
//! summed counts, and a quantile interpolated between two such values keeps the bound.

use crate::Column;
use crate::sql::{Dialect, SqlBuilder};

/// Columns whose values `rollup_dimensions` counts per hour and event: the low-cardinality
/// built-ins trends are broken down by. URLs, paths, referrers and entity ids are left out:
/// their distinct values per hour come close to the number of events.
pub const DIMENSIONS: [Column; 9] = [
    Column::App,
    Column::Host,
    Column::Route,
    Column::EntityType,
    Column::DeviceType,
    Column::Browser,
    Column::Os,
    Column::Country,
    Column::Library,
];

/// α: quantiles of `value` read from `rollup_value_buckets` are within this relative error of
/// the exact ones.
pub const RELATIVE_ERROR: f64 = 0.01;

/// `ln γ` for [`RELATIVE_ERROR`] (a test checks it); written out so SQL gets the same digits.
const LN_GAMMA: f64 = 0.020_000_666_706_669_543;

/// Added to bucket indexes so that, with the sign in front, bucket numbers sort like values:
/// `|ln x| ≤ 745` for every finite double, so indexes stay within ±37,300.
const OFFSET: i32 = 1_000_000;

/// The sketch bucket of `x`: `0` for zero, `±(index + OFFSET)` otherwise.
pub fn value_bucket(x: f64) -> i32 {
    if x == 0.0 || !x.is_finite() {
        return 0;
    }
    // Within ±37,300 (see OFFSET), so the cast is exact.
    #[allow(clippy::cast_possible_truncation)]
    let index = (x.abs().ln() / LN_GAMMA).ceil() as i32 + OFFSET;
    if x > 0.0 { index } else { -index }
}

/// [`value_bucket`] in SQL for backfills and rebuilds of a store; NULL for NULL.
pub fn value_bucket_sql(dialect: Dialect, column: &str) -> String {
    SqlBuilder::new(dialect).value_bucket(column)
}

impl SqlBuilder {
    /// [`value_bucket`] of a numeric expression.
    pub(crate) fn value_bucket(&self, expr: &str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!(
                "CASE WHEN {expr} > 0 THEN CAST(ceil(ln({expr}) / {LN_GAMMA:e}) AS INTEGER) + {OFFSET} WHEN {expr} < 0 THEN -(CAST(ceil(ln(-({expr})) / {LN_GAMMA:e}) AS INTEGER) + {OFFSET}) WHEN {expr} = 0 THEN 0 END"
            ),
            // Unused until ClickHouse keeps rollups; written so the sketch is defined there.
            Dialect::ClickHouse => format!(
                "CASE WHEN {expr} > 0 THEN toInt32(ceil(log({expr}) / {LN_GAMMA:e})) + {OFFSET} WHEN {expr} < 0 THEN -(toInt32(ceil(log(-({expr})) / {LN_GAMMA:e})) + {OFFSET}) WHEN {expr} = 0 THEN 0 END"
            ),
        }
    }

    /// The value bucket `expr` stands for (see the module's comment).
    pub(crate) fn bucket_value(&self, expr: &str) -> String {
        let scale = 2.0 / (1.0 + LN_GAMMA.exp());
        match self.dialect {
            Dialect::DuckDb => format!(
                "CASE WHEN {expr} = 0 THEN 0.0 ELSE sign({expr}) * exp((abs({expr}) - {OFFSET}) * {LN_GAMMA:e}) * {scale:e} END"
            ),
            Dialect::ClickHouse => format!(
                "CASE WHEN {expr} = 0 THEN 0.0 ELSE if({expr} > 0, 1, -1) * exp((abs({expr}) - {OFFSET}) * {LN_GAMMA:e}) * {scale:e} END"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stands_for(bucket: i32) -> f64 {
        if bucket == 0 {
            return 0.0;
        }
        let gamma = LN_GAMMA.exp();
        let value = (f64::from(bucket.abs() - OFFSET) * LN_GAMMA).exp() * 2.0 / (1.0 + gamma);
        value.copysign(f64::from(bucket))
    }

    #[test]
    fn ln_gamma_matches_the_relative_error() {
        let gamma = (1.0 + RELATIVE_ERROR) / (1.0 - RELATIVE_ERROR);
        assert!((gamma.ln() - LN_GAMMA).abs() < 1e-15);
    }

    #[test]
    fn buckets_sort_like_values_and_stand_within_the_relative_error() {
        let values =
            [-1e12, -250.5, -1.0, -1e-9, 0.0, 1e-300, 1e-9, 0.5, 1.0, 19.0, 182_581.0, 1e300];
        for pair in values.windows(2) {
            assert!(value_bucket(pair[0]) < value_bucket(pair[1]), "{pair:?}");
        }
        for x in values.iter().chain(&[3.0, 3.0001, 99.99, 1234.5678]) {
            let error = (stands_for(value_bucket(*x)) - x).abs();
            assert!(error <= RELATIVE_ERROR * x.abs() * (1.0 + 1e-9), "{x}: {error}");
        }
    }
}
