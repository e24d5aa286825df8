// Preloaded into artillery (node -r / NODE_OPTIONS): its telemetry client, posthog-node, fails to load, so nothing
// leaves the machine (ARTILLERY_DISABLE_TELEMETRY alone still loads the client). artillery catches the error.
const Module = require('node:module');
const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === 'posthog-node' || request.startsWith('posthog-node/')) throw new Error('telemetry blocked by tests/load/block-telemetry.cjs');
  return load.call(this, request, ...rest);
};
