// Property paths and value decoders, matching how Envoy serializes CEL values in
// proxy_get_property (research/proxy-wasm-abi.md §3.2).

/** Segments joined by a single NUL; dots inside a segment stay literal. */
export function encodePropertyPath(segments: Array<string>): ArrayBuffer {
  let size = 0;
  const parts = new Array<ArrayBuffer>(segments.length);
  for (let i = 0; i < segments.length; i++) {
    parts[i] = String.UTF8.encode(segments[i]);
    size += parts[i].byteLength + (i > 0 ? 1 : 0);
  }
  const out = new ArrayBuffer(size);
  let ptr = changetype<usize>(out);
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) store<u8>(ptr++, 0);
    const len = <usize>parts[i].byteLength;
    memory.copy(ptr, changetype<usize>(parts[i]), len);
    ptr += len;
  }
  return out;
}

/** int64 / uint64 / timestamp / duration: 8 bytes little-endian (callers check the length). */
export function decodeI64(bytes: ArrayBuffer): i64 {
  return load<i64>(changetype<usize>(bytes));
}

export function decodeF64(bytes: ArrayBuffer): f64 {
  return load<f64>(changetype<usize>(bytes));
}

/** bool: one byte, low bit. */
export function decodeBool(bytes: ArrayBuffer): bool {
  return bytes.byteLength > 0 && (load<u8>(changetype<usize>(bytes)) & 1) == 1;
}
