/**
 * Group-aware data splits. Clips cut from one source recording (a "group") share speaker, room and microphone, so a
 * group split across train and validation leaks and inflates scores: a group always lands whole on one side.
 * Within that constraint the splits balance danger examples (the rare class) first, then safe ones.
 */
import { invalidArgument } from '../errors.ts';
import type { Label } from '../types.ts';
import { createRng, type Rng } from './random.ts';

export interface SplitItem {
  /** Source recording (or any leakage unit); items with equal groups are never separated. */
  group: string;
  /** 1 / 'danger' = danger, 0 / 'safe' = safe. */
  label: 0 | 1 | Label;
}

/** Indices into the items array, ascending. */
export interface Split {
  train: number[];
  validation: number[];
}

interface GroupInfo {
  indices: number[];
  positives: number;
  negatives: number;
}

function collectGroups(items: readonly SplitItem[]): GroupInfo[] {
  if (!Array.isArray(items) || items.length === 0) throw invalidArgument('no items to split');
  const byGroup = new Map<string, GroupInfo>();
  items.forEach((item, i) => {
    const { group, label } = item ?? ({} as SplitItem);
    if (typeof group !== 'string') throw invalidArgument(`item ${i} has no string group`, { index: i });
    const positive = label === 1 || label === 'danger';
    if (!positive && label !== 0 && label !== 'safe') {
      throw invalidArgument(`item ${i} has label ${String(label)}, expected 0/1 or 'safe'/'danger'`, { index: i });
    }
    let g = byGroup.get(group);
    if (!g) byGroup.set(group, (g = { indices: [], positives: 0, negatives: 0 }));
    g.indices.push(i);
    if (positive) g.positives++;
    else g.negatives++;
  });
  // Map order is first appearance: deterministic for a given input order.
  return [...byGroup.values()];
}

const size = (g: GroupInfo) => g.positives + g.negatives;
const sortedIndices = (gs: GroupInfo[]) => gs.flatMap((g) => g.indices).sort((a, b) => a - b);

/**
 * k folds for cross-validation: fold f validates on its groups and trains on all others; every item is in exactly one
 * validation set. Groups are taken in a seeded random order, then stably by danger count and size (largest first, as
 * in longest-processing-time scheduling) and each goes to the fold that currently has the fewest danger items (for a
 * group with danger) or the fewest safe items (for a safe-only group); ties by fewest items, then at random.
 * With fewer danger groups than k, some folds have no danger item.
 */
export function groupKFold(items: readonly SplitItem[], k: number, seed: number): Split[] {
  const groups = collectGroups(items);
  if (!Number.isInteger(k) || k < 2) throw invalidArgument(`k is ${String(k)}, expected an integer >= 2`);
  if (k > groups.length) {
    throw invalidArgument(`k = ${k} folds need at least ${k} groups; there are ${groups.length}`, { k, groups: groups.length });
  }
  const rng = createRng(seed);
  const order = rng
    .shuffle(groups)
    .sort((a, b) => b.positives - a.positives || size(b) - size(a)); // Array.prototype.sort is stable (ES2019)
  const folds = Array.from({ length: k }, () => ({ groups: [] as GroupInfo[], positives: 0, negatives: 0 }));
  for (const g of order) {
    const load = (f: (typeof folds)[number]) => (g.positives > 0 ? f.positives : f.negatives);
    const best = pickMin(folds, (f) => [load(f), f.positives + f.negatives], rng);
    best.groups.push(g);
    best.positives += g.positives;
    best.negatives += g.negatives;
  }
  return folds.map((fold, f) => ({
    validation: sortedIndices(fold.groups),
    train: sortedIndices(folds.filter((_, o) => o !== f).flatMap((o) => o.groups)),
  }));
}

/** The element with the lexicographically smallest key; exact ties broken at random. */
function pickMin<T>(xs: T[], key: (x: T) => number[], rng: Rng): T {
  let best: T[] = [];
  let bestKey: number[] | null = null;
  for (const x of xs) {
    const kx = key(x);
    const cmp = bestKey === null ? -1 : compareKeys(kx, bestKey);
    if (cmp < 0) {
      best = [x];
      bestKey = kx;
    } else if (cmp === 0) best.push(x);
  }
  return best.length === 1 ? best[0] : rng.choice(best);
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/**
 * One train/validation split holding out about `valFraction` of the danger items and of the safe items, whole groups
 * only. Groups are visited in a seeded random order; each joins validation if that brings validation closer to its
 * targets (danger and safe deviations, each relative to its class size). Both sides are non-empty.
 */
export function groupTrainValSplit(items: readonly SplitItem[], valFraction: number, seed: number): Split {
  const groups = collectGroups(items);
  if (typeof valFraction !== 'number' || !(valFraction > 0 && valFraction < 1)) {
    throw invalidArgument(`valFraction is ${String(valFraction)}, expected a number strictly between 0 and 1`);
  }
  if (groups.length < 2) throw invalidArgument(`a split needs at least 2 groups; there is ${groups.length}`);
  const totalPos = groups.reduce((s, g) => s + g.positives, 0);
  const totalNeg = groups.reduce((s, g) => s + g.negatives, 0);
  const targetPos = totalPos * valFraction;
  const targetNeg = totalNeg * valFraction;
  const cost = (pos: number, neg: number) =>
    Math.abs(pos - targetPos) / Math.max(totalPos, 1) + Math.abs(neg - targetNeg) / Math.max(totalNeg, 1);

  const order = createRng(seed).shuffle(groups);
  const val: GroupInfo[] = [];
  const train: GroupInfo[] = [];
  let pos = 0;
  let neg = 0;
  for (const g of order) {
    if (cost(pos + g.positives, neg + g.negatives) < cost(pos, neg)) {
      val.push(g);
      pos += g.positives;
      neg += g.negatives;
    } else train.push(g);
  }
  // Degenerate data (e.g. one huge group) can leave a side empty: move the smallest group across.
  if (val.length === 0) val.push(takeSmallest(train));
  if (train.length === 0) train.push(takeSmallest(val));
  return { train: sortedIndices(train), validation: sortedIndices(val) };
}

function takeSmallest(gs: GroupInfo[]): GroupInfo {
  let at = 0;
  for (let i = 1; i < gs.length; i++) if (size(gs[i]) < size(gs[at])) at = i;
  return gs.splice(at, 1)[0];
}
