// Generates assembly/proto/builtin-descriptors.ts: a serialized google.protobuf.FileDescriptorSet
// of the services the filter knows without asking the descriptor service (Envoy RLS v3, Kuadrant
// RLS v1, ext_authz v3), built from our own proto/ files and pruned to the types those services
// reach. Names are written fully qualified and map fields as protoc does (a nested *Entry type
// with map_entry), so the filter reads them exactly like a set fetched at run time.
// Usage: node scripts/gen-builtin-descriptors.mjs [--check]   (--check: exit 1 if the file is stale)
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor/index.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUT = path.join(ROOT, "assembly/proto/builtin-descriptors.ts");
export const SERVICE_FILES = [
  "envoy/service/ratelimit/v3/rls.proto",
  "kuadrant/service/ratelimit/v1/ratelimit.proto",
  "envoy/service/auth/v3/external_auth.proto",
];

const TYPE = { double: 1, float: 2, int64: 3, uint64: 4, int32: 5, fixed64: 6, fixed32: 7, bool: 8, string: 9, bytes: 12, uint32: 13, sfixed32: 15, sfixed64: 16, sint32: 17, sint64: 18 };

export function loadRoot(files = SERVICE_FILES, protoDir = path.join(ROOT, "proto")) {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (target.startsWith("google/protobuf/") ? target : path.join(protoDir, target));
  root.loadSync(files, { keepCase: true });
  root.resolveAll();
  return root;
}

const full = (reflection) => reflection.fullName.slice(1); // protobufjs names start with "."

/** Every message and enum the services' methods reach, in a stable order. */
function reachable(root) {
  const seen = new Set();
  const services = [];
  const visit = (t) => {
    if (seen.has(t)) return;
    seen.add(t);
    if (t instanceof protobuf.Type) for (const f of t.fieldsArray) if (f.resolvedType) visit(f.resolvedType);
  };
  const walk = (ns) => {
    for (const n of ns.nestedArray) {
      if (n instanceof protobuf.Service) {
        services.push(n);
        for (const m of n.methodsArray) { visit(m.resolvedRequestType); visit(m.resolvedResponseType); }
      } else if (n instanceof protobuf.Namespace) walk(n);
    }
  };
  walk(root);
  return { seen, services };
}

// protobufjs ships the google.protobuf types with camelCase field names; protoc's are snake_case.
const protoName = (f) => (f.parent.fullName.startsWith(".google.") ? f.name.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase()) : f.name);

function fieldProto(f) {
  const out = { name: protoName(f), number: f.id, label: f.repeated || f.map ? 3 : 1 };
  if (f.map) {
    out.type = 11;
    out.typeName = `.${full(f.parent)}.${entryName(f.name)}`;
  } else if (f.resolvedType instanceof protobuf.Type) {
    out.type = 11; out.typeName = "." + full(f.resolvedType);
  } else if (f.resolvedType instanceof protobuf.Enum) {
    out.type = 14; out.typeName = "." + full(f.resolvedType);
  } else {
    out.type = TYPE[f.type];
    if (out.type === undefined) throw new Error(`unsupported field type ${f.type} in ${f.fullName}`);
  }
  if (f.partOf) out.oneofIndex = f.parent.oneofsArray.indexOf(f.partOf);
  return out;
}

const entryName = (fieldName) => fieldName.split("_").map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join("") + "Entry";

function mapEntry(f) {
  const value = { name: "value", number: 2, label: 1 };
  if (f.resolvedType instanceof protobuf.Type) { value.type = 11; value.typeName = "." + full(f.resolvedType); }
  else if (f.resolvedType instanceof protobuf.Enum) { value.type = 14; value.typeName = "." + full(f.resolvedType); }
  else value.type = TYPE[f.type];
  return { name: entryName(f.name), field: [{ name: "key", number: 1, label: 1, type: TYPE[f.keyType] }, value], options: { mapEntry: true } };
}

function messageProto(t, keep) {
  const nestedType = [];
  const enumType = [];
  for (const f of t.fieldsArray) if (f.map) nestedType.push(mapEntry(f));
  for (const n of t.nestedArray) {
    if (!keep.has(n)) continue;
    if (n instanceof protobuf.Type) nestedType.push(messageProto(n, keep));
    else if (n instanceof protobuf.Enum) enumType.push(enumProto(n));
  }
  const fields = [...t.fieldsArray].sort((a, b) => a.id - b.id);
  const out = { name: t.name, field: fields.map(fieldProto), nestedType, enumType };
  if (t.oneofsArray.length > 0) out.oneofDecl = t.oneofsArray.map((o) => ({ name: o.name }));
  return out;
}

const enumProto = (e) => ({ name: e.name, value: Object.entries(e.values).map(([name, number]) => ({ name, number })) });

/** One FileDescriptorProto per package, holding the kept top-level types and services. */
export function buildDescriptorSet(root) {
  const { seen, services } = reachable(root);
  // A nested type is kept when reached, and so is every enclosing message.
  const keep = new Set(seen);
  for (const t of seen) for (let p = t.parent; p && !(p instanceof protobuf.Root); p = p.parent) if (p instanceof protobuf.Type) keep.add(p);
  const files = new Map();
  const fileFor = (pkg) => {
    if (!files.has(pkg)) files.set(pkg, { name: `${pkg.replaceAll(".", "/")}/builtin.proto`, package: pkg, syntax: "proto3", messageType: [], enumType: [], service: [] });
    return files.get(pkg);
  };
  const packageOf = (n) => { let p = n.parent; while (p && (p instanceof protobuf.Type)) p = p.parent; return full(p); };
  const sorted = [...keep].filter((n) => !(n.parent instanceof protobuf.Type)).sort((a, b) => a.fullName.localeCompare(b.fullName));
  for (const n of sorted) {
    if (n instanceof protobuf.Type) fileFor(packageOf(n)).messageType.push(messageProto(n, keep));
    else if (n instanceof protobuf.Enum) fileFor(packageOf(n)).enumType.push(enumProto(n));
  }
  for (const s of services.sort((a, b) => a.fullName.localeCompare(b.fullName))) {
    fileFor(full(s.parent)).service.push({ name: s.name, method: s.methodsArray.map((m) => ({ name: m.name, inputType: "." + full(m.resolvedRequestType), outputType: "." + full(m.resolvedResponseType) })) });
  }
  const set = { file: [...files.values()].sort((a, b) => a.package.localeCompare(b.package)) };
  return descriptor.FileDescriptorSet.encode(descriptor.FileDescriptorSet.fromObject(set)).finish();
}

function render(bytes) {
  const rows = [];
  for (let i = 0; i < bytes.length; i += 24) rows.push("  " + Array.from(bytes.subarray(i, i + 24)).join(", ") + ",");
  return `// GENERATED by scripts/gen-builtin-descriptors.mjs from proto/ (do not edit): the FileDescriptorSet
// of the built-in services (${SERVICE_FILES.join(", ")}), ${bytes.length} bytes.
export const BUILTIN_DESCRIPTORS: StaticArray<u8> = [
${rows.join("\n")}
];
`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const text = render(buildDescriptorSet(loadRoot()));
  if (process.argv.includes("--check")) {
    let current = "";
    try { current = readFileSync(OUT, "utf8"); } catch {}
    if (current !== text) { console.error(`${path.relative(ROOT, OUT)} is stale: run node scripts/gen-builtin-descriptors.mjs`); process.exit(1); }
  } else {
    writeFileSync(OUT, text);
    console.log(`wrote ${path.relative(ROOT, OUT)}`);
  }
}
