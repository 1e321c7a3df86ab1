//! The rig the launchd and Task Scheduler backend tests share (tests only): a test home, the
//! stateful fake of the tool, and the backend driven through it.

use std::path::{Path, PathBuf};

use crate::config::LoadedConfig;
use crate::environment::Environment;
use crate::invocation::{GlobalOptions, Invocation};

use super::fake_tool::{FakeTool, SharedFake};
use super::spec::{ServiceSpec, SpecOptions};
use super::{ActionOutcome, ServiceError, ServiceManager};

/// The spec `gateway install` builds for `profile` in `home` with no config, running `program`.
pub fn spec_in(home: &Path, profile: Option<&str>, program: &str) -> ServiceSpec {
    let env = Environment::empty().with("HOME", &home.display().to_string());
    let globals = GlobalOptions {
        profile: profile.map(str::to_owned),
        ..GlobalOptions::default()
    };
    let inv = Invocation::resolve(&globals, env.clone(), false).unwrap();
    let config = LoadedConfig::load(Path::new("/nonexistent/openclaw.json"), &env).unwrap();
    let options = SpecOptions {
        program: Some(PathBuf::from(program)),
        ..SpecOptions::default()
    };
    ServiceSpec::build(&inv, &config, &options).unwrap()
}

/// A backend `M` over the fake tool model `S`, in a fresh test home.
pub struct Rig<S, M> {
    /// The test home.
    pub home: tempfile::TempDir,
    /// The test's handle on the fake tool.
    pub fake: SharedFake<S>,
    /// The backend under test.
    pub manager: M,
    program: &'static str,
}

impl<S: FakeTool, M: ServiceManager> Rig<S, M> {
    /// `manager` (which owns clones of `fake`) in a fresh test home, installing `program`.
    pub fn new(fake: SharedFake<S>, manager: M, program: &'static str) -> Self {
        Self {
            home: tempfile::tempdir().unwrap(),
            fake,
            manager,
            program,
        }
    }

    /// The default profile's spec in the test home.
    pub fn spec(&self) -> ServiceSpec {
        self.spec_of(None)
    }

    /// `profile`'s spec in the test home.
    pub fn spec_of(&self, profile: Option<&str>) -> ServiceSpec {
        spec_in(self.home.path(), profile, self.program)
    }

    /// Plans and installs `spec`.
    pub fn install(
        &mut self,
        spec: &ServiceSpec,
        force: bool,
    ) -> Result<ActionOutcome, ServiceError> {
        let plan = self.manager.plan_install(spec).unwrap();
        self.manager.install(spec, &plan, force)
    }

    /// The default profile's spec, installed, with the tool calls that took forgotten.
    pub fn installed(&mut self) -> ServiceSpec {
        let spec = self.spec();
        self.install(&spec, false).unwrap();
        self.fake.take_calls();
        spec
    }
}

/// Owned strings of `list` (expected tool calls).
pub fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|c| (*c).to_owned()).collect()
}
