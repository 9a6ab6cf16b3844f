// --grpc-reflection-service: grpc.reflection.v1 (v1 only, as Limitador registers it with
// tonic-reflection's build_v1) describing the two rate-limit services. The answers come from
// @grpc/reflection; this file only carries its bidi stream over the mock's node:http2 server.
import { EventEmitter } from "node:events";
import type http2 from "node:http2";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import type * as ProtoLoader from "@grpc/proto-loader";

export type StreamingHandler = (stream: http2.ServerHttp2Stream) => void;

const require = createRequire(import.meta.url);
const PROTO_ROOT = fileURLToPath(new URL("../proto/", import.meta.url));

interface MethodDefinition {
  path: string;
  requestDeserialize(b: Buffer): unknown;
  responseSerialize(v: unknown): Buffer;
}

/** The reflection service's method, keyed by its path, ready for the mock's gRPC server. */
export function reflectionHandler(): Record<string, StreamingHandler> {
  // Loaded on demand: only a mock started with --grpc-reflection-service pays for them.
  const { ReflectionV1Implementation } = require("@grpc/reflection/build/src/implementations/reflection-v1.js");
  const protoLoader = require("@grpc/proto-loader") as typeof ProtoLoader;
  // The reflection service lists itself too, as tonic-reflection does.
  const reflectionProtos = join(dirname(require.resolve("@grpc/reflection/package.json")), "build/proto");
  const definition = protoLoader.loadSync(["envoy/service/ratelimit/v3/rls.proto", "kuadrant/service/ratelimit/v1/ratelimit.proto", "grpc/reflection/v1/reflection.proto"], { includeDirs: [PROTO_ROOT, reflectionProtos] });
  const impl = new ReflectionV1Implementation(definition);
  let method: MethodDefinition | null = null;
  let handler: ((call: EventEmitter) => void) | null = null;
  impl.addToServer({
    addService(service: Record<string, MethodDefinition>, handlers: Record<string, (call: EventEmitter) => void>) {
      method = service.ServerReflectionInfo;
      handler = handlers.ServerReflectionInfo;
    },
  });
  if (!method || !handler) throw new Error("@grpc/reflection did not register ServerReflectionInfo");
  const m: MethodDefinition = method, run: (call: EventEmitter) => void = handler;
  return { [m.path]: (stream) => run(bidiCall(stream, m)) };
}

/** A grpc-js-like duplex call over one HTTP/2 stream: 'data'/'end' in, write()/end() out. */
function bidiCall(stream: http2.ServerHttp2Stream, method: MethodDefinition): EventEmitter {
  const call = new EventEmitter() as EventEmitter & { write(v: unknown): void; end(): void };
  let headersSent = false;
  const start = () => {
    if (headersSent) return;
    headersSent = true;
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
  };
  call.write = (v) => {
    if (stream.destroyed) return;
    start();
    const body = method.responseSerialize(v);
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1);
    body.copy(frame, 5);
    stream.write(frame);
  };
  call.end = () => {
    if (stream.destroyed) return;
    start();
    stream.end();
  };
  let pending: Buffer = Buffer.alloc(0);
  stream.on("data", (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
      const len = pending.readUInt32BE(1);
      call.emit("data", method.requestDeserialize(pending.subarray(5, 5 + len)));
      pending = pending.subarray(5 + len);
    }
  });
  stream.on("end", () => call.emit("end"));
  stream.on("error", () => {});
  return call;
}
