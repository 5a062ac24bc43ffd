// Control validates REST bodies with Nest's global ValidationPipe and reports them with
// flattenValidationErrors; those 400s must read exactly like validateBody's errors.
import { BadRequestException, ValidationPipe } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import {
  ComponentBody,
  DatacenterBody,
  EndpointListBody,
  HostTypeBody,
  MeridianConfig,
  SettingsConfig,
} from './config-classes';
import { validateBody } from './validate-config';
import { flattenValidationErrors, type ConfigFieldError } from './validation-engine';

const pipe = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: (errors) =>
    new BadRequestException({ errors: flattenValidationErrors(errors) }),
});

async function pipeErrors(cls: new () => object, body: unknown): Promise<ConfigFieldError[]> {
  try {
    await pipe.transform(body, { type: 'body', metatype: cls });
    return [];
  } catch (error) {
    return ((error as BadRequestException).getResponse() as { errors: ConfigFieldError[] }).errors;
  }
}

function bodyErrors(cls: new () => object, body: unknown): ConfigFieldError[] {
  const result = validateBody(cls, body);
  return result.ok ? [] : result.errors;
}

const CASES: [string, new () => object, unknown][] = [
  [
    'component: missing secret, bad balancing, unknown field',
    ComponentBody,
    { balancing: 'rr', port: 1 },
  ],
  ['datacenter: bad labels and region', DatacenterBody, { region: '', labels: { 'a b': 1 } }],
  [
    'endpoints: bad element, bad port, unknown field',
    EndpointListBody,
    { endpoints: [5, { host: 'a', port: 0, x: 1 }] },
  ],
  [
    'host type: bad bounce override',
    HostTypeBody,
    { bounce: { maxRetries: 99, x: 1 }, messageTtl: 'x' },
  ],
  [
    'settings: nested problems and a type error',
    SettingsConfig,
    { globalHost: 'x y', connections: 5, redis: { refreshAfterS: 500 } },
  ],
  [
    'whole document: arrays, records and nested unknown fields',
    MeridianConfig,
    {
      globalHost: 'example.com',
      datacenters: [{ localHost: 'dc1.example.com', zone: 1 }, 'x'],
      endpointOverrides: { 'dc1.example.com': [{ host: 'a', port: 70000 }], bad: [] },
      hostTypes: [{ name: '' }],
      components: [{ domain: 'muc.example.com', secret: 'short' }],
      auth: { jwt: { algorithm: 'RS256' } },
    },
  ],
];

describe('the REST ValidationPipe with flattenValidationErrors', () => {
  it.each(CASES)('%s: same errors as validateBody', async (_name, cls, body) => {
    const expected = bodyErrors(cls, body);
    expect(expected.length).toBeGreaterThan(0);
    expect(await pipeErrors(cls, body)).toEqual(expected);
  });

  it('accepts valid bodies and applies defaults', async () => {
    const value = (await pipe.transform(
      { secret: 'secret-1' },
      { type: 'body', metatype: ComponentBody },
    )) as ComponentBody;
    expect(value).toBeInstanceOf(ComponentBody);
    expect(value.hidden).toBe(false);
  });
});
