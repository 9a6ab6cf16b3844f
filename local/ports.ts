// Ports for a process that binds later (a child process, or an address where nothing should
// listen). A port the kernel gave for a port-0 bind and took back can be given to another
// suite's port-0 bind before our child binds it (suites run side by side): CI saw a stack fail
// with "port … already in use". These ports are drawn below the kernel's ephemeral range, where
// port-0 binds never land, at random, and checked free.
import net from "node:net";
import { readFileSync } from "node:fs";

const LOWEST = 10000;
const handedOut = new Set<number>();

/** The first port the kernel hands out for port 0 (Linux: ip_local_port_range; else IANA's 49152, or Linux's default). */
function ephemeralStart(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    if (low > LOWEST + 1000) return low;
  } catch { /* not Linux */ }
  return 32768;
}
const HIGHEST = ephemeralStart() - 1;

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** A free port outside the ephemeral range, not handed out before by this process. */
export async function portForChild(): Promise<number> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST + 1));
    if (handedOut.has(port) || !(await isFree(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port between ${LOWEST} and ${HIGHEST}`);
}
