/** `sentinel train`'s "recordings to check first": out-of-fold misses grouped by recording, furthest first. */
import { describe, expect, it } from 'vitest';
import { labelsToCheck } from '../../cli/commands/train.ts';
import type { CvReport } from '../../shared/training/trainer.ts';

type Clip = CvReport['outOfFold'][number];
const clip = (group: string, label: Clip['label'], probability: number, classes?: Clip['classes']): Clip => ({ path: `${group}-${probability}.wav`, label, group, fold: 1, probability, ...(classes ? { classes } : {}) });
const cv = (outOfFold: Clip[]) => ({ outOfFold }) as CvReport;

describe('labelsToCheck', () => {
  const speech = [{ label: 'Speech', score: 0.85 }, { label: 'Narration, monologue', score: 0.46 }];
  const report = cv([
    clip('talk.wav', 'danger', 0.001, speech),
    clip('talk.wav', 'danger', 0.003, speech),
    clip('talk.wav', 'danger', 0.002, speech),
    clip('opera.wav', 'safe', 0.5),
    clip('scream.wav', 'danger', 0.9),
    clip('near.wav', 'danger', 0.09),
    clip('room.wav', 'safe', 0.01),
  ]);

  it('lists recordings with clips on the wrong side of the threshold, furthest first, with what is heard in them', () => {
    const lines = labelsToCheck(report, 0.1);
    expect(lines[0]).toMatch(/5 clips on the wrong side of 0\.100/);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(/^ {2}danger +3 clips P 0\.0010–0\.0030 +talk\.wav; hears Speech 85%, Narration, monologue 46%$/);
    expect(lines[2]).toMatch(/^ {2}safe +1 clip +P 0\.50 +opera\.wav$/);
    expect(lines[3]).toMatch(/near\.wav$/);
  });

  it('keeps to the count asked for, and says nothing when every clip is on its side', () => {
    expect(labelsToCheck(report, 0.1, 1)).toHaveLength(2);
    expect(labelsToCheck(cv([clip('a', 'danger', 0.9), clip('b', 'safe', 0.01)]), 0.1)).toEqual([]);
  });
});
