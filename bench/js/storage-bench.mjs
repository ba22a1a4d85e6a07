// The official Azure JS SDKs' side of Flow's storage benchmark: the same operations, concurrency and
// duration as bench/Flow.Benchmarks, against the same storage. Prints one JSON line.
// Usage: node storage-bench.mjs <operation> <connection-string> <name> <concurrency> <duration-ms> <warmup-ms>
import { TableClient } from "@azure/data-tables";
import { QueueClient } from "@azure/storage-queue";

const [operation, connectionString, name, concurrencyText, durationText, warmupText] = process.argv.slice(2);
const concurrency = Number(concurrencyText);
const durationMs = Number(durationText);
const warmupMs = Number(warmupText);
const payload = "x".repeat(100);

async function setup() {
  if (operation.startsWith("table.")) {
    const table = TableClient.fromConnectionString(connectionString, name, { allowInsecureConnection: true });
    await table.createTable().catch((e) => { if (e.statusCode !== 409) throw e; });
    if (operation === "table.point-read") {
      for (let i = 0; i < 100; i++) await table.upsertEntity({ partitionKey: "read", rowKey: `r${i}`, Value: payload }, "Replace");
    }
    return { table };
  }
  const queue = new QueueClient(connectionString, name);
  await queue.createIfNotExists();
  return { queue };
}

function makeOperation({ table, queue }, worker) {
  let i = 0;
  switch (operation) {
    case "table.upsert":
      return async () => { await table.upsertEntity({ partitionKey: `w${worker}`, rowKey: `js-${i++}`, Value: payload, N: i }, "Merge"); return 1; };
    case "table.batch100":
      return async () => {
        const start = i; i += 100;
        const actions = [];
        for (let k = start; k < start + 100; k++) actions.push(["upsert", { partitionKey: `b${worker}`, rowKey: `js-${k}`, Value: payload }, "Merge"]);
        await table.submitTransaction(actions);
        return 100;
      };
    case "table.point-read":
      return async () => { await table.getEntity("read", `r${(worker * 7 + i++) % 100}`); return 1; };
    case "queue.send":
      return async () => { await queue.sendMessage(Buffer.from(payload).toString("base64")); return 1; };
    case "queue.receive-delete":
      return async () => {
        const r = await queue.receiveMessages({ numberOfMessages: 1, visibilityTimeout: 60 });
        const m = r.receivedMessageItems[0];
        if (!m) return -1;
        await queue.deleteMessage(m.messageId, m.popReceipt);
        return 1;
      };
    default:
      throw new Error(`unknown operation ${operation}`);
  }
}

const clients = await setup();
let counting = false;
let stop = false;
let count = 0;
let drainedAt = 0;
const workers = [];
for (let w = 0; w < concurrency; w++) {
  const op = makeOperation(clients, w);
  workers.push((async () => {
    while (!stop) {
      const n = await op();
      if (n < 0) { if (!drainedAt) drainedAt = performance.now(); stop = true; break; }
      if (counting) count += n;
    }
  })());
}
await new Promise((r) => setTimeout(r, warmupMs));
counting = true;
const started = performance.now();
await new Promise((r) => setTimeout(r, durationMs));
const ended = drainedAt && drainedAt < started + durationMs ? drainedAt : performance.now();
counting = false;
stop = true;
const seconds = Math.max(0.001, (ended - started) / 1000);
console.log(JSON.stringify({ operation, concurrency, count, seconds, opsPerSecond: count / seconds }));
// The count is final; give in-flight requests a moment, but never hang on one the server never answers.
await Promise.race([Promise.allSettled(workers), new Promise((r) => setTimeout(r, 10000))]);
process.exit(0);
