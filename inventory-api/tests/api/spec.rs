//! The OpenAPI document: valid, complete, and exactly the router's routes.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::Value;

use crate::common::{request, TestApp};

api_tests! {
    async fn the_openapi_document_lists_every_route_and_nothing_else(t: &TestApp) {
        let r = t.get("/api/v1/openapi.json").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header("content-type"), Some("application/json"));
        let doc = r.json();
        assert_eq!(doc, serde_json::to_value(inventory_api::openapi()).unwrap());
        let methods = [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE];
        let paths = doc["paths"].as_object().unwrap();
        assert!(paths.contains_key("/healthz") && paths.contains_key("/api/v1/auth/login"));
        for (path, item) in paths {
            let concrete = path.replace(['{', '}'], "");
            for method in &methods {
                let declared = item.get(method.as_str().to_ascii_lowercase()).is_some();
                let r = t.send(request(method.clone(), &concrete).body(Body::empty()).unwrap()).await;
                if declared {
                    assert!(
                        r.status != StatusCode::METHOD_NOT_ALLOWED
                            && !(r.status == StatusCode::NOT_FOUND && r.problem().detail == "no such route"),
                        "{method} {path} is in the document but not routed: {}",
                        r.status
                    );
                } else {
                    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is routed but not documented");
                }
            }
        }
    }

}

#[test]
fn if_match_is_documented_as_the_entity_tags_the_server_parses() {
    let doc = serde_json::to_value(inventory_api::openapi()).unwrap();
    let mut seen = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(params) = op["parameters"].as_array() else {
                continue;
            };
            for p in params.iter().filter(|p| p["name"] == "If-Match") {
                assert_eq!(
                    p["schema"]["pattern"],
                    inventory_api::etag::IF_MATCH_PATTERN,
                    "{method} {path}"
                );
                assert_eq!(p["schema"]["maxLength"], 4096, "{method} {path}");
                seen += 1;
            }
        }
    }
    assert!(seen >= 10, "If-Match on {seen} operations");
}

#[test]
fn tree_depth_is_documented_within_the_range_the_server_takes() {
    let doc = serde_json::to_value(inventory_api::openapi()).unwrap();
    let params = doc["paths"]["/api/v1/locations/{id}/tree"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let depth = params.iter().find(|p| p["name"] == "depth").unwrap();
    assert_eq!(
        (
            depth["schema"]["minimum"].as_i64(),
            depth["schema"]["maximum"].as_i64()
        ),
        (Some(0), Some(2147483647))
    );
}

#[test]
fn the_openapi_document_is_valid_openapi_3_1() {
    let doc = serde_json::to_value(inventory_api::openapi()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(doc["info"]["version"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));
    let mut operation_ids = std::collections::HashSet::new();
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        assert!(path.starts_with('/'), "{path}");
        for (method, op) in item.as_object().unwrap() {
            assert!(
                ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
                    .contains(&method.as_str()),
                "{method}"
            );
            let id = op["operationId"]
                .as_str()
                .expect("every operation has an operationId");
            assert!(
                operation_ids.insert(id.to_string()),
                "duplicate operationId {id}"
            );
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty());
            for (status, response) in responses {
                assert!(
                    status == "default" || (status.len() == 3 && status.parse::<u16>().is_ok()),
                    "{status}"
                );
                if let Some(description) = response.get("description") {
                    assert!(description.is_string());
                } else {
                    assert!(response.get("$ref").is_some(), "{path} {method} {status}");
                }
                if status.starts_with('4') || status.starts_with('5') {
                    let content_ref = response.get("$ref").is_some()
                        || response["content"]
                            .get("application/problem+json")
                            .is_some();
                    assert!(content_ref, "{method} {path} {status} is not a problem");
                }
            }
            for requirement in op
                .get("security")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                for name in requirement.as_object().unwrap().keys() {
                    assert!(schemes.contains_key(name), "unknown security scheme {name}");
                }
            }
            // Every {param} of the template is a declared path parameter.
            for param in path.split('{').skip(1).filter_map(|s| s.split('}').next()) {
                let declared = op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|p| p["name"] == param && p["in"] == "path" && p["required"] == true);
                assert!(declared, "{method} {path}: {{{param}}} is not declared");
            }
            // Authenticated operations declare 401 and 403; bodies 413, 415 and 422.
            if op.get("security").is_some() {
                assert!(
                    responses.contains_key("401") && responses.contains_key("403"),
                    "{method} {path}"
                );
            }
            if op.get("requestBody").is_some() {
                for status in ["400", "413", "415", "422"] {
                    assert!(responses.contains_key(status), "{method} {path} {status}");
                }
            }
            assert!(responses.contains_key("500"), "{method} {path}");
        }
    }
    // Every $ref resolves.
    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for r in found {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external $ref {r}"));
        assert!(doc.pointer(pointer).is_some(), "dangling $ref {r}");
    }
    assert_eq!(
        doc["paths"]["/api/v1/auth/login"]["post"]["responses"]["429"]["headers"]["Retry-After"]
            ["schema"]["type"],
        "integer"
    );
}

/// Every operation that takes `If-Match` declares 412, every one with a body 413/415/422,
/// every secured one 503, and every one has a tag; single resources declare their ETag.
#[test]
fn every_operation_declares_what_it_can_answer() {
    let doc = serde_json::to_value(inventory_api::openapi()).unwrap();
    let mut with_etag = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{method} {path} has no tag"
            );
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            if params
                .iter()
                .any(|p| p["name"] == "If-Match" && p["in"] == "header")
            {
                assert!(responses.contains_key("412"), "{method} {path}");
            }
            if params.iter().any(|p| p["in"] == "query") {
                assert!(
                    responses.contains_key("400") && responses.contains_key("422"),
                    "{method} {path}"
                );
            }
            if op.get("security").is_some() {
                assert!(responses.contains_key("503"), "{method} {path}");
            }
            if ["patch", "delete"].contains(&method.as_str())
                || path.ends_with("/move") && !path.contains("bulk")
            {
                assert!(
                    params.iter().any(|p| p["name"] == "If-Match"),
                    "{method} {path} does not take If-Match"
                );
            }
            for (status, response) in responses {
                if response["headers"].get("ETag").is_some() {
                    with_etag += 1;
                    assert!(status.starts_with('2'), "{method} {path} {status}");
                }
            }
        }
    }
    assert!(with_etag >= 15, "{with_etag} responses declare an ETag");
}

/// The router is built only from `routes!` declarations (which put each route in the
/// document): no module adds a route any other way.
#[test]
fn routes_are_declared_only_through_utoipa() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![dir.join("lib.rs")];
    for entry in std::fs::read_dir(dir.join("routes")).unwrap() {
        files.push(entry.unwrap().path());
    }
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for forbidden in [".route(", ".route_service(", ".nest_service(", "routing::"] {
                assert!(
                    !code.contains(forbidden),
                    "{}:{}: routes must be declared with routes!(): {line}",
                    file.display(),
                    n + 1
                );
            }
        }
    }
}

/// The crate's README documents every route of the document, by method and path.
#[test]
fn the_readme_documents_every_route() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let doc = serde_json::to_value(inventory_api::openapi()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let line = format!("{} {path}", method.to_ascii_uppercase());
            assert!(
                readme.contains(&line),
                "README.md does not document `{line}`"
            );
        }
    }
}
