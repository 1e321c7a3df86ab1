//! The systemd manager over D-Bus (`org.freedesktop.systemd1`), with zbus.
//!
//! [`ManagerConnection::connect`] reaches the manager the way `systemctl` does, but without
//! shelling out: for the user scope `DBUS_SESSION_BUS_ADDRESS`, else `unix:path=$XDG_RUNTIME_DIR/bus`,
//! else the manager's private socket `$XDG_RUNTIME_DIR/systemd/private` (peer-to-peer, no bus
//! daemon); for the system scope the system bus, else `/run/systemd/private`. Each candidate is
//! probed by reading the manager's `Version`; every failed attempt is kept so the caller can
//! explain what is missing (see `diagnose.rs`).
//!
//! Jobs: the connection calls `Subscribe` once, then every job-creating call
//! (`StartUnit`, `StopUnit`, `RestartUnit`) first installs a `JobRemoved` match and only then
//! calls the method, so the signal for the returned job path cannot be missed; the wait for it is
//! bounded. Unit properties are read with `LoadUnit` + `Properties.GetAll`, so inactive and
//! missing units can be inspected too.
//!
//! The private socket goes through [`PrivateSocket`], which repairs the sender field systemd
//! stamps on its messages there (zbus cannot read it otherwise).
//!
//! zbus is async; the CLI is synchronous. Each connection owns a current-thread Tokio runtime
//! and every public method is one `block_on` with a timeout, so nothing here can hang.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt;
use zbus::message::Type as MessageType;
use zbus::zvariant::{DynamicType, OwnedObjectPath, OwnedValue as OwnedVariant};
use zbus::{Connection, MatchRule, MessageStream};

use super::private_socket::PrivateSocket;

/// The manager's bus name.
pub const DESTINATION: &str = "org.freedesktop.systemd1";
/// The manager's object path.
pub const MANAGER_PATH: &str = "/org/freedesktop/systemd1";
/// The manager interface.
pub const MANAGER_IFACE: &str = "org.freedesktop.systemd1.Manager";
const UNIT_IFACE: &str = "org.freedesktop.systemd1.Unit";
const SERVICE_IFACE: &str = "org.freedesktop.systemd1.Service";
const SOCKET_IFACE: &str = "org.freedesktop.systemd1.Socket";
const PROPERTIES_IFACE: &str = "org.freedesktop.DBus.Properties";

/// How long connecting (and the `Version` probe) may take per transport.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one method call may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(25);

/// Which manager to talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManagerScope {
    /// The invoking user's `systemd --user`.
    User,
    /// PID 1.
    System,
}

/// How the connection reached the manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// A message bus (the user bus or the system bus) at this address.
    Bus(String),
    /// The manager's private socket, peer to peer.
    Private(PathBuf),
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bus(address) => write!(f, "bus {address}"),
            Self::Private(path) => write!(f, "private socket {}", path.display()),
        }
    }
}

/// Where to look for the manager (from the invocation's environment).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectTargets {
    /// `DBUS_SESSION_BUS_ADDRESS`, when set.
    pub session_bus_address: Option<String>,
    /// `XDG_RUNTIME_DIR`, when set.
    pub runtime_dir: Option<PathBuf>,
}

/// One transport that was tried and did not work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// What was tried.
    pub transport: Transport,
    /// Why it failed.
    pub error: String,
}

/// Every attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectFailure {
    /// The attempts, in order (empty when there was nothing to try).
    pub attempts: Vec<Attempt>,
}

/// A failed call: the D-Bus error name when the manager answered with one, and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbusError {
    /// e.g. `org.freedesktop.systemd1.NoSuchUnit`.
    pub name: Option<String>,
    /// Human text.
    pub message: String,
}

impl DbusError {
    fn local(message: impl Into<String>) -> Self {
        Self {
            name: None,
            message: message.into(),
        }
    }

    /// True when the manager does not know the unit (or the unit file does not exist).
    pub fn is_not_found(&self) -> bool {
        let name = self.name.as_deref().unwrap_or_default();
        let msg = self.message.to_ascii_lowercase();
        name.ends_with(".NoSuchUnit")
            || name.ends_with(".LoadFailed")
            || msg.contains("not found")
            || msg.contains("does not exist")
            || msg.contains("no such file")
            || msg.contains("not loaded")
    }
}

impl fmt::Display for DbusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{} ({name})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for DbusError {}

impl From<zbus::Error> for DbusError {
    fn from(e: zbus::Error) -> Self {
        use zbus::DBusError as _;
        match &e {
            zbus::Error::MethodError(name, detail, _) => Self {
                name: Some(name.to_string()),
                message: detail.clone().unwrap_or_else(|| name.to_string()),
            },
            zbus::Error::FDO(fdo) => Self {
                name: Some(fdo.name().to_string()),
                message: fdo.description().unwrap_or("no description").to_owned(),
            },
            _ => Self::local(e.to_string()),
        }
    }
}

/// The job methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobMethod {
    /// `StartUnit`.
    Start,
    /// `StopUnit`.
    Stop,
    /// `RestartUnit`.
    Restart,
}

impl JobMethod {
    /// The D-Bus method name.
    pub fn method(self) -> &'static str {
        match self {
            Self::Start => "StartUnit",
            Self::Stop => "StopUnit",
            Self::Restart => "RestartUnit",
        }
    }

    /// The `systemctl` verb, for messages.
    pub fn verb(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Stop => "stop",
            Self::Restart => "restart",
        }
    }
}

/// A job's result from `JobRemoved`: `done`, `canceled`, `timeout`, `failed`, `dependency`,
/// `skipped`, `invalid`, `assert`, `unsupported`, `collected`, `once`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobOutcome {
    /// The job object path.
    pub job: String,
    /// The result word.
    pub result: String,
}

impl JobOutcome {
    /// True for `done`.
    pub fn is_done(&self) -> bool {
        self.result == "done"
    }
}

/// The properties of a unit this crate reads (missing ones are defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitProperties {
    /// `Id`.
    pub id: String,
    /// `LoadState`: `loaded`, `not-found`, `bad-setting`, `error`, `masked`.
    pub load_state: String,
    /// `ActiveState`: `active`, `reloading`, `inactive`, `failed`, `activating`, `deactivating`.
    pub active_state: String,
    /// `SubState` (`running`, `dead`, `auto-restart`, `listening`, …).
    pub sub_state: String,
    /// Service/socket `Result` (`success`, `exit-code`, `signal`, `watchdog`,
    /// `start-limit-hit`, …).
    pub result: String,
    /// `MainPID` (0 = none).
    pub main_pid: u32,
    /// `ExecMainStatus`: exit status or signal number.
    pub exec_main_status: i32,
    /// `ExecMainCode`: 1 exited, 2 killed, 3 dumped (`CLD_*`), 0 never ran.
    pub exec_main_code: i32,
    /// `NRestarts`.
    pub n_restarts: u32,
    /// `StatusText` (the service's `STATUS=`).
    pub status_text: String,
    /// `ActiveEnterTimestamp`, µs since the epoch (0 = never).
    pub active_enter_timestamp: u64,
    /// `FragmentPath`.
    pub fragment_path: String,
    /// `UnitFileState`: `enabled`, `disabled`, `static`, `linked`, …
    pub unit_file_state: String,
    /// `NeedDaemonReload`.
    pub need_daemon_reload: bool,
    /// `StartLimitBurst`.
    pub start_limit_burst: u32,
    /// `TimeoutStartUSec`.
    pub timeout_start_usec: u64,
    /// `TimeoutStopUSec`.
    pub timeout_stop_usec: u64,
    /// `Triggers` (a socket's service).
    pub triggers: Vec<String>,
}

impl UnitProperties {
    /// True when the manager has the unit loaded (a unit file exists and parsed).
    pub fn is_loaded(&self) -> bool {
        self.load_state == "loaded"
    }

    /// True when `UnitFileState` makes the unit start at login/boot.
    pub fn is_enabled(&self) -> bool {
        matches!(
            self.unit_file_state.as_str(),
            "enabled" | "enabled-runtime" | "linked" | "linked-runtime" | "alias"
        )
    }

    fn from_map(map: &HashMap<String, OwnedVariant>) -> Self {
        let s = |k: &str| {
            map.get(k)
                .and_then(|v| <&str>::try_from(v).ok())
                .unwrap_or_default()
                .to_owned()
        };
        let u32_of = |k: &str| map.get(k).and_then(|v| u32::try_from(v).ok()).unwrap_or(0);
        let u64_of = |k: &str| map.get(k).and_then(|v| u64::try_from(v).ok()).unwrap_or(0);
        let triggers = map
            .get("Triggers")
            .and_then(|v| v.try_clone().ok())
            .and_then(|v| Vec::<String>::try_from(v).ok())
            .unwrap_or_default();
        Self {
            id: s("Id"),
            load_state: s("LoadState"),
            active_state: s("ActiveState"),
            sub_state: s("SubState"),
            result: s("Result"),
            main_pid: u32_of("MainPID"),
            exec_main_status: map
                .get("ExecMainStatus")
                .and_then(|v| i32::try_from(v).ok())
                .unwrap_or(0),
            exec_main_code: map
                .get("ExecMainCode")
                .and_then(|v| i32::try_from(v).ok())
                .unwrap_or(0),
            n_restarts: u32_of("NRestarts"),
            status_text: s("StatusText"),
            active_enter_timestamp: u64_of("ActiveEnterTimestamp"),
            fragment_path: s("FragmentPath"),
            unit_file_state: s("UnitFileState"),
            need_daemon_reload: map
                .get("NeedDaemonReload")
                .and_then(|v| bool::try_from(v).ok())
                .unwrap_or(false),
            start_limit_burst: u32_of("StartLimitBurst"),
            timeout_start_usec: u64_of("TimeoutStartUSec"),
            timeout_stop_usec: u64_of("TimeoutStopUSec"),
            triggers,
        }
    }
}

/// A change `EnableUnitFiles` / `DisableUnitFiles` made: (`symlink`|`unlink`, file, target).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitFileChange {
    /// `symlink` or `unlink`.
    pub kind: String,
    /// The symlink.
    pub file: String,
    /// What it points to.
    pub target: String,
}

/// A live connection to one manager.
pub struct ManagerConnection {
    runtime: tokio::runtime::Runtime,
    connection: Connection,
    transport: Transport,
    version: String,
}

impl fmt::Debug for ManagerConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagerConnection")
            .field("transport", &self.transport)
            .field("version", &self.version)
            .finish()
    }
}

/// The candidate transports for `scope`, in the order they are tried.
pub fn candidates(scope: ManagerScope, targets: &ConnectTargets) -> Vec<Transport> {
    let mut out = Vec::new();
    match scope {
        ManagerScope::User => {
            if let Some(address) = targets
                .session_bus_address
                .as_deref()
                .map(str::trim)
                .filter(|a| !a.is_empty())
            {
                out.push(Transport::Bus(address.to_owned()));
            }
            if let Some(dir) = &targets.runtime_dir {
                let bus = Transport::Bus(format!("unix:path={}", dir.join("bus").display()));
                if !out.contains(&bus) {
                    out.push(bus);
                }
                out.push(Transport::Private(dir.join("systemd/private")));
            }
        }
        ManagerScope::System => {
            let address = std::env::var("DBUS_SYSTEM_BUS_ADDRESS")
                .ok()
                .filter(|a| !a.trim().is_empty())
                .unwrap_or_else(|| "unix:path=/run/dbus/system_bus_socket".to_owned());
            out.push(Transport::Bus(address));
            out.push(Transport::Private(PathBuf::from("/run/systemd/private")));
        }
    }
    out
}

impl ManagerConnection {
    /// Connects to the manager of `scope`, trying [`candidates`] in order.
    pub fn connect(scope: ManagerScope, targets: &ConnectTargets) -> Result<Self, ConnectFailure> {
        let mut attempts = Vec::new();
        for transport in candidates(scope, targets) {
            if let Transport::Bus(address) = &transport {
                if let Some(path) = address.strip_prefix("unix:path=") {
                    if !Path::new(path).exists() {
                        attempts.push(Attempt {
                            transport,
                            error: "the socket does not exist".into(),
                        });
                        continue;
                    }
                }
            }
            if let Transport::Private(path) = &transport {
                if !path.exists() {
                    attempts.push(Attempt {
                        transport,
                        error: "the socket does not exist".into(),
                    });
                    continue;
                }
            }
            match Self::connect_one(&transport) {
                Ok(c) => return Ok(c),
                Err(error) => attempts.push(Attempt { transport, error }),
            }
        }
        Err(ConnectFailure { attempts })
    }

    fn connect_one(transport: &Transport) -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start an async runtime: {e}"))?;
        let result = runtime.block_on(async {
            tokio::time::timeout(CONNECT_TIMEOUT, async {
                let builder = match transport {
                    Transport::Bus(address) => zbus::connection::Builder::address(address.as_str()),
                    Transport::Private(path) => {
                        let stream = tokio::net::UnixStream::connect(path)
                            .await
                            .map_err(|e| e.to_string())?;
                        Ok(zbus::connection::Builder::socket(PrivateSocket(stream)).p2p())
                    }
                }
                .map_err(|e| DbusError::from(e).to_string())?;
                let connection = builder
                    .method_timeout(CALL_TIMEOUT)
                    .build()
                    .await
                    .map_err(|e| DbusError::from(e).to_string())?;
                let version = get_property(&connection, MANAGER_PATH, MANAGER_IFACE, "Version")
                    .await
                    .map_err(|e| e.to_string())?;
                let version = <&str>::try_from(&version)
                    .map(str::to_owned)
                    .unwrap_or_default();
                // Job signals: the manager sends them to subscribed clients only.
                if let Err(e) = call(&connection, "Subscribe", &()).await {
                    if !e
                        .name
                        .as_deref()
                        .unwrap_or_default()
                        .ends_with("AlreadySubscribed")
                    {
                        return Err(format!("Subscribe: {e}"));
                    }
                }
                Ok((connection, version))
            })
            .await
            .map_err(|_| format!("no answer within {}s", CONNECT_TIMEOUT.as_secs()))?
        });
        let (connection, version) = result?;
        Ok(Self {
            runtime,
            connection,
            transport: transport.clone(),
            version,
        })
    }

    /// The manager's version string (`252.38-1~deb12u1`).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The manager's major version (`252`), if it parses.
    pub fn major_version(&self) -> Option<u32> {
        let digits: String = self
            .version
            .trim()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    }

    /// How it was reached.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    fn block<T>(
        &self,
        within: Duration,
        what: &str,
        future: impl Future<Output = Result<T, DbusError>>,
    ) -> Result<T, DbusError> {
        self.runtime.block_on(async {
            tokio::time::timeout(within, future).await.map_err(|_| {
                DbusError::local(format!(
                    "{what}: the manager did not answer within {}s",
                    within.as_secs()
                ))
            })?
        })
    }

    /// `Reload()` (= `systemctl daemon-reload`); returns once the manager has reloaded.
    pub fn reload(&self) -> Result<(), DbusError> {
        self.block(CALL_TIMEOUT * 2, "Reload", async {
            call(&self.connection, "Reload", &()).await.map(|_| ())
        })
    }

    /// `EnableUnitFiles(files, runtime=false, force=true)`.
    pub fn enable_unit_files(&self, files: &[String]) -> Result<Vec<UnitFileChange>, DbusError> {
        self.block(CALL_TIMEOUT, "EnableUnitFiles", async {
            let reply = call(&self.connection, "EnableUnitFiles", &(files, false, true)).await?;
            let (_carries_install_info, changes): (bool, Vec<(String, String, String)>) = reply
                .body()
                .deserialize()
                .map_err(|e| DbusError::local(format!("EnableUnitFiles reply: {e}")))?;
            Ok(changes.into_iter().map(change).collect())
        })
    }

    /// `DisableUnitFiles(files, runtime=false)`.
    pub fn disable_unit_files(&self, files: &[String]) -> Result<Vec<UnitFileChange>, DbusError> {
        self.block(CALL_TIMEOUT, "DisableUnitFiles", async {
            let reply = call(&self.connection, "DisableUnitFiles", &(files, false)).await?;
            let changes: Vec<(String, String, String)> = reply
                .body()
                .deserialize()
                .map_err(|e| DbusError::local(format!("DisableUnitFiles reply: {e}")))?;
            Ok(changes.into_iter().map(change).collect())
        })
    }

    /// `ResetFailedUnit(unit)`: clears `failed` and the start-limit latch.
    pub fn reset_failed(&self, unit: &str) -> Result<(), DbusError> {
        self.block(CALL_TIMEOUT, "ResetFailedUnit", async {
            call(&self.connection, "ResetFailedUnit", &(unit,))
                .await
                .map(|_| ())
        })
    }

    /// `GetUnitFileState(file)`.
    pub fn unit_file_state(&self, file: &str) -> Result<String, DbusError> {
        self.block(CALL_TIMEOUT, "GetUnitFileState", async {
            let reply = call(&self.connection, "GetUnitFileState", &(file,)).await?;
            reply
                .body()
                .deserialize::<String>()
                .map_err(|e| DbusError::local(format!("GetUnitFileState reply: {e}")))
        })
    }

    /// Queues a job (`mode` `replace`) and waits up to `within` for its `JobRemoved`.
    pub fn run_job(
        &self,
        method: JobMethod,
        unit: &str,
        within: Duration,
    ) -> Result<JobOutcome, DbusError> {
        let what = format!("{} {unit}", method.method());
        self.runtime.block_on(async {
            let rule = MatchRule::builder()
                .msg_type(MessageType::Signal)
                .interface(MANAGER_IFACE)
                .and_then(|b| b.member("JobRemoved"))
                .and_then(|b| b.path(MANAGER_PATH))
                .map_err(DbusError::from)?
                .build();
            // The match exists before the job does: its JobRemoved cannot be missed.
            let mut stream = tokio::time::timeout(
                CALL_TIMEOUT,
                MessageStream::for_match_rule(rule, &self.connection, None),
            )
            .await
            .map_err(|_| DbusError::local(format!("{what}: AddMatch timed out")))?
            .map_err(DbusError::from)?;
            let reply = tokio::time::timeout(
                CALL_TIMEOUT,
                call(&self.connection, method.method(), &(unit, "replace")),
            )
            .await
            .map_err(|_| DbusError::local(format!("{what}: no answer")))??;
            let job: OwnedObjectPath = reply
                .body()
                .deserialize()
                .map_err(|e| DbusError::local(format!("{what} reply: {e}")))?;
            let job = job.as_str().to_owned();
            let wait = async {
                while let Some(message) = stream.next().await {
                    let Ok(message) = message else { continue };
                    let Ok((_id, path, _unit, result)) =
                        message
                            .body()
                            .deserialize::<(u32, OwnedObjectPath, String, String)>()
                    else {
                        continue;
                    };
                    if path.as_str() == job {
                        return Ok(JobOutcome {
                            job: job.clone(),
                            result,
                        });
                    }
                }
                Err(DbusError::local(format!(
                    "{what}: the connection closed before the job finished"
                )))
            };
            tokio::time::timeout(within, wait).await.map_err(|_| {
                DbusError::local(format!(
                    "{what}: job {job} still running after {}s",
                    within.as_secs()
                ))
            })?
        })
    }

    /// The unit's properties (`LoadUnit`, then `GetAll` on the unit and on its type's
    /// interface). Works for units that are not running or do not exist (`not-found`).
    pub fn unit_properties(&self, unit: &str) -> Result<UnitProperties, DbusError> {
        self.block(CALL_TIMEOUT, "unit properties", async {
            let reply = call(&self.connection, "LoadUnit", &(unit,)).await?;
            let path: OwnedObjectPath = reply
                .body()
                .deserialize()
                .map_err(|e| DbusError::local(format!("LoadUnit reply: {e}")))?;
            let mut map = get_all(&self.connection, path.as_str(), UNIT_IFACE).await?;
            let type_iface = if unit.ends_with(".service") {
                Some(SERVICE_IFACE)
            } else if unit.ends_with(".socket") {
                Some(SOCKET_IFACE)
            } else {
                None
            };
            if let Some(iface) = type_iface {
                // A not-found unit has no type interface; that is fine.
                if let Ok(more) = get_all(&self.connection, path.as_str(), iface).await {
                    map.extend(more);
                }
            }
            Ok(UnitProperties::from_map(&map))
        })
    }
}

fn change((kind, file, target): (String, String, String)) -> UnitFileChange {
    UnitFileChange { kind, file, target }
}

async fn call<B>(
    connection: &Connection,
    method: &str,
    body: &B,
) -> Result<zbus::Message, DbusError>
where
    B: serde::Serialize + DynamicType,
{
    connection
        .call_method(
            Some(DESTINATION),
            MANAGER_PATH,
            Some(MANAGER_IFACE),
            method,
            body,
        )
        .await
        .map_err(DbusError::from)
}

async fn get_property(
    connection: &Connection,
    path: &str,
    iface: &str,
    name: &str,
) -> Result<OwnedVariant, DbusError> {
    let reply = connection
        .call_method(
            Some(DESTINATION),
            path,
            Some(PROPERTIES_IFACE),
            "Get",
            &(iface, name),
        )
        .await
        .map_err(DbusError::from)?;
    reply
        .body()
        .deserialize::<OwnedVariant>()
        .map_err(|e| DbusError::local(format!("Get {iface}.{name}: {e}")))
}

async fn get_all(
    connection: &Connection,
    path: &str,
    iface: &str,
) -> Result<HashMap<String, OwnedVariant>, DbusError> {
    let reply = connection
        .call_method(
            Some(DESTINATION),
            path,
            Some(PROPERTIES_IFACE),
            "GetAll",
            &(iface,),
        )
        .await
        .map_err(DbusError::from)?;
    reply
        .body()
        .deserialize::<HashMap<String, OwnedVariant>>()
        .map_err(|e| DbusError::local(format!("GetAll {iface}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_candidates_follow_the_systemctl_order_without_duplicates() {
        let targets = ConnectTargets {
            session_bus_address: Some("unix:path=/run/user/1000/bus".into()),
            runtime_dir: Some("/run/user/1000".into()),
        };
        assert_eq!(
            candidates(ManagerScope::User, &targets),
            [
                Transport::Bus("unix:path=/run/user/1000/bus".into()),
                Transport::Private("/run/user/1000/systemd/private".into()),
            ]
        );
        let targets = ConnectTargets {
            session_bus_address: Some("unix:abstract=/tmp/dbus-x".into()),
            runtime_dir: Some("/r".into()),
        };
        assert_eq!(
            candidates(ManagerScope::User, &targets),
            [
                Transport::Bus("unix:abstract=/tmp/dbus-x".into()),
                Transport::Bus("unix:path=/r/bus".into()),
                Transport::Private("/r/systemd/private".into()),
            ]
        );
        assert!(candidates(ManagerScope::User, &ConnectTargets::default()).is_empty());
    }

    #[test]
    fn missing_sockets_are_reported_without_connecting() {
        let dir = tempfile::tempdir().unwrap();
        let targets = ConnectTargets {
            session_bus_address: None,
            runtime_dir: Some(dir.path().to_path_buf()),
        };
        let failure = ManagerConnection::connect(ManagerScope::User, &targets).unwrap_err();
        assert_eq!(failure.attempts.len(), 2);
        assert!(
            failure
                .attempts
                .iter()
                .all(|a| a.error == "the socket does not exist")
        );
    }

    #[test]
    fn not_found_errors_are_recognised() {
        let e = DbusError {
            name: Some("org.freedesktop.systemd1.NoSuchUnit".into()),
            message: "Unit x.service not loaded.".into(),
        };
        assert!(e.is_not_found());
        let e = DbusError {
            name: Some("org.freedesktop.DBus.Error.AccessDenied".into()),
            message: "Access denied".into(),
        };
        assert!(!e.is_not_found());
        assert_eq!(
            e.to_string(),
            "Access denied (org.freedesktop.DBus.Error.AccessDenied)"
        );
    }
}
