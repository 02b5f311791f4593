#!/usr/bin/env bash
# Regenerates the Go stubs in gen/ from proto/ with buf generate (buf.gen.yaml) and protoc-gen-go /
# protoc-gen-go-grpc: the only way they are made; never edit them by hand. The plugins come from scripts/sdk-env.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ -z "${KILN_GO_PLUGINS_BIN:-}" ]; then
  eval "$(bash "$root/scripts/sdk-env")"
fi
cd "$here"
rm -rf gen
PATH=$KILN_GO_PLUGINS_BIN:$PATH "$root/node_modules/.bin/buf" generate --template buf.gen.yaml
echo "generated $(find gen -name '*.go' | wc -l) files in $here/gen" >&2
