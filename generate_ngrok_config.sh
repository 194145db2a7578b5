#!/usr/bin/env sh
# Writes the ngrok agent configuration (config format version 3) for the
# callconfirm webhook tunnel from the environment, and prints its path.
#
# The tunnel serves the static ngrok domain over https, forwards to the app
# and makes ngrok's edge demand HTTP basic auth admin:$WEBHOOK_AUTH_TOKEN
# before anything reaches the app.
#
# Required environment:
#   NGROK_AUTHTOKEN     authtoken of the ngrok account
#   WEBHOOK_AUTH_TOKEN  basic-auth password of user "admin"; ngrok accepts
#                       8 to 128 printable characters
#   NGROK_DOMAIN        the static domain, e.g. your-domain.ngrok-free.app;
#                       or give it as --domain=... (or --url=...) in NGROK_OPTS
# Optional environment:
#   NGROK_OPTS          agent flags; only the domain is read from them here
#   NGROK_UPSTREAM      where the tunnel forwards to (default app:5678, the
#                       compose service); host:port or a full http(s) URL
#   NGROK_CONFIG        output file (default $HOME/.config/ngrok/ngrok.yml,
#                       where the ngrok agent itself looks on Linux)
#   NGROK_CONFIG_STYLE  "endpoints" (default) or "tunnels". ngrok's config v3
#                       docs deprecate "tunnels" in favour of "endpoints"
#                       (agent >= 3.16.0); "tunnels" is kept for older agents.
#   WEBHOOK_BASE_URL    only compared with the domain, to warn on a mismatch
#
# Every value is written as a YAML single-quoted scalar, so quotes, colons,
# '#' and backslashes in a token cannot change the structure of the file.
set -eu

prog=generate_ngrok_config.sh
placeholder_domain=your-domain.ngrok-free.app

# The domain given by --domain/--url in NGROK_OPTS, without scheme or slash.
domain_from_opts() {
    set -f
    # shellcheck disable=SC2086 # NGROK_OPTS is a list of flags by design
    set -- ${NGROK_OPTS:-}
    set +f
    found=''
    while [ "$#" -gt 0 ]; do
        case $1 in
            --domain=* | --url=*) found=${1#*=} ;;
            --domain | --url)
                if [ "$#" -ge 2 ]; then
                    found=$2
                    shift
                fi
                ;;
        esac
        shift
    done
    found=${found#https://}
    found=${found#http://}
    printf '%s' "${found%/}"
}

# True when the value holds only printable ASCII: a newline or another control
# character would end the YAML scalar, and ngrok rejects such credentials anyway.
# (The trailing '.' keeps command substitution from eating trailing newlines.)
is_printable_ascii() {
    rest=$(printf '%s' "$1" | LC_ALL=C tr -d ' -~'; printf '.')
    [ "$rest" = . ]
}

# The value as a YAML single-quoted scalar: inside one, only ' needs escaping,
# by doubling it. Values were checked to hold no newline.
yaml_quote() {
    printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"
}

# The host part of a URL: no scheme, path, port or user info.
url_host() {
    host=${1#*://}
    host=${host%%/*}
    host=${host##*@}
    printf '%s' "${host%%:*}"
}

# --- read and check the environment, reporting every problem at once ---

authtoken=${NGROK_AUTHTOKEN:-}
password=${WEBHOOK_AUTH_TOKEN:-}
domain=${NGROK_DOMAIN:-}
if [ -z "$domain" ]; then
    domain=$(domain_from_opts)
fi
upstream=${NGROK_UPSTREAM:-app:5678}
style=${NGROK_CONFIG_STYLE:-endpoints}

missing=''
[ -n "$authtoken" ] || missing="$missing NGROK_AUTHTOKEN"
[ -n "$password" ] || missing="$missing WEBHOOK_AUTH_TOKEN"
[ -n "$domain" ] || missing="$missing NGROK_DOMAIN"
if [ -n "$missing" ]; then
    {
        printf '%s: missing required environment variables:%s\n' "$prog" "$missing"
        printf '  (NGROK_DOMAIN may also be given as --domain=... in NGROK_OPTS; see .env.example)\n'
    } >&2
    exit 1
fi

problems=''
add_problem() {
    problems="$problems
  - $1"
}
for name in NGROK_AUTHTOKEN WEBHOOK_AUTH_TOKEN NGROK_DOMAIN NGROK_UPSTREAM; do
    case $name in
        NGROK_AUTHTOKEN) value=$authtoken ;;
        WEBHOOK_AUTH_TOKEN) value=$password ;;
        NGROK_DOMAIN) value=$domain ;;
        NGROK_UPSTREAM) value=$upstream ;;
    esac
    is_printable_ascii "$value" ||
        add_problem "$name must hold only printable ASCII characters (no newline or control character)"
done
if [ "$domain" = "$placeholder_domain" ]; then
    add_problem "NGROK_DOMAIN is still the placeholder $placeholder_domain: set your own static domain (NGROK_DOMAIN or --domain=... in NGROK_OPTS)"
fi
case $domain in
    */* | *' '*) add_problem "NGROK_DOMAIN must be a bare domain such as example.ngrok-free.app, got '$domain'" ;;
esac
if [ "${#password}" -lt 8 ] || [ "${#password}" -gt 128 ]; then
    add_problem "WEBHOOK_AUTH_TOKEN must be 8 to 128 characters long (ngrok's basic-auth limit), got ${#password}"
fi
case $style in
    endpoints)
        # basic-auth credentials in a traffic policy accept CEL interpolation,
        # so ngrok would evaluate a literal '${' instead of comparing it.
        case $password in
            *\$\{*) add_problem "WEBHOOK_AUTH_TOKEN must not contain '\${' (ngrok reads it as a CEL expression)" ;;
        esac
        ;;
    tunnels) ;;
    *) add_problem "NGROK_CONFIG_STYLE must be 'endpoints' or 'tunnels', got '$style'" ;;
esac
if [ -n "$problems" ]; then
    printf '%s: invalid configuration:%s\n' "$prog" "$problems" >&2
    exit 1
fi

if [ -n "${WEBHOOK_BASE_URL:-}" ]; then
    webhook_host=$(url_host "$WEBHOOK_BASE_URL")
    if [ "$webhook_host" != "$domain" ]; then
        printf '%s: warning: WEBHOOK_BASE_URL points at %s but the tunnel serves %s; 8x8 webhooks will not reach this tunnel\n' \
            "$prog" "$webhook_host" "$domain" >&2
    fi
fi

# --- write the file ---

config=${NGROK_CONFIG:-${HOME:-/tmp}/.config/ngrok/ngrok.yml}
case $upstream in
    *://*) upstream_url=$upstream ;;
    *) upstream_url="http://$upstream" ;;
esac

# The file holds the authtoken: only its owner may read it.
umask 077
mkdir -p "$(dirname -- "$config")"
tmp="$config.tmp.$$"
trap 'rm -f "$tmp"' EXIT

{
    printf '# Generated by %s from the environment; edits are overwritten on start.\n' "$prog"
    printf 'version: 3\n'
    printf 'agent:\n'
    printf '  authtoken: %s\n' "$(yaml_quote "$authtoken")"
    printf '  web_addr: 0.0.0.0:4040\n'
    if [ "$style" = endpoints ]; then
        printf 'endpoints:\n'
        printf '  - name: callconfirm\n'
        printf '    url: %s\n' "$(yaml_quote "https://$domain")"
        printf '    upstream:\n'
        printf '      url: %s\n' "$(yaml_quote "$upstream_url")"
        printf '    traffic_policy:\n'
        printf '      on_http_request:\n'
        printf '        - actions:\n'
        printf '            - type: basic-auth\n'
        printf '              config:\n'
        printf '                credentials:\n'
        printf '                  - %s\n' "$(yaml_quote "admin:$password")"
    else
        printf 'tunnels:\n'
        printf '  callconfirm:\n'
        printf '    proto: http\n'
        printf '    addr: %s\n' "$(yaml_quote "$upstream")"
        printf '    domain: %s\n' "$(yaml_quote "$domain")"
        printf '    basic_auth:\n'
        printf '      - %s\n' "$(yaml_quote "admin:$password")"
    fi
} >"$tmp"
mv -f -- "$tmp" "$config"
trap - EXIT

printf '%s\n' "$config"
