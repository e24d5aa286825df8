/** Progress bars on stderr for long CLI work (cli-progress); silent when stderr is not a terminal or with --json. */
import cliProgress from 'cli-progress';

export interface Progress {
  update(label: string, done: number, total: number): void;
  stop(): void;
}

export function progressBar(enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { format: '{label} [{bar}] {value}/{total} {eta_formatted}', stream: process.stderr, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let current = '';
  let started = false;
  return {
    update(label, done, total) {
      if (label !== current) {
        if (started) bar.stop();
        bar.start(total, done, { label: label.padEnd(10) });
        current = label;
        started = true;
      } else bar.update(done, { label: label.padEnd(10) });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
