/**
 * Training queue + dead-letter queue. A job is received by the GPU worker, which extends its visibility every
 * WORKER.heartbeatSeconds while training; the queue's visibility timeout is SERVICE.queue.visibilitySeconds (the
 * same value the worker is told through SENTINEL_QUEUE_VISIBILITY_SECONDS), so a dead worker's job reappears within
 * 5 minutes and a live one gets 10 heartbeats per timeout. After SERVICE.queue.maxReceives receives (3) a job moves
 * to the DLQ (adapters/queue/sqs.ts finds it from the RedrivePolicy). Standard queue: per-job retry delays work,
 * and duplicate deliveries are harmless (the worker fences sessions in the database).
 */
import { SERVICE, WORKER } from '../shared/config.ts';

// The heartbeat must fire several times per visibility timeout, or a healthy job would be redelivered mid-training.
if (WORKER.heartbeatSeconds * 3 > SERVICE.queue.visibilitySeconds) {
  throw new Error(`queue visibility ${SERVICE.queue.visibilitySeconds}s is too short for a ${WORKER.heartbeatSeconds}s heartbeat`);
}

export function createQueue() {
  const deadLetters = new sst.aws.Queue('TrainingDeadLetters', {
    transform: {
      // 14 days (SQS maximum): time for a person to look at a failed job.
      queue: { messageRetentionSeconds: 14 * 24 * 3600 },
    },
  });
  const queue = new sst.aws.Queue('Training', {
    visibilityTimeout: `${SERVICE.queue.visibilitySeconds} seconds`,
    dlq: { queue: deadLetters.arn, retry: SERVICE.queue.maxReceives },
    transform: {
      queue: {
        // Long polling at the queue level too (the worker asks for 20 s itself).
        receiveWaitTimeSeconds: SERVICE.queue.waitSeconds,
        messageRetentionSeconds: 4 * 24 * 3600,
      },
    },
  });
  return { queue, deadLetters };
}

export type Queues = ReturnType<typeof createQueue>;
