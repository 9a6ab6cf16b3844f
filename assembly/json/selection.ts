// Which parts of a JSON document a reader needs: a tree of member names from the root, where a
// terminal name keeps its whole value. parseSelected (parse.ts) validates the whole document as
// parseJson does but builds only the selected members, so a body's unread parts (an LLM's
// `choices`) cost a scan, not a tree.

export class JsonSelection {
  names: Array<string> = [];
  children: Array<JsonSelection> = [];
  /** Keep the whole value here (a pointer ends here, or a reader reads all of it). */
  whole: bool = false;

  /** The child for member `name`, or null when that member is not needed. */
  child(name: string): JsonSelection | null {
    const i = this.names.indexOf(name);
    return i >= 0 ? this.children[i] : null;
  }

  /** Selects the value at `tokens` (member names from the root), whole. */
  add(tokens: Array<string>): JsonSelection {
    let node: JsonSelection = this;
    for (let i = 0; i < tokens.length && !node.whole; i++) {
      let next = node.child(tokens[i]);
      if (next === null) {
        next = new JsonSelection();
        node.names.push(tokens[i]);
        node.children.push(next);
      }
      node = next;
    }
    node.whole = true;
    return this;
  }

  /** The pointers added, in order, and their tokens (null: malformed, selects nothing; []: the whole document). */
  readonly pointers: Array<string> = [];
  readonly pointerTokens: Array<Array<string> | null> = [];

  /** Selects what an RFC 6901 pointer names ("" is the whole document; a malformed pointer selects nothing). */
  addPointer(pointer: string): JsonSelection {
    const tokens = pointerTokens(pointer);
    this.pointers.push(pointer);
    this.pointerTokens.push(tokens);
    if (tokens === null) return this;
    if (tokens.length == 0) { this.whole = true; return this; }
    return this.add(tokens);
  }
}

/** An RFC 6901 pointer's member names ("~1" is "/", "~0" is "~"): [] for "", null when it does not start with "/". */
export function pointerTokens(pointer: string): Array<string> | null {
  if (pointer.length == 0) return [];
  if (pointer.charCodeAt(0) != 47) return null;
  const tokens = pointer.substring(1).split("/");
  for (let i = 0; i < tokens.length; i++) tokens[i] = tokens[i].replaceAll("~1", "/").replaceAll("~0", "~");
  return tokens;
}
