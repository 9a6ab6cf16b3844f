// Raw clients for the conformance scenario: gRPC over node:http2 (so the exact status, trailers and
// message bytes are seen) and HTTP/1.1 over a socket (so raw header names and framing are seen).
import http2 from "node:http2";
import net from "node:net";

export interface GrpcOutcome {
  httpStatus: number | undefined;
  contentType: string | undefined;
  grpcStatus: string | undefined;
  grpcMessage: string | undefined;
  /** The response message bytes (unframed), when one came. */
  message: Buffer | null;
  /** The stream was reset: the RST_STREAM code. */
  rstCode: number | null;
}

const sessions = new Map<string, http2.ClientHttp2Session>();

function session(address: string): http2.ClientHttp2Session {
  let s = sessions.get(address);
  if (!s || s.destroyed || s.closed) {
    s = http2.connect(`http://${address}`);
    s.on("error", () => {});
    sessions.set(address, s);
  }
  return s;
}

export function closeSessions(): void {
  for (const s of sessions.values()) s.destroy();
  sessions.clear();
}

export function grpcCall(address: string, path: string, message: Uint8Array): Promise<GrpcOutcome> {
  return new Promise((resolve, reject) => {
    const req = session(address).request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
    const out: GrpcOutcome = { httpStatus: undefined, contentType: undefined, grpcStatus: undefined, grpcMessage: undefined, message: null, rstCode: null };
    const chunks: Buffer[] = [];
    req.on("response", (h) => {
      out.httpStatus = h[":status"];
      out.contentType = h["content-type"] as string | undefined;
      if (h["grpc-status"] !== undefined) { out.grpcStatus = String(h["grpc-status"]); out.grpcMessage = h["grpc-message"] as string | undefined; }
    });
    req.on("trailers", (h) => { out.grpcStatus = String(h["grpc-status"]); out.grpcMessage = h["grpc-message"] as string | undefined; });
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("error", () => {});
    req.on("close", () => {
      if (req.rstCode && req.rstCode !== http2.constants.NGHTTP2_NO_ERROR) out.rstCode = req.rstCode;
      const body = Buffer.concat(chunks);
      if (body.length >= 5) out.message = body.subarray(5, 5 + body.readUInt32BE(1));
      resolve(out);
    });
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    frame.set(message, 5);
    req.end(frame);
    req.setTimeout(20000, () => { req.close(); reject(new Error(`${path}: no answer in 20 s`)); });
  });
}

export interface HttpOutcome {
  status: number;
  /** Header names exactly as sent, in order, with their values. */
  rawHeaders: Array<[string, string]>;
  body: Buffer;
  /** The server closed the connection without answering. */
  dropped: boolean;
}

/** One HTTP/1.1 request on its own connection, read raw (content-length framing, or until close). */
export function httpRaw(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<HttpOutcome> {
  const { hostname, port } = new URL(base);
  const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = () => {
      if (settled) return;
      const all = Buffer.concat(chunks);
      const end = all.indexOf("\r\n\r\n");
      if (end < 0) {
        if (socket.destroyed || socket.readableEnded) { settled = true; resolve({ status: 0, rawHeaders: [], body: Buffer.alloc(0), dropped: true }); }
        return;
      }
      const lines = all.subarray(0, end).toString("latin1").split("\r\n");
      const status = Number(lines[0].split(" ")[1]);
      const rawHeaders = lines.slice(1).map((l) => { const i = l.indexOf(":"); return [l.slice(0, i), l.slice(i + 1).trim()] as [string, string]; });
      const lengthHeader = rawHeaders.find(([k]) => k.toLowerCase() === "content-length");
      const rest = all.subarray(end + 4);
      if (lengthHeader && rest.length >= Number(lengthHeader[1])) {
        settled = true;
        socket.destroy();
        resolve({ status, rawHeaders, body: rest.subarray(0, Number(lengthHeader[1])), dropped: false });
      } else if (!lengthHeader && (socket.destroyed || socket.readableEnded)) {
        settled = true;
        resolve({ status, rawHeaders, body: rest, dropped: false });
      }
    };
    socket.on("data", (c) => { chunks.push(c); finish(); });
    socket.on("end", () => { finish(); if (!settled) { settled = true; resolve({ status: 0, rawHeaders: [], body: Buffer.alloc(0), dropped: true }); } });
    socket.on("close", () => { finish(); if (!settled) { settled = true; resolve({ status: 0, rawHeaders: [], body: Buffer.alloc(0), dropped: true }); } });
    socket.on("error", (err) => { if (!settled && (err as NodeJS.ErrnoException).code === "ECONNRESET") { settled = true; resolve({ status: 0, rawHeaders: [], body: Buffer.alloc(0), dropped: true }); } else if (!settled) reject(err); });
    const head = [`${method} ${path} HTTP/1.1`, `host: ${hostname}:${port}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    if (body !== undefined) head.push(`content-length: ${payload.length}`);
    socket.write(head.join("\r\n") + "\r\n\r\n");
    if (payload.length) socket.write(payload);
    socket.setTimeout(20000, () => { socket.destroy(); if (!settled) { settled = true; reject(new Error(`${method} ${path}: no answer in 20 s`)); } });
  });
}
