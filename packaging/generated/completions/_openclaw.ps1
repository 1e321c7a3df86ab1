
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'openclaw' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'openclaw'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'openclaw' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('gateway', 'gateway', [CompletionResultType]::ParameterValue, 'Run the gateway, or manage it as an OS service')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Prepare this account: a minimal config (gateway.mode "local"), the gateway token, the workspace')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the gateway service and whether the gateway answers (a summary of `gateway status`)')
            [CompletionResult]::new('health', 'health', [CompletionResultType]::ParameterValue, 'Ask the running gateway for its health (as `gateway health`)')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Audit the installation and repair what is wrong')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Show the gateway''s log (tails it over the gateway connection)')
            [CompletionResult]::new('agent', 'agent', [CompletionResultType]::ParameterValue, 'Run one agent turn through the gateway and print the answer')
            [CompletionResult]::new('models', 'models', [CompletionResultType]::ParameterValue, 'The models the gateway can use')
            [CompletionResult]::new('sessions', 'sessions', [CompletionResultType]::ParameterValue, 'The gateway''s chat sessions')
            [CompletionResult]::new('dashboard', 'dashboard', [CompletionResultType]::ParameterValue, 'Print the Control UI''s address, signed in with the gateway token, and open it in a browser')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions')
            [CompletionResult]::new('__packaging-files', '__packaging-files', [CompletionResultType]::ParameterValue, 'Write the files distribution packages ship (units, man pages, completions) into a dir')
            [CompletionResult]::new('__sandbox-probe', '__sandbox-probe', [CompletionResultType]::ParameterValue, 'Run inside `gateway install`''s sandbox probe unit: check the sandbox, send READY=1')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'openclaw;gateway' {
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port for WebSocket and HTTP (default: by profile; see `gateway status`)')
            [CompletionResult]::new('--bind', '--bind', [CompletionResultType]::ParameterName, 'Where to listen: loopback, lan, custom, auto or tailnet')
            [CompletionResult]::new('--auth', '--auth', [CompletionResultType]::ParameterName, 'Auth mode: none, token, password or trusted-proxy')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Shared token clients must present (default: OPENCLAW_GATEWAY_TOKEN, config, generated)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'Read the shared token from a file (OPENCLAW_GATEWAY_TOKEN_FILE)')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Shared password clients must present (default: OPENCLAW_GATEWAY_PASSWORD, config)')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the shared password from a file')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('--allow-unconfigured', '--allow-unconfigured', [CompletionResultType]::ParameterName, 'Start even when no config file exists')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Stop whatever listens on the port first')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the gateway in the foreground (what the service runs)')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install the gateway as a service (systemd user unit, LaunchAgent or scheduled task)')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Stop and remove the service; config, state and logs are kept')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Start the installed service')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the installed service')
            [CompletionResult]::new('restart', 'restart', [CompletionResultType]::ParameterValue, 'Restart the installed service')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the service (supervisor view) and whether the gateway answers (RPC view)')
            [CompletionResult]::new('health', 'health', [CompletionResultType]::ParameterValue, 'Ask the running gateway for its health')
            [CompletionResult]::new('call', 'call', [CompletionResultType]::ParameterValue, 'Call a gateway method and print its result')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'openclaw;gateway;run' {
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port for WebSocket and HTTP (default: by profile; see `gateway status`)')
            [CompletionResult]::new('--bind', '--bind', [CompletionResultType]::ParameterName, 'Where to listen: loopback, lan, custom, auto or tailnet')
            [CompletionResult]::new('--auth', '--auth', [CompletionResultType]::ParameterName, 'Auth mode: none, token, password or trusted-proxy')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Shared token clients must present (default: OPENCLAW_GATEWAY_TOKEN, config, generated)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'Read the shared token from a file (OPENCLAW_GATEWAY_TOKEN_FILE)')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Shared password clients must present (default: OPENCLAW_GATEWAY_PASSWORD, config)')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the shared password from a file')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('--allow-unconfigured', '--allow-unconfigured', [CompletionResultType]::ParameterName, 'Start even when no config file exists')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Stop whatever listens on the port first')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openclaw;gateway;install' {
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port the service listens on')
            [CompletionResult]::new('--platform', '--platform', [CompletionResultType]::ParameterName, 'Render the plan for another platform (with --dry-run)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Account the system unit runs as (with --system)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Rewrite the service even if it is already installed')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan (files and manager actions) without changing anything')
            [CompletionResult]::new('--no-socket-activation', '--no-socket-activation', [CompletionResultType]::ParameterName, 'Do not use socket activation (systemd)')
            [CompletionResult]::new('--system', '--system', [CompletionResultType]::ParameterName, 'Install a system unit in /etc/systemd/system (root required)')
            [CompletionResult]::new('--allow-unconfigured', '--allow-unconfigured', [CompletionResultType]::ParameterName, 'Let the service start without a config file (without it, install first writes a minimal one when there is none, as `openclaw setup` does)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openclaw;gateway;uninstall' {
            [CompletionResult]::new('--platform', '--platform', [CompletionResultType]::ParameterName, 'Render the plan for another platform (with --dry-run)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan without changing anything')
            [CompletionResult]::new('--system', '--system', [CompletionResultType]::ParameterName, 'Act on the system unit')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openclaw;gateway;start' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('--system', '--system', [CompletionResultType]::ParameterName, 'Act on the system unit')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openclaw;gateway;stop' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Stop even from inside the gateway''s own process tree (OPENCLAW_SERVICE_KIND=gateway)')
            [CompletionResult]::new('--system', '--system', [CompletionResultType]::ParameterName, 'Act on the system unit')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openclaw;gateway;restart' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('--system', '--system', [CompletionResultType]::ParameterName, 'Act on the system unit')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openclaw;gateway;status' {
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Probe the gateway on this port of 127.0.0.1 (instead of the service''s or the configured port)')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Gateway URL (default: ws://127.0.0.1:<resolved port>)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token (default: OPENCLAW_GATEWAY_TOKEN, config, then <state>/gateway.token)')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Password (default: OPENCLAW_GATEWAY_PASSWORD, config)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Timeout in milliseconds')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('--no-probe', '--no-probe', [CompletionResultType]::ParameterName, 'Do not connect to the gateway; show the supervisor view only')
            [CompletionResult]::new('--deep', '--deep', [CompletionResultType]::ParameterName, 'Also scan for other gateway-like services and port listeners, list the established client connections and show the gateway''s last shutdown')
            [CompletionResult]::new('--require-rpc', '--require-rpc', [CompletionResultType]::ParameterName, 'Exit 1 when the gateway does not answer')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openclaw;gateway;health' {
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Gateway URL (default: ws://127.0.0.1:<resolved port>)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token (default: OPENCLAW_GATEWAY_TOKEN, config, then <state>/gateway.token)')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Password (default: OPENCLAW_GATEWAY_PASSWORD, config)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Timeout in milliseconds')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openclaw;gateway;call' {
            [CompletionResult]::new('--params', '--params', [CompletionResultType]::ParameterName, 'Params as JSON')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Gateway URL (default: ws://127.0.0.1:<resolved port>)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token (default: OPENCLAW_GATEWAY_TOKEN, config, then <state>/gateway.token)')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Password (default: OPENCLAW_GATEWAY_PASSWORD, config)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Timeout in milliseconds')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openclaw;gateway;help' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the gateway in the foreground (what the service runs)')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install the gateway as a service (systemd user unit, LaunchAgent or scheduled task)')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Stop and remove the service; config, state and logs are kept')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Start the installed service')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the installed service')
            [CompletionResult]::new('restart', 'restart', [CompletionResultType]::ParameterValue, 'Restart the installed service')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the service (supervisor view) and whether the gateway answers (RPC view)')
            [CompletionResult]::new('health', 'health', [CompletionResultType]::ParameterValue, 'Ask the running gateway for its health')
            [CompletionResult]::new('call', 'call', [CompletionResultType]::ParameterValue, 'Call a gateway method and print its result')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'openclaw;gateway;help;run' {
            break
        }
        'openclaw;gateway;help;install' {
            break
        }
        'openclaw;gateway;help;uninstall' {
            break
        }
        'openclaw;gateway;help;start' {
            break
        }
        'openclaw;gateway;help;stop' {
            break
        }
        'openclaw;gateway;help;restart' {
            break
        }
        'openclaw;gateway;help;status' {
            break
        }
        'openclaw;gateway;help;health' {
            break
        }
        'openclaw;gateway;help;call' {
            break
        }
        'openclaw;gateway;help;help' {
            break
        }
        'openclaw;setup' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openclaw;status' {
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Probe the gateway on this port of 127.0.0.1 (instead of the service''s or the configured port)')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Gateway URL (default: ws://127.0.0.1:<resolved port>)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token (default: OPENCLAW_GATEWAY_TOKEN, config, then <state>/gateway.token)')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Password (default: OPENCLAW_GATEWAY_PASSWORD, config)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Timeout in milliseconds')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('--no-probe', '--no-probe', [CompletionResultType]::ParameterName, 'Do not connect to the gateway; show the supervisor view only')
            [CompletionResult]::new('--deep', '--deep', [CompletionResultType]::ParameterName, 'Also scan for other gateway-like services and port listeners, list the established client connections and show the gateway''s last shutdown')
            [CompletionResult]::new('--require-rpc', '--require-rpc', [CompletionResultType]::ParameterName, 'Exit 1 when the gateway does not answer')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openclaw;health' {
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Gateway URL (default: ws://127.0.0.1:<resolved port>)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token (default: OPENCLAW_GATEWAY_TOKEN, config, then <state>/gateway.token)')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Password (default: OPENCLAW_GATEWAY_PASSWORD, config)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Timeout in milliseconds')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openclaw;doctor' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('--fix', '--fix', [CompletionResultType]::ParameterName, 'Apply the repairs (asks per repair on a terminal)')
            [CompletionResult]::new('--repair', '--repair', [CompletionResultType]::ParameterName, 'Apply the repairs (asks per repair on a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Assume yes to every question (implies --fix), except installing or restarting the service')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt; apply only safe repairs')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Also apply aggressive repairs (overwrite custom edits of the service)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'With --fix: print the repair plan and change nothing')
            [CompletionResult]::new('--system', '--system', [CompletionResultType]::ParameterName, 'Allow touching system units / LaunchDaemons (doctor currently only reports them)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the findings as one JSON object (read-only; schemas/doctor.schema.json)')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openclaw;logs' {
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Lines to show')
            [CompletionResult]::new('--max-bytes', '--max-bytes', [CompletionResultType]::ParameterName, 'Most bytes to read per poll')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Poll interval in milliseconds (with --follow)')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Gateway URL (default: ws://127.0.0.1:<resolved port>)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token (default: OPENCLAW_GATEWAY_TOKEN, config, then <state>/gateway.token)')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Password (default: OPENCLAW_GATEWAY_PASSWORD, config)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Timeout in milliseconds')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Keep polling for new lines')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Keep polling for new lines')
            [CompletionResult]::new('--plain', '--plain', [CompletionResultType]::ParameterName, 'Plain `<time> <level> <subsystem> <message>` lines (the default; accepted for compatibility)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openclaw;agent' {
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'The message to send')
            [CompletionResult]::new('--message', '--message', [CompletionResultType]::ParameterName, 'The message to send')
            [CompletionResult]::new('--agent', '--agent', [CompletionResultType]::ParameterName, 'The agent (default: the gateway''s default agent)')
            [CompletionResult]::new('--session-key', '--session-key', [CompletionResultType]::ParameterName, 'The session key (default: the agent''s main session)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'The run''s budget in seconds (0 = none; default: the agent''s)')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Gateway URL (default: ws://127.0.0.1:<resolved port>)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token (default: OPENCLAW_GATEWAY_TOKEN, config, then <state>/gateway.token)')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Password (default: OPENCLAW_GATEWAY_PASSWORD, config)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the final answer as JSON')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openclaw;models' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the configured models (as the running gateway resolved them)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'openclaw;models;list' {
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Gateway URL (default: ws://127.0.0.1:<resolved port>)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token (default: OPENCLAW_GATEWAY_TOKEN, config, then <state>/gateway.token)')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Password (default: OPENCLAW_GATEWAY_PASSWORD, config)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Timeout in milliseconds')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openclaw;models;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the configured models (as the running gateway resolved them)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'openclaw;models;help;list' {
            break
        }
        'openclaw;models;help;help' {
            break
        }
        'openclaw;sessions' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the sessions, latest change first')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Show a session''s transcript')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'openclaw;sessions;list' {
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Gateway URL (default: ws://127.0.0.1:<resolved port>)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token (default: OPENCLAW_GATEWAY_TOKEN, config, then <state>/gateway.token)')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Password (default: OPENCLAW_GATEWAY_PASSWORD, config)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Timeout in milliseconds')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openclaw;sessions;history' {
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'The most messages to show (newest)')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Gateway URL (default: ws://127.0.0.1:<resolved port>)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token (default: OPENCLAW_GATEWAY_TOKEN, config, then <state>/gateway.token)')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Password (default: OPENCLAW_GATEWAY_PASSWORD, config)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Timeout in milliseconds')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openclaw;sessions;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the sessions, latest change first')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Show a session''s transcript')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'openclaw;sessions;help;list' {
            break
        }
        'openclaw;sessions;help;history' {
            break
        }
        'openclaw;sessions;help;help' {
            break
        }
        'openclaw;dashboard' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('--no-open', '--no-open', [CompletionResultType]::ParameterName, 'Only print the address; do not open a browser')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openclaw;completions' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openclaw;__packaging-files' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openclaw;__sandbox-probe' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Use the dev profile (profile `dev`, default port 19001)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Mirror debug logs to stderr')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour output (NO_COLOR is honoured too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openclaw;help' {
            [CompletionResult]::new('gateway', 'gateway', [CompletionResultType]::ParameterValue, 'Run the gateway, or manage it as an OS service')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Prepare this account: a minimal config (gateway.mode "local"), the gateway token, the workspace')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the gateway service and whether the gateway answers (a summary of `gateway status`)')
            [CompletionResult]::new('health', 'health', [CompletionResultType]::ParameterValue, 'Ask the running gateway for its health (as `gateway health`)')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Audit the installation and repair what is wrong')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Show the gateway''s log (tails it over the gateway connection)')
            [CompletionResult]::new('agent', 'agent', [CompletionResultType]::ParameterValue, 'Run one agent turn through the gateway and print the answer')
            [CompletionResult]::new('models', 'models', [CompletionResultType]::ParameterValue, 'The models the gateway can use')
            [CompletionResult]::new('sessions', 'sessions', [CompletionResultType]::ParameterValue, 'The gateway''s chat sessions')
            [CompletionResult]::new('dashboard', 'dashboard', [CompletionResultType]::ParameterValue, 'Print the Control UI''s address, signed in with the gateway token, and open it in a browser')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions')
            [CompletionResult]::new('__packaging-files', '__packaging-files', [CompletionResultType]::ParameterValue, 'Write the files distribution packages ship (units, man pages, completions) into a dir')
            [CompletionResult]::new('__sandbox-probe', '__sandbox-probe', [CompletionResultType]::ParameterValue, 'Run inside `gateway install`''s sandbox probe unit: check the sandbox, send READY=1')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'openclaw;help;gateway' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the gateway in the foreground (what the service runs)')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install the gateway as a service (systemd user unit, LaunchAgent or scheduled task)')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Stop and remove the service; config, state and logs are kept')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Start the installed service')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the installed service')
            [CompletionResult]::new('restart', 'restart', [CompletionResultType]::ParameterValue, 'Restart the installed service')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the service (supervisor view) and whether the gateway answers (RPC view)')
            [CompletionResult]::new('health', 'health', [CompletionResultType]::ParameterValue, 'Ask the running gateway for its health')
            [CompletionResult]::new('call', 'call', [CompletionResultType]::ParameterValue, 'Call a gateway method and print its result')
            break
        }
        'openclaw;help;gateway;run' {
            break
        }
        'openclaw;help;gateway;install' {
            break
        }
        'openclaw;help;gateway;uninstall' {
            break
        }
        'openclaw;help;gateway;start' {
            break
        }
        'openclaw;help;gateway;stop' {
            break
        }
        'openclaw;help;gateway;restart' {
            break
        }
        'openclaw;help;gateway;status' {
            break
        }
        'openclaw;help;gateway;health' {
            break
        }
        'openclaw;help;gateway;call' {
            break
        }
        'openclaw;help;setup' {
            break
        }
        'openclaw;help;status' {
            break
        }
        'openclaw;help;health' {
            break
        }
        'openclaw;help;doctor' {
            break
        }
        'openclaw;help;logs' {
            break
        }
        'openclaw;help;agent' {
            break
        }
        'openclaw;help;models' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the configured models (as the running gateway resolved them)')
            break
        }
        'openclaw;help;models;list' {
            break
        }
        'openclaw;help;sessions' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the sessions, latest change first')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Show a session''s transcript')
            break
        }
        'openclaw;help;sessions;list' {
            break
        }
        'openclaw;help;sessions;history' {
            break
        }
        'openclaw;help;dashboard' {
            break
        }
        'openclaw;help;completions' {
            break
        }
        'openclaw;help;__packaging-files' {
            break
        }
        'openclaw;help;__sandbox-probe' {
            break
        }
        'openclaw;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
