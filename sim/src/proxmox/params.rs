//! Request parameters the way Proxmox takes them: query string, form body or JSON body,
//! all merged; unknown parameters are rejected as real Proxmox does, which is what
//! catches a client sending something the API does not have.

use std::collections::BTreeMap;

use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use serde_json::Value;

use super::error::ApiError;

const MAX_BODY: usize = 1 << 20;

#[derive(Debug, Default)]
pub(crate) struct Params(BTreeMap<String, String>);

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Params, ApiError> {
        let mut map = BTreeMap::new();
        if let Some(query) = req.uri().query() {
            map.extend(form_urlencoded::parse(query.as_bytes()).into_owned());
        }
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let body = axum::body::to_bytes(req.into_body(), MAX_BODY)
            .await
            .map_err(|_| ApiError::param("body", "request body unreadable or larger than 1 MiB"))?;
        if body.is_empty() {
            return Ok(Params(map));
        }
        if is_json {
            let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(&body) else {
                return Err(ApiError::param("body", "expected a JSON object"));
            };
            for (key, value) in object {
                let text = match value {
                    Value::String(s) => s,
                    Value::Bool(b) => if b { "1" } else { "0" }.to_owned(),
                    Value::Number(n) => n.to_string(),
                    other => {
                        return Err(ApiError::param(&key, format!("unsupported value {other}")));
                    }
                };
                map.insert(key, text);
            }
        } else {
            map.extend(form_urlencoded::parse(&body).into_owned());
        }
        Ok(Params(map))
    }
}

impl Params {
    /// Rejects any parameter outside `allowed`, with Proxmox's message.
    pub fn allow(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self.0.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(unknown) => Err(ApiError::param(
                unknown,
                "property is not defined in schema and the schema does not allow additional properties",
            )),
            None => Ok(()),
        }
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn require_str(&self, name: &str) -> Result<&str, ApiError> {
        self.str(name).ok_or_else(|| ApiError::param(name, "property is missing and it is not optional"))
    }

    pub fn int(&self, name: &str) -> Result<Option<u64>, ApiError> {
        self.str(name)
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|_| ApiError::param(name, format!("type check ('integer') failed - got '{v}'")))
            })
            .transpose()
    }

    pub fn require_int(&self, name: &str) -> Result<u64, ApiError> {
        self.int(name)?.ok_or_else(|| ApiError::param(name, "property is missing and it is not optional"))
    }

    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        self.str(name)
            .map(|v| match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Ok(true),
                "0" | "false" | "no" | "off" => Ok(false),
                _ => Err(ApiError::param(name, format!("type check ('boolean') failed - got '{v}'"))),
            })
            .transpose()
    }
}

/// A VMID from the path, checked like Proxmox's `pve-vmid` format.
pub(crate) fn parse_vmid(raw: &str) -> Result<u32, ApiError> {
    let vmid: u32 =
        raw.parse().map_err(|_| ApiError::param("vmid", format!("type check ('integer') failed - got '{raw}'")))?;
    if vmid < 100 {
        return Err(ApiError::param("vmid", "value must have a minimum value of 100"));
    }
    Ok(vmid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    async fn parse(uri: &str, content_type: &str, body: &'static str) -> Params {
        let req = Request::builder().uri(uri).header(CONTENT_TYPE, content_type).body(Body::from(body)).unwrap();
        Params::from_request(req, &()).await.unwrap()
    }

    #[tokio::test]
    async fn merges_query_form_and_json() {
        let p = parse("/x?type=vm", "application/x-www-form-urlencoded", "newid=105&full=1").await;
        assert_eq!(p.str("type"), Some("vm"));
        assert_eq!(p.int("newid").unwrap(), Some(105));
        assert_eq!(p.bool("full").unwrap(), Some(true));
        let p = parse("/x", "application/json", r#"{"newid": 7, "full": true, "name": "a"}"#).await;
        assert_eq!(p.require_int("newid").unwrap(), 7);
        assert_eq!(p.bool("full").unwrap(), Some(true));
        assert!(p.allow(&["newid", "full"]).is_err());
        assert!(p.allow(&["newid", "full", "name"]).is_ok());
    }

    #[tokio::test]
    async fn type_errors_are_parameter_errors() {
        let p = parse("/x?cores=many&full=maybe", "text/plain", "").await;
        assert!(p.int("cores").is_err());
        assert!(p.bool("full").is_err());
        assert!(p.require_str("missing").is_err());
        assert!(parse_vmid("99").is_err() && parse_vmid("abc").is_err());
        assert_eq!(parse_vmid("100").unwrap(), 100);
    }
}
