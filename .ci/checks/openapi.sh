#!/usr/bin/env bash
# Validates the OpenAPI document the service serves at /openapi.json against the OpenAPI
# specification, with the reference validator from PyPI (openapi-spec-validator).
# Run from anywhere: bash .ci/checks/openapi.sh
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/../.."

python3 -m openapi_spec_validator --help >/dev/null 2>&1 ||
    python3 -m pip install --quiet --disable-pip-version-check openapi-spec-validator

document=target/openapi.json
cargo run --quiet -- openapi >"${document}"
python3 -m openapi_spec_validator "${document}"
