// An independent storage client for Flow's compatibility tests: the official Azure JS SDKs
// (@azure/data-tables, @azure/storage-queue, pinned in the repository's package.json).
// What Flow writes (its stores and work queue, on the Azure .NET SDKs), this reads back; what this writes, Flow must read.
// Usage: node azure-sdk-peer.mjs <command> <connection-string> <name> [args...]
// Prints one JSON document on stdout.
import { TableClient } from "@azure/data-tables";
import { QueueClient } from "@azure/storage-queue";

const [command, connectionString, name, ...args] = process.argv.slice(2);
const insecure = { allowInsecureConnection: true };

function tableClient() {
  return TableClient.fromConnectionString(connectionString, name, insecure);
}

function queueClient() {
  return new QueueClient(connectionString, name);
}

// Every property as {type, value} with the Edm type the service reported (or JSON's own type).
function describeEntity(entity) {
  const props = {};
  for (const [key, value] of Object.entries(entity)) {
    if (["partitionKey", "rowKey", "etag", "timestamp", "odata.metadata"].includes(key)) continue;
    props[key] = typeof value === "object" && value !== null && "type" in value
      ? { type: value.type, value: String(value.value) }
      : { type: typeof value, value: String(value) };
  }
  return { partitionKey: entity.partitionKey, rowKey: entity.rowKey, etag: entity.etag, props };
}

const commands = {
  // Writes one entity per Edm type plus keys with special characters, using explicit types.
  async "table-write"() {
    const client = tableClient();
    await client.createTable().catch((e) => { if (e.statusCode !== 409) throw e; });
    const entity = {
      partitionKey: "from-js 'quoted' é",
      rowKey: "row 1",
      Text: "hello <&> \"js\" 🚀",
      Int32: { value: "42", type: "Int32" },
      Int64: { value: "9007199254740993", type: "Int64" },
      Double: { value: "2.5", type: "Double" },
      WholeDouble: { value: "3.0", type: "Double" },
      Flag: true,
      When: { value: "2026-02-28T23:59:59.123Z", type: "DateTime" },
      Id: { value: "0f8fad5b-d9cb-469f-a165-70867728950e", type: "Guid" },
      Bytes: { value: "AAEC/v8=", type: "Binary" },
      PlainNumber: 7,
    };
    await client.createEntity(entity);
    const batch = [];
    for (let i = 0; i < 5; i++) {
      batch.push(["create", { partitionKey: "js-batch", rowKey: `r${i}`, N: i }]);
    }
    await client.submitTransaction(batch);
    return { written: 6 };
  },

  async "table-read"() {
    const client = tableClient();
    const entities = [];
    for await (const e of client.listEntities({ queryOptions: {} , disableTypeConversion: true })) {
      entities.push(describeEntity(e));
    }
    return { entities };
  },

  // Functions' queue trigger expects base64 text by default: the JS SDK sends raw text, so encode first.
  async "queue-send"() {
    const client = queueClient();
    await client.createIfNotExists();
    for (const text of args) {
      await client.sendMessage(Buffer.from(text, "utf8").toString("base64"));
    }
    return { sent: args.length };
  },

  async "queue-send-raw"() {
    const client = queueClient();
    await client.createIfNotExists();
    for (const text of args) {
      await client.sendMessage(text);
    }
    return { sent: args.length };
  },

  async "queue-receive"() {
    const client = queueClient();
    const want = Number(args[0] ?? "1");
    const messages = [];
    for (let attempt = 0; messages.length < want && attempt < 50; attempt++) {
      const response = await client.receiveMessages({ numberOfMessages: Math.min(32, want - messages.length), visibilityTimeout: 30 });
      for (const m of response.receivedMessageItems) {
        messages.push({
          id: m.messageId,
          dequeueCount: m.dequeueCount,
          raw: m.messageText,
          text: Buffer.from(m.messageText, "base64").toString("utf8"),
        });
        await client.deleteMessage(m.messageId, m.popReceipt);
      }
      if (response.receivedMessageItems.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    return { messages };
  },
};

const run = commands[command];
if (!run) {
  console.error(`unknown command '${command}'; one of: ${Object.keys(commands).join(", ")}`);
  process.exit(2);
}
try {
  console.log(JSON.stringify(await run()));
} catch (error) {
  console.error(error?.stack ?? String(error));
  process.exit(1);
}
