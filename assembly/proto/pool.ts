// The filter's one descriptor pool: the built-in services, loaded once, plus whatever the
// descriptor service sends for `dynamic` services (filter/descriptor-fetch.ts).
import { DescriptorPool } from "./descriptors";
import { BUILTIN_DESCRIPTORS } from "./builtin-descriptors";

let pool: DescriptorPool | null = null;

export function descriptorPool(): DescriptorPool {
  let p = pool;
  if (p === null) {
    p = new DescriptorPool();
    const bytes = new ArrayBuffer(BUILTIN_DESCRIPTORS.length);
    memory.copy(changetype<usize>(bytes), changetype<usize>(BUILTIN_DESCRIPTORS), <usize>BUILTIN_DESCRIPTORS.length);
    const err = p.addFileDescriptorSet(bytes);
    assert(err.length == 0, "built-in descriptors: " + err); // generated at build time: cannot fail
    pool = p;
  }
  return p;
}
