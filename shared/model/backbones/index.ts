/**
 * The backbones a model can stand on, as data: which front end feeds each, in which representation, and where
 * 'top' mode cuts it. Chosen by a model's sentinel.json (`backbone.name`), so training and serving look them up here
 * instead of branching on names. Weights are loaded by the entrypoints (cli/model.ts, the worker) from files.
 */
import type { FrontEndName } from '../../audio/frontends/index.ts';
import { TRAINING } from '../../config.ts';
import type { BackboneName, InputRepresentation } from '../types.ts';

export interface Backbone {
  name: BackboneName;
  /** The front end its input comes from. */
  frontEnd: FrontEndName;
  /** Representations it can read; the first is its default. */
  representations: readonly InputRepresentation[];
  /** Width multiplier of its published weights (recorded in the manifest). */
  alpha: number;
  /** 'top' mode: the first layer trained (its upper blocks). */
  topFrom: string;
  /**
   * 'top' mode on cached cut-layer maps (training/top.ts: plain convolutions and ReLUs, CPU friendly); otherwise the
   * upper blocks are fine-tuned through tfjs-layers from topFrom (hardswish and squeeze-excitation: a GPU's job).
   */
  cachedTop: boolean;
  /** Where its pretrained weights come from, recorded as the manifest's weightsSource. */
  weightsSource: string;
  /** Its own classes that mean danger by Sentinel's label policy (class-prior.ts); empty without a class head. */
  dangerClasses: readonly number[];
}

export const BACKBONES: Readonly<Record<BackboneName, Backbone>> = Object.freeze({
  mobilenetv2: {
    name: 'mobilenetv2',
    frontEnd: 'librosa',
    representations: ['grey128', 'magma224'],
    alpha: 0.35,
    topFrom: TRAINING.topFrom,
    cachedTop: true,
    weightsSource: 'keras-imagenet',
    dangerClasses: [],
  },
  'efficientat-mn04': {
    name: 'efficientat-mn04',
    frontEnd: 'kaldi',
    representations: ['logmel'],
    alpha: 0.4,
    // The last three inverted-residual blocks and the 384-channel conv: the AudioSet features' top.
    topFrom: 'features_13_expand',
    cachedTop: false,
    weightsSource: 'efficientat-mn04-audioset',
    // AudioSet's Screaming, Crying/sobbing, Whimper, Wail/moan, Gunshot/gunfire, Machine gun. Not Shout, Yell or
    // Children shouting: on dev they fire on crowds and play (safe), and zero-shot ranked dev better without them.
    dangerClasses: [14, 22, 24, 25, 427, 428],
  },
});

/** The backbone a representation belongs to when only the representation is known (older manifests, CLI flags). */
export function backboneForRepresentation(representation: InputRepresentation): Backbone {
  return Object.values(BACKBONES).find((b) => b.representations.includes(representation)) ?? BACKBONES.mobilenetv2;
}
