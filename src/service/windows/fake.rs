//! A fake Task Scheduler for tests: `schtasks` and the PowerShell COM query behind the
//! [`CommandRunner`](crate::service::runner::CommandRunner) interface.
//!
//! It keeps registered tasks (their XML, as Task Scheduler stores it with a `<URI>`), whether
//! each runs, its last result, and answers like the real tools: `SUCCESS: …` lines, exit 1 with
//! `ERROR: …` on stderr (English or German messages, to prove nothing depends on them), "Access is
//! denied" when creation is not allowed, an `/End` that takes a few state polls to finish, and the
//! status script's JSON (decoded from `-EncodedCommand`, so the encoding is checked too).

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;

use super::task_xml::{decode_utf16_with_bom, parse_task_xml};
use crate::service::fake_tool::{FakeTool, SharedFake};
use crate::service::runner::CommandOutput;

/// `SCHED_S_TASK_TERMINATED`.
pub const RESULT_TERMINATED: i64 = 0x41306;

/// One registered task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeTask {
    /// The XML as `/Query /XML` prints it.
    pub xml: String,
    /// Whether an instance runs.
    pub running: bool,
    /// State polls left before an ended task stops running.
    pub stopping: Option<u32>,
    /// `LastTaskResult`.
    pub last_result: i64,
    /// Instances started.
    pub runs: u32,
}

/// The Task Scheduler model.
#[derive(Debug, Default)]
pub struct FakeScheduler {
    /// Tasks by name.
    pub tasks: BTreeMap<String, FakeTask>,
    /// Every call, as `schtasks <args>` or `powershell <decoded task name query>`.
    pub calls: Vec<String>,
    /// Pauses asked for.
    pub sleeps: Vec<Duration>,
    /// `/Create` is refused with "Access is denied" (policy, or a task owned by an admin).
    pub deny_create: bool,
    /// Messages in German.
    pub german: bool,
    /// PowerShell is not installed (the runner cannot start it).
    pub no_powershell: bool,
    /// How many state polls an ended instance keeps running.
    pub end_lag: u32,
    /// The gateway exits with this code right after each start.
    pub crash_exit: Option<i64>,
}

/// A handle on a shared [`FakeScheduler`].
pub type FakeSchtasks = SharedFake<FakeScheduler>;

impl Default for SharedFake<FakeScheduler> {
    fn default() -> Self {
        Self::new()
    }
}

impl SharedFake<FakeScheduler> {
    /// An empty Task Scheduler.
    pub fn new() -> Self {
        Self::with_state(FakeScheduler {
            end_lag: 1,
            ..FakeScheduler::default()
        })
    }
}

fn ok(stdout: impl Into<String>) -> CommandOutput {
    CommandOutput::ok(stdout)
}

fn fail(stderr: impl Into<String>) -> CommandOutput {
    CommandOutput::failed(1, stderr)
}

impl FakeScheduler {
    fn not_found(&self) -> CommandOutput {
        fail(if self.german {
            "FEHLER: Das System kann die angegebene Datei nicht finden.\r\n"
        } else {
            "ERROR: The system cannot find the file specified.\r\n"
        })
    }

    fn access_denied(&self) -> CommandOutput {
        fail(if self.german {
            "FEHLER: Zugriff verweigert\r\n"
        } else {
            "ERROR: Access is denied.\r\n"
        })
    }

    fn create(&mut self, file: &str, name: &str, force: bool) -> CommandOutput {
        if self.deny_create {
            return self.access_denied();
        }
        let Ok(bytes) = std::fs::read(file) else {
            return self.not_found();
        };
        let Ok(text) = decode_utf16_with_bom(&bytes) else {
            return fail(
                "ERROR: The task XML is malformed.(1,1)::ERROR: incorrect document syntax\r\n",
            );
        };
        let Ok(def) = parse_task_xml(&text) else {
            return fail("ERROR: The task XML is malformed.\r\n");
        };
        if def.get("Principals/Principal/RunLevel") != Some("LeastPrivilege") {
            return self.access_denied();
        }
        if self.tasks.contains_key(name) && !force {
            return fail(format!(
                "ERROR: Cannot create a file when that file already exists.\r\n(task {name})\r\n"
            ));
        }
        let stored = text
            .replace(
                "<RegistrationInfo>",
                &format!("<RegistrationInfo>\n    <URI>\\{name}</URI>"),
            )
            .replace('\n', "\r\n");
        let previous = self.tasks.remove(name);
        self.tasks.insert(
            name.to_owned(),
            FakeTask {
                xml: stored,
                // A running instance survives a re-registration.
                running: previous.as_ref().is_some_and(|t| t.running),
                stopping: None,
                last_result: previous
                    .map_or(super::schtasks::RESULT_NOT_YET_RUN, |t| t.last_result),
                runs: 0,
            },
        );
        ok(format!(
            "SUCCESS: The scheduled task \"{name}\" has successfully been created.\r\n"
        ))
    }

    fn run(&mut self, name: &str) -> CommandOutput {
        let crash = self.crash_exit;
        let Some(task) = self.tasks.get_mut(name) else {
            return self.not_found();
        };
        if !task.running {
            task.runs += 1;
            match crash {
                Some(code) => task.last_result = code,
                None => {
                    task.running = true;
                    task.last_result = super::schtasks::RESULT_RUNNING;
                }
            }
        }
        ok(format!(
            "SUCCESS: Attempted to run the scheduled task \"{name}\".\r\n"
        ))
    }

    fn end(&mut self, name: &str) -> CommandOutput {
        let lag = self.end_lag;
        let german = self.german;
        let Some(task) = self.tasks.get_mut(name) else {
            return self.not_found();
        };
        if !task.running {
            return fail(if german {
                "FEHLER: Die Aufgabe wird nicht ausgeführt.\r\n".to_owned()
            } else {
                format!("ERROR: The scheduled task \"{name}\" is not running.\r\n")
            });
        }
        task.stopping = Some(lag);
        ok(format!(
            "SUCCESS: The scheduled task \"{name}\" has been terminated successfully.\r\n"
        ))
    }

    fn delete(&mut self, name: &str) -> CommandOutput {
        if self.tasks.remove(name).is_none() {
            return self.not_found();
        }
        ok(format!(
            "SUCCESS: The scheduled task \"{name}\" was successfully deleted.\r\n"
        ))
    }

    fn powershell(&mut self, args: &[String]) -> std::io::Result<CommandOutput> {
        if self.no_powershell {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "program not found",
            ));
        }
        let [no_profile, non_interactive, flag, encoded] = args else {
            panic!("unexpected powershell arguments {args:?}");
        };
        assert_eq!(
            (no_profile.as_str(), non_interactive.as_str(), flag.as_str()),
            ("-NoProfile", "-NonInteractive", "-EncodedCommand")
        );
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .expect("base64");
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        let script = String::from_utf16(&units).expect("UTF-16 LE script");
        let start = script.find("GetTask('").expect("GetTask") + "GetTask('".len();
        let end = start + script[start..].find("')").expect("quote");
        let name = script[start..end].replace("''", "'");
        self.calls.push(format!("powershell GetTask({name})"));
        let Some(task) = self.tasks.get_mut(&name) else {
            return Ok(CommandOutput {
                code: Some(1),
                stdout: "{\"hresult\":-2147024894}\r\n".into(),
                stderr: String::new(),
            });
        };
        if let Some(n) = task.stopping {
            if n == 0 {
                task.running = false;
                task.stopping = None;
                task.last_result = RESULT_TERMINATED;
            } else {
                task.stopping = Some(n - 1);
            }
        }
        let enabled = parse_task_xml(&task.xml)
            .map(|d| d.enabled())
            .unwrap_or(false);
        let state = match (task.running, enabled) {
            (true, _) => 4,
            (false, true) => 3,
            (false, false) => 1,
        };
        Ok(ok(format!(
            "{{\"state\":{state},\"enabled\":{enabled},\"lastRunResult\":{},\"lastRunTime\":\"2026-05-01T08:00:00.0000000+02:00\"}}\r\n",
            task.last_result
        )))
    }

    fn dispatch(&mut self, args: &[String]) -> CommandOutput {
        let words: Vec<&str> = args.iter().map(String::as_str).collect();
        match words.as_slice() {
            ["/Create", "/XML", file, "/TN", name, "/F"] => self.create(file, name, true),
            ["/Create", "/XML", file, "/TN", name] => self.create(file, name, false),
            ["/Query", "/TN", name, "/XML"] => match self.tasks.get(*name) {
                Some(task) => ok(task.xml.clone()),
                None => self.not_found(),
            },
            ["/Query", "/XML", "ONE"] => {
                // Every task in one document, each after a `<!-- \<name> -->` comment, as the
                // real tool prints it (the per-task XML declaration dropped).
                let mut out =
                    String::from("<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<Tasks>\r\n");
                for (name, task) in &self.tasks {
                    let body = task.xml.trim_start_matches('\u{feff}');
                    let body = match body.find("?>") {
                        Some(end) if body.trim_start().starts_with("<?xml") => &body[end + 2..],
                        _ => body,
                    };
                    out.push_str(&format!("<!-- \\{name} -->\r\n{}\r\n", body.trim()));
                }
                out.push_str("</Tasks>\r\n");
                ok(out)
            }
            ["/Run", "/TN", name] => self.run(name),
            ["/End", "/TN", name] => self.end(name),
            ["/Delete", "/TN", name, "/F"] => self.delete(name),
            _ => fail(format!("ERROR: Invalid syntax. {words:?}\r\n")),
        }
    }
}

impl FakeTool for FakeScheduler {
    fn answer(&mut self, program: &str, args: &[String]) -> std::io::Result<CommandOutput> {
        match program {
            "schtasks" => {
                self.calls.push(format!("schtasks {}", args.join(" ")));
                Ok(self.dispatch(args))
            }
            "powershell.exe" => self.powershell(args),
            other => panic!("unexpected program {other}"),
        }
    }

    fn calls(&mut self) -> &mut Vec<String> {
        &mut self.calls
    }

    fn sleeps(&mut self) -> &mut Vec<Duration> {
        &mut self.sleeps
    }
}
