/**
 * The backbone's own verdict as one feature: the highest logit among its danger classes (for the AudioSet backbone:
 * Screaming, Crying/sobbing, Whimper, Wail/moan, Gunshot, Machine gun). The logit of the highest class probability
 * is the highest logit (the sigmoid is monotonic), so this is AudioSet's "someone is in distress" score, zero-shot.
 *
 * Why a feature of its own: a head learns which of the 527 classes matter from the kinds of danger its data has, so
 * a kind the data lacks (dev's crying, once its only source is held out) gets no weight. A fixed share of the logit
 * for this score carries AudioSet's knowledge of every danger class to recordings unlike the training data
 * (docs/model-card.md: source-CV).
 */
import * as tf from './tf.ts';
import { invalidArgument } from '../errors.ts';

export interface ClassMaxArgs {
  /** Column indices (class ids) whose maximum is taken. */
  classes: number[];
  name?: string;
}

export class ClassMax extends tf.layers.Layer {
  static className = 'SentinelClassMax';
  readonly classes: number[];
  /** 0 on the classes, -1e9 elsewhere: a masked max (tf.gather's gradient has no wasm kernel, fine-tuning needs one). */
  private mask: tf.Tensor2D | undefined;

  constructor(args: ClassMaxArgs) {
    super({ name: args.name });
    if (!Array.isArray(args.classes) || args.classes.length === 0 || args.classes.some((c) => !Number.isInteger(c) || c < 0)) {
      throw invalidArgument('ClassMax needs a non-empty list of class indices.', { classes: args.classes });
    }
    this.classes = [...args.classes];
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0], 1];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor2D;
      if (!this.mask || this.mask.shape[1] !== x.shape[1]) {
        this.mask?.dispose();
        const values = new Float32Array(x.shape[1]).fill(-1e9);
        for (const c of this.classes) values[c] = 0;
        this.mask = tf.keep(tf.tensor2d(values, [1, x.shape[1]]));
      }
      return x.add(this.mask).max(1, true);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), classes: this.classes };
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    this.mask?.dispose();
    this.mask = undefined;
    return super.dispose();
  }
}
tf.serialization.registerClass(ClassMax);

/** The same score in plain JS for rows of logits (training computes features outside the graph). */
export function classMaxOf(logits: ArrayLike<number>, classes: readonly number[]): number {
  let best = -Infinity;
  for (const c of classes) best = Math.max(best, logits[c]);
  return best;
}

/**
 * A window's P(danger) with the class prior as its floor: at least the sigmoid of the backbone's danger score less
 * `floor` logits. The learnt part of a head knows only the kinds of sound its data had; trained without gunshots it
 * learns that impulsive sounds (knocks, clapping) are safe and pulls a gunshot far below what AudioSet says of it.
 * The floor caps how far it can overrule AudioSet's confident "someone is screaming / a gun fired". Pure: serving
 * (Detector) and the trainer's cross-validation apply the same function, so the threshold is chosen for it.
 */
export function priorFloored(probability: number, priorLogit: number, floor: number): number {
  return Math.max(probability, 1 / (1 + Math.exp(floor - priorLogit)));
}

/** The classes of a model's class prior (its ClassMax layer), or undefined when it has none. */
export function priorClassesOf(model: tf.LayersModel): readonly number[] | undefined {
  return (model.layers.find((l) => l instanceof ClassMax) as ClassMax | undefined)?.classes;
}
