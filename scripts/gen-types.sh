#!/usr/bin/env bash
# Generates libs/api/generated (TypeScript types for proto/kiln/v1) with @grpc/proto-loader's generator.
# The generated folder is never edited by hand: change the protos and rerun `npm run gen`.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf libs/api/generated
npx proto-loader-gen-types --longs=Number --enums=String --defaults --oneofs \
  --grpcLib=@grpc/grpc-js --outDir=libs/api/generated -I proto -- kiln/v1/contract.proto kiln/v1/model.proto kiln/v1/tokens.proto kiln/v1/audit.proto kiln/v1/aliases.proto kiln/v1/events.proto kiln/v1/diff.proto kiln/v1/webhooks.proto kiln/v1/registry.proto kiln/v1/builder.proto kiln/v1/inference.proto
