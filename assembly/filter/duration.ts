// Durations as wasm-shim reads service timeouts ("10ms", "1s", "1.5s", "1m30s"; units h m s ms us µs ns).

/** Milliseconds (rounded up so "500us" is not 0), or -1 when the text is not a duration. */
export function parseDurationMs(text: string): i64 {
  if (text.length == 0) return -1;
  let totalNs: f64 = 0;
  let i = 0;
  while (i < text.length) {
    const start = i;
    while (i < text.length && ((text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) || text.charCodeAt(i) == 46)) i++;
    if (i == start) return -1;
    const number = parseFloat(text.substring(start, i));
    if (isNaN(number)) return -1;
    const unitStart = i;
    while (i < text.length && !((text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) || text.charCodeAt(i) == 46)) i++;
    const unit = text.substring(unitStart, i);
    let scale: f64;
    if (unit == "h") scale = 3600e9;
    else if (unit == "m") scale = 60e9;
    else if (unit == "s") scale = 1e9;
    else if (unit == "ms") scale = 1e6;
    else if (unit == "us" || unit == "µs") scale = 1e3;
    else if (unit == "ns") scale = 1;
    else return -1;
    totalNs += number * scale;
  }
  if (totalNs > 4294967295e6) return -1;
  return <i64>Math.ceil(totalNs / 1e6);
}
