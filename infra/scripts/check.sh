#!/usr/bin/env bash
# npm run check:infra — every offline check of the cloud setup (nothing here talks to AWS):
#   1. sst install: SST's platform + providers into .sst/ (npm registry only; telemetry off, no AWS lookups);
#   2. tsc over sst.config.ts + infra/ (SST's types) and over infra/scripts (the repository's settings);
#   3. the Lambda bundle: size asserted, then loaded in a fresh Node process answering /health and /predict.
set -euo pipefail
cd "$(dirname "$0")/../.."
export SST_TELEMETRY_DISABLED=1 SST_SKIP_DEPENDENCY_CHECK=1 NO_BUN=1 AWS_EC2_METADATA_DISABLED=true
export SST_STAGE="${SST_STAGE:-check}"

echo "== sst install"
npx sst install
echo "== tsc: sst.config.ts + infra/"
npx tsc -p infra/tsconfig.json
echo "== tsc: infra/scripts"
npx tsc -p infra/scripts/tsconfig.json
echo "== lambda bundle"
node --import tsx tests/infra/lambda-bundle.ts
