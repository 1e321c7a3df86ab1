//! Atomic file writes: temp file in the same directory, fsync, rename, fsync the directory.
//!
//! Every file this project writes (config, tokens, units, plists, pairing stores) goes through
//! [`write_atomic`], so a crash or a full disk leaves either the old file or the new one, never a
//! partial one, and a secret file never exists with a wider mode than asked for, not even briefly.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Mode for files holding secrets (tokens, env files, configs with credentials).
pub const SECRET_FILE_MODE: u32 = 0o600;
/// Mode for ordinary files readable by others (unit files, plists).
pub const PUBLIC_FILE_MODE: u32 = 0o644;
/// Mode for directories holding secrets (the state dir).
pub const PRIVATE_DIR_MODE: u32 = 0o700;

/// Writes `contents` to `path` atomically with permission bits `mode` (Unix; ignored elsewhere).
///
/// The parent directory must exist. On error the target is untouched and the temp file removed.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a file path", path.display()),
        )
    })?;
    let (mut file, temp_path) = create_temp_beside(dir, &file_name.to_string_lossy(), mode)?;
    let result = (|| {
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp_path, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp_path);
    }
    result
}

/// Creates `dir` and its missing parents, giving any directory this call creates `mode`.
pub fn create_dir_all_with_mode(dir: &Path, mode: u32) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    builder.create(dir)
}

/// Takes group and other permissions off `dir` when it has any (a state dir created 0755 by
/// another tool); returns the mode it had when it was changed. Not a directory, or missing:
/// nothing to do.
pub fn restrict_dir_to_owner(dir: &Path) -> io::Result<Option<u32>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = match fs::symlink_metadata(dir) {
            Ok(meta) if meta.is_dir() => meta,
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 == 0 {
            return Ok(None);
        }
        fs::set_permissions(dir, fs::Permissions::from_mode(mode & 0o700))?;
        Ok(Some(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(None)
    }
}

fn create_temp_beside(dir: &Path, name: &str, mode: u32) -> io::Result<(File, PathBuf)> {
    let pid = std::process::id();
    for attempt in 0u32..100 {
        let mut nonce = [0u8; 6];
        getrandom::fill(&mut nonce).map_err(io::Error::other)?;
        let suffix: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
        let temp_path = dir.join(format!(".{name}.{pid}.{attempt}.{suffix}.tmp"));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(mode);
        }
        match options.open(&temp_path) {
            Ok(file) => {
                // The process umask may have narrowed the mode; set it exactly.
                set_mode(&file, mode)?;
                return Ok((file, temp_path));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("could not create a temporary file in {}", dir.display()),
    ))
}

fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (file, mode);
        Ok(())
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// The permission bits of `path` (Unix), `None` when it does not exist or elsewhere.
pub fn file_mode(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path)
            .ok()
            .map(|m| m.permissions().mode() & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_new_files_with_the_exact_mode_despite_the_umask() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        write_atomic(&path, b"s3cret", SECRET_FILE_MODE).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"s3cret");
        assert_eq!(file_mode(&path), Some(0o600));
        write_atomic(&path, b"public", PUBLIC_FILE_MODE).unwrap();
        assert_eq!(file_mode(&path), Some(0o644));
    }

    #[test]
    fn replaces_existing_content_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        fs::write(&path, "old").unwrap();
        write_atomic(&path, b"new", SECRET_FILE_MODE).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["f.json".to_owned()]);
    }

    #[test]
    fn a_failed_write_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        // Renaming a file over a non-empty directory fails after the temp file was written.
        let target = dir.path().join("target");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("keep"), "x").unwrap();
        assert!(write_atomic(&target, b"data", SECRET_FILE_MODE).is_err());
        assert_eq!(fs::read_to_string(target.join("keep")).unwrap(), "x");
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "temp file removed");
    }

    #[test]
    fn missing_parent_directory_is_an_error_not_a_partial_write() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_atomic(&dir.path().join("no/such/f"), b"x", 0o600).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn created_directories_get_the_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        create_dir_all_with_mode(&nested, PRIVATE_DIR_MODE).unwrap();
        assert_eq!(file_mode(&nested), Some(0o700));
        assert_eq!(file_mode(&dir.path().join("a")), Some(0o700));
    }

    #[test]
    fn a_state_dir_open_to_others_is_restricted_to_its_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        fs::create_dir(&state).unwrap();
        fs::set_permissions(&state, fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(restrict_dir_to_owner(&state).unwrap(), Some(0o755));
        assert_eq!(file_mode(&state), Some(0o700));
        assert_eq!(
            restrict_dir_to_owner(&state).unwrap(),
            None,
            "already private"
        );
        assert_eq!(
            restrict_dir_to_owner(&dir.path().join("missing")).unwrap(),
            None
        );
    }
}
