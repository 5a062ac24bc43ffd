// What changed between two revisions, in terms an operator reads: named things
// (datacenters, host types, components) are matched by name rather than position,
// and secrets only ever appear as REDACTED.
import diff from 'microdiff';
import type { MeridianConfigDocument } from './documents';
import { indexPath, keyPath, propertyPath } from './field-paths';
import { COMPONENT_SECRET_FIELDS, JWT_SECRET_FIELDS, REDACTED, redactConfig } from './secrets';

export interface ConfigChange {
  op: 'add' | 'remove' | 'change';
  /** e.g. `messageTtl`, `datacenters["dc2.example.com"].region`, `endpointOverrides["dc2.example.com"]` */
  path: string;
  before?: unknown;
  after?: unknown;
}

/** The arrays whose elements are matched by a name, and the field that names them. */
const KEYED_ARRAYS: Record<string, string> = {
  datacenters: 'localHost',
  hostTypes: 'name',
  components: 'domain',
};

// Stands in the "after" form for a secret that differs from the one before, so that
// the redacted forms differ exactly there; shown as REDACTED.
const CHANGED_SECRET = '\u0000changed-secret';

/**
 * The changes that turn `before` into `after` (`before` null: everything is added,
 * one change per top-level option). Paths: see {@link ConfigChange.path}. An
 * endpoint list is compared as a whole.
 */
export function diffConfigs(
  before: MeridianConfigDocument | null,
  after: MeridianConfigDocument,
): ConfigChange[] {
  const redactedAfter = redactConfig(after);
  if (before === null) {
    return Object.entries(redactedAfter).map(([key, value]) => ({
      op: 'add',
      path: propertyPath('', key),
      after: value,
    }));
  }
  markChangedSecrets(before, after, redactedAfter);
  const redactedBefore = redactConfig(before);
  const differences = diff(comparableForm(redactedBefore), comparableForm(redactedAfter));

  const changes: ConfigChange[] = [];
  const endpointListsSeen = new Set<string>();
  for (const difference of differences) {
    const segments = difference.path;
    if (segments[0] === 'endpointOverrides' && segments.length > 2) {
      const localHost = String(segments[1]);
      if (endpointListsSeen.has(localHost)) continue;
      endpointListsSeen.add(localHost);
      changes.push({
        op: 'change',
        path: keyPath('endpointOverrides', localHost),
        before: before.endpointOverrides[localHost],
        after: after.endpointOverrides[localHost],
      });
      continue;
    }
    const path = renderPath(segments);
    if (difference.type === 'CREATE')
      changes.push({ op: 'add', path, after: shown(difference.value) });
    else if (difference.type === 'REMOVE')
      changes.push({ op: 'remove', path, before: shown(difference.oldValue) });
    else
      changes.push({
        op: 'change',
        path,
        before: shown(difference.oldValue),
        after: shown(difference.value),
      });
  }
  return changes;
}

function markChangedSecrets(
  before: MeridianConfigDocument,
  after: MeridianConfigDocument,
  redactedAfter: MeridianConfigDocument,
): void {
  for (const field of JWT_SECRET_FIELDS) {
    const oldSecret = before.auth?.jwt?.[field];
    const newSecret = after.auth?.jwt?.[field];
    if (oldSecret !== undefined && newSecret !== undefined && oldSecret !== newSecret) {
      redactedAfter.auth.jwt[field] = CHANGED_SECRET;
    }
  }
  const oldComponents = new Map((before.components ?? []).map((c) => [c.domain, c]));
  (after.components ?? []).forEach((component, index) => {
    const oldComponent = oldComponents.get(component.domain);
    for (const field of COMPONENT_SECRET_FIELDS) {
      const oldSecret = oldComponent?.[field];
      const newSecret = component[field];
      if (oldSecret !== undefined && newSecret !== undefined && oldSecret !== newSecret)
        redactedAfter.components[index][field] = CHANGED_SECRET;
    }
  });
}

/**
 * Keyed arrays become objects keyed by name. Objects keyed by operator-chosen
 * names have no prototype, so a name such as "constructor" is not mistaken for an
 * inherited property while comparing.
 */
function comparableForm(doc: MeridianConfigDocument): Record<string, unknown> {
  const form: Record<string, unknown> = { ...doc };
  for (const [field, nameField] of Object.entries(KEYED_ARRAYS)) {
    const keyed = Object.create(null) as Record<string, unknown>;
    for (const item of (doc as unknown as Record<string, Record<string, unknown>[]>)[field] ?? []) {
      keyed[String(item[nameField])] =
        field === 'datacenters' && item.labels
          ? { ...item, labels: withoutPrototype(item.labels) }
          : item;
    }
    form[field] = keyed;
  }
  form.endpointOverrides = withoutPrototype(doc.endpointOverrides ?? {});
  return form;
}

function withoutPrototype(record: object): Record<string, unknown> {
  return Object.assign(Object.create(null) as Record<string, unknown>, record);
}

function isKeyedSegment(segments: (string | number)[], index: number): boolean {
  if (index === 1) return segments[0] in KEYED_ARRAYS || segments[0] === 'endpointOverrides';
  return index === 3 && segments[0] === 'datacenters' && segments[2] === 'labels';
}

function renderPath(segments: (string | number)[]): string {
  let path = '';
  segments.forEach((segment, index) => {
    if (typeof segment === 'number') path = indexPath(path, segment);
    else if (isKeyedSegment(segments, index)) path = keyPath(path, segment);
    else path = propertyPath(path, segment);
  });
  return path;
}

/** A value as shown in a change: plain objects, secrets redacted. */
function shown(value: unknown): unknown {
  if (value === CHANGED_SECRET) return REDACTED;
  if (Array.isArray(value)) return value.map(shown);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, shown(item)]));
}
