// A test's whole life with a real cluster and an SDK client: create and start the nodes, connect,
// wait until every node answers, run the test, print the nodes' logs if it failed, and always
// close the client and stop the cluster (its temporary directory removed).
import { Cluster, type ClusterOptions } from "./cluster.js";
import { ArborClient, type ConnectOptions } from "../../client/index.js";

export async function withSdkCluster(
  o: ClusterOptions,
  body: (c: Cluster, client: ArborClient) => Promise<void>,
  connect: Omit<ConnectOptions, "genesis"> = {},
): Promise<void> {
  const c = await Cluster.create(o);
  c.startAll();
  const client = await ArborClient.connect({ ...connect, genesis: c.genesis });
  try {
    await c.ready();
    await body(c, client);
  } catch (e) {
    // Where each node stood when the test failed: height, certified height, consensus round.
    for (let i = 0; i < c.clients.length; i++) {
      const st = await c.clients[i]!.status().catch((x: unknown) => String(x));
      console.log(
        `# node ${i}: ${typeof st === "string" ? st : `height ${st.height}, certified ${st.certifiedHeight}, epoch ${st.consensusEpoch} round ${st.consensusRound}, peers ${st.peersConnected}`}`,
      );
    }
    c.printLogs();
    throw e;
  } finally {
    client.close();
    await c.stop();
  }
}
