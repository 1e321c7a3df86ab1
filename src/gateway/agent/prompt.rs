//! What a model is sent: a short system prompt of our own (who the agent is, the date, time and
//! timezone), the agent's workspace bootstrap files, and the session's history fitted to the
//! model's context window; the context guard refuses a turn that would leave too little room.

use std::path::Path;

use super::catalog::Agent;
use crate::gateway::provider::ChatMessage;
use crate::gateway::session::{Entry, Role};

/// The workspace files injected into the system prompt, in this order.
pub const BOOTSTRAP_FILES: [&str; 5] = [
    "AGENTS.md",
    "SOUL.md",
    "USER.md",
    "IDENTITY.md",
    "MEMORY.md",
];
/// The most characters taken from one bootstrap file.
pub const FILE_CAP: usize = 20_000;
/// The most characters taken from all bootstrap files together.
pub const FILES_CAP: usize = 60_000;

/// A rough token count (4 characters a token, plus the message framing).
pub fn estimate_tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4) + 4
}

/// The system prompt of `agent` at `now` (its own part stays far below 4,000 characters).
pub fn system_prompt(agent: &Agent, now: &jiff::Zoned, extra: Option<&str>) -> String {
    let name = agent.name.as_deref().unwrap_or(&agent.id);
    let mut prompt = format!(
        "You are {name}, an assistant running on the user's own OpenClaw gateway (agent id \"{}\").\n\
         Current date and time: {} ({}).\n\
         Answer directly and concisely. You have no tools in this session: do not claim to run \
         commands, read files or browse.",
        agent.id,
        now.strftime("%Y-%m-%d %H:%M %Z"),
        now.time_zone().iana_name().unwrap_or("local time"),
    );
    if let Some(dir) = &agent.workspace {
        let files = workspace_files(dir);
        if !files.is_empty() {
            prompt.push_str("\n\nThe user's workspace files follow; treat them as standing instructions and context.");
            prompt.push_str(&files);
        }
    }
    if let Some(extra) = extra.map(str::trim).filter(|e| !e.is_empty()) {
        prompt.push_str("\n\n");
        prompt.push_str(extra);
    }
    prompt
}

fn workspace_files(dir: &Path) -> String {
    let mut out = String::new();
    let mut left = FILES_CAP;
    for name in BOOTSTRAP_FILES {
        let Ok(text) = std::fs::read_to_string(dir.join(name)) else {
            continue;
        };
        let text = text.trim();
        if text.is_empty() || left == 0 {
            continue;
        }
        let take: String = text.chars().take(FILE_CAP.min(left)).collect();
        left -= take.chars().count();
        out.push_str(&format!("\n\n## {name}\n{take}"));
    }
    out
}

/// Why a turn cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextOverflow(pub String);

/// The messages of a turn: `system`, then as much of `history` (oldest dropped first; it ends
/// with the new user message) as fits `context_window` minus the reply budget and the system
/// prompt. Refuses when what is left for the conversation is under 10 % of the window (at least
/// 4,000 tokens, at most a quarter of a small window).
pub fn fit(
    system: &str,
    history: &[Entry],
    context_window: Option<u64>,
    reply_budget: Option<u64>,
) -> Result<Vec<ChatMessage>, ContextOverflow> {
    let turns: Vec<ChatMessage> = history
        .iter()
        .map(|e| {
            let role = if e.role == Role::User {
                "user"
            } else {
                "assistant"
            };
            ChatMessage::new(role, e.text.clone())
        })
        .collect();
    let mut messages = vec![ChatMessage::new("system", system)];
    let Some(window) = context_window else {
        messages.extend(turns);
        return Ok(messages);
    };
    let fixed = estimate_tokens(system) + reply_budget.unwrap_or(0);
    let newest = turns.last().map_or(0, |m| estimate_tokens(&m.content));
    let left = window.saturating_sub(fixed + newest);
    let floor = (window / 10).max(4_000.min(window / 4));
    if left < floor {
        return Err(ContextOverflow(format!(
            "the message does not fit the model's context window: contextWindow {window} tokens, \
             of which the system prompt, the reply budget (maxTokens) and this message take about {}; \
             shorten the message, lower maxTokens or use a model with a larger contextWindow",
            fixed + newest
        )));
    }
    if left < window / 5 {
        tracing::warn!(
            window,
            left,
            "less than 20% of the context window is left for the conversation"
        );
    }
    let mut budget = window.saturating_sub(fixed);
    let mut kept = Vec::new();
    for m in turns.iter().rev() {
        let cost = estimate_tokens(&m.content);
        if cost > budget {
            break;
        }
        budget -= cost;
        kept.push(m.clone());
    }
    kept.reverse();
    messages.extend(kept);
    Ok(messages)
}
