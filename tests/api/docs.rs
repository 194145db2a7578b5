//! `/openapi.json` describes every route, and `/docs` is a Swagger UI served entirely by us.

use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeSet;

/// Every `$ref` in the document, e.g. `#/components/schemas/ErrorBody`.
fn refs(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                found.insert(target.clone());
            }
            map.values().for_each(|item| refs(item, found));
        }
        Value::Array(items) => items.iter().for_each(|item| refs(item, found)),
        _ => {}
    }
}

#[tokio::test]
async fn the_openapi_document_lists_every_route_and_resolves_every_reference() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = response.json().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(document["info"]["title"], "callconfirm");

    let operations: BTreeSet<String> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .collect();
    let expected: BTreeSet<String> = [
        "POST /api/make-call",
        "POST /api/webhooks/vca",
        "POST /api/webhooks/vss",
        "GET /api/calls",
        "GET /api/calls/{id}",
        "GET /health",
    ]
    .map(str::to_owned)
    .into_iter()
    .collect();
    assert_eq!(operations, expected);

    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            assert!(responses.contains_key("200"), "{method} {path}");
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{method} {path} {status}"
                    );
                }
            }
            if path != "/health" {
                assert!(
                    operation["security"].is_array(),
                    "{method} {path} has no security"
                );
                assert!(responses.contains_key("401"), "{method} {path}");
            }
        }
    }

    let mut found = BTreeSet::new();
    refs(&document, &mut found);
    for target in &found {
        let name = target.strip_prefix("#/components/schemas/").unwrap();
        assert!(
            document["components"]["schemas"][name].is_object(),
            "{target} is missing"
        );
    }
    for scheme in ["basic", "webhook_token"] {
        assert!(document["components"]["securitySchemes"][scheme].is_object());
    }
}

#[tokio::test]
async fn the_docs_page_and_all_its_assets_come_from_this_service() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");

    let assets: Vec<String> = html
        .split(['"', '\''])
        .filter(|part| part.ends_with(".js") || part.ends_with(".css"))
        .map(str::to_owned)
        .collect();
    assert!(assets.iter().any(|asset| asset.ends_with(".js")), "{html}");
    for asset in &assets {
        assert!(!asset.contains("://"), "{asset} is fetched from elsewhere");
        let url = if asset.starts_with('/') {
            app.url(asset)
        } else {
            app.url(&format!("/docs/{}", asset.trim_start_matches("./")))
        };
        let response = app.client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        let body = response.text().await.unwrap();
        assert!(!body.is_empty(), "{url}");
    }
    let initializer = app
        .client
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(initializer.contains("/openapi.json"), "{initializer}");
}
