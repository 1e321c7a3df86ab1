//! `logs.tail`: read the end of the gateway's log file with cursor semantics.
//!
//! No cursor: the last `maxBytes`. A cursor beyond the file size (rotated or truncated): `reset`
//! and the last `maxBytes`. More than `maxBytes` since the cursor: `reset` + `truncated`, last
//! `maxBytes`. Otherwise from the cursor. A partial first line is dropped when the read starts
//! mid-line; the last `limit` lines are kept (`truncated` when lines were dropped for it).
//! As the reference gateway does, the returned cursor is the offset just after the last complete
//! line, so a line still being written is returned whole by the next poll instead of being cut.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::logging::is_rolling_log_name;

/// Default and bounds of the `limit` param.
pub const DEFAULT_LIMIT: usize = 500;
/// Default of the `maxBytes` param.
pub const DEFAULT_MAX_BYTES: u64 = 250_000;

/// The `logs.tail` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TailResult {
    /// The file read.
    pub file: String,
    /// Where to continue next time (the file size).
    pub cursor: u64,
    /// The file size.
    pub size: u64,
    /// The lines read.
    pub lines: Vec<String>,
    /// True when older content was skipped.
    pub truncated: bool,
    /// True when the cursor was invalid (rotation/truncation) or too far behind.
    pub reset: bool,
}

/// The file to tail: `current` when it exists; when it is a rolling file that does not exist yet,
/// the newest rolling file in its directory by mtime.
pub fn resolve_log_file(current: &Path) -> PathBuf {
    if current.exists() || !is_rolling_log_name(current) {
        return current.to_owned();
    }
    let Some(dir) = current.parent() else {
        return current.to_owned();
    };
    std::fs::read_dir(dir)
        .ok()
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| is_rolling_log_name(&e.path()))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max_by_key(|(mtime, _)| *mtime)
        .map_or_else(|| current.to_owned(), |(_, p)| p)
}

/// Runs the tail algorithm on `path`.
pub fn tail(
    path: &Path,
    cursor: Option<u64>,
    limit: usize,
    max_bytes: u64,
) -> io::Result<TailResult> {
    let file_name = path.display().to_string();
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(TailResult {
                file: file_name,
                cursor: 0,
                size: 0,
                lines: vec![],
                truncated: false,
                reset: false,
            });
        }
        Err(e) => return Err(e),
    };
    let size = file.metadata()?.len();
    let max_bytes = max_bytes.max(1);
    let (start, truncated, reset) = match cursor {
        None => {
            let start = size.saturating_sub(max_bytes);
            (start, start > 0, false)
        }
        Some(c) if c > size => {
            let start = size.saturating_sub(max_bytes);
            (start, start > 0, true)
        }
        Some(c) if size - c > max_bytes => (size - max_bytes, true, true),
        Some(c) => (c, false, false),
    };
    let mut drop_first = false;
    if start > 0 {
        file.seek(SeekFrom::Start(start - 1))?;
        let mut prev = [0u8; 1];
        file.read_exact(&mut prev)?;
        drop_first = prev[0] != b'\n';
    } else {
        file.seek(SeekFrom::Start(0))?;
    }
    let mut buf = Vec::with_capacity((size - start) as usize);
    file.take(size - start).read_to_end(&mut buf)?;
    // Stop after the last complete line; an unfinished one waits for the next poll.
    let complete = buf.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let cursor = start + complete as u64;
    let text = String::from_utf8_lossy(&buf[..complete]);
    let mut lines: Vec<&str> = text.split('\n').collect();
    if drop_first && !lines.is_empty() {
        lines.remove(0);
    }
    if lines.last() == Some(&"") {
        lines.pop();
    }
    let keep_from = lines.len().saturating_sub(limit);
    Ok(TailResult {
        file: file_name,
        cursor,
        size,
        lines: lines[keep_from..]
            .iter()
            .map(|l| l.trim_end_matches('\r').to_owned())
            .collect(),
        truncated: truncated || keep_from > 0,
        reset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(content: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gateway-2026-01-01.jsonl");
        std::fs::write(&path, content).unwrap();
        (dir, path)
    }

    #[test]
    fn a_missing_file_is_empty_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let r = tail(&dir.path().join("nope.jsonl"), None, 10, 100).unwrap();
        assert_eq!(
            (r.cursor, r.size, r.lines.len(), r.truncated, r.reset),
            (0, 0, 0, false, false)
        );
    }

    #[test]
    fn without_cursor_reads_the_last_max_bytes_dropping_a_partial_line() {
        let (_d, p) = file_with("aaaa\nbbbb\ncccc\n");
        let r = tail(&p, None, 10, 100).unwrap();
        assert_eq!(r.lines, ["aaaa", "bbbb", "cccc"]);
        assert!(!r.truncated);
        assert_eq!(r.cursor, 15);
        let r = tail(&p, None, 10, 7).unwrap();
        assert_eq!(r.lines, ["cccc"], "the partial 'bb' is dropped");
        assert!(r.truncated);
    }

    #[test]
    fn a_cursor_continues_where_the_last_read_ended() {
        let (_d, p) = file_with("one\n");
        let first = tail(&p, None, 10, 1000).unwrap();
        std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        std::io::Write::write_all(&mut f, b"two\nthree\n").unwrap();
        let next = tail(&p, Some(first.cursor), 10, 1000).unwrap();
        assert_eq!(next.lines, ["two", "three"]);
        assert!(!next.reset && !next.truncated);
        let none = tail(&p, Some(next.cursor), 10, 1000).unwrap();
        assert!(none.lines.is_empty());
    }

    #[test]
    fn a_cursor_past_the_end_means_rotation_and_resets() {
        let (_d, p) = file_with("x\ny\n");
        let r = tail(&p, Some(1000), 10, 1000).unwrap();
        assert!(r.reset);
        assert_eq!(r.lines, ["x", "y"]);
    }

    #[test]
    fn falling_more_than_max_bytes_behind_resets_and_truncates() {
        let (_d, p) = file_with("0123456789\nabcdefghij\nKLMN\n");
        let r = tail(&p, Some(0), 10, 6).unwrap();
        assert!(r.reset && r.truncated);
        assert_eq!(r.lines, ["KLMN"]);
    }

    #[test]
    fn limit_keeps_the_last_lines_and_says_it_truncated() {
        let (_d, p) = file_with("1\n2\n3\n4\n");
        let r = tail(&p, None, 2, 1000).unwrap();
        assert_eq!(r.lines, ["3", "4"]);
        assert!(r.truncated);
        assert!(!tail(&p, None, 4, 1000).unwrap().truncated);
    }

    #[test]
    fn a_line_still_being_written_is_left_for_the_next_poll() {
        let (_d, p) = file_with("done\nhalf");
        let r = tail(&p, None, 10, 1000).unwrap();
        assert_eq!(r.lines, ["done"]);
        assert_eq!((r.cursor, r.size), (5, 9));
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        std::io::Write::write_all(&mut f, b"-way\n").unwrap();
        let r = tail(&p, Some(r.cursor), 10, 1000).unwrap();
        assert_eq!(r.lines, ["half-way"]);
        assert_eq!(r.cursor, r.size);
    }

    #[test]
    fn a_missing_rolling_file_falls_back_to_the_newest_one() {
        let (dir, p) = file_with("old\n");
        let today = dir.path().join("gateway-2099-01-01.jsonl");
        assert_eq!(resolve_log_file(&today), p);
        assert_eq!(
            resolve_log_file(&dir.path().join("custom.log")),
            dir.path().join("custom.log")
        );
    }
}
