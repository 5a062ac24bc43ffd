import { HttpStatus } from '@nestjs/common';
import type { Response } from 'express';
import type { MutationOutcome } from '../revisions/revision.views';
import { etagOf } from './mutation-options';

/**
 * Status and ETag of a mutation: 201 when it created the resource, 200 otherwise. A dry run
 * keeps the ETag of the revision it was computed against (nothing changed).
 */
export function respondToMutation(
  response: Response,
  outcome: MutationOutcome,
  createdResource = false,
): MutationOutcome {
  if (outcome.outcome === 'dryRun') {
    response.setHeader('ETag', etagOf(outcome.revision.number - 1));
    response.status(HttpStatus.OK);
  } else {
    response.setHeader('ETag', etagOf(outcome.revision.number));
    response.status(
      createdResource && outcome.outcome === 'created' ? HttpStatus.CREATED : HttpStatus.OK,
    );
  }
  return outcome;
}

/** Deletes answer 204 (ETag = the new revision); a dry run answers 200 with what would change. */
export function respondToDelete(
  response: Response,
  outcome: MutationOutcome,
): MutationOutcome | void {
  if (outcome.outcome === 'dryRun') return respondToMutation(response, outcome);
  response.setHeader('ETag', etagOf(outcome.revision.number));
  response.status(HttpStatus.NO_CONTENT);
}
