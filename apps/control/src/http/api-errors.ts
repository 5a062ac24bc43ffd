import { BadRequestException, HttpStatus, PreconditionFailedException } from '@nestjs/common';
import type { ConfigFieldError } from '#config';

/** 400 with every field error listed, in the same shape for bodies and whole documents. */
export class InvalidInputException extends BadRequestException {
  constructor(
    readonly errors: readonly ConfigFieldError[],
    message = 'invalid input',
  ) {
    super({ statusCode: HttpStatus.BAD_REQUEST, error: 'Bad Request', message, errors });
  }
}

export class StaleRevisionException extends PreconditionFailedException {
  constructor(expected: number, current: number) {
    super(
      `If-Match names revision ${expected} but the current revision is ${current}; ` +
        're-read and retry',
    );
  }
}
