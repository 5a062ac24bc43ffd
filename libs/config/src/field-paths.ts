// How a place in a configuration document is written in errors and diffs:
// `a.b` for object properties, `a[0]` for array positions, `a["key"]` for keys
// chosen by the operator (record keys, and in diffs the elements of keyed arrays).
// The root is the empty string.

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function propertyPath(base: string, name: string): string {
  if (!IDENTIFIER.test(name)) return keyPath(base, name);
  return base === '' ? name : `${base}.${name}`;
}

export function indexPath(base: string, index: number): string {
  return `${base}[${index}]`;
}

export function keyPath(base: string, key: string): string {
  return `${base}[${JSON.stringify(key)}]`;
}

/** Appends a path relative to `base` (such as `port` or `["dc1"][0].port`). */
export function joinPath(base: string, relative: string): string {
  if (base === '') return relative;
  if (relative === '') return base;
  return relative.startsWith('[') ? base + relative : `${base}.${relative}`;
}
