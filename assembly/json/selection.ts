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

  /** Selects what an RFC 6901 pointer names ("" is the whole document; a malformed pointer selects nothing). */
  addPointer(pointer: string): JsonSelection {
    if (pointer.length == 0) { this.whole = true; return this; }
    if (pointer.charCodeAt(0) != 47) return this;
    const tokens = pointer.substring(1).split("/");
    for (let i = 0; i < tokens.length; i++) tokens[i] = tokens[i].replaceAll("~1", "/").replaceAll("~0", "~");
    return this.add(tokens);
  }
}
