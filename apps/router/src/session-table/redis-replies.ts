// Running pipelines on the session table's client and checking every reply: a pipeline
// resolves even when some of its commands failed, and a half-written session must not be
// reported as written.
import type { ChainableCommander } from 'ioredis';
import { SessionTableUnavailableError } from './session-table-errors';

/** The replies of a pipeline in order; rejects if the pipeline or any command failed. */
export async function execChecked(
  pipeline: ChainableCommander,
  operation: string,
): Promise<unknown[]> {
  let results: [Error | null, unknown][] | null;
  try {
    results = await pipeline.exec();
  } catch (err) {
    throw new SessionTableUnavailableError(operation, { cause: err });
  }
  if (!results) throw new SessionTableUnavailableError(operation);
  const failed = results.find(([err]) => err !== null);
  if (failed) throw new SessionTableUnavailableError(operation, { cause: failed[0] });
  return results.map(([, reply]) => reply);
}

/** One command's reply; any failure becomes SessionTableUnavailableError. */
export async function checked<T>(command: Promise<T>, operation: string): Promise<T> {
  try {
    return await command;
  } catch (err) {
    throw new SessionTableUnavailableError(operation, { cause: err });
  }
}

/** Rejects with SessionTableUnavailableError when `work` takes longer than `ms`. */
export function withDeadline<T>(work: Promise<T>, ms: number, operation: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new SessionTableUnavailableError(operation, {
            cause: new Error(`no answer in ${ms} ms`),
          }),
        ),
      ms,
    );
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** `items` cut into batches of `size`, one pipeline each. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size)
    result.push(items.slice(start, start + size));
  return result;
}
