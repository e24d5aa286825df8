/**
 * The web console: `npm run build:web` (Vite, web/ -> web/dist) with the API's URL injected at build time as
 * VITE_API_BASE (web/src/api.ts), served by CloudFront from a private bucket.
 */
export function createWeb(args: { apiUrl: $util.Input<string> }) {
  return new sst.aws.StaticSite('Console', {
    path: '.',
    build: { command: 'npm run build:web', output: 'web/dist' },
    environment: { VITE_API_BASE: args.apiUrl },
  });
}
