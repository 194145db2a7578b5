#!/usr/bin/env sh
# Entrypoint of the ngrok container: writes the agent config from the
# environment (generate_ngrok_config.sh), then replaces itself with the ngrok
# agent, so that `docker stop` signals reach ngrok directly.
#
# NGROK_OPTS (default --log=stdout) is passed on to `ngrok start`, except
# --domain/--url: those are `ngrok http` flags that `ngrok start` rejects, and
# the domain already lives in the generated config.
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
config=$(sh "$here/generate_ngrok_config.sh")

set -f
# shellcheck disable=SC2086 # NGROK_OPTS is a list of flags by design
set -- ${NGROK_OPTS---log=stdout}
set +f

# Rotate through the arguments once, re-appending every one that is kept.
remaining=$#
while [ "$remaining" -gt 0 ]; do
    opt=$1
    shift
    remaining=$((remaining - 1))
    case $opt in
        --domain=* | --url=*) ;;
        --domain | --url)
            if [ "$remaining" -gt 0 ]; then
                shift
                remaining=$((remaining - 1))
            fi
            ;;
        *) set -- "$@" "$opt" ;;
    esac
done

exec ngrok start --config "$config" "$@" callconfirm
