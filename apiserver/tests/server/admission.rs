//! Admission plugins in the registry: mutating plugins change objects after defaulting and
//! before validation, validating plugins refuse writes after validation and before storage —
//! on create, update, patch, apply, the status subresource and delete — with Kubernetes'
//! attributes, in registration order.

use std::sync::{Arc, Mutex};

use apiserver::{
    ApiError, ApiServer, Attributes, Cause, Context, MutatingAdmission, Operation, RequestOptions,
    Resource, Strategy, ValidatingAdmission,
};
use apiserver_storage::{AnyStore, MemoryStore};
use axum::body::Body;
use http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

type Log = Arc<Mutex<Vec<String>>>;

/// Requires content (so that a mutating plugin filling it is seen to run before validation).
struct ContentRequired(Log);

impl Strategy<pager::Alert> for ContentRequired {
    fn validate(&self, _: &Context<'_>, a: &pager::Alert) -> Vec<Cause> {
        self.0.lock().unwrap().push("strategy".into());
        if a.spec.content.is_empty() {
            vec![Cause::new(
                "FieldValueRequired",
                "spec.content",
                "Required value",
            )]
        } else {
            Vec::new()
        }
    }
}

/// Fills empty content and labels what it saw.
struct Filler(Log);

impl MutatingAdmission<pager::Alert> for Filler {
    fn name(&self) -> &str {
        "filler"
    }
    fn admit(
        &self,
        attrs: &Attributes<'_>,
        alert: &mut pager::Alert,
        old: Option<&pager::Alert>,
    ) -> Result<(), ApiError> {
        let options = match attrs.options {
            RequestOptions::Create { .. } => "create",
            RequestOptions::Update { .. } => "update",
            RequestOptions::Patch { force: true, .. } => "apply-forced",
            RequestOptions::Patch { .. } => "patch",
            RequestOptions::Delete(_) => "delete",
        };
        self.0.lock().unwrap().push(format!(
            "mutate {} {} {:?} dry={} old={} {options}",
            attrs.operation.as_str(),
            attrs.name,
            attrs.subresource,
            attrs.dry_run,
            old.is_some()
        ));
        if alert.spec.content.is_empty() {
            alert.spec.content = "filled by admission".into();
        }
        alert
            .metadata
            .labels
            .get_or_insert_with(Default::default)
            .insert("admitted".into(), attrs.operation.as_str().to_lowercase());
        Ok(())
    }
}

/// Refuses names starting with `no-`, and deleting objects labelled `protected`.
struct Gate(Log);

impl ValidatingAdmission<pager::Alert> for Gate {
    fn name(&self) -> &str {
        "gate"
    }
    fn validate(
        &self,
        attrs: &Attributes<'_>,
        alert: Option<&pager::Alert>,
        old: Option<&pager::Alert>,
    ) -> Result<(), ApiError> {
        self.0.lock().unwrap().push(format!(
            "validate {} {} object={} old={}",
            attrs.operation.as_str(),
            attrs.name,
            alert.is_some(),
            old.is_some()
        ));
        if attrs.name.starts_with("no-") {
            return Err(ApiError::forbidden(
                attrs.resource,
                attrs.name,
                "names starting with no- are refused",
            ));
        }
        if attrs.operation == Operation::Delete
            && old.is_some_and(|o| {
                o.metadata
                    .labels
                    .as_ref()
                    .is_some_and(|l| l.contains_key("protected"))
            })
        {
            return Err(ApiError::forbidden(attrs.resource, attrs.name, "protected"));
        }
        Ok(())
    }
}

fn app(log: &Log) -> axum::Router {
    ApiServer::builder(AnyStore::Memory(MemoryStore::new()))
        .resource(
            Resource::<pager::Alert>::hub()
                .version::<pager::v1beta1::Alert>(pager::v1beta1::OPENAPI_SCHEMAS)
                .strategy(ContentRequired(log.clone()))
                .mutating(Filler(log.clone()))
                .validating(Gate(log.clone())),
        )
        .build()
        .unwrap()
        .into_router()
}

const BETA: &str = "/apis/pager.k8s.co/v1beta1/namespaces/default/alerts";

async fn send(
    app: &axum::Router,
    method: Method,
    uri: &str,
    ct: &str,
    body: Value,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", ct)
        .body(if body.is_null() {
            Body::empty()
        } else {
            Body::from(body.to_string())
        })
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn drain(log: &Log) -> Vec<String> {
    std::mem::take(&mut *log.lock().unwrap())
}

#[tokio::test]
async fn mutating_before_validation_validating_after_on_every_write() {
    let log: Log = Default::default();
    let app = app(&log);
    // Create with empty content: the mutating plugin fills it before the strategy validates.
    let (code, created) = send(
        &app,
        Method::POST,
        BETA,
        "application/json",
        json!({"metadata": {"name": "a1"}, "spec": {"content": ""}}),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_eq!(created["spec"]["content"], "filled by admission");
    assert_eq!(created["metadata"]["labels"]["admitted"], "create");
    assert_eq!(
        drain(&log),
        [
            "mutate CREATE a1 None dry=false old=false create",
            "strategy",
            "validate CREATE a1 object=true old=false"
        ]
    );
    // Stored as admitted.
    let (_, read) = send(
        &app,
        Method::GET,
        &format!("{BETA}/a1"),
        "application/json",
        Value::Null,
    )
    .await;
    assert_eq!(read["metadata"]["labels"]["admitted"], "create");
    drain(&log);

    // Patch, update, apply (forced), status, dry run: all through both chains.
    let (code, patched) = send(
        &app,
        Method::PATCH,
        &format!("{BETA}/a1"),
        "application/merge-patch+json",
        json!({"spec": {"title": "t"}}),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let mut updated = patched.clone();
    updated["spec"]["title"] = json!("u");
    let (code, _) = send(
        &app,
        Method::PUT,
        &format!("{BETA}/a1"),
        "application/json",
        updated,
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let (code, _) = send(&app, Method::PATCH, &format!("{BETA}/a1?fieldManager=m&force=true"),
        "application/apply-patch+yaml",
        json!({"apiVersion": "pager.k8s.co/v1beta1", "kind": "Alert", "metadata": {"name": "a1"}, "spec": {"title": "x"}})).await;
    assert_eq!(code, StatusCode::OK);
    let (code, _) = send(
        &app,
        Method::PATCH,
        &format!("{BETA}/a1/status?dryRun=All"),
        "application/merge-patch+json",
        json!({"status": {"sent": true}}),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let seen = drain(&log);
    let mutations: Vec<&String> = seen.iter().filter(|l| l.starts_with("mutate")).collect();
    assert_eq!(
        mutations,
        [
            "mutate UPDATE a1 None dry=false old=true patch",
            "mutate UPDATE a1 None dry=false old=true update",
            "mutate UPDATE a1 None dry=false old=true apply-forced",
            "mutate UPDATE a1 Some(\"status\") dry=true old=true patch",
        ]
    );
    assert_eq!(
        seen.iter()
            .filter(|l| l.starts_with("validate UPDATE a1 object=true old=true"))
            .count(),
        4
    );

    // A validation failure never reaches validating admission.
    let (code, _) = send(
        &app,
        Method::POST,
        BETA,
        "application/json",
        json!({"metadata": {"name": "Bad Name"}, "spec": {"content": "c"}}),
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(drain(&log).iter().all(|l| !l.starts_with("validate")));
}

#[tokio::test]
async fn validating_admission_refuses_and_nothing_is_stored() {
    let log: Log = Default::default();
    let app = app(&log);
    let (code, status) = send(
        &app,
        Method::POST,
        BETA,
        "application/json",
        json!({"metadata": {"name": "no-thanks"}, "spec": {"content": "c"}}),
    )
    .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    assert_eq!(status["reason"], "Forbidden");
    assert_eq!(
        status["message"],
        "alerts.pager.k8s.co \"no-thanks\" is forbidden: names starting with no- are refused"
    );
    let (code, _) = send(
        &app,
        Method::GET,
        &format!("{BETA}/no-thanks"),
        "application/json",
        Value::Null,
    )
    .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    // A refused delete keeps the object.
    let (code, _) = send(&app, Method::POST, BETA, "application/json",
        json!({"metadata": {"name": "keep", "labels": {"protected": "yes"}}, "spec": {"content": "c"}})).await;
    assert_eq!(code, StatusCode::CREATED);
    drain(&log);
    let (code, status) = send(
        &app,
        Method::DELETE,
        &format!("{BETA}/keep"),
        "application/json",
        Value::Null,
    )
    .await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{status}");
    assert_eq!(drain(&log), ["validate DELETE keep object=false old=true"]);
    let (code, _) = send(
        &app,
        Method::GET,
        &format!("{BETA}/keep"),
        "application/json",
        Value::Null,
    )
    .await;
    assert_eq!(code, StatusCode::OK);
}
