/**
 * Starts and stops the servers of the comparison, each privately on loopback in a folder of
 * its own under one temporary folder (kept across restarts, so accounts are written or
 * registered once), and says how to reach each target and which pids serve it.
 *
 * @example
 * ```ts ignore
 * import { Stack } from "./stack.ts";
 * const stack = new Stack(await Deno.makeTempDir(), users, "pw");
 * await stack.start(["prosody", "gateway-prosody"]);
 * console.log(stack.endpoint(TARGETS[2]!), stack.pids(TARGETS[2]!));
 * await stack.stopAll();
 * ```
 * @module
 */

import type { Endpoint } from "./protocol.ts";
import type { Spawned } from "./proc.ts";
import { type BenchProsody, startProsody } from "./prosody.ts";
import { type BenchEjabberd, startEjabberd } from "./ejabberd.ts";
import { type OurServer, startEmbedded, startGateway } from "./ours.ts";
import { embeddedAccountsJson } from "./accounts.ts";
import type { ServerKey, Target } from "./targets.ts";

/** The pids serving a target (NaN-free: undefined when the role is absent). */
export interface TargetPids {
  readonly ours: number | undefined;
  readonly upstream: number | undefined;
}

/** The running servers. */
export class Stack {
  readonly dir: string;
  readonly users: readonly string[];
  readonly password: string;
  prosody: BenchProsody | undefined;
  ejabberd: BenchEjabberd | undefined;
  readonly ours = new Map<ServerKey, OurServer>();

  constructor(dir: string, users: readonly string[], password: string) {
    this.dir = dir;
    this.users = users;
    this.password = password;
  }

  /** Starts the servers not running yet, in order (upstreams first). */
  async start(keys: readonly ServerKey[]): Promise<void> {
    for (const key of keys) {
      if (key === "prosody") {
        if (this.prosody) continue;
        await Deno.mkdir(`${this.dir}/prosody`, { recursive: true });
        this.prosody = await startProsody(`${this.dir}/prosody`, this.users, this.password);
      } else if (key === "ejabberd") {
        if (this.ejabberd) continue;
        await Deno.mkdir(`${this.dir}/ejabberd`, { recursive: true });
        this.ejabberd = await startEjabberd(`${this.dir}/ejabberd`, this.users, this.password);
      } else if (!this.ours.has(key)) {
        this.ours.set(key, await this.#startOurs(key));
      }
    }
  }

  async #startOurs(key: ServerKey): Promise<OurServer> {
    if (key === "gateway-prosody") {
      if (!this.prosody) throw new Error("the gateway needs Prosody started first");
      return startGateway("gateway->Prosody", this.prosody.c2sPort);
    }
    if (key === "gateway-ejabberd") {
      if (!this.ejabberd) throw new Error("the gateway needs ejabberd started first");
      return startGateway("gateway->ejabberd", this.ejabberd.c2sPort);
    }
    const file = `${this.dir}/embedded-accounts.json`;
    if (!(await Deno.stat(file).catch(() => undefined))) {
      await Deno.writeTextFile(file, await embeddedAccountsJson(this.users, this.password));
    }
    return startEmbedded(file);
  }

  /** How the load client reaches a target. */
  endpoint(target: Target): Endpoint {
    const domain = "localhost";
    if (target.ours !== undefined) {
      const server = this.ours.get(target.ours);
      if (!server) throw new Error(`${target.key}: not started`);
      return { kind: "ws", url: server.websocketUrl, domain };
    }
    const upstream = target.upstream === "prosody" ? this.prosody : this.ejabberd;
    if (!upstream) throw new Error(`${target.key}: not started`);
    return target.transport === "ws"
      ? { kind: "ws", url: upstream.websocketUrl, domain }
      : { kind: "tcp", hostname: "127.0.0.1", port: upstream.c2sPort, domain };
  }

  /** The processes serving a target. */
  processes(target: Target): { ours: Spawned | undefined; upstream: Spawned | undefined } {
    return {
      ours: target.ours === undefined ? undefined : this.ours.get(target.ours)?.process,
      upstream: target.upstream === "prosody"
        ? this.prosody?.process
        : target.upstream === "ejabberd"
        ? this.ejabberd?.process
        : undefined,
    };
  }

  /** Stops everything (ours first, then the upstreams). */
  async stopAll(): Promise<void> {
    for (const server of this.ours.values()) await server.stop().catch(() => {});
    this.ours.clear();
    await this.prosody?.stop().catch(() => {});
    await this.ejabberd?.stop().catch(() => {});
    this.prosody = undefined;
    this.ejabberd = undefined;
  }
}
