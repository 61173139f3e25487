/**
 * `deno bench` of one roster update (a rename: the roster set, its push and its result) through
 * the pure hub, for rosters of 100, 1 000 and 5 000 items. Before issue 9 every update copied
 * the whole roster (O(items)); now the stored roster is changed in place, so the three should
 * cost about the same. The 100-item roster is the group's baseline.
 *
 * Run: `deno bench --allow-read bench/roster_bench.ts`.
 *
 * @module
 */

import { HubNet } from "../tests/_support/hub_net.ts";

const ROSTER = "jabber:iq:roster";

function filled(items: number): HubNet {
  const net = new HubNet({ maxRosterItems: 10_000, rate: { perSecond: 1e9, burst: 1e9 } });
  net.login("a1", "alice");
  net.send("a1", `<iq type='get' id='get'><query xmlns='${ROSTER}'/></iq>`); // gets pushes
  for (let n = 0; n < items; n++) {
    net.send(
      "a1",
      `<iq type='set' id='add${n}'><query xmlns='${ROSTER}'><item jid='c${n}@example.org'/></query></iq>`,
    );
  }
  net.take("a1");
  return net;
}

for (const items of [100, 1_000, 5_000]) {
  const net = filled(items);
  let n = 0;
  Deno.bench({
    name: `roster set (rename) in a roster of ${items} items`,
    group: "roster-update",
    baseline: items === 100,
    fn: () => {
      n += 1;
      net.send(
        "a1",
        `<iq type='set' id='r${n}'><query xmlns='${ROSTER}'><item jid='c7@example.org' name='n${n}'/></query></iq>`,
      );
      net.take("a1");
      net.log.length = 0;
    },
  });
}
