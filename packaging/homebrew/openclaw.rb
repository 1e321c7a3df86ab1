# Homebrew formula. Installs the binary, man pages and completions from packaging/generated/
# (packaging/files.txt; tests/packaging_files.rs checks this file against it). The `service do`
# block matches launchd/bot.molt.gateway.plist as `openclaw gateway install --allow-unconfigured`
# renders it for the default profile: the same ProgramArguments, RunAtLoad and KeepAlive true,
# stdout and stderr in ~/Library/Logs/openclaw/gateway.log, the same install markers.
class Openclaw < Formula
  desc "OpenClaw Gateway and the toolkit that supervises it"
  homepage "https://github.com/openclaw/openclaw-rs"
  url "https://github.com/openclaw/openclaw-rs/archive/refs/tags/v0.1.0.tar.gz"
  # Set at release time (`brew bump-formula-pr`): there is no published tarball yet.
  sha256 :no_check
  license "MIT"
  head "https://github.com/openclaw/openclaw-rs.git", branch: "main"

  depends_on "rust" => :build

  def install
    system "cargo", "install", *std_cargo_args
    man1.install Dir["packaging/generated/man/*.1"]
    bash_completion.install "packaging/generated/completions/openclaw.bash" => "openclaw"
    zsh_completion.install "packaging/generated/completions/_openclaw"
    fish_completion.install "packaging/generated/completions/openclaw.fish"
  end

  def post_install
    # launchd does not create the log file's directory.
    (Pathname(Dir.home)/"Library/Logs/openclaw").mkpath
  end

  service do
    run [opt_bin/"openclaw", "gateway", "--port", "18789", "--allow-unconfigured"]
    run_type :immediate
    keep_alive true
    environment_variables OPENCLAW_SERVICE_MARKER:  "openclaw",
                          OPENCLAW_SERVICE_KIND:    "gateway",
                          OPENCLAW_SERVICE_VERSION: "0.1.0"
    log_path "#{Dir.home}/Library/Logs/openclaw/gateway.log"
    error_log_path "#{Dir.home}/Library/Logs/openclaw/gateway.log"
  end

  test do
    assert_match version.to_s, shell_output("#{bin}/openclaw --version")
    assert_match "openclaw", shell_output("#{bin}/openclaw completions bash")
  end
end
