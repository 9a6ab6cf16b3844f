// A small RE2-syntax matcher for CEL's matches(): Thompson NFA simulated as a Pike VM, so time is
// linear in the input (no catastrophic backtracking on a gateway hot path). Supported: literals,
// ., classes [a-z] [^...], \d \w \s (and negations), escapes, ^ $, groups (...) (?:...), |,
// * + ? {n} {n,} {n,m} (lazy forms accepted; only match/no-match matters). Unsupported syntax is
// an invalid pattern, never a wrong answer.

import { codePoints } from "./strings";

const OP_CHAR: i32 = 0;   // match one code point in a class
const OP_SPLIT: i32 = 1;  // fork to x and y
const OP_JMP: i32 = 2;
const OP_MATCH: i32 = 3;
const OP_BEGIN: i32 = 4;  // ^ (start of text)
const OP_END: i32 = 5;    // $ (end of text)

const MAX_PROGRAM = 20000;
const MAX_REPEAT = 1000;

class CharClass {
  ranges: Array<i32> = []; // pairs lo, hi
  negated: bool = false;
  add(lo: i32, hi: i32): void { this.ranges.push(lo); this.ranges.push(hi); }
  matches(c: i32): bool {
    let hit = false;
    for (let i = 0; i < this.ranges.length; i += 2) if (c >= this.ranges[i] && c <= this.ranges[i + 1]) { hit = true; break; }
    return hit != this.negated;
  }
}

class Inst {
  constructor(public op: i32, public x: i32 = 0, public y: i32 = 0, public cls: CharClass | null = null) {}
}

// ---- syntax tree ------------------------------------------------------------------------

const N_CLASS = 0, N_CONCAT = 1, N_ALT = 2, N_REPEAT = 3, N_BEGIN = 4, N_END = 5, N_EMPTY = 6;

class Re {
  kind: i32 = N_EMPTY;
  cls: CharClass | null = null;
  subs: Array<Re> = [];
  min: i32 = 0;
  max: i32 = -1; // -1 = unbounded
}

class RegexParser {
  pos: i32 = 0;
  ok: bool = true;
  constructor(public p: Array<i32>) {}

  peek(): i32 { return this.pos < this.p.length ? this.p[this.pos] : -1; }

  alternation(depth: i32): Re {
    if (depth > 100) { this.ok = false; return new Re(); }
    const alts = new Array<Re>();
    alts.push(this.concat(depth));
    while (this.ok && this.peek() == 124) { this.pos++; alts.push(this.concat(depth)); }
    if (alts.length == 1) return alts[0];
    const r = new Re(); r.kind = N_ALT; r.subs = alts; return r;
  }

  concat(depth: i32): Re {
    const parts = new Array<Re>();
    while (this.ok && this.pos < this.p.length && this.peek() != 124 && this.peek() != 41) {
      let atom = this.atom(depth);
      atom = this.repeat(atom);
      parts.push(atom);
    }
    const r = new Re(); r.kind = N_CONCAT; r.subs = parts; return r;
  }

  repeat(atom: Re): Re {
    while (this.ok && this.pos < this.p.length) {
      const c = this.peek();
      let min = 0, max = -1;
      if (c == 42) { this.pos++; }
      else if (c == 43) { this.pos++; min = 1; }
      else if (c == 63) { this.pos++; max = 1; }
      else if (c == 123) {
        const save = this.pos;
        this.pos++;
        const a = this.number();
        if (a < 0) { this.pos = save; return atom; } // a literal '{'
        min = a; max = a;
        if (this.peek() == 44) {
          this.pos++;
          if (this.peek() == 125) max = -1;
          else { max = this.number(); if (max < 0 || max < min) { this.ok = false; return atom; } }
        }
        if (this.peek() != 125 || min > MAX_REPEAT || max > MAX_REPEAT) { this.ok = false; return atom; }
        this.pos++;
      } else return atom;
      if (atom.kind == N_BEGIN || atom.kind == N_END || atom.kind == N_REPEAT) { this.ok = false; return atom; }
      if (this.peek() == 63) this.pos++; // lazy: same language
      const r = new Re(); r.kind = N_REPEAT; r.subs = [atom]; r.min = min; r.max = max;
      atom = r;
    }
    return atom;
  }

  number(): i32 {
    let n = 0, digits = 0;
    while (this.pos < this.p.length && this.peek() >= 48 && this.peek() <= 57 && digits < 5) { n = n * 10 + this.peek() - 48; this.pos++; digits++; }
    return digits == 0 ? -1 : n;
  }

  atom(depth: i32): Re {
    const c = this.p[this.pos++];
    const r = new Re();
    if (c == 40) { // (
      if (this.peek() == 63) { // (?
        if (this.pos + 1 < this.p.length && this.p[this.pos + 1] == 58) this.pos += 2; // (?:
        else { this.ok = false; return r; }
      }
      const inner = this.alternation(depth + 1);
      if (this.peek() != 41) { this.ok = false; return r; }
      this.pos++;
      return inner;
    }
    if (c == 94) { r.kind = N_BEGIN; return r; }
    if (c == 36) { r.kind = N_END; return r; }
    if (c == 42 || c == 43 || c == 63 || c == 41) { this.ok = false; return r; }
    r.kind = N_CLASS;
    const cls = new CharClass();
    if (c == 46) { cls.add(0, 9); cls.add(11, 0x10FFFF); }
    else if (c == 91) this.bracket(cls);
    else if (c == 92) this.escape(cls, false);
    else cls.add(c, c);
    r.cls = cls;
    return r;
  }

  bracket(cls: CharClass): void {
    if (this.peek() == 94) { cls.negated = true; this.pos++; }
    let first = true;
    while (this.ok) {
      if (this.pos >= this.p.length) { this.ok = false; return; }
      let c = this.p[this.pos++];
      if (c == 93 && !first) return;
      first = false;
      if (c == 91 && this.peek() == 58) { this.ok = false; return; } // [:alpha:] not supported
      let lo = c;
      if (c == 92) {
        const single = this.escape(cls, true);
        if (single < 0) continue; // a class escape like \d was added
        lo = single;
      }
      if (this.peek() == 45 && this.pos + 1 < this.p.length && this.p[this.pos + 1] != 93) {
        this.pos++;
        let hi = this.p[this.pos++];
        if (hi == 92) { hi = this.escape(cls, true); if (hi < 0) { this.ok = false; return; } }
        if (hi < lo) { this.ok = false; return; }
        cls.add(lo, hi);
      } else {
        cls.add(lo, lo);
      }
    }
  }

  /** Adds a class escape (\d, \w, \s, ...) to cls and returns -1, or returns the literal code point. */
  escape(cls: CharClass, inBracket: bool): i32 {
    if (this.pos >= this.p.length) { this.ok = false; return -1; }
    const e = this.p[this.pos++];
    if (e == 100) { cls.add(48, 57); return -1; }
    if (e == 119) { cls.add(48, 57); cls.add(65, 90); cls.add(95, 95); cls.add(97, 122); return -1; }
    if (e == 115) { cls.add(9, 10); cls.add(12, 13); cls.add(32, 32); return -1; }
    if (e == 68 || e == 87 || e == 83) {
      if (inBracket) { this.ok = false; return -1; }
      cls.negated = true;
      if (e == 68) cls.add(48, 57);
      else if (e == 87) { cls.add(48, 57); cls.add(65, 90); cls.add(95, 95); cls.add(97, 122); }
      else { cls.add(9, 10); cls.add(12, 13); cls.add(32, 32); }
      return -1;
    }
    if (e == 110) { if (!inBracket) cls.add(10, 10); return inBracket ? 10 : -1; }
    if (e == 116) { if (!inBracket) cls.add(9, 9); return inBracket ? 9 : -1; }
    if (e == 114) { if (!inBracket) cls.add(13, 13); return inBracket ? 13 : -1; }
    // Punctuation escapes stand for themselves; letters and digits would be unsupported classes.
    if ((e >= 48 && e <= 57) || (e >= 65 && e <= 90) || (e >= 97 && e <= 122)) { this.ok = false; return -1; }
    if (!inBracket) cls.add(e, e);
    return inBracket ? e : -1;
  }
}

// ---- compiler ---------------------------------------------------------------------------

class Compiler {
  prog: Array<Inst> = [];
  ok: bool = true;

  emit(inst: Inst): i32 {
    if (this.prog.length >= MAX_PROGRAM) { this.ok = false; return 0; }
    this.prog.push(inst);
    return this.prog.length - 1;
  }

  compile(r: Re): void {
    if (!this.ok) return;
    if (r.kind == N_CLASS) { this.emit(new Inst(OP_CHAR, 0, 0, r.cls)); return; }
    if (r.kind == N_BEGIN) { this.emit(new Inst(OP_BEGIN)); return; }
    if (r.kind == N_END) { this.emit(new Inst(OP_END)); return; }
    if (r.kind == N_CONCAT) { for (let i = 0; i < r.subs.length; i++) this.compile(r.subs[i]); return; }
    if (r.kind == N_ALT) {
      const jumps = new Array<i32>();
      for (let i = 0; i < r.subs.length - 1; i++) {
        const split = this.emit(new Inst(OP_SPLIT));
        this.prog[split].x = this.prog.length;
        this.compile(r.subs[i]);
        jumps.push(this.emit(new Inst(OP_JMP)));
        this.prog[split].y = this.prog.length;
      }
      this.compile(r.subs[r.subs.length - 1]);
      for (let i = 0; i < jumps.length; i++) this.prog[jumps[i]].x = this.prog.length;
      return;
    }
    if (r.kind == N_REPEAT) {
      const sub = r.subs[0];
      for (let i = 0; i < r.min; i++) this.compile(sub);
      if (r.max < 0) {
        const split = this.emit(new Inst(OP_SPLIT));
        this.prog[split].x = this.prog.length;
        this.compile(sub);
        this.emit(new Inst(OP_JMP, split));
        this.prog[split].y = this.prog.length;
      } else {
        const splits = new Array<i32>();
        for (let i = r.min; i < r.max; i++) {
          const split = this.emit(new Inst(OP_SPLIT));
          this.prog[split].x = this.prog.length;
          splits.push(split);
          this.compile(sub);
        }
        for (let i = 0; i < splits.length; i++) this.prog[splits[i]].y = this.prog.length;
      }
    }
  }
}

// ---- matcher ----------------------------------------------------------------------------

class Program {
  constructor(public insts: Array<Inst>, public valid: bool) {}
}

const cache = new Map<string, Program>();

function compilePattern(pattern: string): Program {
  if (cache.has(pattern)) return cache.get(pattern);
  const cps = codePoints(pattern);
  const parser = new RegexParser(cps);
  const tree = parser.alternation(0);
  let program: Program;
  if (!parser.ok || parser.pos != cps.length) {
    program = new Program([], false);
  } else {
    const c = new Compiler();
    c.compile(tree);
    c.emit(new Inst(OP_MATCH));
    program = new Program(c.prog, c.ok);
  }
  if (cache.size < 256) cache.set(pattern, program);
  return program;
}

/** 1 if `pattern` matches anywhere in `text` (RE2 partial match), 0 if not, -1 if the pattern is invalid. */
export function regexMatches(pattern: string, text: string): i32 {
  const program = compilePattern(pattern);
  if (!program.valid) return -1;
  const input = codePoints(text);
  const insts = program.insts;
  let current = new Array<i32>();
  let next = new Array<i32>();
  const mark = new Array<i32>(insts.length).fill(-1);
  let generation = 0;
  for (let pos = 0; pos <= input.length; pos++) {
    // Unanchored search: a new thread starts at every position.
    generation++;
    for (let i = 0; i < current.length; i++) mark[current[i]] = generation; // keep existing threads unique
    if (addThread(insts, current, mark, generation, 0, pos, input.length)) return 1;
    next.length = 0;
    generation++;
    for (let t = 0; t < current.length; t++) {
      const inst = insts[current[t]];
      if (inst.op == OP_MATCH) return 1;
      if (inst.op == OP_CHAR && pos < input.length && (<CharClass>inst.cls).matches(input[pos])) {
        if (addThread(insts, next, mark, generation, current[t] + 1, pos + 1, input.length)) return 1;
      }
    }
    const swap = current; current = next; next = swap;
  }
  for (let t = 0; t < current.length; t++) if (insts[current[t]].op == OP_MATCH) return 1;
  return 0;
}

/** Follows epsilon edges from pc; returns true as soon as MATCH is reachable. */
function addThread(insts: Array<Inst>, list: Array<i32>, mark: Array<i32>, generation: i32, pc: i32, pos: i32, length: i32): bool {
  const stack = new Array<i32>();
  stack.push(pc);
  while (stack.length > 0) {
    const p = stack.pop();
    if (mark[p] == generation) continue;
    mark[p] = generation;
    const inst = insts[p];
    if (inst.op == OP_JMP) stack.push(inst.x);
    else if (inst.op == OP_SPLIT) { stack.push(inst.y); stack.push(inst.x); }
    else if (inst.op == OP_BEGIN) { if (pos == 0) stack.push(p + 1); }
    else if (inst.op == OP_END) { if (pos == length) stack.push(p + 1); }
    else if (inst.op == OP_MATCH) return true;
    else list.push(p);
  }
  return false;
}
