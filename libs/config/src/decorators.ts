// The building blocks of the option classes. Each rule is one class-validator
// constraint with one message, so a bad value gets one clear error rather than a
// pile of overlapping ones ("must be an integer", "must not be less than ...").
import 'reflect-metadata';
import { plainToInstance, Transform } from 'class-transformer';
import { ValidateBy, ValidateNested, type ValidationArguments } from 'class-validator';
import { isValidDomainName, normalizeDomain } from './domain-names';
import {
  isObjectLike,
  MUST_BE_ARRAY,
  MUST_BE_OBJECT,
  registerRecordChecker,
  TRANSFORM_OPTIONS,
  type RecordChecker,
} from './validation-engine';

/** Returns what is wrong with the value, or null when it is fine. */
type Problem = (value: unknown, args: ValidationArguments) => string | null;

export function Rule(name: string, problem: Problem): PropertyDecorator {
  return ValidateBy({
    name,
    validator: {
      validate: (value: unknown, args?: ValidationArguments) => problem(value, args!) === null,
      defaultMessage: (args?: ValidationArguments) => problem(args!.value, args!) ?? 'is invalid',
    },
  });
}

function compose(...decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, key) => decorators.forEach((decorate) => decorate(target, key));
}

export interface IntegerRange {
  min: number;
  max: number;
}

// Read by the documentation test, which checks docs/configuration.md states the same ranges.
const integerRanges = new Map<object, Map<string, IntegerRange>>();

/** The integer options of a class (and its parents) with their ranges. */
export function integerRangesOf(cls: abstract new () => object): ReadonlyMap<string, IntegerRange> {
  const merged = new Map<string, IntegerRange>();
  for (
    let c: object | null = cls;
    c && c !== Object;
    c = Object.getPrototypeOf(c) as object | null
  ) {
    for (const [key, range] of integerRanges.get(c) ?? [])
      if (!merged.has(key)) merged.set(key, range);
  }
  return merged;
}

/**
 * Whether `object[key]` is an integer inside the range declared for it. Rules that
 * compare two options use it to stay silent while either one is already reported.
 */
export function hasIntegerInRange(object: object, key: string): boolean {
  const range = integerRangesOf(object.constructor as abstract new () => object).get(key);
  const value = (object as Record<string, unknown>)[key];
  return (
    range !== undefined &&
    Number.isInteger(value) &&
    (value as number) >= range.min &&
    (value as number) <= range.max
  );
}

export function IntRange(min: number, max: number): PropertyDecorator {
  const rule = Rule('intRange', (value) =>
    Number.isInteger(value) && (value as number) >= min && (value as number) <= max
      ? null
      : `must be an integer from ${min} to ${max}`,
  );
  return (target, key) => {
    const owner = target.constructor;
    if (!integerRanges.has(owner)) integerRanges.set(owner, new Map());
    integerRanges.get(owner)!.set(String(key), { min, max });
    rule(target, key);
  };
}

export function Bool(): PropertyDecorator {
  return Rule('isBoolean', (value) =>
    typeof value === 'boolean' ? null : 'must be true or false',
  );
}

export function OneOf(values: readonly string[]): PropertyDecorator {
  return Rule('isOneOf', (value) =>
    values.includes(value as string)
      ? null
      : `must be one of: ${values.map((v) => JSON.stringify(v)).join(', ')}`,
  );
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

export function textProblem(value: unknown, min: number, max: number): string | null {
  if (value === undefined) return 'is required';
  if (typeof value !== 'string') return 'must be a string';
  if (value.length < min || value.length > max) {
    return min === max
      ? `must be ${min} characters long`
      : `must be ${min} to ${max} characters long`;
  }
  if (CONTROL_CHARACTERS.test(value)) return 'must not contain control characters';
  return null;
}

export function Text(min: number, max: number): PropertyDecorator {
  return Rule('isText', (value) => textProblem(value, min, max));
}

export function Matches(name: string, pattern: RegExp, description: string): PropertyDecorator {
  return Rule(name, (value) => {
    if (value === undefined) return 'is required';
    if (typeof value !== 'string') return 'must be a string';
    return pattern.test(value) ? null : description;
  });
}

/** Trims and lower-cases a string on input (domains, host names, IP literals). */
export function NormalisedString(): PropertyDecorator {
  return Transform(
    ({ value }: { value: unknown }) => (typeof value === 'string' ? normalizeDomain(value) : value),
    {
      toClassOnly: true,
    },
  );
}

/** A domain option: normalised on input, then required to be a valid DNS name. */
export function DomainName(): PropertyDecorator {
  return compose(
    NormalisedString(),
    Rule('isDomainName', (value) => {
      if (value === undefined) return 'is required';
      if (typeof value !== 'string') return 'must be a string';
      return isValidDomainName(value) ? null : 'must be a valid domain name';
    }),
  );
}

type Constructor<T> = new () => T;

/**
 * Builds a nested instance from the raw input value. Anything that is not an object
 * is left as it is for the type guard to report.
 */
export function toInstance<T extends object>(cls: Constructor<T>, raw: unknown): unknown {
  return isObjectLike(raw) ? plainToInstance(cls, raw, TRANSFORM_OPTIONS) : raw;
}

function rawValue({ obj, key }: { obj: unknown; key: string }): unknown {
  return (obj as Record<string, unknown>)[key];
}

/** An option whose value is an object of class `cls` (its missing fields take defaults). */
export function NestedObject<T extends object>(cls: () => Constructor<T>): PropertyDecorator {
  return compose(
    Transform((params) => toInstance(cls(), rawValue(params)), { toClassOnly: true }),
    Rule(MUST_BE_OBJECT, (value) => {
      if (value === undefined) return 'is required';
      return isObjectLike(value) ? null : 'must be an object';
    }),
    ValidateNested(),
  );
}

/** An option whose value is an array of objects of class `cls`. */
export function NestedArray<T extends object>(
  cls: () => Constructor<T>,
  size: { min: number; max: number },
): PropertyDecorator {
  return compose(
    Transform(
      (params) => {
        const raw = rawValue(params);
        // A nested array would be walked into by class-validator as if it were the
        // element; null makes it a plain "must be an object" error instead.
        return Array.isArray(raw)
          ? raw.map((item: unknown) => (Array.isArray(item) ? null : toInstance(cls(), item)))
          : raw;
      },
      { toClassOnly: true },
    ),
    Rule(MUST_BE_ARRAY, (value) => {
      if (value === undefined) return 'is required';
      return Array.isArray(value) ? null : 'must be an array';
    }),
    Rule('arrayLength', (value) =>
      Array.isArray(value) ? lengthProblem(value.length, size) : null,
    ),
    ValidateNested({ each: true }),
  );
}

export function lengthProblem(length: number, size: { min: number; max: number }): string | null {
  if (length < size.min)
    return size.min === 1 ? 'must not be empty' : `must have at least ${size.min} entries`;
  if (length > size.max) return `must have at most ${size.max} entries`;
  return null;
}

/**
 * An option whose value is an object with keys chosen by the operator. `copy` builds
 * the instance-side value from the raw input; `check` lists every problem with a
 * path relative to the option.
 */
export function RecordOption(
  name: string,
  copy: (raw: unknown) => unknown,
  check: RecordChecker,
): PropertyDecorator {
  registerRecordChecker(name, check);
  return compose(
    Transform((params) => copy(rawValue(params)), { toClassOnly: true }),
    Rule(name, (value) => {
      const problems = check(value);
      if (problems.length === 0) return null;
      return problems
        .map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`))
        .join('; ');
    }),
  );
}
