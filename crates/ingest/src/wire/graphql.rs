//! A GraphQL endpoint for apps that speak GraphQL: `trackEvent(event:)` / `trackEvents(events:)`
//! mutations and the admin-only `events(project:, limit:, cursor:, event:)` query. Planning is
//! pure: a request becomes root operations plus the selection each answer is shaped by; the
//! HTTP layer runs them. Fragments and introspection are not supported (clear errors say so).

use graphql_parser::query::{
    Definition, Field, OperationDefinition, Selection, SelectionSet, Value as GqlValue, parse_query,
};
use serde_json::{Map, Number, Value};

/// What a root field asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    /// Ingest these native event objects.
    Track(Vec<Value>),
    /// List a project's raw events.
    Events { project: String, limit: Option<u64>, cursor: Option<String>, event: Option<String> },
    /// `__typename` at the root.
    Typename(&'static str),
}

/// One root field: where its answer goes, what to do, and how to shape the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct RootField {
    pub key: String,
    pub operation: Operation,
    pub selection: Shape,
}

/// The selected fields of an answer, by response key.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Shape(pub Vec<(String, String, Shape)>);

/// The object types answers can have, and their fields (`None`: a scalar; `Some`: an object
/// or a list of objects of that type).
fn fields_of(type_name: &str) -> &'static [(&'static str, Option<&'static str>)] {
    match type_name {
        "IngestReport" => &[
            ("accepted", None),
            ("rejected", None),
            ("dropped", None),
            ("errors", Some("RejectedEvent")),
        ],
        "RejectedEvent" => &[("index", None), ("errors", Some("FieldError"))],
        "FieldError" => &[("field", None), ("code", None), ("message", None)],
        "EventPage" => &[("events", Some("Event")), ("next_cursor", None)],
        "Event" => &EVENT_TYPE,
        _ => &[],
    }
}

const EVENT_TYPE: [(&str, Option<&str>); 24] = [
    ("project_id", None),
    ("event", None),
    ("timestamp", None),
    ("received_at", None),
    ("insert_id", None),
    ("user_id", None),
    ("device_id", None),
    ("person_id", None),
    ("session_id", None),
    ("app", None),
    ("url", None),
    ("host", None),
    ("path", None),
    ("route", None),
    ("referrer", None),
    ("entity_type", None),
    ("entity_id", None),
    ("device_type", None),
    ("browser", None),
    ("os", None),
    ("country", None),
    ("value", None),
    ("library", None),
    ("properties", None),
];

/// Plans `{"query", "variables"?, "operationName"?}`.
pub fn plan(request: &Value) -> Result<(bool, Vec<RootField>), String> {
    let query = request.get("query").and_then(Value::as_str).ok_or("`query` is required")?;
    let variables =
        request.get("variables").and_then(Value::as_object).cloned().unwrap_or_default();
    let wanted = request.get("operationName").and_then(Value::as_str);
    let document = parse_query::<&str>(query).map_err(|e| format!("syntax error: {e}"))?;
    let mut operations = Vec::new();
    for definition in &document.definitions {
        match definition {
            Definition::Operation(op) => operations.push(op),
            Definition::Fragment(_) => return Err("fragments are not supported".into()),
        }
    }
    fn named<'a>(op: &OperationDefinition<'a, &'a str>) -> Option<&'a str> {
        match op {
            OperationDefinition::Query(q) => q.name,
            OperationDefinition::Mutation(m) => m.name,
            _ => None,
        }
    }
    let operation = match (wanted, operations.as_slice()) {
        (None, [only]) => *only,
        (None, _) => return Err("several operations: name one with `operationName`".into()),
        (Some(name), _) => *operations
            .iter()
            .find(|op| named(op) == Some(name))
            .ok_or_else(|| format!("no operation named `{name}`"))?,
    };
    let (mutation, selection, defaults) = match operation {
        OperationDefinition::SelectionSet(s) => (false, s, Vec::new()),
        OperationDefinition::Query(q) => {
            (false, &q.selection_set, defaults(&q.variable_definitions))
        }
        OperationDefinition::Mutation(m) => {
            (true, &m.selection_set, defaults(&m.variable_definitions))
        }
        OperationDefinition::Subscription(_) => {
            return Err("subscriptions are not supported".into());
        }
    };
    let mut variables = variables;
    for (name, value) in defaults {
        variables.entry(name).or_insert(value);
    }
    let fields = fields(selection)?
        .into_iter()
        .map(|field| root_field(mutation, field, &variables))
        .collect::<Result<_, _>>()?;
    Ok((mutation, fields))
}

fn defaults<'a>(
    definitions: &[graphql_parser::query::VariableDefinition<'a, &'a str>],
) -> Vec<(String, Value)> {
    definitions
        .iter()
        .filter_map(|d| {
            let value = to_json(d.default_value.as_ref()?, &Map::new()).ok()?;
            Some((d.name.to_owned(), value))
        })
        .collect()
}

fn fields<'q, 'a>(
    set: &'q SelectionSet<'a, &'a str>,
) -> Result<Vec<&'q Field<'a, &'a str>>, String> {
    set.items
        .iter()
        .map(|item| match item {
            Selection::Field(field) => Ok(field),
            _ => Err("fragments are not supported".to_owned()),
        })
        .collect()
}

fn root_field<'a>(
    mutation: bool,
    field: &Field<'a, &'a str>,
    variables: &Map<String, Value>,
) -> Result<RootField, String> {
    let key = field.alias.unwrap_or(field.name).to_owned();
    let mut args = Map::new();
    for (name, value) in &field.arguments {
        args.insert((*name).to_owned(), to_json(value, variables)?);
    }
    let text = |name: &str| args.get(name).and_then(Value::as_str).map(str::to_owned);
    let (operation, type_name) = match (mutation, field.name) {
        (_, "__typename") => {
            let root = if mutation { "Mutation" } else { "Query" };
            return Ok(RootField {
                key,
                operation: Operation::Typename(root),
                selection: Shape::default(),
            });
        }
        (true, "trackEvent") => {
            let event = args.remove("event").ok_or("`trackEvent` needs `event`")?;
            (Operation::Track(vec![event]), "IngestReport")
        }
        (true, "trackEvents") => match args.remove("events") {
            Some(Value::Array(events)) => (Operation::Track(events), "IngestReport"),
            _ => return Err("`trackEvents` needs `events`, a list".into()),
        },
        (false, "events") => {
            let project = text("project").ok_or("`events` needs `project`")?;
            let limit = args.get("limit").and_then(Value::as_u64);
            (
                Operation::Events { project, limit, cursor: text("cursor"), event: text("event") },
                "EventPage",
            )
        }
        (true, other) => {
            return Err(format!("unknown mutation `{other}`; use trackEvent or trackEvents"));
        }
        (false, other) => return Err(format!("unknown query `{other}`; use events")),
    };
    let selection = shape_of(&field.selection_set, type_name)?;
    if selection.0.is_empty() {
        return Err(format!("`{}` returns {type_name}: select some of its fields", field.name));
    }
    Ok(RootField { key, operation, selection })
}

fn shape_of<'a>(set: &SelectionSet<'a, &'a str>, type_name: &str) -> Result<Shape, String> {
    let mut shape = Vec::new();
    for field in fields(set)? {
        let key = field.alias.unwrap_or(field.name).to_owned();
        if field.name == "__typename" {
            shape.push((key, "__typename".to_owned(), Shape::default()));
            continue;
        }
        let Some((_, child)) = fields_of(type_name).iter().find(|(name, _)| *name == field.name)
        else {
            return Err(format!("cannot query field `{}` on type `{type_name}`", field.name));
        };
        let sub = match child {
            Some(child) => {
                let sub = shape_of(&field.selection_set, child)?;
                if sub.0.is_empty() {
                    return Err(format!(
                        "`{}` is a {child}: select some of its fields",
                        field.name
                    ));
                }
                sub
            }
            None => Shape::default(),
        };
        shape.push((key, field.name.to_owned(), sub));
    }
    Ok(Shape(shape))
}

/// GraphQL literal (or variable) → JSON.
fn to_json<'a>(
    value: &GqlValue<'a, &'a str>,
    variables: &Map<String, Value>,
) -> Result<Value, String> {
    Ok(match value {
        GqlValue::Variable(name) => variables
            .get(*name)
            .cloned()
            .ok_or_else(|| format!("variable `${name}` is not given"))?,
        GqlValue::Int(n) => n.as_i64().map(Value::from).ok_or("integer out of range")?,
        GqlValue::Float(x) => Number::from_f64(*x).map(Value::Number).ok_or("invalid number")?,
        GqlValue::String(s) => Value::String(s.clone()),
        GqlValue::Boolean(b) => Value::Bool(*b),
        GqlValue::Null => Value::Null,
        GqlValue::Enum(e) => Value::String((*e).to_owned()),
        GqlValue::List(items) => {
            Value::Array(items.iter().map(|v| to_json(v, variables)).collect::<Result<_, _>>()?)
        }
        GqlValue::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok(((*k).to_owned(), to_json(v, variables)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

/// Keeps the selected fields of `value` (an object or a list of them), under their response
/// keys; absent optional fields answer `null`.
pub fn shape(value: &Value, selection: &Shape, type_name: &str) -> Value {
    match value {
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| shape(v, selection, type_name)).collect())
        }
        Value::Object(object) => {
            let mut out = Map::new();
            for (key, field, sub) in &selection.0 {
                let answer = if field == "__typename" {
                    Value::from(type_name)
                } else {
                    let child =
                        fields_of(type_name).iter().find(|(n, _)| n == field).and_then(|(_, c)| *c);
                    // Every object-typed field is a list: absent means empty.
                    match (child, object.get(field)) {
                        (Some(child), Some(v)) => shape(v, sub, child),
                        (Some(_), None) => Value::Array(Vec::new()),
                        (None, v) => v.cloned().unwrap_or(Value::Null),
                    }
                };
                out.insert(key.clone(), answer);
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn track_with_variables_and_aliases() {
        let request = json!({
            "query": "mutation Track($e: JSON!) { sent: trackEvent(event: $e) { accepted errors { index errors { field } } __typename } }",
            "variables": {"e": {"event": "signup", "user_id": "u1", "properties": {"plan": "pro"}}}
        });
        let (mutation, fields) = plan(&request).unwrap();
        assert!(mutation);
        assert_eq!(fields[0].key, "sent");
        assert_eq!(
            fields[0].operation,
            Operation::Track(vec![
                json!({"event": "signup", "user_id": "u1", "properties": {"plan": "pro"}})
            ])
        );
        let report = json!({"accepted": 1, "rejected": 0, "errors": [{"index": 0, "errors": [{"field": "x", "code": "c", "message": "m"}]}]});
        assert_eq!(
            shape(&report, &fields[0].selection, "IngestReport"),
            json!({"accepted": 1, "errors": [{"index": 0, "errors": [{"field": "x"}]}], "__typename": "IngestReport"})
        );
    }

    #[test]
    fn inline_literals_and_the_events_query() {
        let (_, fields) = plan(&json!({"query": "mutation { trackEvents(events: [{event: \"a\", value: 2.5}, {event: \"b\"}]) { accepted } }"})).unwrap();
        assert_eq!(
            fields[0].operation,
            Operation::Track(vec![json!({"event": "a", "value": 2.5}), json!({"event": "b"})])
        );
        let (mutation, fields) = plan(&json!({"query": "{ events(project: \"prj_1\", limit: 5) { events { event user_id } next_cursor } }"})).unwrap();
        assert!(!mutation);
        assert_eq!(
            fields[0].operation,
            Operation::Events {
                project: "prj_1".into(),
                limit: Some(5),
                cursor: None,
                event: None
            }
        );
    }

    #[test]
    fn errors_name_the_problem() {
        let err = |q: &str| plan(&json!({"query": q})).unwrap_err();
        assert!(
            err("mutation { trackEvent(event: {event: \"a\"}) { acepted } }")
                .contains("cannot query field `acepted` on type `IngestReport`")
        );
        assert!(err("mutation { deleteEverything { ok } }").contains("unknown mutation"));
        assert!(err("mutation { trackEvent(event: $e) { accepted } }").contains("variable `$e`"));
        assert!(err("{ events(project: \"p\") }").contains("select some of its fields"));
        assert!(err("query {").starts_with("syntax error"));
        assert!(plan(&json!({})).unwrap_err().contains("`query` is required"));
    }
}
