/** A benchmark case. Add cases in tests/bench/cases/<area>.ts and register the module in tests/bench/registry.ts. */
export interface BenchCase {
  /** Unique name; also the key in `npm run bench -- --json` output. */
  name: string;
  /** Work items per run (e.g. clips in a batch); reported times are per item. Default 1. */
  perIteration?: number;
  /** Target for the per-item median, in ms; reported as pass/fail (informational, never fails the run). */
  targetMs?: number;
  /** Unit of a non-time figure (a `once` case returning e.g. MB); printed and kept in the JSON. Default: ms. */
  unit?: string;
  /** Short description printed with the results. */
  description?: string;
  /** Prepare inputs (not timed). */
  setup?(): void | Promise<void>;
  /**
   * Heavy or one-shot cases: run this many times with no warm-up and report the median. `run` may then return the
   * figure itself (a time measured inside, or a non-time figure such as MB), else its wall time is used.
   */
  once?: number;
  /** The timed work. */
  run(): void | number | Promise<void | number>;
  /** Release resources (not timed). */
  teardown?(): void;
}
