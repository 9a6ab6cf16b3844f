// CEL's google.protobuf.Timestamp and Duration as cel-go has them: RFC 3339 timestamps from year
// 1 to 9999, Go duration strings ("1h30m", "250ms", "-1.5s"), formatting, arithmetic with range
// checks, and the calendar getters (UTC, or a fixed "+hh:mm" offset: there is no time-zone
// database in the filter). Both are nanoseconds in an i64 (Value.i), so timestamps span
// 1678–2262 where cel-go's span years 1–9999.
import { Value, Kind } from "./value";

const NS_PER_SECOND: i64 = 1000000000;
const SECONDS_PER_DAY: i64 = 86400;
/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z in seconds since the epoch (cel-go's range). */
const MIN_SECONDS: i64 = -62135596800;
const MAX_SECONDS: i64 = 253402300799;

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: i64, m: i64, d: i64): i64 {
  y -= m <= 2 ? 1 : 0;
  const era = (y >= 0 ? y : y - 399) / 400;
  const yoe = y - era * 400;
  const doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/** The date of a day since the epoch, as [year, month 1–12, day 1–31] (civil_from_days). */
function civilFromDays(z: i64): StaticArray<i64> {
  z += 719468;
  const era = (z >= 0 ? z : z - 146096) / 146097;
  const doe = z - era * 146097;
  const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const mp = (5 * doy + 2) / 153;
  const d = doy - (153 * mp + 2) / 5 + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const out = new StaticArray<i64>(3);
  out[0] = yoe + era * 400 + (m <= 2 ? 1 : 0);
  out[1] = m;
  out[2] = d;
  return out;
}

function isLeap(y: i64): bool { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

function daysInMonth(y: i64, m: i64): i64 {
  if (m == 2) return isLeap(y) ? 29 : 28;
  return m == 4 || m == 6 || m == 9 || m == 11 ? 30 : 31;
}

/** Floor division and its non-negative remainder (timestamps before 1970 are negative). */
function floorDiv(a: i64, b: i64): i64 { const q = a / b; return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q; }
function floorMod(a: i64, b: i64): i64 { return a - floorDiv(a, b) * b; }

/** A timestamp value when `seconds` is within cel-go's range, else an error. */
export function timestampOf(seconds: i64, nanos: i64): Value {
  if (seconds < MIN_SECONDS || seconds > MAX_SECONDS) return Value.error("timestamp out of range");
  // Nanoseconds in an i64 reach from 1677-09-21 to 2262-04-11: narrower than cel-go's years 1–9999.
  if (seconds < -9223372035 || seconds > 9223372035) return Value.error("timestamp out of range (the filter keeps 1678–2262)");
  return Value.timestamp(seconds * NS_PER_SECOND + nanos);
}

function digits(s: string, at: i32, n: i32): i32 {
  if (at + n > s.length) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(at + i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/** RFC 3339, as Go's time.RFC3339Nano parses it: "2024-05-01T12:30:00Z", "…:00.25+02:00". */
export function parseTimestamp(s: string): Value {
  const bad = Value.error("timestamp('" + s + "'): not an RFC 3339 timestamp");
  const y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  const h = digits(s, 11, 2), mi = digits(s, 14, 2), sec = digits(s, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0) return bad;
  if (s.charCodeAt(4) != 45 || s.charCodeAt(7) != 45 || s.charCodeAt(13) != 58 || s.charCodeAt(16) != 58) return bad;
  const t = s.charCodeAt(10);
  if (t != 84 && t != 116) return bad;
  if (mo < 1 || mo > 12 || d < 1 || <i64>d > daysInMonth(y, mo) || h > 23 || mi > 59 || sec > 59) return bad;
  let at = 19;
  let nanos: i64 = 0;
  if (at < s.length && s.charCodeAt(at) == 46) {
    at++;
    const start = at;
    let scale: i64 = 100000000;
    while (at < s.length) {
      const c = s.charCodeAt(at);
      if (c < 48 || c > 57) break;
      if (at - start < 9) { nanos += <i64>(c - 48) * scale; scale /= 10; }
      at++;
    }
    if (at == start) return bad;
  }
  let offset: i64 = 0;
  if (at >= s.length) return bad;
  const z = s.charCodeAt(at);
  if (z == 90 || z == 122) at++;
  else if (z == 43 || z == 45) {
    const oh = digits(s, at + 1, 2), om = digits(s, at + 4, 2);
    if (oh < 0 || om < 0 || s.charCodeAt(at + 3) != 58 || oh > 23 || om > 59) return bad;
    offset = (<i64>oh * 3600 + <i64>om * 60) * (z == 45 ? -1 : 1);
    at += 6;
  } else return bad;
  if (at != s.length) return bad;
  const seconds = daysFromCivil(y, mo, d) * SECONDS_PER_DAY + <i64>h * 3600 + <i64>mi * 60 + <i64>sec - offset;
  return timestampOf(seconds, nanos);
}

function pad(n: i64, width: i32): string {
  let s = n.toString();
  while (s.length < width) s = "0" + s;
  return s;
}

/** RFC 3339 in UTC with the fraction Go's RFC3339Nano keeps (trailing zeros dropped). */
export function formatTimestamp(ns: i64): string {
  const seconds = floorDiv(ns, NS_PER_SECOND), nanos = floorMod(ns, NS_PER_SECOND);
  const days = floorDiv(seconds, SECONDS_PER_DAY), rest = floorMod(seconds, SECONDS_PER_DAY);
  const date = civilFromDays(days);
  let out = pad(date[0], 4) + "-" + pad(date[1], 2) + "-" + pad(date[2], 2) + "T" +
    pad(rest / 3600, 2) + ":" + pad((rest % 3600) / 60, 2) + ":" + pad(rest % 60, 2);
  if (nanos != 0) {
    let frac = pad(nanos, 9);
    while (frac.endsWith("0")) frac = frac.substring(0, frac.length - 1);
    out += "." + frac;
  }
  return out + "Z";
}

/** Go's time.ParseDuration: an optional sign, then numbers with units ns, us, µs, ms, s, m, h. */
export function parseDuration(s: string): Value {
  const bad = Value.error("duration('" + s + "'): not a duration such as '1h30m' or '250ms'");
  let at = 0;
  let negative = false;
  if (at < s.length && (s.charCodeAt(at) == 45 || s.charCodeAt(at) == 43)) { negative = s.charCodeAt(at) == 45; at++; }
  if (s.substring(at) == "0") return Value.duration(0);
  if (at >= s.length) return bad;
  let total: f64 = 0;
  while (at < s.length) {
    const start = at;
    let whole: f64 = 0, frac: f64 = 0, scale: f64 = 1;
    while (at < s.length && s.charCodeAt(at) >= 48 && s.charCodeAt(at) <= 57) { whole = whole * 10 + <f64>(s.charCodeAt(at) - 48); at++; }
    const wholeDigits = at - start;
    let fracDigits = 0;
    if (at < s.length && s.charCodeAt(at) == 46) {
      at++;
      while (at < s.length && s.charCodeAt(at) >= 48 && s.charCodeAt(at) <= 57) { frac = frac * 10 + <f64>(s.charCodeAt(at) - 48); scale *= 10; at++; fracDigits++; }
    }
    if (wholeDigits == 0 && fracDigits == 0) return bad;
    const unitStart = at;
    while (at < s.length && !(s.charCodeAt(at) >= 48 && s.charCodeAt(at) <= 57) && s.charCodeAt(at) != 46) at++;
    const unit = s.substring(unitStart, at);
    let ns: f64;
    if (unit == "ns") ns = 1;
    else if (unit == "us" || unit == "µs" || unit == "μs") ns = 1e3;
    else if (unit == "ms") ns = 1e6;
    else if (unit == "s") ns = 1e9;
    else if (unit == "m") ns = 60e9;
    else if (unit == "h") ns = 3600e9;
    else return bad;
    total += (whole + frac / scale) * ns;
    if (total > 9223372036854775807.0) return Value.error("duration('" + s + "'): out of range");
  }
  const n = <i64>Math.round(total);
  return Value.duration(negative ? -n : n);
}

/** cel-go's string(duration): seconds with the fraction they need, then "s" ("5400s", "1.5s"). */
export function formatDuration(ns: i64): string {
  const negative = ns < 0;
  const abs: u64 = negative ? <u64>(-(ns + 1)) + 1 : <u64>ns;
  const whole = abs / <u64>NS_PER_SECOND, frac = abs % <u64>NS_PER_SECOND;
  let out = (negative ? "-" : "") + whole.toString();
  if (frac != 0) {
    let f = pad(<i64>frac, 9);
    while (f.endsWith("0")) f = f.substring(0, f.length - 1);
    out += "." + f;
  }
  return out + "s";
}

/** "+hh:mm"/"-hh:mm" or "UTC"/"Z" as seconds east of UTC; -1 << 40 when not understood. */
const NO_ZONE: i64 = -1 << 40;
function zoneOffset(zone: string): i64 {
  if (zone == "UTC" || zone == "Z" || zone == "Etc/UTC" || zone == "GMT") return 0;
  if (zone.length == 6 && (zone.charCodeAt(0) == 43 || zone.charCodeAt(0) == 45) && zone.charCodeAt(3) == 58) {
    const h = digits(zone, 1, 2), m = digits(zone, 4, 2);
    if (h < 0 || m < 0) return NO_ZONE;
    return (<i64>h * 3600 + <i64>m * 60) * (zone.charCodeAt(0) == 45 ? -1 : 1);
  }
  return NO_ZONE;
}

/** The timestamp getters (getFullYear, getMonth, …) in UTC or at a fixed offset; null when `fn` is not one. */
export function timestampGetter(fn: string, ns: i64, zone: string | null): Value | null {
  if (!fn.startsWith("get")) return null;
  let offset: i64 = 0;
  if (zone !== null) {
    offset = zoneOffset(zone);
    if (offset == NO_ZONE) return Value.error("unknown time zone '" + zone + "': only UTC and fixed offsets such as '+02:00' are supported");
  }
  const seconds = floorDiv(ns, NS_PER_SECOND) + offset;
  const days = floorDiv(seconds, SECONDS_PER_DAY), rest = floorMod(seconds, SECONDS_PER_DAY);
  if (fn == "getHours") return Value.int(rest / 3600);
  if (fn == "getMinutes") return Value.int((rest % 3600) / 60);
  if (fn == "getSeconds") return Value.int(rest % 60);
  if (fn == "getMilliseconds") return Value.int(floorMod(ns, NS_PER_SECOND) / 1000000);
  if (fn == "getDayOfWeek") return Value.int(floorMod(days + 4, 7)); // 1970-01-01 was a Thursday; Sunday is 0
  const date = civilFromDays(days);
  if (fn == "getFullYear") return Value.int(date[0]);
  if (fn == "getMonth") return Value.int(date[1] - 1);
  if (fn == "getDate") return Value.int(date[2]);
  if (fn == "getDayOfMonth") return Value.int(date[2] - 1);
  if (fn == "getDayOfYear") return Value.int(days - daysFromCivil(date[0], 1, 1));
  return null;
}

/** The duration getters: whole hours, minutes, seconds or milliseconds in it; null when `fn` is not one. */
export function durationGetter(fn: string, ns: i64): Value | null {
  if (fn == "getHours") return Value.int(ns / (3600 * NS_PER_SECOND));
  if (fn == "getMinutes") return Value.int(ns / (60 * NS_PER_SECOND));
  if (fn == "getSeconds") return Value.int(ns / NS_PER_SECOND);
  if (fn == "getMilliseconds") return Value.int(ns / 1000000);
  return null;
}

/** timestamp ± duration, duration ± duration, timestamp - timestamp; null when the kinds are none of those. */
export function timeArithmetic(op: string, l: Value, r: Value): Value | null {
  if (op != "+" && op != "-") return null;
  const lt = l.kind == Kind.Timestamp, rt = r.kind == Kind.Timestamp, ld = l.kind == Kind.Duration, rd = r.kind == Kind.Duration;
  if (!(lt || ld) || !(rt || rd)) return null;
  if (lt && rt && op == "+") return null;
  if (ld && rt && op == "-") return null;
  const a = l.i, b = r.i;
  const sum = op == "+" ? a + b : a - b;
  const overflow = op == "+" ? ((a >= 0) == (b >= 0) && (sum >= 0) != (a >= 0)) : ((a >= 0) != (b >= 0) && (sum >= 0) != (a >= 0));
  if (lt && rt) return overflow ? Value.error("duration out of range") : Value.duration(sum);
  if (ld && rd) return overflow ? Value.error("duration out of range") : Value.duration(sum);
  if (overflow) return Value.error("timestamp out of range");
  return timestampOf(floorDiv(sum, NS_PER_SECOND), floorMod(sum, NS_PER_SECOND));
}
