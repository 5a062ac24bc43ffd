// Runs class-transformer and class-validator the same way everywhere (control's
// REST bodies, whole documents, the router's snapshots) and turns their error trees
// into flat `{ path, message }` lists.
import 'reflect-metadata';
import { plainToInstance, type ClassTransformOptions } from 'class-transformer';
import { validateSync, type ValidationError, type ValidatorOptions } from 'class-validator';
import { indexPath, joinPath, propertyPath } from './field-paths';

/** One problem in a configuration document or request body. */
export interface ConfigFieldError {
  /** Where the problem is, e.g. `datacenters[1].localHost`; `''` is the whole input. */
  path: string;
  /** What is wrong, without repeating the path. */
  message: string;
}

/** An undefined property keeps the class default, as if the key were absent. */
export const TRANSFORM_OPTIONS: ClassTransformOptions = { exposeDefaultValues: true };

export const VALIDATOR_OPTIONS: ValidatorOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  validationError: { target: false, value: true },
};

/** Constraint names of the type guards on nested values (see decorators.ts). */
export const MUST_BE_OBJECT = 'mustBeObject';
export const MUST_BE_ARRAY = 'mustBeArray';
const TYPE_GUARDS = new Set([MUST_BE_OBJECT, MUST_BE_ARRAY]);

const NESTED_VALIDATION = 'nestedValidation';
const WHITELIST_VALIDATION = 'whitelistValidation';
const UNKNOWN_VALUE = 'unknownValue';

/** Deeper than any option; checked before class-transformer recurses into input. */
const MAX_INPUT_DEPTH = 16;

/**
 * Record-valued options (labels, endpointOverrides) are checked by one constraint on
 * the property. Its checker, registered here under the constraint name, lists the
 * problems with paths relative to the property, so flattening can report each one
 * where it is instead of one summary message.
 */
export type RecordChecker = (value: unknown) => ConfigFieldError[];
const recordCheckers = new Map<string, RecordChecker>();

export function registerRecordChecker(constraintName: string, checker: RecordChecker): void {
  recordCheckers.set(constraintName, checker);
}

export function isObjectLike(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Turns class-validator errors into path/message pairs, in the format of
 * {@link ConfigFieldError}. `basePath` is prefixed to every path. When a value has the
 * wrong type ("must be an object"), errors about its contents are left out.
 */
export function flattenValidationErrors(
  errors: ValidationError[],
  basePath = '',
): ConfigFieldError[] {
  const out: ConfigFieldError[] = [];
  for (const error of errors) visit(error, basePath, undefined, out);
  return dedupe(out);
}

function visit(
  error: ValidationError,
  parentPath: string,
  parentIsArray: boolean | undefined,
  out: ConfigFieldError[],
): void {
  const constraints = error.constraints ?? {};
  const names = Object.keys(constraints);
  const path =
    error.property === undefined ? parentPath : childPath(parentPath, error, parentIsArray, names);

  for (const name of names) {
    const checker = recordCheckers.get(name);
    if (checker && error.value !== undefined) {
      for (const problem of checker(error.value))
        out.push({ path: joinPath(path, problem.path), message: problem.message });
      continue;
    }
    out.push({ path, message: rewriteMessage(name, constraints[name], names) });
  }

  if (names.some((name) => TYPE_GUARDS.has(name))) return;
  const valueIsArray = 'value' in error ? Array.isArray(error.value) : undefined;
  for (const child of error.children ?? []) visit(child, path, valueIsArray, out);
}

function childPath(
  parentPath: string,
  error: ValidationError,
  parentIsArray: boolean | undefined,
  names: string[],
): string {
  const property = String(error.property);
  // An unknown field is a key of an object even when it looks like a number.
  const isIndex =
    parentIsArray ?? (/^\d+$/.test(property) && !names.includes(WHITELIST_VALIDATION));
  return isIndex && /^\d+$/.test(property)
    ? indexPath(parentPath, Number(property))
    : propertyPath(parentPath, property);
}

function rewriteMessage(name: string, message: string, names: string[]): string {
  switch (name) {
    case WHITELIST_VALIDATION:
      return 'unknown field';
    case NESTED_VALIDATION:
    case UNKNOWN_VALUE:
      return names.length > 1 ? '' : 'must be an object';
    default:
      return message;
  }
}

function dedupe(errors: ConfigFieldError[]): ConfigFieldError[] {
  const seen = new Set<string>();
  return errors.filter((error) => {
    if (error.message === '') return false;
    const key = `${error.path}\u0000${error.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export interface ShapeCheck<T> {
  /** Absent when the input could not be turned into an instance at all. */
  instance?: T;
  errors: ConfigFieldError[];
}

/**
 * Builds an instance of `cls` from untrusted input (defaults applied, domains
 * normalised) and validates it with the shared options. Returns the instance even
 * when it is invalid, so that cross-field rules can still look at it.
 */
export function checkShape<T extends object>(cls: new () => T, input: unknown): ShapeCheck<T> {
  if (!isObjectLike(input)) return { errors: [{ path: '', message: 'must be a JSON object' }] };
  const early = scanInput(input);
  if (early.tooDeep) return { errors: early.errors };
  const instance = plainToInstance(cls, early.clean, TRANSFORM_OPTIONS);
  const errors = flattenValidationErrors(validateSync(instance, VALIDATOR_OPTIONS));
  return { instance, errors: dedupe([...early.errors, ...errors]) };
}

/**
 * class-transformer skips `__proto__` and `constructor` keys (or trips over them),
 * so the whitelist would never see them; they are reported here and left out of the
 * copy that is transformed. The depth bound keeps hostile input from exhausting the
 * stack in the recursive transformers.
 */
function scanInput(input: Record<string, unknown>): {
  clean: Record<string, unknown>;
  errors: ConfigFieldError[];
  tooDeep: boolean;
} {
  const errors: ConfigFieldError[] = [];
  let tooDeep = false;
  const copy = (value: unknown, path: string, depth: number): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    if (depth > MAX_INPUT_DEPTH) {
      tooDeep = true;
      errors.push({ path, message: `is nested too deeply (more than ${MAX_INPUT_DEPTH} levels)` });
      return undefined;
    }
    if (Array.isArray(value))
      return value.map((item: unknown, index) => copy(item, indexPath(path, index), depth + 1));
    const clean: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const childPath = propertyPath(path, key);
      if (key === '__proto__' || key === 'constructor')
        errors.push({ path: childPath, message: 'unknown field' });
      else clean[key] = copy((value as Record<string, unknown>)[key], childPath, depth + 1);
    }
    return clean;
  };
  const clean = copy(input, '', 0) as Record<string, unknown>;
  return { clean, errors, tooDeep };
}
