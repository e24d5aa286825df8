/** The service's ports: storage, queue and database behind interfaces (implementations in adapters/). */
export * from './blob-store.ts';
export * from './job-queue.ts';
export * from './db-schema.ts';
export * from './repository.ts';
