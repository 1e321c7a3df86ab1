# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_openclaw_global_optspecs
    string join \n profile= dev verbose no-color h/help V/version
end

function __fish_openclaw_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_openclaw_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_openclaw_using_subcommand
    set -l cmd (__fish_openclaw_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c openclaw -n "__fish_openclaw_needs_command" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_needs_command" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_needs_command" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_needs_command" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_needs_command" -s h -l help -d 'Print help'
complete -c openclaw -n "__fish_openclaw_needs_command" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_needs_command" -f -a "gateway" -d 'Run the gateway, or manage it as an OS service'
complete -c openclaw -n "__fish_openclaw_needs_command" -f -a "setup" -d 'Prepare this account: a minimal config (gateway.mode "local"), the gateway token, the workspace'
complete -c openclaw -n "__fish_openclaw_needs_command" -f -a "status" -d 'Show the gateway service and whether the gateway answers (a summary of `gateway status`)'
complete -c openclaw -n "__fish_openclaw_needs_command" -f -a "health" -d 'Ask the running gateway for its health (as `gateway health`)'
complete -c openclaw -n "__fish_openclaw_needs_command" -f -a "doctor" -d 'Audit the installation and repair what is wrong'
complete -c openclaw -n "__fish_openclaw_needs_command" -f -a "logs" -d 'Show the gateway\'s log (tails it over the gateway connection)'
complete -c openclaw -n "__fish_openclaw_needs_command" -f -a "agent" -d 'Run one agent turn through the gateway and print the answer'
complete -c openclaw -n "__fish_openclaw_needs_command" -f -a "models" -d 'The models the gateway can use'
complete -c openclaw -n "__fish_openclaw_needs_command" -f -a "sessions" -d 'The gateway\'s chat sessions'
complete -c openclaw -n "__fish_openclaw_needs_command" -f -a "dashboard" -d 'Print the Control UI\'s address, signed in with the gateway token, and open it in a browser'
complete -c openclaw -n "__fish_openclaw_needs_command" -f -a "completions" -d 'Print shell completions'
complete -c openclaw -n "__fish_openclaw_needs_command" -f -a "__packaging-files" -d 'Write the files distribution packages ship (units, man pages, completions) into a dir'
complete -c openclaw -n "__fish_openclaw_needs_command" -f -a "__sandbox-probe" -d 'Run inside `gateway install`\'s sandbox probe unit: check the sandbox, send READY=1'
complete -c openclaw -n "__fish_openclaw_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and not __fish_seen_subcommand_from run install uninstall start stop restart status health call help" -l port -d 'Port for WebSocket and HTTP (default: by profile; see `gateway status`)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and not __fish_seen_subcommand_from run install uninstall start stop restart status health call help" -l bind -d 'Where to listen: loopback, lan, custom, auto or tailnet' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and not __fish_seen_subcommand_from run install uninstall start stop restart status health call help" -l auth -d 'Auth mode: none, token, password or trusted-proxy' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and not __fish_seen_subcommand_from run install uninstall start stop restart status health call help" -l token -d 'Shared token clients must present (default: OPENCLAW_GATEWAY_TOKEN, config, generated)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and not __fish_seen_subcommand_from run install uninstall start stop restart status health call help" -l token-file -d 'Read the shared token from a file (OPENCLAW_GATEWAY_TOKEN_FILE)' -r -F
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and not __fish_seen_subcommand_from run install uninstall start stop restart status health call help" -l password -d 'Shared password clients must present (default: OPENCLAW_GATEWAY_PASSWORD, config)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and not __fish_seen_subcommand_from run install uninstall start stop restart status health call help" -l password-file -d 'Read the shared password from a file' -r -F
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and not __fish_seen_subcommand_from run install uninstall start stop restart status health call help" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and not __fish_seen_subcommand_from run install uninstall start stop restart status health call help" -l allow-unconfigured -d 'Start even when no config file exists'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and not __fish_seen_subcommand_from run install uninstall start stop restart status health call help" -l force -d 'Stop whatever listens on the port first'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and not __fish_seen_subcommand_from run install uninstall start stop restart status health call help" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and not __fish_seen_subcommand_from run install uninstall start stop restart status health call help" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and not __fish_seen_subcommand_from run install uninstall start stop restart status health call help" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and not __fish_seen_subcommand_from run install uninstall start stop restart status health call help" -s h -l help -d 'Print help'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and not __fish_seen_subcommand_from run install uninstall start stop restart status health call help" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and not __fish_seen_subcommand_from run install uninstall start stop restart status health call help" -f -a "run" -d 'Run the gateway in the foreground (what the service runs)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and not __fish_seen_subcommand_from run install uninstall start stop restart status health call help" -f -a "install" -d 'Install the gateway as a service (systemd user unit, LaunchAgent or scheduled task)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and not __fish_seen_subcommand_from run install uninstall start stop restart status health call help" -f -a "uninstall" -d 'Stop and remove the service; config, state and logs are kept'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and not __fish_seen_subcommand_from run install uninstall start stop restart status health call help" -f -a "start" -d 'Start the installed service'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and not __fish_seen_subcommand_from run install uninstall start stop restart status health call help" -f -a "stop" -d 'Stop the installed service'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and not __fish_seen_subcommand_from run install uninstall start stop restart status health call help" -f -a "restart" -d 'Restart the installed service'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and not __fish_seen_subcommand_from run install uninstall start stop restart status health call help" -f -a "status" -d 'Show the service (supervisor view) and whether the gateway answers (RPC view)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and not __fish_seen_subcommand_from run install uninstall start stop restart status health call help" -f -a "health" -d 'Ask the running gateway for its health'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and not __fish_seen_subcommand_from run install uninstall start stop restart status health call help" -f -a "call" -d 'Call a gateway method and print its result'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and not __fish_seen_subcommand_from run install uninstall start stop restart status health call help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from run" -l port -d 'Port for WebSocket and HTTP (default: by profile; see `gateway status`)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from run" -l bind -d 'Where to listen: loopback, lan, custom, auto or tailnet' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from run" -l auth -d 'Auth mode: none, token, password or trusted-proxy' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from run" -l token -d 'Shared token clients must present (default: OPENCLAW_GATEWAY_TOKEN, config, generated)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from run" -l token-file -d 'Read the shared token from a file (OPENCLAW_GATEWAY_TOKEN_FILE)' -r -F
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from run" -l password -d 'Shared password clients must present (default: OPENCLAW_GATEWAY_PASSWORD, config)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from run" -l password-file -d 'Read the shared password from a file' -r -F
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from run" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from run" -l allow-unconfigured -d 'Start even when no config file exists'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from run" -l force -d 'Stop whatever listens on the port first'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from run" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from run" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from run" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from install" -l port -d 'Port the service listens on' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from install" -l platform -d 'Render the plan for another platform (with --dry-run)' -r -f -a "linux\t'systemd'
macos\t'launchd'
windows\t'Task Scheduler'"
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from install" -l user -d 'Account the system unit runs as (with --system)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from install" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from install" -l force -d 'Rewrite the service even if it is already installed'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from install" -l dry-run -d 'Print the plan (files and manager actions) without changing anything'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from install" -l no-socket-activation -d 'Do not use socket activation (systemd)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from install" -l system -d 'Install a system unit in /etc/systemd/system (root required)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from install" -l allow-unconfigured -d 'Let the service start without a config file (without it, install first writes a minimal one when there is none, as `openclaw setup` does)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from install" -l json -d 'Print one JSON object'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from install" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from install" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from install" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from install" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from install" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from uninstall" -l platform -d 'Render the plan for another platform (with --dry-run)' -r -f -a "linux\t'systemd'
macos\t'launchd'
windows\t'Task Scheduler'"
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from uninstall" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from uninstall" -l dry-run -d 'Print the plan without changing anything'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from uninstall" -l system -d 'Act on the system unit'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from uninstall" -l json -d 'Print one JSON object'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from uninstall" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from uninstall" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from uninstall" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from uninstall" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from uninstall" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from start" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from start" -l system -d 'Act on the system unit'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from start" -l json -d 'Print one JSON object'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from start" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from start" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from start" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from start" -s h -l help -d 'Print help'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from start" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from stop" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from stop" -l force -d 'Stop even from inside the gateway\'s own process tree (OPENCLAW_SERVICE_KIND=gateway)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from stop" -l system -d 'Act on the system unit'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from stop" -l json -d 'Print one JSON object'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from stop" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from stop" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from stop" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from stop" -s h -l help -d 'Print help'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from stop" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from restart" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from restart" -l system -d 'Act on the system unit'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from restart" -l json -d 'Print one JSON object'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from restart" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from restart" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from restart" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from restart" -s h -l help -d 'Print help'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from restart" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from status" -l port -d 'Probe the gateway on this port of 127.0.0.1 (instead of the service\'s or the configured port)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from status" -l url -d 'Gateway URL (default: ws://127.0.0.1:<resolved port>)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from status" -l token -d 'Token (default: OPENCLAW_GATEWAY_TOKEN, config, then <state>/gateway.token)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from status" -l password -d 'Password (default: OPENCLAW_GATEWAY_PASSWORD, config)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from status" -l timeout -d 'Timeout in milliseconds' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from status" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from status" -l no-probe -d 'Do not connect to the gateway; show the supervisor view only'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from status" -l deep -d 'Also scan for other gateway-like services and port listeners, list the established client connections and show the gateway\'s last shutdown'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from status" -l require-rpc -d 'Exit 1 when the gateway does not answer'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from status" -l json -d 'Print JSON'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from status" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from status" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from status" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from health" -l url -d 'Gateway URL (default: ws://127.0.0.1:<resolved port>)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from health" -l token -d 'Token (default: OPENCLAW_GATEWAY_TOKEN, config, then <state>/gateway.token)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from health" -l password -d 'Password (default: OPENCLAW_GATEWAY_PASSWORD, config)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from health" -l timeout -d 'Timeout in milliseconds' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from health" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from health" -l json -d 'Print JSON'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from health" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from health" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from health" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from health" -s h -l help -d 'Print help'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from health" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from call" -l params -d 'Params as JSON' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from call" -l url -d 'Gateway URL (default: ws://127.0.0.1:<resolved port>)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from call" -l token -d 'Token (default: OPENCLAW_GATEWAY_TOKEN, config, then <state>/gateway.token)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from call" -l password -d 'Password (default: OPENCLAW_GATEWAY_PASSWORD, config)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from call" -l timeout -d 'Timeout in milliseconds' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from call" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from call" -l json -d 'Print JSON'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from call" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from call" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from call" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from call" -s h -l help -d 'Print help'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from call" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from help" -f -a "run" -d 'Run the gateway in the foreground (what the service runs)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from help" -f -a "install" -d 'Install the gateway as a service (systemd user unit, LaunchAgent or scheduled task)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from help" -f -a "uninstall" -d 'Stop and remove the service; config, state and logs are kept'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from help" -f -a "start" -d 'Start the installed service'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from help" -f -a "stop" -d 'Stop the installed service'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from help" -f -a "restart" -d 'Restart the installed service'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show the service (supervisor view) and whether the gateway answers (RPC view)'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from help" -f -a "health" -d 'Ask the running gateway for its health'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from help" -f -a "call" -d 'Call a gateway method and print its result'
complete -c openclaw -n "__fish_openclaw_using_subcommand gateway; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c openclaw -n "__fish_openclaw_using_subcommand setup" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand setup" -l json -d 'Print one JSON object'
complete -c openclaw -n "__fish_openclaw_using_subcommand setup" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_using_subcommand setup" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_using_subcommand setup" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_using_subcommand setup" -s h -l help -d 'Print help'
complete -c openclaw -n "__fish_openclaw_using_subcommand setup" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_using_subcommand status" -l port -d 'Probe the gateway on this port of 127.0.0.1 (instead of the service\'s or the configured port)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand status" -l url -d 'Gateway URL (default: ws://127.0.0.1:<resolved port>)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand status" -l token -d 'Token (default: OPENCLAW_GATEWAY_TOKEN, config, then <state>/gateway.token)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand status" -l password -d 'Password (default: OPENCLAW_GATEWAY_PASSWORD, config)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand status" -l timeout -d 'Timeout in milliseconds' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand status" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand status" -l no-probe -d 'Do not connect to the gateway; show the supervisor view only'
complete -c openclaw -n "__fish_openclaw_using_subcommand status" -l deep -d 'Also scan for other gateway-like services and port listeners, list the established client connections and show the gateway\'s last shutdown'
complete -c openclaw -n "__fish_openclaw_using_subcommand status" -l require-rpc -d 'Exit 1 when the gateway does not answer'
complete -c openclaw -n "__fish_openclaw_using_subcommand status" -l json -d 'Print JSON'
complete -c openclaw -n "__fish_openclaw_using_subcommand status" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_using_subcommand status" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_using_subcommand status" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_using_subcommand status" -s h -l help -d 'Print help'
complete -c openclaw -n "__fish_openclaw_using_subcommand status" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_using_subcommand health" -l url -d 'Gateway URL (default: ws://127.0.0.1:<resolved port>)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand health" -l token -d 'Token (default: OPENCLAW_GATEWAY_TOKEN, config, then <state>/gateway.token)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand health" -l password -d 'Password (default: OPENCLAW_GATEWAY_PASSWORD, config)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand health" -l timeout -d 'Timeout in milliseconds' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand health" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand health" -l json -d 'Print JSON'
complete -c openclaw -n "__fish_openclaw_using_subcommand health" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_using_subcommand health" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_using_subcommand health" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_using_subcommand health" -s h -l help -d 'Print help'
complete -c openclaw -n "__fish_openclaw_using_subcommand health" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_using_subcommand doctor" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand doctor" -l fix -l repair -d 'Apply the repairs (asks per repair on a terminal)'
complete -c openclaw -n "__fish_openclaw_using_subcommand doctor" -l yes -d 'Assume yes to every question (implies --fix), except installing or restarting the service'
complete -c openclaw -n "__fish_openclaw_using_subcommand doctor" -l non-interactive -d 'Never prompt; apply only safe repairs'
complete -c openclaw -n "__fish_openclaw_using_subcommand doctor" -l force -d 'Also apply aggressive repairs (overwrite custom edits of the service)'
complete -c openclaw -n "__fish_openclaw_using_subcommand doctor" -l dry-run -d 'With --fix: print the repair plan and change nothing'
complete -c openclaw -n "__fish_openclaw_using_subcommand doctor" -l system -d 'Allow touching system units / LaunchDaemons (doctor currently only reports them)'
complete -c openclaw -n "__fish_openclaw_using_subcommand doctor" -l json -d 'Print the findings as one JSON object (read-only; schemas/doctor.schema.json)'
complete -c openclaw -n "__fish_openclaw_using_subcommand doctor" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_using_subcommand doctor" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_using_subcommand doctor" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c openclaw -n "__fish_openclaw_using_subcommand doctor" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_using_subcommand logs" -l limit -d 'Lines to show' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand logs" -l max-bytes -d 'Most bytes to read per poll' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand logs" -l interval -d 'Poll interval in milliseconds (with --follow)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand logs" -l url -d 'Gateway URL (default: ws://127.0.0.1:<resolved port>)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand logs" -l token -d 'Token (default: OPENCLAW_GATEWAY_TOKEN, config, then <state>/gateway.token)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand logs" -l password -d 'Password (default: OPENCLAW_GATEWAY_PASSWORD, config)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand logs" -l timeout -d 'Timeout in milliseconds' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand logs" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand logs" -s f -l follow -d 'Keep polling for new lines'
complete -c openclaw -n "__fish_openclaw_using_subcommand logs" -l plain -d 'Plain `<time> <level> <subsystem> <message>` lines (the default; accepted for compatibility)'
complete -c openclaw -n "__fish_openclaw_using_subcommand logs" -l json -d 'Print JSON'
complete -c openclaw -n "__fish_openclaw_using_subcommand logs" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_using_subcommand logs" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_using_subcommand logs" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_using_subcommand logs" -s h -l help -d 'Print help'
complete -c openclaw -n "__fish_openclaw_using_subcommand logs" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_using_subcommand agent" -s m -l message -d 'The message to send' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand agent" -l agent -d 'The agent (default: the gateway\'s default agent)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand agent" -l session-key -d 'The session key (default: the agent\'s main session)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand agent" -l timeout -d 'The run\'s budget in seconds (0 = none; default: the agent\'s)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand agent" -l url -d 'Gateway URL (default: ws://127.0.0.1:<resolved port>)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand agent" -l token -d 'Token (default: OPENCLAW_GATEWAY_TOKEN, config, then <state>/gateway.token)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand agent" -l password -d 'Password (default: OPENCLAW_GATEWAY_PASSWORD, config)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand agent" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand agent" -l json -d 'Print the final answer as JSON'
complete -c openclaw -n "__fish_openclaw_using_subcommand agent" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_using_subcommand agent" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_using_subcommand agent" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_using_subcommand agent" -s h -l help -d 'Print help'
complete -c openclaw -n "__fish_openclaw_using_subcommand agent" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_using_subcommand models; and not __fish_seen_subcommand_from list help" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand models; and not __fish_seen_subcommand_from list help" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_using_subcommand models; and not __fish_seen_subcommand_from list help" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_using_subcommand models; and not __fish_seen_subcommand_from list help" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_using_subcommand models; and not __fish_seen_subcommand_from list help" -s h -l help -d 'Print help'
complete -c openclaw -n "__fish_openclaw_using_subcommand models; and not __fish_seen_subcommand_from list help" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_using_subcommand models; and not __fish_seen_subcommand_from list help" -f -a "list" -d 'List the configured models (as the running gateway resolved them)'
complete -c openclaw -n "__fish_openclaw_using_subcommand models; and not __fish_seen_subcommand_from list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c openclaw -n "__fish_openclaw_using_subcommand models; and __fish_seen_subcommand_from list" -l url -d 'Gateway URL (default: ws://127.0.0.1:<resolved port>)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand models; and __fish_seen_subcommand_from list" -l token -d 'Token (default: OPENCLAW_GATEWAY_TOKEN, config, then <state>/gateway.token)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand models; and __fish_seen_subcommand_from list" -l password -d 'Password (default: OPENCLAW_GATEWAY_PASSWORD, config)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand models; and __fish_seen_subcommand_from list" -l timeout -d 'Timeout in milliseconds' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand models; and __fish_seen_subcommand_from list" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand models; and __fish_seen_subcommand_from list" -l json -d 'Print JSON'
complete -c openclaw -n "__fish_openclaw_using_subcommand models; and __fish_seen_subcommand_from list" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_using_subcommand models; and __fish_seen_subcommand_from list" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_using_subcommand models; and __fish_seen_subcommand_from list" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_using_subcommand models; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c openclaw -n "__fish_openclaw_using_subcommand models; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_using_subcommand models; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the configured models (as the running gateway resolved them)'
complete -c openclaw -n "__fish_openclaw_using_subcommand models; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and not __fish_seen_subcommand_from list history help" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and not __fish_seen_subcommand_from list history help" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and not __fish_seen_subcommand_from list history help" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and not __fish_seen_subcommand_from list history help" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and not __fish_seen_subcommand_from list history help" -s h -l help -d 'Print help'
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and not __fish_seen_subcommand_from list history help" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and not __fish_seen_subcommand_from list history help" -f -a "list" -d 'List the sessions, latest change first'
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and not __fish_seen_subcommand_from list history help" -f -a "history" -d 'Show a session\'s transcript'
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and not __fish_seen_subcommand_from list history help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from list" -l url -d 'Gateway URL (default: ws://127.0.0.1:<resolved port>)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from list" -l token -d 'Token (default: OPENCLAW_GATEWAY_TOKEN, config, then <state>/gateway.token)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from list" -l password -d 'Password (default: OPENCLAW_GATEWAY_PASSWORD, config)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from list" -l timeout -d 'Timeout in milliseconds' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from list" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from list" -l json -d 'Print JSON'
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from list" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from list" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from list" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from history" -l limit -d 'The most messages to show (newest)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from history" -l url -d 'Gateway URL (default: ws://127.0.0.1:<resolved port>)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from history" -l token -d 'Token (default: OPENCLAW_GATEWAY_TOKEN, config, then <state>/gateway.token)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from history" -l password -d 'Password (default: OPENCLAW_GATEWAY_PASSWORD, config)' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from history" -l timeout -d 'Timeout in milliseconds' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from history" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from history" -l json -d 'Print JSON'
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from history" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from history" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from history" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from history" -s h -l help -d 'Print help'
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from history" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the sessions, latest change first'
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from help" -f -a "history" -d 'Show a session\'s transcript'
complete -c openclaw -n "__fish_openclaw_using_subcommand sessions; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c openclaw -n "__fish_openclaw_using_subcommand dashboard" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand dashboard" -l no-open -d 'Only print the address; do not open a browser'
complete -c openclaw -n "__fish_openclaw_using_subcommand dashboard" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_using_subcommand dashboard" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_using_subcommand dashboard" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_using_subcommand dashboard" -s h -l help -d 'Print help'
complete -c openclaw -n "__fish_openclaw_using_subcommand dashboard" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_using_subcommand completions" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand completions" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_using_subcommand completions" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_using_subcommand completions" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_using_subcommand completions" -s h -l help -d 'Print help'
complete -c openclaw -n "__fish_openclaw_using_subcommand completions" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_using_subcommand __packaging-files" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand __packaging-files" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_using_subcommand __packaging-files" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_using_subcommand __packaging-files" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_using_subcommand __packaging-files" -s h -l help -d 'Print help'
complete -c openclaw -n "__fish_openclaw_using_subcommand __packaging-files" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_using_subcommand __sandbox-probe" -l profile -d 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names' -r
complete -c openclaw -n "__fish_openclaw_using_subcommand __sandbox-probe" -l dev -d 'Use the dev profile (profile `dev`, default port 19001)'
complete -c openclaw -n "__fish_openclaw_using_subcommand __sandbox-probe" -l verbose -d 'Mirror debug logs to stderr'
complete -c openclaw -n "__fish_openclaw_using_subcommand __sandbox-probe" -l no-color -d 'Never colour output (NO_COLOR is honoured too)'
complete -c openclaw -n "__fish_openclaw_using_subcommand __sandbox-probe" -s h -l help -d 'Print help'
complete -c openclaw -n "__fish_openclaw_using_subcommand __sandbox-probe" -s V -l version -d 'Print version'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and not __fish_seen_subcommand_from gateway setup status health doctor logs agent models sessions dashboard completions __packaging-files __sandbox-probe help" -f -a "gateway" -d 'Run the gateway, or manage it as an OS service'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and not __fish_seen_subcommand_from gateway setup status health doctor logs agent models sessions dashboard completions __packaging-files __sandbox-probe help" -f -a "setup" -d 'Prepare this account: a minimal config (gateway.mode "local"), the gateway token, the workspace'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and not __fish_seen_subcommand_from gateway setup status health doctor logs agent models sessions dashboard completions __packaging-files __sandbox-probe help" -f -a "status" -d 'Show the gateway service and whether the gateway answers (a summary of `gateway status`)'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and not __fish_seen_subcommand_from gateway setup status health doctor logs agent models sessions dashboard completions __packaging-files __sandbox-probe help" -f -a "health" -d 'Ask the running gateway for its health (as `gateway health`)'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and not __fish_seen_subcommand_from gateway setup status health doctor logs agent models sessions dashboard completions __packaging-files __sandbox-probe help" -f -a "doctor" -d 'Audit the installation and repair what is wrong'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and not __fish_seen_subcommand_from gateway setup status health doctor logs agent models sessions dashboard completions __packaging-files __sandbox-probe help" -f -a "logs" -d 'Show the gateway\'s log (tails it over the gateway connection)'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and not __fish_seen_subcommand_from gateway setup status health doctor logs agent models sessions dashboard completions __packaging-files __sandbox-probe help" -f -a "agent" -d 'Run one agent turn through the gateway and print the answer'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and not __fish_seen_subcommand_from gateway setup status health doctor logs agent models sessions dashboard completions __packaging-files __sandbox-probe help" -f -a "models" -d 'The models the gateway can use'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and not __fish_seen_subcommand_from gateway setup status health doctor logs agent models sessions dashboard completions __packaging-files __sandbox-probe help" -f -a "sessions" -d 'The gateway\'s chat sessions'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and not __fish_seen_subcommand_from gateway setup status health doctor logs agent models sessions dashboard completions __packaging-files __sandbox-probe help" -f -a "dashboard" -d 'Print the Control UI\'s address, signed in with the gateway token, and open it in a browser'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and not __fish_seen_subcommand_from gateway setup status health doctor logs agent models sessions dashboard completions __packaging-files __sandbox-probe help" -f -a "completions" -d 'Print shell completions'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and not __fish_seen_subcommand_from gateway setup status health doctor logs agent models sessions dashboard completions __packaging-files __sandbox-probe help" -f -a "__packaging-files" -d 'Write the files distribution packages ship (units, man pages, completions) into a dir'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and not __fish_seen_subcommand_from gateway setup status health doctor logs agent models sessions dashboard completions __packaging-files __sandbox-probe help" -f -a "__sandbox-probe" -d 'Run inside `gateway install`\'s sandbox probe unit: check the sandbox, send READY=1'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and not __fish_seen_subcommand_from gateway setup status health doctor logs agent models sessions dashboard completions __packaging-files __sandbox-probe help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and __fish_seen_subcommand_from gateway" -f -a "run" -d 'Run the gateway in the foreground (what the service runs)'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and __fish_seen_subcommand_from gateway" -f -a "install" -d 'Install the gateway as a service (systemd user unit, LaunchAgent or scheduled task)'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and __fish_seen_subcommand_from gateway" -f -a "uninstall" -d 'Stop and remove the service; config, state and logs are kept'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and __fish_seen_subcommand_from gateway" -f -a "start" -d 'Start the installed service'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and __fish_seen_subcommand_from gateway" -f -a "stop" -d 'Stop the installed service'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and __fish_seen_subcommand_from gateway" -f -a "restart" -d 'Restart the installed service'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and __fish_seen_subcommand_from gateway" -f -a "status" -d 'Show the service (supervisor view) and whether the gateway answers (RPC view)'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and __fish_seen_subcommand_from gateway" -f -a "health" -d 'Ask the running gateway for its health'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and __fish_seen_subcommand_from gateway" -f -a "call" -d 'Call a gateway method and print its result'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and __fish_seen_subcommand_from models" -f -a "list" -d 'List the configured models (as the running gateway resolved them)'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and __fish_seen_subcommand_from sessions" -f -a "list" -d 'List the sessions, latest change first'
complete -c openclaw -n "__fish_openclaw_using_subcommand help; and __fish_seen_subcommand_from sessions" -f -a "history" -d 'Show a session\'s transcript'
