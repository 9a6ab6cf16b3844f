// Protobuf descriptors at run time: a pool of message, enum and service definitions read from a
// serialized google.protobuf.FileDescriptorSet. The built-in services (Envoy RLS v3, Kuadrant RLS
// v1, ext_authz v3) are loaded from bytes compiled into the filter; other `dynamic` services from
// what the descriptor service sends (research/wasm-shim-newer-config.md §3.6). Both go through
// this one reader, so a fetched descriptor behaves exactly like a built-in one.
import { ProtoReader, WIRE_LEN, WIRE_VARINT } from "./wire";
import { Value } from "../cel/value";

/** FieldDescriptorProto.Type. */
export enum FieldType {
  Double = 1, Float = 2, Int64 = 3, Uint64 = 4, Int32 = 5, Fixed64 = 6, Fixed32 = 7, Bool = 8,
  String = 9, Group = 10, Message = 11, Bytes = 12, Uint32 = 13, Enum = 14, Sfixed32 = 15,
  Sfixed64 = 16, Sint32 = 17, Sint64 = 18,
}

export class FieldInfo {
  name: string = "";
  number: u32 = 0;
  type: FieldType = FieldType.String;
  repeated: bool = false;
  /** Fully qualified, without the leading dot, for Message and Enum fields (resolved on load). */
  typeName: string = "";
  /** Index of the oneof this field belongs to, or -1. proto3 `optional` fields are such oneofs. */
  oneofIndex: i32 = -1;
  proto3Optional: bool = false;
  /** Resolved on load for Message fields. */
  message: MessageType | null = null;
  /** The field's name as a CEL map key (decoded replies): made once, shared by every decode. */
  private nameKey: Value | null = null;

  get key(): Value {
    let k = this.nameKey;
    if (k === null) { k = Value.string(this.name); this.nameKey = k; }
    return k;
  }

  /** Presence is tracked (message, oneof member, proto3 optional): absent unless set. */
  get tracksPresence(): bool { return this.type == FieldType.Message && !this.repeated || this.oneofIndex >= 0; }
  get isMap(): bool { const m = this.message; return this.repeated && m !== null && m.isMapEntry; }
}

export class MessageType {
  fields: Array<FieldInfo> = [];
  isMapEntry: bool = false;
  constructor(public fullName: string) {}

  field(name: string): FieldInfo | null {
    for (let i = 0; i < this.fields.length; i++) if (this.fields[i].name == name) return this.fields[i];
    return null;
  }

  fieldByNumber(n: u32): FieldInfo | null {
    for (let i = 0; i < this.fields.length; i++) if (this.fields[i].number == n) return this.fields[i];
    return null;
  }
}

export class EnumType {
  names: Array<string> = [];
  numbers: Array<i32> = [];
  constructor(public fullName: string) {}
  has(n: i64): bool { return n >= I32.MIN_VALUE && n <= I32.MAX_VALUE && this.numbers.includes(<i32>n); }
}

export class MethodInfo {
  constructor(public service: string, public name: string, public input: MessageType, public output: MessageType) {}
}

/** Scope of a name while reading: the package or enclosing message it was declared in. */
class PendingField {
  constructor(public field: FieldInfo, public scope: string, public rawType: string) {}
}

class PendingMethod {
  constructor(public service: string, public name: string, public scope: string, public input: string, public output: string) {}
}

export class DescriptorPool {
  messages: Map<string, MessageType> = new Map();
  enums: Map<string, EnumType> = new Map();
  /** "pkg.Service/Method" → method. */
  methods: Map<string, MethodInfo> = new Map();
  services: Array<string> = [];

  message(fullName: string): MessageType | null {
    return this.messages.has(fullName) ? this.messages.get(fullName) : null;
  }

  method(service: string, method: string): MethodInfo | null {
    const key = service + "/" + method;
    return this.methods.has(key) ? this.methods.get(key) : null;
  }

  hasService(service: string): bool { return this.services.includes(service); }

  /**
   * Adds every file of a serialized FileDescriptorSet. Returns "" on success, else why the bytes
   * were refused (the pool is then left as it was: a bad set never half-loads).
   */
  addFileDescriptorSet(bytes: ArrayBuffer): string {
    const staged = new DescriptorPool();
    staged.copyFrom(this);
    const fields = new Array<PendingField>();
    const methods = new Array<PendingMethod>();
    const r = new ProtoReader(bytes);
    while (!r.done) {
      const f = r.tag();
      if (r.failed) break;
      if (f == 1 && r.wire == WIRE_LEN) staged.readFile(r.bytes(), fields, methods);
      else r.skip();
    }
    if (r.failed) return "not a FileDescriptorSet";
    for (let i = 0; i < fields.length; i++) {
      const p = fields[i];
      const name = staged.resolve(p.rawType, p.scope, p.field.type == FieldType.Enum);
      if (name.length == 0) return "unknown type '" + p.rawType + "' in field " + p.scope + "." + p.field.name;
      p.field.typeName = name;
      if (staged.messages.has(name)) {
        p.field.type = FieldType.Message; // protoc may leave `type` unset when `type_name` says it
        p.field.message = staged.messages.get(name);
      } else p.field.type = FieldType.Enum;
    }
    for (let i = 0; i < methods.length; i++) {
      const m = methods[i];
      const input = staged.resolve(m.input, m.scope, false), output = staged.resolve(m.output, m.scope, false);
      if (input.length == 0 || output.length == 0) return "unknown message type in method " + m.service + "/" + m.name;
      staged.methods.set(m.service + "/" + m.name, new MethodInfo(m.service, m.name, staged.messages.get(input), staged.messages.get(output)));
      if (!staged.services.includes(m.service)) staged.services.push(m.service);
    }
    this.copyFrom(staged);
    return "";
  }

  private copyFrom(other: DescriptorPool): void {
    const mk = other.messages.keys();
    for (let i = 0; i < mk.length; i++) this.messages.set(mk[i], other.messages.get(mk[i]));
    const ek = other.enums.keys();
    for (let i = 0; i < ek.length; i++) this.enums.set(ek[i], other.enums.get(ek[i]));
    const fk = other.methods.keys();
    for (let i = 0; i < fk.length; i++) this.methods.set(fk[i], other.methods.get(fk[i]));
    for (let i = 0; i < other.services.length; i++) if (!this.services.includes(other.services[i])) this.services.push(other.services[i]);
  }

  /** protobuf name resolution: ".a.b" is absolute; "b" is searched from the innermost scope out. */
  private resolve(raw: string, scope: string, wantEnum: bool): string {
    if (raw.startsWith(".")) {
      const name = raw.substring(1);
      return this.messages.has(name) || this.enums.has(name) ? name : "";
    }
    let s = scope;
    while (true) {
      const candidate = s.length > 0 ? s + "." + raw : raw;
      if (wantEnum ? this.enums.has(candidate) || this.messages.has(candidate) : this.messages.has(candidate) || this.enums.has(candidate)) return candidate;
      if (s.length == 0) return "";
      const dot = s.lastIndexOf(".");
      s = dot >= 0 ? s.substring(0, dot) : "";
    }
  }

  /** FileDescriptorProto{package = 2, message_type = 4, enum_type = 5, service = 6}. */
  private readFile(bytes: ArrayBuffer, fields: Array<PendingField>, methods: Array<PendingMethod>): void {
    let pkg = "";
    const messageBlobs = new Array<ArrayBuffer>(), enumBlobs = new Array<ArrayBuffer>(), serviceBlobs = new Array<ArrayBuffer>();
    const r = new ProtoReader(bytes);
    while (!r.done) {
      const f = r.tag();
      if (r.failed) break;
      if (f == 2 && r.wire == WIRE_LEN) pkg = r.string();
      else if (f == 4 && r.wire == WIRE_LEN) messageBlobs.push(r.bytes());
      else if (f == 5 && r.wire == WIRE_LEN) enumBlobs.push(r.bytes());
      else if (f == 6 && r.wire == WIRE_LEN) serviceBlobs.push(r.bytes());
      else r.skip();
    }
    for (let i = 0; i < messageBlobs.length; i++) this.readMessage(messageBlobs[i], pkg, fields);
    for (let i = 0; i < enumBlobs.length; i++) this.readEnum(enumBlobs[i], pkg);
    for (let i = 0; i < serviceBlobs.length; i++) readService(serviceBlobs[i], pkg, methods);
  }

  /** DescriptorProto{name = 1, field = 2, nested_type = 3, enum_type = 4, options = 7 (map_entry = 7)}. */
  private readMessage(bytes: ArrayBuffer, scope: string, fields: Array<PendingField>): void {
    const r = new ProtoReader(bytes);
    let name = "";
    const fieldBlobs = new Array<ArrayBuffer>(), nested = new Array<ArrayBuffer>(), enums = new Array<ArrayBuffer>();
    let mapEntry = false;
    while (!r.done) {
      const f = r.tag();
      if (r.failed) break;
      if (f == 1 && r.wire == WIRE_LEN) name = r.string();
      else if (f == 2 && r.wire == WIRE_LEN) fieldBlobs.push(r.bytes());
      else if (f == 3 && r.wire == WIRE_LEN) nested.push(r.bytes());
      else if (f == 4 && r.wire == WIRE_LEN) enums.push(r.bytes());
      else if (f == 7 && r.wire == WIRE_LEN) mapEntry = readMapEntryOption(r.bytes());
      else r.skip();
    }
    const fullName = scope.length > 0 ? scope + "." + name : name;
    const type = new MessageType(fullName);
    type.isMapEntry = mapEntry;
    this.messages.set(fullName, type);
    for (let i = 0; i < fieldBlobs.length; i++) {
      const field = new FieldInfo();
      const rawType = readField(fieldBlobs[i], field);
      type.fields.push(field);
      if (rawType.length > 0) fields.push(new PendingField(field, fullName, rawType));
    }
    type.fields.sort((a: FieldInfo, b: FieldInfo): i32 => <i32>a.number - <i32>b.number);
    for (let i = 0; i < nested.length; i++) this.readMessage(nested[i], fullName, fields);
    for (let i = 0; i < enums.length; i++) this.readEnum(enums[i], fullName);
  }

  /** EnumDescriptorProto{name = 1, value = 2 (EnumValueDescriptorProto{name = 1, number = 2})}. */
  private readEnum(bytes: ArrayBuffer, scope: string): void {
    const r = new ProtoReader(bytes);
    const e = new EnumType("");
    while (!r.done) {
      const f = r.tag();
      if (r.failed) break;
      if (f == 1 && r.wire == WIRE_LEN) e.fullName = r.string();
      else if (f == 2 && r.wire == WIRE_LEN) {
        const v = new ProtoReader(r.bytes());
        let valueName = "";
        let number: i32 = 0;
        while (!v.done) {
          const g = v.tag();
          if (v.failed) break;
          if (g == 1 && v.wire == WIRE_LEN) valueName = v.string();
          else if (g == 2 && v.wire == WIRE_VARINT) number = <i32>v.varint();
          else v.skip();
        }
        e.names.push(valueName);
        e.numbers.push(number);
      } else r.skip();
    }
    e.fullName = scope.length > 0 ? scope + "." + e.fullName : e.fullName;
    this.enums.set(e.fullName, e);
  }
}

/** FieldDescriptorProto{name = 1, number = 3, label = 4, type = 5, type_name = 6, oneof_index = 9, proto3_optional = 17}. */
function readField(bytes: ArrayBuffer, field: FieldInfo): string {
  const r = new ProtoReader(bytes);
  let typeName = "";
  while (!r.done) {
    const f = r.tag();
    if (r.failed) break;
    if (f == 1 && r.wire == WIRE_LEN) field.name = r.string();
    else if (f == 3 && r.wire == WIRE_VARINT) field.number = <u32>r.varint();
    else if (f == 4 && r.wire == WIRE_VARINT) field.repeated = r.varint() == 3;
    else if (f == 5 && r.wire == WIRE_VARINT) field.type = <FieldType>r.varint();
    else if (f == 6 && r.wire == WIRE_LEN) typeName = r.string();
    else if (f == 9 && r.wire == WIRE_VARINT) field.oneofIndex = <i32>r.varint();
    else if (f == 17 && r.wire == WIRE_VARINT) field.proto3Optional = r.varint() != 0;
    else r.skip();
  }
  return typeName;
}

function readMapEntryOption(bytes: ArrayBuffer): bool {
  const r = new ProtoReader(bytes);
  while (!r.done) {
    const f = r.tag();
    if (r.failed) break;
    if (f == 7 && r.wire == WIRE_VARINT) return r.varint() != 0;
    r.skip();
  }
  return false;
}

/** ServiceDescriptorProto{name = 1, method = 2 (MethodDescriptorProto{name = 1, input_type = 2, output_type = 3})}. */
function readService(bytes: ArrayBuffer, pkg: string, methods: Array<PendingMethod>): void {
  const r = new ProtoReader(bytes);
  let name = "";
  const blobs = new Array<ArrayBuffer>();
  while (!r.done) {
    const f = r.tag();
    if (r.failed) break;
    if (f == 1 && r.wire == WIRE_LEN) name = r.string();
    else if (f == 2 && r.wire == WIRE_LEN) blobs.push(r.bytes());
    else r.skip();
  }
  const service = pkg.length > 0 ? pkg + "." + name : name;
  for (let i = 0; i < blobs.length; i++) {
    const m = new ProtoReader(blobs[i]);
    let method = "", input = "", output = "";
    while (!m.done) {
      const f = m.tag();
      if (m.failed) break;
      if (f == 1 && m.wire == WIRE_LEN) method = m.string();
      else if (f == 2 && m.wire == WIRE_LEN) input = m.string();
      else if (f == 3 && m.wire == WIRE_LEN) output = m.string();
      else m.skip();
    }
    methods.push(new PendingMethod(service, method, pkg, input, output));
  }
}
