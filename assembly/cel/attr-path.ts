// Attribute paths ("request.url_path", "auth.identity.tier") as expressions name them, interned
// when expressions are compiled: each distinct path is one object with a dense id, so a stream's
// attribute cache is an array indexed by it and the path's property bytes are encoded once.

export class AttrPath {
  /** The segments joined with NUL (the interning key). */
  readonly key: string;
  readonly root: string;
  /** The path as Envoy property bytes, made by the filter on first read. */
  encoded: ArrayBuffer | null = null;
  /** Whether the root is a host attribute root, as the filter's resolver found it (-1: not asked yet). */
  hostRoot: i32 = -1;

  /** The filter's decoding of the property's bytes (filter/property-values.ts AttrType), once known (-1: not yet). */
  valueType: i32 = -1;

  constructor(readonly segments: Array<string>, readonly id: i32) {
    this.key = segments.join("\0");
    this.root = canonicalRoot(segments[0]);
  }

  get length(): i32 { return this.segments.length; }
}

// The host's attribute roots as the literals resolvers compare them with: the same string object,
// so comparing a path's root with one of them is a pointer comparison.
const ROOTS: Array<string> = ["request", "response", "source", "destination", "connection", "metadata", "filter_state", "auth", "xds", "upstream"];

function canonicalRoot(root: string): string {
  for (let i = 0; i < ROOTS.length; i++) if (unchecked(ROOTS[i]) == root) return unchecked(ROOTS[i]);
  return root;
}

const byKey = new Map<string, AttrPath>();
const all = new Array<AttrPath>();

/** The one AttrPath of these segments (made on first use; never freed: configurations name few). */
export function attrPath(segments: Array<string>): AttrPath {
  const key = segments.join("\0");
  if (byKey.has(key)) return byKey.get(key);
  const p = new AttrPath(segments, all.length);
  byKey.set(key, p);
  all.push(p);
  return p;
}

/** Paths interned so far: ids are below this. */
export function attrPathCount(): i32 { return all.length; }

export function attrPathById(id: i32): AttrPath { return all[id]; }
