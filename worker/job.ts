/**
 * The message between the API (producer) and the retraining worker (consumer). Only the session id and what to
 * train on travel: everything else (upload, parent, epochs, mode) is read from the session row, so a redelivered
 * or duplicated message can never disagree with the database.
 */
import { z } from 'zod';

/** retrain = the session's upload only; continue = the upload plus all earlier data, warm-started from the current
 *  model's head; existing = all stored data (ready uploads and feedback clips), no new upload. */
export const TRAINING_KINDS = ['retrain', 'continue', 'existing'] as const;
export type TrainingKind = (typeof TRAINING_KINDS)[number];

export const trainingJobSchema = z.object({
  session_id: z.string().min(1).max(200),
  kind: z.enum(TRAINING_KINDS),
});

export type TrainingJob = z.infer<typeof trainingJobSchema>;
