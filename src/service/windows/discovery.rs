//! Task Scheduler's part of [discovery](crate::service::discovery): gateway-like scheduled
//! tasks in `schtasks /Query /XML ONE` output.

use crate::service::PlatformKind;
use crate::service::ServiceError;
use crate::service::discovery::{DiscoveredService, DiscoveryScope, inspect};
use crate::service::runner::CommandRunner;
use crate::service::systemd::drift::split_words;
use crate::service::windows::schtasks::Schtasks;
use crate::service::windows::task_xml::{TaskDefinition, normalise_query_output, parse_task_xml};
use crate::service_names::*;

/// The `schtasks` arguments whose output [`discover_windows_tasks`] reads: every registered
/// task as XML in one `<Tasks>` document, each preceded by a `<!-- \Path\Name -->` comment.
pub fn windows_task_query_args() -> Vec<String> {
    ["/Query", "/XML", "ONE"].map(str::to_owned).to_vec()
}

/// Gateway-like scheduled tasks in `schtasks /Query /XML ONE` output (see
/// [`windows_task_query_args`]). Tasks whose XML cannot be parsed are skipped. Only run with
/// `--deep`: listing every task is slow.
pub fn discover_windows_tasks(query_output: &str) -> Vec<DiscoveredService> {
    let text = normalise_query_output(query_output);
    let mut found = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("<!--") {
        rest = &rest[start + 4..];
        let Some(end) = rest.find("-->") else { break };
        let name = rest[..end].trim().trim_start_matches('\\').to_owned();
        rest = &rest[end + 3..];
        let Some(task_start) = rest.find("<Task") else {
            continue;
        };
        let Some(task_end) = rest.find("</Task>") else {
            continue;
        };
        if task_end < task_start {
            continue;
        }
        let xml = &rest[task_start..task_end + "</Task>".len()];
        rest = &rest[task_end..];
        if let Ok(def) = parse_task_xml(xml) {
            found.extend(windows_task(&name, &def));
        }
    }
    found
}

/// Runs `schtasks /Query /XML ONE` through `runner` and reads the gateway-like tasks from it.
pub fn query_windows_tasks(
    runner: &mut dyn CommandRunner,
) -> Result<Vec<DiscoveredService>, ServiceError> {
    let out = Schtasks::new(runner).run(&windows_task_query_args())?;
    if !out.success() {
        return Err(ServiceError::new(
            "task-query-failed",
            format!("schtasks /Query /XML ONE failed: {}", out.detail()),
        ));
    }
    Ok(discover_windows_tasks(&out.stdout))
}

fn windows_task(name: &str, def: &TaskDefinition) -> Option<DiscoveredService> {
    let command = def.command().unwrap_or_default();
    let arguments = def.arguments().unwrap_or_default();
    let mut argv = vec![command.to_owned()];
    argv.extend(split_words(arguments));
    argv.retain(|w| !w.is_empty());
    // Tasks carry no environment we can read here: the name table, the description and the
    // command line decide.
    let found = inspect(
        name,
        classify_service_name(PlatformKind::Windows, name),
        argv,
        def.get("RegistrationInfo/Description").map(str::to_owned),
        &|_| None,
        false,
    )?;
    Some(DiscoveredService {
        platform: PlatformKind::Windows,
        scope: DiscoveryScope::User,
        class: found.class,
        label: name.to_owned(),
        path: None,
        marker: None,
        port: found.port,
        embeds_secret: found.embeds_secret,
        detail: format!("task runs {}", found.argv.join(" ")),
        removal: vec![format!("schtasks /Delete /F /TN \"{name}\"")],
    })
}
