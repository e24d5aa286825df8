// node-fetch in the API Lambda bundle (infra/scripts/build-lambda.ts aliases it here): tfjs-core requires it only when
// the platform has no fetch of its own, and Node 18+ has one; the real package (~0.3 MB with its URL tables) would
// only be parsed at every cold start.
module.exports = globalThis.fetch;
