//! The packaging files cannot drift: `packaging/generated/` is what `openclaw __packaging-files`
//! renders (units from `units/`, man pages and completions from the command line), the Debian
//! file list `packaging/files.txt` names every generated file, and the RPM spec, the PKGBUILD
//! and the Homebrew formula install the same files to the same places (with each distribution's
//! own zsh and license directories), at the crate's version. The Homebrew `service do` block
//! runs what the packaged units run and keeps the LaunchAgent's RunAtLoad, KeepAlive and log path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use openclaw::service::launchd::layout::LaunchdPaths;
use openclaw::service::spec::Scope;
use openclaw::service::systemd::packaged::{PackagedScope, packaged_spec};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

/// Every file under `dir`, by path relative to it.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// `packaging/files.txt` without comments.
fn deb_files() -> Vec<String> {
    read("packaging/files.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Where the Debian package puts a file of `packaging/generated/`.
fn deb_path_of_generated(rel: &str) -> String {
    let (dir, name) = rel.rsplit_once('/').unwrap();
    match (dir, name) {
        ("systemd/user", _) => format!("usr/lib/systemd/user/{name}"),
        ("systemd/system", _) => format!("usr/lib/systemd/system/{name}"),
        ("man", _) => format!("usr/share/man/man1/{name}.gz"),
        ("completions", "openclaw.bash") => "usr/share/bash-completion/completions/openclaw".into(),
        ("completions", "_openclaw") => "usr/share/zsh/vendor-completions/_openclaw".into(),
        ("completions", "openclaw.fish") => {
            "usr/share/fish/vendor_completions.d/openclaw.fish".into()
        }
        ("completions", "_openclaw.ps1") => String::new(), // not shipped on Linux
        _ => {
            panic!("packaging/generated/{rel}: where does it go? Add it to this test and files.txt")
        }
    }
}

#[test]
fn the_committed_generated_files_are_what_the_binary_renders() {
    let out = tempfile::tempdir().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_openclaw"))
        .arg("__packaging-files")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    let fresh = tree(out.path());
    let committed = tree(&repo("packaging/generated"));
    let names = |t: &BTreeMap<String, Vec<u8>>| t.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&committed),
        names(&fresh),
        "packaging/generated is stale: run `cargo run -- __packaging-files packaging/generated` \
         (and remove files it no longer writes)"
    );
    for (name, bytes) in &fresh {
        assert!(
            committed[name] == *bytes,
            "packaging/generated/{name} differs from what the renderer produces: run \
             `cargo run -- __packaging-files packaging/generated` and review the diff"
        );
    }
    assert!(fresh.contains_key("systemd/user/openclaw-gateway.socket"));
    assert!(fresh.contains_key("man/openclaw-gateway-install.1"));
}

#[test]
fn the_debian_file_list_names_every_generated_file_and_nothing_else() {
    let mut expected: Vec<String> = tree(&repo("packaging/generated"))
        .keys()
        .map(|rel| deb_path_of_generated(rel))
        .filter(|p| !p.is_empty())
        .collect();
    expected.extend(
        [
            "usr/bin/openclaw",
            "usr/share/doc/openclaw/README.md",
            "usr/share/doc/openclaw/copyright",
            "usr/share/doc/openclaw/changelog.Debian.gz",
        ]
        .map(str::to_owned),
    );
    expected.sort();
    let mut listed = deb_files();
    listed.sort();
    assert_eq!(listed, expected, "packaging/files.txt");
    // Every asset source cargo-deb reads exists.
    let cargo = read("Cargo.toml");
    for generated in tree(&repo("packaging/generated")).keys() {
        let name = generated.rsplit('/').next().unwrap();
        if !generated.starts_with("man/") && name != "_openclaw.ps1" {
            assert!(
                cargo.contains(&format!("packaging/generated/{generated}\"")),
                "{generated} in Cargo.toml assets"
            );
        }
    }
    assert!(cargo.contains("[\"packaging/generated/man/*.1\", \"usr/share/man/man1/\""));
}

/// A file list of another distribution: the Debian list with its zsh directory, man pages
/// uncompressed (the build compresses them) and without Debian's doc files.
fn other_distro_files() -> Vec<String> {
    deb_files()
        .into_iter()
        .filter(|p| !p.starts_with("usr/share/doc/openclaw/"))
        .map(|p| {
            p.replace(
                "usr/share/zsh/vendor-completions/",
                "usr/share/zsh/site-functions/",
            )
            .replace(".1.gz", ".1")
        })
        .collect()
}

/// Checks that `text` installs every file of [`other_distro_files`]: the exact destination, or
/// for man pages the man1 directory fed from `packaging/generated/man/*.1`.
fn assert_installs_everything(what: &str, text: &str) {
    assert!(
        text.contains("packaging/generated/man/*.1"),
        "{what} installs the generated man pages"
    );
    for path in other_distro_files() {
        if path.starts_with("usr/share/man/man1/") {
            assert!(
                text.contains("/usr/share/man/man1"),
                "{what}: man1 directory"
            );
            continue;
        }
        assert!(
            text.contains(&format!("/{path}")),
            "{what} does not install /{path}"
        );
        let source = match path.rsplit('/').next().unwrap() {
            "openclaw" if path.starts_with("usr/bin") => "target/release/openclaw".to_owned(),
            "openclaw" => "packaging/generated/completions/openclaw.bash".to_owned(),
            "_openclaw" => "packaging/generated/completions/_openclaw".to_owned(),
            "openclaw.fish" => "packaging/generated/completions/openclaw.fish".to_owned(),
            unit => {
                let scope = if path.contains("/user/") {
                    "user"
                } else {
                    "system"
                };
                format!("packaging/generated/systemd/{scope}/{unit}")
            }
        };
        assert!(text.contains(&source), "{what} does not install {source}");
    }
}

fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[test]
fn the_rpm_spec_installs_what_the_deb_installs() {
    let spec = read("packaging/rpm/openclaw.spec");
    let expanded = spec
        .replace("%{buildroot}", "")
        .replace("%{_bindir}", "/usr/bin")
        .replace("%{_userunitdir}", "/usr/lib/systemd/user")
        .replace("%{_unitdir}", "/usr/lib/systemd/system")
        .replace("%{_mandir}", "/usr/share/man")
        .replace("%{_datadir}", "/usr/share");
    assert_installs_everything("the RPM spec", &expanded);
    assert!(spec.contains("%license LICENSE"));
    assert!(spec.contains(&format!("\nVersion:        {}\n", version())));
    // Every file it installs is in %files.
    let files = expanded.split("\n%files\n").nth(1).expect("%files section");
    for path in other_distro_files()
        .iter()
        .filter(|p| !p.contains("/man1/"))
    {
        assert!(
            files.contains(&format!("/{path}\n")),
            "/{path} missing from %files"
        );
    }
}

#[test]
fn the_pkgbuild_installs_what_the_deb_installs() {
    let pkgbuild = read("packaging/arch/PKGBUILD").replace("\"$pkgdir", "\"");
    assert_installs_everything("the PKGBUILD", &pkgbuild);
    assert!(pkgbuild.contains("\"/usr/share/licenses/$pkgname/LICENSE\""));
    assert!(pkgbuild.contains(&format!("\npkgver={}\n", version())));
}

#[test]
fn the_debian_changelog_has_the_crate_version() {
    let changelog = read("packaging/deb/changelog");
    assert!(
        changelog.starts_with(&format!("openclaw ({}-", version())),
        "packaging/deb/changelog must start with the crate version"
    );
}

#[test]
fn the_homebrew_formula_installs_the_same_files_and_runs_what_the_packaged_units_run() {
    let formula = read("packaging/homebrew/openclaw.rb");
    assert!(formula.contains(&format!("/v{}.tar.gz\"", version())));
    assert!(formula.contains("man1.install Dir[\"packaging/generated/man/*.1\"]"));
    for completion in ["openclaw.bash", "_openclaw", "openclaw.fish"] {
        assert!(formula.contains(&format!("\"packaging/generated/completions/{completion}\"")));
    }
    // The same arguments as the packaged units' ExecStart.
    let spec = packaged_spec(PackagedScope::User);
    let args: Vec<String> = spec.args.iter().map(|a| format!("{a:?}")).collect();
    assert!(
        formula.contains(&format!("run [opt_bin/\"openclaw\", {}]", args.join(", "))),
        "service run = opt_bin/openclaw {:?}",
        spec.args
    );
    for (key, value) in spec
        .environment
        .iter()
        .filter(|(k, _)| k.starts_with("OPENCLAW_SERVICE_"))
    {
        assert!(
            formula.contains(&format!("{key}:")) && formula.contains(&format!("\"{value}\"")),
            "{key}"
        );
    }
    // RunAtLoad and KeepAlive as in the LaunchAgent template.
    let plist = read("launchd/bot.molt.gateway.plist");
    for key in ["RunAtLoad", "KeepAlive"] {
        assert!(
            plist.contains(&format!("<key>{key}</key>\n\t<true/>")),
            "{key} in the plist"
        );
    }
    assert!(formula.contains("run_type :immediate") && formula.contains("keep_alive true"));
    // The LaunchAgent's log path, relative to the home.
    let mut mac = spec.clone();
    mac.home = PathBuf::from("/Users/someone");
    mac.scope = Scope::User;
    let log = LaunchdPaths::for_spec(&mac).log;
    let rel = log.strip_prefix(&mac.home).unwrap().display().to_string();
    for key in ["log_path", "error_log_path"] {
        assert!(
            formula.contains(&format!("{key} \"#{{Dir.home}}/{rel}\"")),
            "{key} must be ~/{rel}"
        );
    }
}
