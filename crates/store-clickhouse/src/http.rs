//! ClickHouse's HTTP interface: one request per statement, gzip-compressed insert bodies,
//! responses read as they arrive. Errors are sorted here, once: a server that cannot be
//! reached or answers 5xx without a ClickHouse error is `Unavailable` (the HTTP layer answers
//! 503 + Retry-After), a statement ClickHouse refuses is our bug (`Internal`).

use crate::tsv::TsvReader;
use flate2::Compression;
use flate2::write::GzEncoder;
use sextant_query::Cell;
use sextant_store::StoreError;
use std::io::Write;
use std::time::Duration;

/// ClickHouse's error code for a query that ran over `max_execution_time`.
const TIMEOUT_EXCEEDED: u32 = 159;
/// Errors that say the server cannot take the work now, not that the statement is wrong: too
/// many simultaneous queries (202), socket timeouts and network errors (209, 210), memory
/// limit (241), read-only table (242), too many parts (252), unknown insert status (319).
const OVERLOADED: [u32; 7] = [202, 209, 210, 241, 242, 252, 319];

/// The code of a ClickHouse error text: `Code: 159, e.displayText() = ...` (18.16) or
/// `Code: 159. DB::Exception: ...` (current releases).
fn error_code(body: &str) -> Option<u32> {
    let digits: String =
        body.strip_prefix("Code: ")?.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[derive(Debug, Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    url: url::Url,
    user: Option<String>,
    password: Option<String>,
    compress: bool,
    /// Limit of an `Internal` request.
    timeout: Duration,
}

/// How a statement may run.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode {
    /// Planned reads: read-only, optionally time-limited (exports are not).
    Read(Option<Duration>),
    /// Statements Sextant writes itself: schema changes, inserts, retention, its own reads.
    Internal,
}

impl Client {
    pub(crate) fn new(
        url: &str,
        database: &str,
        user: Option<String>,
        password: Option<String>,
        compress: bool,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
        let mut url = url::Url::parse(url)
            .map_err(|e| StoreError::Invalid(format!("clickhouse url `{url}`: {e}")))?;
        url.query_pairs_mut().append_pair("database", database);
        // Per-request limits (see `request`): an export may stream for as long as it needs.
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| StoreError::Internal(format!("http client: {e}")))?;
        Ok(Self { http, url, user, password, compress, timeout })
    }

    /// The same server without a default database (to create it).
    pub(crate) fn without_database(&self) -> Self {
        let mut other = self.clone();
        let pairs: Vec<(String, String)> = self
            .url
            .query_pairs()
            .filter(|(k, _)| k != "database")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        other.url.query_pairs_mut().clear().extend_pairs(pairs);
        other
    }

    fn request(&self, mode: Mode, query_param: Option<&str>) -> reqwest::RequestBuilder {
        let mut url = self.url.clone();
        {
            let mut pairs = url.query_pairs_mut();
            if let Some(query) = query_param {
                pairs.append_pair("query", query);
            }
            match mode {
                Mode::Read(limit) => {
                    // readonly=2: no writes, but settings such as the time limit still apply.
                    pairs.append_pair("readonly", "2");
                    if let Some(limit) = limit {
                        pairs
                            .append_pair("max_execution_time", &limit.as_secs().max(1).to_string());
                    }
                }
                Mode::Internal => {}
            }
        }
        let mut request = self.http.post(url);
        match mode {
            // ClickHouse enforces the query's own limit; this one only catches a server that
            // stops answering altogether.
            Mode::Read(Some(limit)) => request = request.timeout(limit + Duration::from_secs(10)),
            Mode::Read(None) => {}
            Mode::Internal => request = request.timeout(self.timeout),
        }
        if let Some(user) = &self.user {
            request = request.header("X-ClickHouse-User", user);
        }
        if let Some(password) = &self.password {
            request = request.header("X-ClickHouse-Key", password);
        }
        request
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        limit: Option<Duration>,
    ) -> Result<reqwest::Response, StoreError> {
        let response = request.send().await.map_err(|e| unreachable(&e))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        Err(refused(status, body.trim(), limit))
    }

    /// Runs a statement that returns nothing we read.
    pub(crate) async fn execute(&self, sql: &str) -> Result<(), StoreError> {
        let request = self.request(Mode::Internal, None).body(sql.to_owned());
        let response = self.send(request, None).await?;
        response.bytes().await.map_err(|e| unreachable(&e))?;
        Ok(())
    }

    /// Runs `sql` (which must not name a format) and feeds each row to `sink`.
    pub(crate) async fn rows(
        &self,
        sql: &str,
        mode: Mode,
        mut sink: impl FnMut(Vec<Cell>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let limit = match mode {
            Mode::Read(limit) => limit,
            Mode::Internal => None,
        };
        let request =
            self.request(mode, None).body(format!("{sql}\nFORMAT TabSeparatedWithNamesAndTypes"));
        let mut response = self.send(request, limit).await?;
        let mut reader = TsvReader::new(limit);
        while let Some(chunk) = response.chunk().await.map_err(|e| unreachable(&e))? {
            reader.feed(&chunk, &mut sink)?;
        }
        reader.finish(&mut sink)
    }

    /// Collects every row of `sql`.
    pub(crate) async fn all_rows(
        &self,
        sql: &str,
        mode: Mode,
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        let mut rows = Vec::new();
        self.rows(sql, mode, |row| {
            rows.push(row);
            Ok(())
        })
        .await?;
        Ok(rows)
    }

    /// Inserts `body` (rows in JSONEachRow) into `table`; returns once ClickHouse has written
    /// them, or fails.
    pub(crate) async fn insert(&self, table: &str, body: Vec<u8>) -> Result<(), StoreError> {
        let query = format!("INSERT INTO {table} FORMAT JSONEachRow");
        let request = self.request(Mode::Internal, Some(&query));
        let request = if self.compress {
            let mut encoder =
                GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::fast());
            let compressed = encoder
                .write_all(&body)
                .and_then(|()| encoder.finish())
                .map_err(|e| StoreError::Internal(format!("gzip: {e}")))?;
            request.header("Content-Encoding", "gzip").body(compressed)
        } else {
            request.body(body)
        };
        let response = self.send(request, None).await?;
        response.bytes().await.map_err(|e| unreachable(&e))?;
        Ok(())
    }
}

fn unreachable(e: &reqwest::Error) -> StoreError {
    StoreError::Unavailable(format!("clickhouse: {e}"))
}

/// A non-2xx answer: ClickHouse's own errors start with `Code: N`; anything else (a proxy, a
/// server starting up) means it is not there to answer.
pub(crate) fn refused(
    status: reqwest::StatusCode,
    body: &str,
    limit: Option<Duration>,
) -> StoreError {
    match (error_code(body), limit) {
        (Some(TIMEOUT_EXCEEDED), Some(limit)) => StoreError::Timeout(limit),
        (Some(code), _)
            if !OVERLOADED.contains(&code)
                && status != reqwest::StatusCode::SERVICE_UNAVAILABLE =>
        {
            StoreError::Internal(format!("clickhouse refused a statement: {body}"))
        }
        _ => StoreError::Unavailable(format!("clickhouse answered {status}: {body}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    #[test]
    fn errors_are_sorted_by_their_code_in_old_and_new_formats() {
        let limit = Some(Duration::from_secs(1));
        let error = StatusCode::INTERNAL_SERVER_ERROR;
        for body in [
            "Code: 159, e.displayText() = DB::Exception: Timeout",
            "Code: 159. DB::Exception: Timeout",
        ] {
            assert!(matches!(refused(error, body, limit), StoreError::Timeout(_)));
        }
        assert!(matches!(
            refused(error, "Code: 252, e.displayText() = DB::Exception: Too many parts", None),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            refused(error, "Code: 62. DB::Exception: Syntax error", None),
            StoreError::Internal(_)
        ));
        assert!(matches!(
            refused(StatusCode::BAD_GATEWAY, "<html>", None),
            StoreError::Unavailable(_)
        ));
    }
}
