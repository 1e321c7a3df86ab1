//! The service templates of the repo (`launchd/`, `windows/`), embedded with `include_str!`:
//! the files in the repo are the single source of truth, never copied into Rust strings by hand,
//! and a missing template fails the build, not a run.

/// The LaunchAgent plist template (`launchd/bot.molt.gateway.plist`).
pub const LAUNCHD_PLIST: &str = include_str!("../../launchd/bot.molt.gateway.plist");
/// The Task Scheduler XML template (`windows/openclaw-gateway-task.xml`).
pub const WINDOWS_TASK_XML: &str = include_str!("../../windows/openclaw-gateway-task.xml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_templates_are_the_repo_files() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for (path, text) in [
            ("launchd/bot.molt.gateway.plist", LAUNCHD_PLIST),
            ("windows/openclaw-gateway-task.xml", WINDOWS_TASK_XML),
        ] {
            assert_eq!(
                std::fs::read_to_string(root.join(path)).unwrap(),
                text,
                "{path}"
            );
        }
    }
}
