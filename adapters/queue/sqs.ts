/**
 * JobQueue on Amazon SQS (cloud) — or any SQS-compatible endpoint (fauxqs in tests).
 *
 * Queue setup is infra's job, not this adapter's: the queue must have a RedrivePolicy
 * (deadLetterTargetArn + maxReceiveCount = SERVICE.queue.maxReceives); `deadLetters()` finds the DLQ from it.
 * Standard queue: per-job delay, no dedup (duplicates possible; consumers are idempotent anyway).
 * FIFO queue (`….fifo`): dedup (MessageDeduplicationId), no per-job delay. Each job is its own message group
 * (group = dedupId or a fresh UUID), so one slow job never blocks the others.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { SERVICE } from '../../shared/config.ts';
import { SentinelError } from '../../shared/errors.ts';
import {
  checkReceipt,
  checkReceiveOptions,
  checkSendOptions,
  checkVisibilitySeconds,
  encodeJobBody,
  type DeadLetter,
  type JobQueue,
  type ReceivedJob,
  type ReceiveOptions,
  type SendOptions,
} from '../../shared/ports/job-queue.ts';

export interface SqsJobQueueOptions {
  queueUrl: string;
  /** A configured client; otherwise one is made from `endpoint`/`region` and the SDK's credential chain. */
  client?: SQSClient;
  /** Custom endpoint (emulators), e.g. http://127.0.0.1:4566. */
  endpoint?: string;
  region?: string;
  /** Static credentials (emulators); unset = the SDK's default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  receiveDefaults?: Partial<Required<ReceiveOptions>>;
}

/** SQS error names meaning "this receipt handle is no good". */
const RECEIPT_ERRORS = new Set(['ReceiptHandleIsInvalid', 'InvalidParameterValue', 'MessageNotInflight', 'InvalidReceiptHandle']);

export class SqsJobQueue<T> implements JobQueue<T> {
  readonly kind = 'sqs';
  readonly capabilities: { dedup: boolean; delay: boolean };

  readonly #client: SQSClient;
  readonly #ownsClient: boolean;
  readonly #queueUrl: string;
  readonly #fifo: boolean;
  readonly #defaults: Required<ReceiveOptions>;
  /** Aborts long polls in flight when the queue is closed. */
  readonly #abort = new AbortController();
  #dlqUrl: Promise<string> | undefined;

  constructor(options: SqsJobQueueOptions) {
    if (!options.queueUrl) throw new SentinelError('CONFIG', 'SqsJobQueue needs a queueUrl.');
    this.#queueUrl = options.queueUrl;
    this.#fifo = options.queueUrl.endsWith('.fifo');
    this.capabilities = Object.freeze({ dedup: this.#fifo, delay: !this.#fifo });
    this.#ownsClient = !options.client;
    this.#client =
      options.client ??
      new SQSClient({
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(options.region ? { region: options.region } : {}),
        ...(options.credentials ? { credentials: { ...options.credentials } } : {}),
      });
    this.#defaults = {
      waitSeconds: options.receiveDefaults?.waitSeconds ?? SERVICE.queue.waitSeconds,
      visibilitySeconds: options.receiveDefaults?.visibilitySeconds ?? SERVICE.queue.visibilitySeconds,
      max: options.receiveDefaults?.max ?? SERVICE.queue.maxMessages,
    };
  }

  async send(body: T, options?: SendOptions): Promise<string> {
    const { dedupId, delaySeconds } = checkSendOptions(options);
    if (this.#fifo && delaySeconds !== undefined && delaySeconds > 0) {
      throw new SentinelError('UNSUPPORTED', 'SQS FIFO queues do not support a per-job delay (delaySeconds).');
    }
    const out = await this.#client.send(
      new SendMessageCommand({
        QueueUrl: this.#queueUrl,
        MessageBody: encodeJobBody(body),
        ...(this.#fifo
          ? {
              MessageDeduplicationId: dedupId ?? globalThis.crypto.randomUUID(),
              MessageGroupId: dedupId ?? globalThis.crypto.randomUUID(),
            }
          : {
              ...(delaySeconds !== undefined ? { DelaySeconds: delaySeconds } : {}),
              ...(dedupId !== undefined
                ? { MessageAttributes: { dedupId: { DataType: 'String', StringValue: dedupId } } }
                : {}),
            }),
      }),
    );
    if (!out.MessageId) throw new SentinelError('QUEUE_ERROR', 'SQS SendMessage returned no MessageId.');
    return out.MessageId;
  }

  async receive(options?: ReceiveOptions): Promise<ReceivedJob<T>[]> {
    const opts = checkReceiveOptions(options, this.#defaults);
    const messages = await this.#receiveRaw(this.#queueUrl, opts.max, opts.waitSeconds, opts.visibilitySeconds);
    return messages.map((m) => ({
      id: m.MessageId!,
      receipt: m.ReceiptHandle!,
      body: parseBody<T>(m),
      receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
    }));
  }

  async #receiveRaw(queueUrl: string, max: number, waitSeconds: number, visibilitySeconds: number): Promise<Message[]> {
    if (this.#abort.signal.aborted) return [];
    try {
      const out = await this.#client.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: max,
          WaitTimeSeconds: waitSeconds,
          VisibilityTimeout: visibilitySeconds,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
        { abortSignal: this.#abort.signal },
      );
      return out.Messages ?? [];
    } catch (error) {
      if (this.#abort.signal.aborted) return [];
      throw error;
    }
  }

  async ack(receipt: string): Promise<void> {
    checkReceipt(receipt);
    await this.#withReceipt(() =>
      this.#client.send(new DeleteMessageCommand({ QueueUrl: this.#queueUrl, ReceiptHandle: receipt })),
    );
  }

  async extendVisibility(receipt: string, seconds: number): Promise<void> {
    checkReceipt(receipt);
    checkVisibilitySeconds(seconds);
    await this.#withReceipt(() =>
      this.#client.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: this.#queueUrl, ReceiptHandle: receipt, VisibilityTimeout: seconds }),
      ),
    );
  }

  async deadLetters(options: { max?: number } = {}): Promise<DeadLetter<T>[]> {
    const max = options.max ?? 10;
    if (!Number.isInteger(max) || max < 1 || max > 1000) {
      throw new SentinelError('INVALID_ARGUMENT', 'max must be an integer from 1 to 1000.', { max });
    }
    const dlqUrl = await this.dlqUrl();
    // Peek: receive with visibility 0 so the messages stay available; SQS samples servers, so a few
    // rounds are needed to see most of a small DLQ. Dedup by MessageId.
    const seen = new Map<string, DeadLetter<T>>();
    for (let round = 0; round < 5 && seen.size < max; round++) {
      const batch = await this.#receiveRaw(dlqUrl, Math.min(10, max - seen.size), 0, 0);
      if (batch.length === 0 && round > 0) break;
      for (const m of batch) {
        if (!seen.has(m.MessageId!)) {
          seen.set(m.MessageId!, {
            id: m.MessageId!,
            body: parseBody<T>(m),
            receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 0),
          });
        }
      }
    }
    return [...seen.values()].slice(0, max);
  }

  /** URL of the dead-letter queue named by this queue's RedrivePolicy (CONFIG error when there is none). */
  dlqUrl(): Promise<string> {
    this.#dlqUrl ??= this.#findDlqUrl().catch((error) => {
      this.#dlqUrl = undefined; // don't cache a failure
      throw error;
    });
    return this.#dlqUrl;
  }

  async #findDlqUrl(): Promise<string> {
    const { Attributes } = await this.#client.send(
      new GetQueueAttributesCommand({ QueueUrl: this.#queueUrl, AttributeNames: ['RedrivePolicy'] }),
    );
    const policy = Attributes?.RedrivePolicy;
    if (!policy) {
      throw new SentinelError('CONFIG', `SQS queue ${this.#queueUrl} has no RedrivePolicy, so nothing is dead-lettered.`);
    }
    const arn = String((JSON.parse(policy) as { deadLetterTargetArn?: unknown }).deadLetterTargetArn ?? '');
    // arn:aws:sqs:<region>:<account>:<name>
    const parts = arn.split(':');
    if (parts.length !== 6 || parts[2] !== 'sqs') {
      throw new SentinelError('CONFIG', `RedrivePolicy of ${this.#queueUrl} has an invalid deadLetterTargetArn "${arn}".`);
    }
    const { QueueUrl } = await this.#client.send(
      new GetQueueUrlCommand({ QueueName: parts[5], QueueOwnerAWSAccountId: parts[4] }),
    );
    if (!QueueUrl) throw new SentinelError('CONFIG', `Dead-letter queue ${arn} not found.`);
    return QueueUrl;
  }

  async close(): Promise<void> {
    this.#abort.abort();
    if (this.#ownsClient) this.#client.destroy();
  }

  async #withReceipt(call: () => Promise<unknown>): Promise<void> {
    try {
      await call();
    } catch (error) {
      const name = (error as { name?: string })?.name ?? '';
      if (RECEIPT_ERRORS.has(name) || name.endsWith('ReceiptHandleIsInvalid')) {
        throw new SentinelError('RECEIPT_INVALID', `SQS rejected the receipt handle (${name}).`, undefined, { cause: error });
      }
      throw error;
    }
  }
}

function parseBody<T>(message: Message): T {
  try {
    return JSON.parse(message.Body ?? 'null') as T;
  } catch (cause) {
    throw new SentinelError('QUEUE_ERROR', `Message ${message.MessageId} has a body that is not JSON.`, undefined, {
      cause,
    });
  }
}
