// Incremental Server-Sent Events parser (WHATWG HTML §9.2) over raw bytes as Envoy delivers them:
// CR, LF and CRLF line ends (a CRLF split across chunks counts once), one leading BOM removed,
// comments ignored, multi-line data joined with "\n". Only the bytes of the current line and
// event are kept, so a stream is never buffered whole.

const MAX_EVENT_BYTES: i32 = 1 << 20;

export class SseEvent {
  constructor(public type: string, public data: string) {}
}

export class SseParser {
  private line: Array<u8> = [];
  private data: Array<u8> = [];
  private hasData: bool = false;
  private eventType: string = "";
  private lastWasCR: bool = false;
  private started: bool = false;
  private bomCheck: Array<u8> = [];
  overflowed: bool = false;
  readonly events: Array<SseEvent> = [];

  /** Feeds one delivery; complete events are appended to `events` (the caller drains them). */
  push(chunk: ArrayBuffer): void {
    const bytes = Uint8Array.wrap(chunk);
    let i = 0;
    if (!this.started) {
      // Strip one UTF-8 BOM at the very start, even when split across deliveries.
      while (i < bytes.length && this.bomCheck.length < 3) {
        const expected: u8 = this.bomCheck.length == 0 ? 0xEF : this.bomCheck.length == 1 ? 0xBB : 0xBF;
        if (bytes[i] != expected) break;
        this.bomCheck.push(bytes[i]);
        i++;
      }
      if (this.bomCheck.length == 3 || i < bytes.length) {
        this.started = true;
        if (this.bomCheck.length < 3) {
          for (let k = 0; k < this.bomCheck.length; k++) this.byte(this.bomCheck[k]);
        }
      }
    }
    for (; i < bytes.length; i++) this.byte(bytes[i]);
  }

  /** End of stream: a final event without its blank line still counts (lenient, as clients do). */
  finish(): void {
    if (this.line.length > 0) this.processLine();
    this.dispatch();
  }

  private byte(b: u8): void {
    if (this.lastWasCR) {
      this.lastWasCR = false;
      if (b == 10) return; // the LF of a CRLF
    }
    if (b == 13) { this.lastWasCR = true; this.processLine(); return; }
    if (b == 10) { this.processLine(); return; }
    if (this.line.length < MAX_EVENT_BYTES) this.line.push(b);
    else this.overflowed = true;
  }

  private processLine(): void {
    const n = this.line.length;
    if (n == 0) { this.dispatch(); return; }
    if (this.line[0] == 58) { this.line.length = 0; return; } // ":" comment
    let colon = -1;
    for (let i = 0; i < n; i++) if (this.line[i] == 58) { colon = i; break; }
    const nameEnd = colon >= 0 ? colon : n;
    let valueStart = colon >= 0 ? colon + 1 : n;
    if (valueStart < n && this.line[valueStart] == 32) valueStart++;
    const name = decode(this.line, 0, nameEnd);
    if (name == "data") {
      if (this.hasData) this.data.push(10);
      for (let i = valueStart; i < n && this.data.length < MAX_EVENT_BYTES; i++) this.data.push(this.line[i]);
      this.hasData = true;
    } else if (name == "event") {
      this.eventType = decode(this.line, valueStart, n);
    }
    this.line.length = 0;
  }

  private dispatch(): void {
    if (this.hasData) this.events.push(new SseEvent(this.eventType.length > 0 ? this.eventType : "message", decode(this.data, 0, this.data.length)));
    this.data.length = 0;
    this.hasData = false;
    this.eventType = "";
  }
}

function decode(bytes: Array<u8>, start: i32, end: i32): string {
  const out = new Uint8Array(end - start);
  for (let i = start; i < end; i++) out[i - start] = bytes[i];
  return String.UTF8.decode(out.buffer);
}
