//! The API's own description: `/api/openapi.json` (OpenAPI 3.1, generated from the same
//! registrations as the router) and `/docs`, Swagger UI on that document, served from files
//! compiled into the binary.

use crate::AppState;
use crate::api::{Api, Operation};
use crate::routes::tags;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Sextant API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"#;

/// Kept in its own file so the page's Content-Security-Policy needs no inline scripts.
const INIT: &str = r##"window.ui = SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#ui",
  deepLinking: true,
  withCredentials: true,
  persistAuthorization: false,
});
"##;

const BUNDLE: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js.gz");
const STYLES: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui.css.gz");

pub(crate) fn api() -> Api {
    let public = |path, id, summary| Operation::get(path, id, summary).tag(tags::HEALTH).public();
    Api::new()
        .add(public("/api/openapi.json", "openapi", "This API's OpenAPI 3.1 description"), openapi)
        .add(public("/docs", "docs", "Interactive API documentation"), page)
        .add(public("/docs/init.js", "docs_script", "Part of the documentation page"), init)
        .add(
            public("/docs/swagger-ui-bundle.js", "docs_bundle", "Part of the documentation page"),
            bundle,
        )
        .add(
            public("/docs/swagger-ui.css", "docs_styles", "Part of the documentation page"),
            styles,
        )
}

async fn openapi(State(state): State<AppState>) -> impl IntoResponse {
    Json(state.routes.document().clone())
}

async fn page() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE)
}

async fn init() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], INIT)
}

/// Stored gzipped; every browser accepts that.
async fn bundle() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CONTENT_ENCODING, "gzip"),
        ],
        BUNDLE,
    )
}

async fn styles() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CONTENT_ENCODING, "gzip")],
        STYLES,
    )
}
