//! `openclaw agent` (one turn, streamed on a terminal, Ctrl-C aborts), `openclaw models list`,
//! `openclaw sessions list|history`.

use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use serde_json::{Value, json};

use crate::cli::exit_status::{CliError, ExitStatus};
use crate::cli::output::out;
use crate::cli::rpc::{pretty, report_failure, runtime, target};
use crate::cli::{AgentArgs, ModelsVerb, SessionsVerb};
use crate::client::agent_turn::{TurnOptions, run_turn};
use crate::client::{GatewayClient, RpcError, resolve_target, with_client};
use crate::invocation::Invocation;

/// How long connecting may take before `openclaw agent` gives up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// `openclaw agent`.
pub fn agent(invocation: &Invocation, args: &AgentArgs) -> Result<ExitStatus, CliError> {
    let config = invocation.load_config()?;
    let target = resolve_target(invocation, &args.target.options(), &config)?;
    let options = TurnOptions {
        message: args.message.clone(),
        agent_id: args.agent.clone(),
        session_key: args.session_key.clone(),
        timeout_seconds: args.timeout,
        run_id: uuid::Uuid::new_v4().to_string(),
    };
    let stream = !args.json && io::stdout().is_terminal();
    let mut printed = false;
    let result = runtime()?.block_on(async {
        let mut client = tokio::time::timeout(CONNECT_TIMEOUT, GatewayClient::connect(&target))
            .await
            .unwrap_or(Err(RpcError::Timeout {
                url: target.url.clone(),
                after: CONNECT_TIMEOUT,
            }))?;
        let on_text = |t: &str| {
            if stream {
                let mut stdout = io::stdout().lock();
                let _ = stdout.write_all(t.as_bytes());
                let _ = stdout.flush();
                printed = true;
            }
        };
        let interrupted = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        let result = run_turn(&mut client, &options, on_text, interrupted).await;
        client.close().await;
        result
    });
    let payload = match result {
        Ok(p) => p,
        Err(e) => return Ok(report_failure(&e, &target, args.json, "Agent failed: ")),
    };
    if args.json {
        out(&pretty(&payload));
    } else if printed {
        out("");
    } else {
        let text: Vec<&str> = payload["result"]["payloads"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["text"].as_str())
            .collect();
        if !text.is_empty() {
            out(&text.join("\n"));
        }
    }
    if payload["status"] == "ok" {
        return Ok(ExitStatus::Ok);
    }
    if !args.json {
        let why = payload["error"]["message"]
            .as_str()
            .or_else(|| payload["summary"].as_str())
            .unwrap_or("the run did not finish");
        let _ = writeln!(
            io::stderr().lock(),
            "Agent run {}: {why}",
            payload["status"].as_str().unwrap_or("failed")
        );
    }
    Ok(ExitStatus::Failure)
}

fn fetch(
    invocation: &Invocation,
    rpc: &crate::cli::RpcArgs,
    method: &str,
    params: Value,
) -> Result<Result<Value, ExitStatus>, CliError> {
    let target = target(invocation, rpc)?;
    let timeout = Duration::from_millis(rpc.timeout);
    let result = runtime()?.block_on(with_client(&target, timeout, async |c| {
        c.request(method, params).await
    }));
    Ok(result.map_err(|e| report_failure(&e, &target, rpc.json, "")))
}

/// `openclaw models list`.
pub fn models(invocation: &Invocation, verb: &ModelsVerb) -> Result<ExitStatus, CliError> {
    let ModelsVerb::List(rpc) = verb;
    let payload = match fetch(invocation, rpc, "models.list", json!({}))? {
        Ok(p) => p,
        Err(status) => return Ok(status),
    };
    if rpc.json {
        out(&pretty(&payload));
        return Ok(ExitStatus::Ok);
    }
    let models = payload["models"].as_array().cloned().unwrap_or_default();
    if models.is_empty() {
        out("No models are configured (models.providers in openclaw.json).");
    }
    for m in models {
        let window = m["contextWindow"]
            .as_u64()
            .map(|w| format!("  context {w}"))
            .unwrap_or_default();
        out(&format!(
            "{}  {}{window}",
            m["id"].as_str().unwrap_or(""),
            m["name"].as_str().unwrap_or("")
        ));
    }
    Ok(ExitStatus::Ok)
}

/// `openclaw sessions list|history`.
pub fn sessions(invocation: &Invocation, verb: &SessionsVerb) -> Result<ExitStatus, CliError> {
    let (rpc, method, params) = match verb {
        SessionsVerb::List(rpc) => (rpc, "sessions.list", json!({})),
        SessionsVerb::History(h) => (
            &h.rpc,
            "chat.history",
            json!({"sessionKey": h.key, "limit": h.limit.clamp(1, 1000)}),
        ),
    };
    let payload = match fetch(invocation, rpc, method, params)? {
        Ok(p) => p,
        Err(status) => return Ok(status),
    };
    if rpc.json {
        out(&pretty(&payload));
        return Ok(ExitStatus::Ok);
    }
    if let SessionsVerb::List(_) = verb {
        let sessions = payload["sessions"].as_array().cloned().unwrap_or_default();
        if sessions.is_empty() {
            out("No sessions yet.");
        }
        for s in sessions {
            let label = s["label"]
                .as_str()
                .map(|l| format!("  {l}"))
                .unwrap_or_default();
            let when = s["updatedAt"]
                .as_i64()
                .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
                .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_default();
            out(&format!(
                "{}  {when}{label}",
                s["key"].as_str().unwrap_or("")
            ));
        }
        return Ok(ExitStatus::Ok);
    }
    for m in payload["messages"].as_array().into_iter().flatten() {
        let text = match &m["content"] {
            Value::String(s) => s.clone(),
            parts => parts
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["text"].as_str())
                .collect::<Vec<_>>()
                .join(""),
        };
        let mark = if m["incomplete"] == true {
            " (incomplete)"
        } else {
            ""
        };
        out(&format!(
            "{}{mark}: {text}",
            m["role"].as_str().unwrap_or("?")
        ));
    }
    Ok(ExitStatus::Ok)
}
