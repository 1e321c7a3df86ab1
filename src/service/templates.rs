//! The service templates of the repo (`launchd/`, `windows/`), embedded at build time by
//! `build.rs`: the files in the repo are the single source of truth, never copied into Rust
//! strings by hand.

use super::ServiceError;

include!(concat!(env!("OUT_DIR"), "/embedded_service_templates.rs"));

/// The LaunchAgent plist template.
pub const LAUNCHD_PLIST: &str = "launchd/bot.molt.gateway.plist";
/// The Task Scheduler XML template.
pub const WINDOWS_TASK_XML: &str = "windows/openclaw-gateway-task.xml";

/// The text of the template at `path` (repo-relative, e.g. [`LAUNCHD_PLIST`]).
pub fn service_template(path: &str) -> Result<&'static str, ServiceError> {
    SERVICE_TEMPLATES
        .iter()
        .find(|(name, _)| *name == path)
        .map(|(_, text)| *text)
        .ok_or_else(|| {
            ServiceError::new(
                "template-missing",
                format!("the service template {path} is not embedded in this build"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_templates_are_the_repo_files() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for path in [LAUNCHD_PLIST, WINDOWS_TASK_XML] {
            let on_disk = std::fs::read_to_string(root.join(path)).unwrap();
            assert_eq!(service_template(path).unwrap(), on_disk, "{path}");
        }
        assert!(
            SERVICE_TEMPLATES
                .iter()
                .all(|(p, _)| !p.ends_with("README.md"))
        );
        assert_eq!(
            service_template("nope").unwrap_err().kind,
            "template-missing"
        );
    }
}
