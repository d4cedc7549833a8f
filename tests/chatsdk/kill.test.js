// kill -9 of the server while Conversations SDK clients (3.x and 2.x) stay connected: the
// clients reconnect by themselves once the server is back on the same port and database,
// every acknowledged message is there (SDK and REST), a message sent while the server was
// down is either acknowledged and there or rejected to its caller, and new messages arrive
// live. Run by kill_test.go (TestKillNine), which sets GATEWAY_URL, PARLEY_URL, CONTROL_URL
// (POST /kill, POST /start), ACCOUNT_SID, AUTH_TOKEN.
"use strict";
const { test } = require("node:test");
const assert = require("node:assert/strict");
const twilio = require("twilio");

const env = process.env;
for (const k of ["GATEWAY_URL", "PARLEY_URL", "CONTROL_URL", "ACCOUNT_SID", "AUTH_TOKEN"]) {
  if (!env[k]) throw new Error(`${k} is not set; run this through kill_test.go`);
}

const rest = twilio(env.ACCOUNT_SID, env.AUTH_TOKEN);
rest.conversations.baseUrl = env.PARLEY_URL;
const basic = "Basic " + Buffer.from(`${env.ACCOUNT_SID}:${env.AUTH_TOKEN}`).toString("base64");

const versions = [
  ["3.x", "@twilio/conversations"],
  ["2.x", "conversations2"],
].map(([label, name]) => [label, require(name), require(`${name}/package.json`).version]);

// The overall bound for every wait below: the SDK's twilsock backoff after a lost server can
// take several seconds; nothing is asserted about how long anything takes.
const DEADLINE_MS = 120000;

// until polls cond (which may be async) until it is true, failing after the overall deadline.
async function until(what, cond) {
  const end = Date.now() + DEADLINE_MS;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`gave up waiting for ${typeof what === "function" ? what() : what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function waitFor(emitter, event, pred = () => true) {
  return new Promise((resolve) => {
    const h = (arg) => {
      if (pred(arg)) {
        emitter.removeListener(event, h);
        resolve(arg);
      }
    };
    emitter.on(event, h);
  });
}

async function control(op) {
  const res = await fetch(`${env.CONTROL_URL}/${op}`, { method: "POST" });
  assert.equal(res.status, 200, `control ${op}: ${await res.text()}`);
}

async function token(identity) {
  const res = await fetch(`${env.PARLEY_URL}/parley/v1/Tokens`, {
    method: "POST",
    headers: { Authorization: basic, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ Identity: identity, Ttl: "3600" }),
  });
  assert.equal(res.status, 201);
  return res.json();
}

async function login(Client, identity) {
  const { token: jwt } = await token(identity);
  const client = new Client(jwt, { Twilsock: { uri: env.GATEWAY_URL }, logLevel: "silent" });
  if (client.state !== "initialized") {
    const st = await waitFor(client, "stateChanged", (s) => s === "initialized" || s === "failed");
    assert.equal(st, "initialized", `${identity}: client initialisation failed`);
  }
  await client.getSubscribedConversations();
  return client;
}

async function restBodies(convSid) {
  const ms = await rest.conversations.v1.conversations(convSid).messages.list({ limit: 1000 });
  return ms.map((m) => m.body);
}

async function sdkBodies(conv) {
  const page = await conv.getMessages(100);
  return page.items.map((m) => m.body);
}

test("kill -9 of the server: SDK clients reconnect, nothing acknowledged is lost, new messages arrive live", async (t) => {
  const N = 5;
  // One pair of clients per SDK version, each pair in its own REST-created conversation.
  const pairs = [];
  for (const [label, sdk, version] of versions) {
    const alice = `alice-kill-${label}`, bob = `bob-kill-${label}`;
    const conv = await rest.conversations.v1.conversations.create({ friendlyName: `kill ${label}` });
    await rest.conversations.v1.conversations(conv.sid).participants.create({ identity: alice });
    await rest.conversations.v1.conversations(conv.sid).participants.create({ identity: bob });
    const ca = await login(sdk.Client, alice);
    t.after(() => ca.shutdown());
    const cb = await login(sdk.Client, bob);
    t.after(() => cb.shutdown());
    const ac = await ca.getConversationBySid(conv.sid);
    const bc = await cb.getConversationBySid(conv.sid);
    await ac.getMessages();
    await bc.getMessages(); // bob's messages list is open and subscribed
    const seenByBob = [];
    bc.on("messageAdded", (m) => seenByBob.push(m.body));
    pairs.push({ label, version, sid: conv.sid, ca, cb, ac, bc, seenByBob, acked: [] });
  }

  // Acknowledged messages: each sendMessage promise resolved with the message's index.
  for (const p of pairs) {
    for (let i = 0; i < N; i++) {
      const body = `${p.label} before kill ${i}`;
      const idx = await p.ac.sendMessage(body);
      assert.equal(typeof idx, "number", `${p.label}: sendMessage resolved with ${idx}`);
      p.acked.push(body);
    }
  }

  const clients = pairs.flatMap((p) => [p.ca, p.cb]);
  const downs = clients.map((c) => waitFor(c, "connectionStateChanged", (s) => s !== "connected"));
  // In flight when the server dies: each is acknowledged (then it must be there) or rejected.
  const inflight = pairs.flatMap((p) => Array.from({ length: N }, (_, i) => {
    const body = `${p.label} in flight ${i}`;
    return p.ac.sendMessage(body).then(
      (idx) => ({ p, body, acked: true, idx }),
      (err) => ({ p, body, acked: false, err }),
    );
  }));
  await control("kill");
  await Promise.all(downs); // every client noticed the server is gone

  // Sent while the server is down: acknowledged later (then it must be there) or rejected.
  const pending = pairs.map((p) => {
    const body = `${p.label} while down`;
    return p.ac.sendMessage(body).then(
      (idx) => ({ p, body, acked: true, idx }),
      (err) => ({ p, body, acked: false, err }),
    );
  });

  await control("start");
  // Created over REST as soon as the server is back, most likely before bob's client has
  // reconnected: it reaches him by replay (or live, if he was quicker).
  for (const p of pairs) {
    const body = `${p.label} REST right after restart`;
    await rest.conversations.v1.conversations(p.sid).messages.create({ author: "system", body });
    p.restAfter = body;
  }
  await until(() => `every client to reconnect; states: ${clients.map((c) => c.connectionState)}`, () => clients.every((c) => c.connectionState === "connected"));

  const outcomes = await Promise.all([...inflight, ...pending]);
  for (const r of outcomes) {
    t.diagnostic(`${r.p.label} (${r.p.version}): "${r.body}" was ` +
      (r.acked ? `acknowledged (index ${r.idx})` : `rejected (${r.err && r.err.message})`));
    if (r.acked) r.p.acked.push(r.body);
  }
  for (const p of pairs) p.acked.push(p.restAfter);

  for (const p of pairs) {
    // Every acknowledged message reaches bob (live before the kill, by replay after it) ...
    await until(() => `${p.label}: bob to receive ${JSON.stringify(p.acked.filter((b) => !p.seenByBob.includes(b)))}`,
      () => p.acked.every((b) => p.seenByBob.includes(b)));
    // ... is in bob's history, in order, exactly once ...
    await until(`${p.label}: bob's history to hold the acknowledged messages`, async () => {
      const got = await sdkBodies(p.bc);
      return p.acked.every((b) => got.filter((x) => x === b).length === 1);
    });
    // ... and over REST; bob's history and the REST list are the same, in the same order, and
    // hold nothing twice (a rejected send may or may not have been stored before the kill).
    const sdkAll = await sdkBodies(p.bc);
    const restAll = await restBodies(p.sid);
    assert.deepEqual(sdkAll, restAll, `${p.label}: bob's history vs the REST list`);
    assert.deepEqual(restAll.filter((b) => p.acked.includes(b)).sort(), [...p.acked].sort(), `${p.label}: acknowledged messages over REST`);
    assert.deepEqual(restAll.slice(0, N), p.acked.slice(0, N), `${p.label}: the messages acknowledged before the kill, in order`);
    assert.equal(new Set(restAll).size, restAll.length, `${p.label}: a message is stored twice: ${restAll}`);
    const unacked = restAll.filter((b) => !p.acked.includes(b));
    t.diagnostic(`${p.label}: ${p.acked.length} acknowledged messages present; stored although rejected to the caller: ${JSON.stringify(unacked)}`);

    // New messages arrive live: from alice's SDK client and from REST.
    const live = waitFor(p.bc, "messageAdded", (m) => m.body === `${p.label} after restart`);
    const idx = await p.ac.sendMessage(`${p.label} after restart`);
    assert.equal((await live).index, idx);
    const fromRest = waitFor(p.bc, "messageAdded", (m) => m.body === `${p.label} REST after restart`);
    const aliceSees = waitFor(p.ac, "messageAdded", (m) => m.body === `${p.label} REST after restart`);
    await rest.conversations.v1.conversations(p.sid).messages.create({ author: "system", body: `${p.label} REST after restart` });
    await Promise.all([fromRest, aliceSees]);
    const after = await restBodies(p.sid);
    assert.deepEqual(after.slice(-2), [`${p.label} after restart`, `${p.label} REST after restart`]);

    // The user's own subscriptions are back too: a conversation bob is added to over REST
    // after the restart shows up live in his client.
    const joined = waitFor(p.cb, "conversationJoined", (c) => c.friendlyName === `${p.label} after restart`);
    const c2 = await rest.conversations.v1.conversations.create({ friendlyName: `${p.label} after restart` });
    await rest.conversations.v1.conversations(c2.sid).participants.create({ identity: p.cb.user.identity });
    assert.equal((await joined).sid, c2.sid);
  }
});
