//! Every route is registered here together with its OpenAPI description, so the router and
//! `/api/openapi.json` are built from the same list and cannot drift apart (clippy forbids
//! `Router::route` elsewhere: see `clippy.toml`). The same list tells the audit layer which
//! operation a request was and whether it is audited.

use crate::AppState;
use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, on};
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// Produces the JSON Schema of a request or response body (a `$ref` into the components).
pub(crate) type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

pub(crate) fn schema_of<T: JsonSchema>() -> SchemaFn {
    |generator| generator.subschema_for::<T>()
}

/// Who may call an operation, which decides its documented statuses and whether it is
/// audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// No credentials (health, the API description).
    Public,
    /// Event ingestion with a project's write key, in whatever place its wire format puts
    /// it. Not audited: ingestion has its own counters and rate limits.
    Ingest,
    /// A key, a JWT or a session (`auth::Caller`); audited.
    Authenticated,
}

/// A parameter in the path or the query string.
#[derive(Debug, Clone)]
pub(crate) struct Param {
    pub(crate) name: &'static str,
    pub(crate) in_path: bool,
    pub(crate) required: bool,
    pub(crate) description: &'static str,
    pub(crate) schema: Value,
}

#[derive(Debug, Clone)]
pub(crate) enum Body {
    Json(SchemaFn),
    /// Several content types with one loose schema (wire formats).
    Any(&'static [&'static str], Value),
}

/// One operation: a method on a path, what it does, and what it takes and answers.
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub(crate) method: Method,
    pub(crate) path: &'static str,
    /// The OpenAPI `operationId`, also the audit log's `action`.
    pub(crate) id: String,
    pub(crate) summary: &'static str,
    pub(crate) tag: &'static str,
    pub(crate) access: Access,
    /// Changes state (a failed audit write then cannot undo it; reads fail closed instead).
    pub(crate) changes: bool,
    pub(crate) params: Vec<Param>,
    pub(crate) body: Option<Body>,
    pub(crate) ok_status: u16,
    pub(crate) ok: Option<SchemaFn>,
    /// Statuses beyond those implied by `access` and `body`.
    pub(crate) also: &'static [u16],
    /// Recorded in the audit log: every authenticated operation, plus logins.
    audit: bool,
}

impl Operation {
    pub(crate) fn new(
        method: Method,
        path: &'static str,
        id: impl Into<String>,
        summary: &'static str,
    ) -> Self {
        Self {
            method,
            path,
            id: id.into(),
            summary,
            tag: "",
            access: Access::Authenticated,
            changes: false,
            params: Vec::new(),
            body: None,
            ok_status: 200,
            ok: None,
            also: &[],
            audit: true,
        }
    }

    pub(crate) fn get(path: &'static str, id: &'static str, summary: &'static str) -> Self {
        Self::new(Method::GET, path, id, summary)
    }

    pub(crate) fn post(path: &'static str, id: &'static str, summary: &'static str) -> Self {
        Self::new(Method::POST, path, id, summary).changes()
    }

    pub(crate) fn tag(mut self, tag: &'static str) -> Self {
        self.tag = tag;
        self
    }

    pub(crate) fn public(mut self) -> Self {
        self.access = Access::Public;
        self.audit = false;
        self
    }

    pub(crate) fn ingest(mut self) -> Self {
        self.access = Access::Ingest;
        self.audit = false;
        self
    }

    /// Audits an operation that needs no credentials (logins).
    pub(crate) fn audited(mut self) -> Self {
        self.audit = true;
        self
    }

    pub(crate) fn changes(mut self) -> Self {
        self.changes = true;
        self
    }

    pub(crate) fn reads(mut self) -> Self {
        self.changes = false;
        self
    }

    pub(crate) fn path_param(mut self, name: &'static str, description: &'static str) -> Self {
        self.params.push(Param {
            name,
            in_path: true,
            required: true,
            description,
            schema: json!({"type": "string"}),
        });
        self
    }

    /// A path parameter taking one of `values`.
    pub(crate) fn path_choice(
        mut self,
        name: &'static str,
        description: &'static str,
        values: &[&str],
    ) -> Self {
        let schema = json!({"type": "string", "enum": values});
        self.params.push(Param { name, in_path: true, required: true, description, schema });
        self
    }

    pub(crate) fn query(
        mut self,
        name: &'static str,
        description: &'static str,
        schema: Value,
    ) -> Self {
        self.params.push(Param { name, in_path: false, required: false, description, schema });
        self
    }

    /// The `?project=` parameter of project-scoped reads.
    pub(crate) fn project_param(self) -> Self {
        self.query(
            "project",
            "The project, for callers that may see several (people, instance admin keys); project keys may omit it.",
            json!({"type": "string"}),
        )
    }

    pub(crate) fn json_body(mut self, schema: SchemaFn) -> Self {
        self.body = Some(Body::Json(schema));
        self
    }

    pub(crate) fn any_body(mut self, types: &'static [&'static str], schema: Value) -> Self {
        self.body = Some(Body::Any(types, schema));
        self
    }

    pub(crate) fn ok(mut self, status: u16, schema: Option<SchemaFn>) -> Self {
        self.ok_status = status;
        self.ok = schema;
        self
    }

    pub(crate) fn also(mut self, statuses: &'static [u16]) -> Self {
        self.also = statuses;
        self
    }

    /// Every status the operation may answer.
    pub(crate) fn statuses(&self) -> Vec<u16> {
        let mut statuses = vec![self.ok_status, 408];
        match self.access {
            Access::Public => {}
            Access::Ingest => statuses.extend([400, 401, 403, 413, 429, 503]),
            Access::Authenticated => statuses.extend([400, 401, 403, 404, 429, 503]),
        }
        if self.body.is_some() {
            statuses.extend([400, 413]);
        }
        statuses.extend(self.also);
        statuses.sort_unstable();
        statuses.dedup();
        statuses
    }

    pub(crate) fn is_audited(&self) -> bool {
        self.audit
    }
}

/// The router under construction and the operations it serves.
pub(crate) struct Api {
    router: Router<AppState>,
    operations: Vec<Operation>,
}

impl Api {
    pub(crate) fn new() -> Self {
        Self { router: Router::new(), operations: Vec::new() }
    }

    /// Routes `operation` to `handler` and records it for the API description.
    pub(crate) fn add<H, T>(mut self, operation: Operation, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = match operation.method {
            Method::POST => MethodFilter::POST,
            Method::PUT => MethodFilter::PUT,
            Method::PATCH => MethodFilter::PATCH,
            Method::DELETE => MethodFilter::DELETE,
            Method::OPTIONS => MethodFilter::OPTIONS,
            _ => MethodFilter::GET,
        };
        #[allow(clippy::disallowed_methods)] // the one place routes are added
        let router = self.router.route(operation.path, on(filter, handler));
        self.router = router;
        self.operations.push(operation);
        self
    }

    pub(crate) fn merge(mut self, other: Api) -> Self {
        self.router = self.router.merge(other.router);
        self.operations.extend(other.operations);
        self
    }

    /// Applies `layer` to the routes added so far (e.g. CORS for one group).
    pub(crate) fn layer<L>(mut self, layer: L) -> Self
    where
        L: tower::Layer<axum::routing::Route> + Clone + Send + Sync + 'static,
        L::Service: tower::Service<axum::extract::Request> + Clone + Send + Sync + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Response:
            axum::response::IntoResponse + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Error:
            Into<std::convert::Infallible> + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Future: Send + 'static,
    {
        self.router = self.router.layer(layer);
        self
    }

    pub(crate) fn finish(self) -> (Router<AppState>, Arc<Routes>) {
        (self.router, Arc::new(Routes::new(self.operations)))
    }
}

/// The operations, by method and route template, plus their OpenAPI document.
#[derive(Debug, Default)]
pub struct Routes {
    by_route: HashMap<(Method, &'static str), Operation>,
    document: Value,
}

impl Routes {
    fn new(operations: Vec<Operation>) -> Self {
        let document = document(&operations);
        let by_route =
            operations.into_iter().map(|op| ((op.method.clone(), op.path), op)).collect();
        Self { by_route, document }
    }

    pub(crate) fn operation(&self, method: &Method, path: &str) -> Option<&Operation> {
        self.by_route.iter().find(|((m, p), _)| m == method && *p == path).map(|(_, op)| op)
    }

    /// The OpenAPI 3.1 document.
    pub fn document(&self) -> &Value {
        &self.document
    }
}

const DESCRIPTION: &str = "Sextant's HTTP API: event ingestion (its own and other tools' wire formats), queries, administration, accounts and the audit log. Authenticate with `Authorization: Bearer <key>` (a project's write key for sending, a secret key for everything else, an instance admin key for administration), a gateway JWT, or a login session (cookie plus `X-CSRF-Token` on changes). Errors are `{\"error\": {\"code\", \"message\"}}` except where a wire format prescribes its own shape. Query semantics: docs/queries.md.";

fn document(operations: &[Operation]) -> Value {
    let settings = SchemaSettings::draft2020_12().with(|s| {
        s.definitions_path = "/components/schemas".into();
    });
    let mut generator = SchemaGenerator::new(settings);
    let error = generator.subschema_for::<crate::error::ErrorBody>();
    let mut paths: Map<String, Value> = Map::new();
    for op in operations {
        let mut responses = Map::new();
        for status in op.statuses() {
            let response = if status == op.ok_status {
                match op.ok {
                    Some(schema) => json!({
                        "description": "Success",
                        "content": {"application/json": {"schema": schema(&mut generator)}},
                    }),
                    None => json!({"description": "Success"}),
                }
            } else {
                json!({
                    "description": status_text(status),
                    "content": {"application/json": {"schema": error.clone()}},
                })
            };
            responses.insert(status.to_string(), response);
        }
        let parameters: Vec<Value> = op
            .params
            .iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "in": if p.in_path { "path" } else { "query" },
                    "required": p.required,
                    "description": p.description,
                    "schema": p.schema,
                })
            })
            .collect();
        let mut operation = json!({
            "operationId": op.id,
            "summary": op.summary,
            "tags": [op.tag],
            "parameters": parameters,
            "responses": responses,
        });
        if let Some(body) = &op.body {
            let content = match body {
                Body::Json(schema) => {
                    json!({"application/json": {"schema": schema(&mut generator)}})
                }
                Body::Any(types, schema) => Value::Object(
                    types.iter().map(|t| ((*t).to_owned(), json!({"schema": schema}))).collect(),
                ),
            };
            operation["requestBody"] = json!({"required": true, "content": content});
        }
        operation["security"] = match op.access {
            Access::Public => json!([]),
            Access::Ingest => json!([{"bearer": []}, {}]),
            Access::Authenticated => json!([{"bearer": []}, {"basic": []}, {"session": []}]),
        };
        let item = paths.entry(op.path.to_owned()).or_insert_with(|| json!({}));
        item[op.method.as_str().to_ascii_lowercase()] = operation;
    }
    let schemas: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Sextant", "version": env!("CARGO_PKG_VERSION"), "description": DESCRIPTION},
        "tags": crate::routes::tags::ALL.iter().map(|name| json!({"name": name})).collect::<Vec<_>>(),
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "An API key (sx_wk_, sx_sk_, sx_ak_) or a gateway JWT"},
                "basic": {"type": "http", "scheme": "basic", "description": "Amplitude Dashboard API style: write key as user, secret key as password"},
                "session": {"type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE},
            },
        },
    })
}

fn status_text(status: u16) -> &'static str {
    match status {
        204 => "No content",
        400 => "Invalid request",
        401 => "Missing or invalid credentials",
        403 => "Not allowed for the caller's role",
        404 => "Not found, or not visible to the caller",
        408 => "The request took longer than server.request_timeout",
        409 => "Conflicts with the current state",
        413 => "Body too large",
        429 => "Rate limited; see Retry-After",
        503 => "Storage unavailable or overloaded; see Retry-After",
        _ => "See the message",
    }
}
