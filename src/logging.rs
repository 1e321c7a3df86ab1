//! Logging: human lines on stderr (or journald under systemd) and a JSON-lines file.
//!
//! - Console: human-readable on stderr, `info` and up (`--verbose`: `debug`). When stderr is the
//!   journal (`JOURNAL_STREAM` names stderr's device and inode), records go to journald with
//!   structured fields instead, so levels and fields survive.
//! - File: one JSON record per line, shaped like the reference gateway's records (`"0"` holds
//!   `{"subsystem":…}`, `"1"` the message, `_meta` the level, plus `time`, `hostname`,
//!   `message`), so the reference CLI's `openclaw logs` reads our files. Default
//!   `<state>/logs/gateway-YYYY-MM-DD.jsonl` (local date), rolled daily; when
//!   `logging.maxFileBytes` is reached the day's file moves to `gateway-YYYY-MM-DD.<n>.jsonl` and a
//!   fresh one starts; files older than `logging.maxAgeDays` (default 7) are removed when a file is
//!   opened. `logging.file` names one fixed file instead (size roll-over to `<file>.1`).
//!   Log files are created 0600 in a 0700 directory.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value, json};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::Registry;

use crate::atomic_write::{PRIVATE_DIR_MODE, create_dir_all_with_mode};
use crate::config::LogLevel;
use crate::environment::Environment;

/// Prefix of rolling log file names.
pub const LOG_FILE_PREFIX: &str = "gateway";
/// Extension of log files.
pub const LOG_FILE_EXTENSION: &str = "jsonl";
/// Default retention of rolling files.
pub const DEFAULT_MAX_AGE_DAYS: u32 = 7;

/// Where the file log goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileTarget {
    /// `<dir>/gateway-YYYY-MM-DD.jsonl`, one file a day.
    Rolling {
        /// The log directory.
        dir: PathBuf,
    },
    /// One fixed file (`logging.file`).
    Fixed(PathBuf),
}

/// How to set up logging for one process.
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// Level of the file log; `Silent` disables it.
    pub file_level: LogLevel,
    /// The file log target; `None` for no file log (CLI commands).
    pub file: Option<FileTarget>,
    /// Size at which the current file is rolled over.
    pub max_file_bytes: Option<u64>,
    /// Rolling files older than this many days are removed.
    pub max_age_days: u32,
    /// `--verbose`: debug records on the console.
    pub verbose: bool,
    /// Colour the console output.
    pub color: bool,
    /// Send console records to journald instead of stderr.
    pub journald: bool,
}

/// True when stderr is connected to the journal: `JOURNAL_STREAM` is `<dev>:<ino>` of stderr.
pub fn stderr_is_journal(env: &Environment) -> bool {
    let Some(stream) = env.get_nonempty("JOURNAL_STREAM") else {
        return false;
    };
    let Some((dev, ino)) = stream.split_once(':') else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        use std::os::unix::fs::MetadataExt;
        let Ok(fd) = io::stderr().as_fd().try_clone_to_owned() else {
            return false;
        };
        let Ok(meta) = File::from(fd).metadata() else {
            return false;
        };
        dev.parse() == Ok(meta.dev()) && ino.parse() == Ok(meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = (dev, ino);
        false
    }
}

/// The tracing target of the error that ends the gateway: written to the file log only (the CLI
/// prints it on stderr, which the journal captures under systemd).
pub const FATAL_TARGET: &str = "openclaw::fatal";

/// Installs the global subscriber for this process. Returns the path of the file log, if any.
///
/// A file log that cannot be opened is reported on stderr and skipped: logging must never stop
/// the gateway from serving.
pub fn init(settings: &LogSettings) -> Option<PathBuf> {
    let console_level = if settings.verbose {
        LevelFilter::DEBUG
    } else {
        LevelFilter::INFO
    };
    let journald = if settings.journald {
        tracing_journald::layer()
            .map(|l| l.with_syslog_identifier("openclaw".to_owned()))
            .ok()
    } else {
        None
    };
    let stderr = journald.is_none().then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(io::stderr)
            .with_ansi(settings.color)
            .with_target(false)
    });
    // Fatal errors are printed on stderr by the CLI itself; the console layers skip them so
    // they appear once, while the file log (read by `gateway status`) still gets them.
    let not_fatal = tracing_subscriber::filter::filter_fn(|meta| meta.target() != FATAL_TARGET);
    let console = journald
        .map(|l| {
            l.with_filter(console_level)
                .with_filter(not_fatal.clone())
                .boxed()
        })
        .or_else(|| stderr.map(|l| l.with_filter(console_level).with_filter(not_fatal).boxed()));

    let (file_layer, file_path) = match (&settings.file, level_filter(settings.file_level)) {
        (Some(target), Some(level)) => match JsonFileWriter::open(target.clone(), settings) {
            Ok(writer) => {
                let path = writer.current_path();
                (
                    Some(JsonFileLayer::new(writer).with_filter(level)),
                    Some(path),
                )
            }
            Err(e) => {
                eprintln!("warning: file log disabled: {e}");
                (None, None)
            }
        },
        _ => (None, None),
    };
    let subscriber = Registry::default().with(console).with(file_layer);
    // A second init (tests, in-process restart) keeps the first subscriber.
    let _ = tracing::subscriber::set_global_default(subscriber);
    file_path
}

/// The tracing level filter of a config level (`None` for silent).
pub fn level_filter(level: LogLevel) -> Option<LevelFilter> {
    match level {
        LogLevel::Silent => None,
        LogLevel::Fatal | LogLevel::Error => Some(LevelFilter::ERROR),
        LogLevel::Warn => Some(LevelFilter::WARN),
        LogLevel::Info => Some(LevelFilter::INFO),
        LogLevel::Debug => Some(LevelFilter::DEBUG),
        LogLevel::Trace => Some(LevelFilter::TRACE),
    }
}

/// The file a target writes to on `date` (`YYYY-MM-DD`).
pub fn file_for_date(target: &FileTarget, date: &str) -> PathBuf {
    match target {
        FileTarget::Rolling { dir } => {
            dir.join(format!("{LOG_FILE_PREFIX}-{date}.{LOG_FILE_EXTENSION}"))
        }
        FileTarget::Fixed(path) => path.clone(),
    }
}

/// The local time zone, found once: `TZ` when set (as jiff reads it), else `/etc/localtime`
/// read as TZif data, else UTC. Logs need the offset, not the zone's name: jiff's own lookup
/// maps the `/etc/localtime` symlink to an IANA name and, to check it, lists the whole
/// zoneinfo tree (≈30 directories) on the gateway's first log line — a millisecond or more of
/// start-up.
fn local_zone() -> &'static jiff::tz::TimeZone {
    static ZONE: std::sync::OnceLock<jiff::tz::TimeZone> = std::sync::OnceLock::new();
    ZONE.get_or_init(|| {
        let tz_set = std::env::var_os("TZ").is_some_and(|v| !v.is_empty());
        if tz_set || !cfg!(unix) {
            return jiff::tz::TimeZone::system();
        }
        fs::read("/etc/localtime")
            .ok()
            .and_then(|bytes| jiff::tz::TimeZone::tzif("localtime", &bytes).ok())
            .unwrap_or(jiff::tz::TimeZone::UTC)
    })
}

fn now_local() -> jiff::Zoned {
    jiff::Timestamp::now().to_zoned(local_zone().clone())
}

/// Today's local date as `YYYY-MM-DD`.
pub fn local_date_today() -> String {
    now_local().strftime("%Y-%m-%d").to_string()
}

fn now_iso() -> String {
    now_local().strftime("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
}

/// Appends records to the current log file, rolling by date and size.
#[derive(Debug)]
pub struct JsonFileWriter {
    target: FileTarget,
    max_file_bytes: Option<u64>,
    max_age_days: u32,
    date: String,
    path: PathBuf,
    file: File,
    size: u64,
}

impl JsonFileWriter {
    /// Opens today's file of `target` (creating the directory 0700 and the file 0600).
    pub fn open(target: FileTarget, settings: &LogSettings) -> io::Result<Self> {
        let date = local_date_today();
        let path = file_for_date(&target, &date);
        let (file, size) = open_log_file(&path)?;
        let writer = Self {
            target,
            max_file_bytes: settings.max_file_bytes.filter(|b| *b > 0),
            max_age_days: settings.max_age_days,
            date,
            path,
            file,
            size,
        };
        writer.remove_expired();
        Ok(writer)
    }

    /// The file records currently go to.
    pub fn current_path(&self) -> PathBuf {
        self.path.clone()
    }

    /// Appends one line (a newline is added), rolling the file first when needed.
    pub fn write_line(&mut self, line: &str) -> io::Result<()> {
        let today = local_date_today();
        if today != self.date && matches!(self.target, FileTarget::Rolling { .. }) {
            self.date = today;
            self.path = file_for_date(&self.target, &self.date);
            (self.file, self.size) = open_log_file(&self.path)?;
            self.remove_expired();
        }
        let needed = line.len() as u64 + 1;
        if let Some(max) = self.max_file_bytes {
            if self.size > 0 && self.size + needed > max {
                self.roll_over()?;
            }
        }
        let mut buf = Vec::with_capacity(line.len() + 1);
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
        self.file.write_all(&buf)?;
        self.size += needed;
        Ok(())
    }

    fn roll_over(&mut self) -> io::Result<()> {
        let rolled = match &self.target {
            FileTarget::Rolling { dir } => (1u32..)
                .map(|n| {
                    dir.join(format!(
                        "{LOG_FILE_PREFIX}-{}.{n}.{LOG_FILE_EXTENSION}",
                        self.date
                    ))
                })
                .find(|p| !p.exists())
                .expect("an unused name exists"),
            FileTarget::Fixed(path) => {
                let mut name = path.file_name().unwrap_or_default().to_os_string();
                name.push(".1");
                path.with_file_name(name)
            }
        };
        fs::rename(&self.path, &rolled)?;
        (self.file, self.size) = open_log_file(&self.path)?;
        Ok(())
    }

    /// Removes rolling files (`gateway-*.jsonl`) older than `max_age_days`.
    fn remove_expired(&self) {
        let FileTarget::Rolling { dir } = &self.target else {
            return;
        };
        let max_age = Duration::from_secs(u64::from(self.max_age_days) * 86_400);
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path == self.path || !is_rolling_log_name(&path) {
                continue;
            }
            let expired = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|mtime| SystemTime::now().duration_since(mtime).ok())
                .is_some_and(|age| age > max_age);
            if expired {
                let _ = fs::remove_file(&path);
            }
        }
    }
}

/// True for `gateway-<anything>.jsonl` names.
pub fn is_rolling_log_name(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
        n.starts_with(&format!("{LOG_FILE_PREFIX}-"))
            && n.ends_with(&format!(".{LOG_FILE_EXTENSION}"))
    })
}

fn open_log_file(path: &Path) -> io::Result<(File, u64)> {
    if let Some(dir) = path.parent() {
        create_dir_all_with_mode(dir, PRIVATE_DIR_MODE)?;
    }
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot open log file {}: {e}", path.display()),
        )
    })?;
    let size = file.metadata()?.len();
    Ok((file, size))
}

/// A tracing layer that writes each event as one JSON line.
pub struct JsonFileLayer {
    writer: Mutex<JsonFileWriter>,
    hostname: String,
}

impl JsonFileLayer {
    /// Wraps a writer.
    pub fn new(writer: JsonFileWriter) -> Self {
        Self {
            writer: Mutex::new(writer),
            hostname: hostname(),
        }
    }
}

fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// The subsystem of a tracing target, named like the reference gateway's: the gateway process
/// logs as `gateway`, its WebSocket side as `gateway/ws`, other modules by their first segment.
pub fn subsystem_of(target: &str) -> &str {
    let Some(rest) = target.strip_prefix("openclaw::") else {
        return target;
    };
    let mut parts = rest.split("::");
    match (parts.next(), parts.next()) {
        (Some("gateway"), Some("connection" | "server" | "outbound")) => "gateway/ws",
        (Some("gateway"), _) | (Some("cli"), Some("gateway_run")) => "gateway",
        (Some(first), _) => first,
        (None, _) => rest,
    }
}

/// The reference gateway's numeric level ids (tslog): trace 1, debug 2, info 3, warn 4, error 5.
fn level_id_and_name(level: &Level) -> (u8, &'static str) {
    match *level {
        Level::TRACE => (1, "TRACE"),
        Level::DEBUG => (2, "DEBUG"),
        Level::INFO => (3, "INFO"),
        Level::WARN => (4, "WARN"),
        Level::ERROR => (5, "ERROR"),
    }
}

/// Builds the JSON record of one event.
pub fn build_record(
    level: &Level,
    subsystem: &str,
    message: &str,
    fields: Map<String, Value>,
    time: &str,
    hostname: &str,
) -> Value {
    let (level_id, level_name) = level_id_and_name(level);
    let mut record = json!({
        "0": json!({ "subsystem": subsystem }).to_string(),
        "1": message,
        "_meta": {
            "runtime": "rust",
            "runtimeVersion": env!("CARGO_PKG_VERSION"),
            "hostname": hostname,
            "name": "openclaw",
            "parentNames": [],
            "date": time,
            "logLevelId": level_id,
            "logLevelName": level_name,
        },
        "time": time,
        "hostname": hostname,
        "level": level_name.to_ascii_lowercase(),
        "subsystem": subsystem,
        "message": message,
    });
    if !fields.is_empty() {
        record["fields"] = Value::Object(fields);
    }
    record
}

#[derive(Default)]
struct FieldCollector {
    message: String,
    fields: Map<String, Value>,
}

impl Visit for FieldCollector {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.fields
                .insert(field.name().to_owned(), Value::from(value));
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields
            .insert(field.name().to_owned(), Value::from(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields
            .insert(field.name().to_owned(), Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields
            .insert(field.name().to_owned(), Value::from(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.fields
                .insert(field.name().to_owned(), Value::from(format!("{value:?}")));
        }
    }
}

impl<S: Subscriber> Layer<S> for JsonFileLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut collector = FieldCollector::default();
        event.record(&mut collector);
        let meta = event.metadata();
        let record = build_record(
            meta.level(),
            subsystem_of(meta.target()),
            &collector.message,
            collector.fields,
            &now_iso(),
            &self.hostname,
        );
        if let Ok(mut writer) = self.writer.lock() {
            // A failing disk must not take the gateway down; the console still has the record.
            let _ = writer.write_line(&record.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(max_file_bytes: Option<u64>) -> LogSettings {
        LogSettings {
            file_level: LogLevel::Info,
            file: None,
            max_file_bytes,
            max_age_days: DEFAULT_MAX_AGE_DAYS,
            verbose: false,
            color: false,
            journald: false,
        }
    }

    #[test]
    fn rolling_files_are_named_by_local_date_in_a_private_dir() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        let target = FileTarget::Rolling { dir: logs.clone() };
        let mut w = JsonFileWriter::open(target, &settings(None)).unwrap();
        w.write_line("{}").unwrap();
        let expected = logs.join(format!("gateway-{}.jsonl", local_date_today()));
        assert_eq!(w.current_path(), expected);
        assert_eq!(fs::read_to_string(&expected).unwrap(), "{}\n");
        assert_eq!(crate::atomic_write::file_mode(&expected), Some(0o600));
        assert_eq!(crate::atomic_write::file_mode(&logs), Some(0o700));
    }

    #[test]
    fn max_file_bytes_rolls_the_day_file_over_to_a_numbered_one() {
        let dir = tempfile::tempdir().unwrap();
        let target = FileTarget::Rolling {
            dir: dir.path().to_owned(),
        };
        let mut w = JsonFileWriter::open(target, &settings(Some(10))).unwrap();
        w.write_line("aaaaaaa").unwrap();
        w.write_line("bbbbbbb").unwrap();
        w.write_line("ccccccc").unwrap();
        let date = local_date_today();
        let read = |name: String| fs::read_to_string(dir.path().join(name)).unwrap();
        assert_eq!(read(format!("gateway-{date}.jsonl")), "ccccccc\n");
        assert_eq!(read(format!("gateway-{date}.1.jsonl")), "aaaaaaa\n");
        assert_eq!(read(format!("gateway-{date}.2.jsonl")), "bbbbbbb\n");
    }

    #[test]
    fn files_older_than_max_age_are_removed_on_open_and_others_kept() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("gateway-2000-01-01.jsonl");
        let recent = dir.path().join("gateway-2000-01-02.jsonl");
        let foreign = dir.path().join("notes.txt");
        for p in [&old, &recent, &foreign] {
            fs::write(p, "x").unwrap();
        }
        let ten_days_ago = SystemTime::now() - Duration::from_secs(10 * 86_400);
        for p in [&old, &foreign] {
            File::options()
                .write(true)
                .open(p)
                .unwrap()
                .set_modified(ten_days_ago)
                .unwrap();
        }
        let target = FileTarget::Rolling {
            dir: dir.path().to_owned(),
        };
        JsonFileWriter::open(target, &settings(None)).unwrap();
        assert!(!old.exists());
        assert!(recent.exists());
        assert!(foreign.exists(), "only our rolling files are removed");
    }

    #[test]
    fn records_have_the_reference_shape() {
        let mut fields = Map::new();
        fields.insert("port".into(), Value::from(18789));
        let r = build_record(
            &Level::WARN,
            "gateway",
            "listening",
            fields,
            "2026-11-21T03:00:00.000+00:00",
            "h",
        );
        assert_eq!(r["0"], "{\"subsystem\":\"gateway\"}");
        assert_eq!(r["1"], "listening");
        assert_eq!(r["_meta"]["logLevelName"], "WARN");
        assert_eq!(r["_meta"]["logLevelId"], 4);
        assert_eq!(r["time"], "2026-11-21T03:00:00.000+00:00");
        assert_eq!(r["message"], "listening");
        assert_eq!(r["fields"]["port"], 18789);
        assert_eq!(subsystem_of("openclaw::gateway::server"), "gateway/ws");
        assert_eq!(subsystem_of("openclaw::cli::gateway_run"), "gateway");
        assert_eq!(subsystem_of("openclaw::gateway::methods"), "gateway");
        assert_eq!(subsystem_of("openclaw::config"), "config");
        assert_eq!(subsystem_of("hyper::proto"), "hyper::proto");
    }

    #[test]
    fn timestamps_are_iso_8601_with_milliseconds_and_offset() {
        let t = now_iso();
        assert_eq!(t.len(), "2026-11-21T03:00:00.000+00:00".len(), "{t}");
        assert_eq!(&t[10..11], "T");
        assert_eq!(&t[19..20], ".");
    }

    #[test]
    fn journal_detection_needs_a_matching_stream() {
        assert!(!stderr_is_journal(&Environment::empty()));
        assert!(!stderr_is_journal(
            &Environment::empty().with("JOURNAL_STREAM", "1:2")
        ));
        assert!(!stderr_is_journal(
            &Environment::empty().with("JOURNAL_STREAM", "junk")
        ));
    }
}
