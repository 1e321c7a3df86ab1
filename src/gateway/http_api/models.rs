//! `GET /v1/models` and `/v1/models/<id>` (agent-runtime.md §6.1, **wire**): the agents as
//! models — `openclaw`, `openclaw/default` and `openclaw/<agentId>` for each agent.

use hyper::{Response, StatusCode};
use serde_json::{Value, json};

use super::errors::ApiError;
use super::{HttpBody, error, json as json_response};
use crate::gateway::agent::catalog::DEFAULT_AGENT_ID;
use crate::gateway::state::GatewayState;

fn model(id: &str) -> Value {
    json!({"id": id, "object": "model", "created": 0, "owned_by": "openclaw"})
}

/// Every model id, in order: the two default names, then each agent.
fn ids(state: &GatewayState) -> Vec<String> {
    let mut ids = vec!["openclaw".to_owned(), "openclaw/default".to_owned()];
    ids.extend(
        state
            .agents
            .catalog()
            .agents()
            .map(|a| format!("openclaw/{}", a.id)),
    );
    ids
}

/// `GET /v1/models`.
pub fn list(state: &GatewayState) -> Response<HttpBody> {
    let data: Vec<Value> = ids(state).iter().map(|id| model(id)).collect();
    json_response(StatusCode::OK, &json!({"object": "list", "data": data}))
}

/// `GET /v1/models/<id>` (`id` percent-decoded; `openclaw:<agent>` and `agent:<agent>` are the
/// same models).
pub fn get(state: &GatewayState, id: &str) -> Response<HttpBody> {
    let id = percent_decode(id);
    let known = match super::chat_request::agent_of_model(&id) {
        Ok(None) => true,
        Ok(Some(agent)) => {
            agent == DEFAULT_AGENT_ID || state.agents.catalog().agent(&agent).is_some()
        }
        Err(_) => false,
    };
    if known {
        json_response(StatusCode::OK, &model(&id))
    } else {
        let mut e = ApiError::invalid(format!(
            "The model `{id}` does not exist: GET /v1/models lists the agents as models."
        ));
        e.status = StatusCode::NOT_FOUND;
        error(&e)
    }
}

/// `%2F` and friends back to text (invalid escapes kept as they are), with the crate the canvas
/// host decodes its paths with.
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_escapes_are_decoded_and_bad_ones_kept() {
        assert_eq!(percent_decode("openclaw%2Fops"), "openclaw/ops");
        assert_eq!(percent_decode("a%zz%2"), "a%zz%2");
    }
}
