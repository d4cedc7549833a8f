// Chat flows: Twilio's unmodified Conversations client SDK (3.x and 2.x) and twilio-node's REST
// client against one Parley server (SQLite). Run by flows_test.go, which sets GATEWAY_URL,
// PARLEY_URL, ACCOUNT_SID, AUTH_TOKEN, KEY_SID, KEY_SECRET, SERVICE_SID.
"use strict";
const { test } = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const twilio = require("twilio");

const env = process.env;
for (const k of ["GATEWAY_URL", "PARLEY_URL", "ACCOUNT_SID", "AUTH_TOKEN", "KEY_SID", "KEY_SECRET", "SERVICE_SID"]) {
  if (!env[k]) throw new Error(`${k} is not set; run this through flows_test.go`);
}

const rest = twilio(env.ACCOUNT_SID, env.AUTH_TOKEN);
rest.conversations.baseUrl = env.PARLEY_URL;
const svc = rest.conversations.v1.services(env.SERVICE_SID);

const versions = [
  ["3.x", "@twilio/conversations"],
  ["2.x", "conversations2"],
].map(([label, name]) => [label, require(name), require(`${name}/package.json`).version]);

function mint(identity) {
  const { AccessToken } = twilio.jwt;
  const token = new AccessToken(env.ACCOUNT_SID, env.KEY_SID, env.KEY_SECRET, { identity });
  token.addGrant(new AccessToken.ChatGrant({ serviceSid: env.SERVICE_SID }));
  return token.toJwt();
}

// waitFor resolves with the first `event` whose argument satisfies pred (no timers: the
// test runner's timeout bounds it).
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

async function login(Client, identity) {
  const client = new Client(mint(identity), { Twilsock: { uri: env.GATEWAY_URL }, logLevel: "silent" });
  if (client.state !== "initialized") {
    const st = await waitFor(client, "stateChanged", (s) => s === "initialized" || s === "failed");
    assert.equal(st, "initialized", `${identity}: client initialisation failed`);
  }
  return client;
}

let n = 0;
for (const [label, sdk, version] of versions) {
  const { Client } = sdk;

  test(`${label} (${version}): REST conversation, SDK messages both ways, participants, typing, read horizon`, async (t) => {
    n++;
    const alice = `alice-${label}-${n}`, bob = `bob-${label}-${n}`;
    // A REST-created conversation with alice is among her subscribed conversations.
    const conv = await svc.conversations.create({ friendlyName: `chat ${label}` });
    await svc.conversations(conv.sid).participants.create({ identity: alice });
    const ca = await login(Client, alice);
    t.after(() => ca.shutdown());
    assert.equal(ca.user.identity, alice);
    const subs = await ca.getSubscribedConversations();
    const ac = subs.items.find((c) => c.sid === conv.sid);
    assert.ok(ac, "the REST-created conversation is subscribed");
    assert.equal(ac.friendlyName, `chat ${label}`);

    // REST participant add is seen live as participantJoined.
    const joined = waitFor(ac, "participantJoined", (p) => p.identity === bob);
    await svc.conversations(conv.sid).participants.create({ identity: bob });
    await joined;
    const parts = await ac.getParticipants();
    assert.deepEqual(parts.map((p) => p.identity).sort(), [alice, bob].sort());

    // bob logs in, finds the conversation; alice's SDK message reaches him live and REST.
    const cb = await login(Client, bob);
    t.after(() => cb.shutdown());
    const bc = await cb.getConversationBySid(conv.sid);
    const got = waitFor(bc, "messageAdded", (m) => m.body === "hello from alice");
    const idx = await ac.sendMessage("hello from alice");
    const m = await got;
    assert.equal(m.author, alice);
    assert.equal(m.index, idx);
    const listed = await svc.conversations(conv.sid).messages.list();
    assert.ok(listed.some((x) => x.body === "hello from alice" && x.author === alice), "the SDK message is in the REST list");

    // A REST-created message reaches both clients live.
    const ra = waitFor(ac, "messageAdded", (x) => x.body === "from REST");
    const rb = waitFor(bc, "messageAdded", (x) => x.body === "from REST");
    await svc.conversations(conv.sid).messages.create({ author: "system", body: "from REST" });
    await Promise.all([ra, rb]);
    const page = await bc.getMessages();
    assert.deepEqual(page.items.map((x) => x.body), ["hello from alice", "from REST"]);

    // REST conversation update is seen as `updated`.
    const upd = waitFor(ac, "updated", ({ conversation }) => conversation.friendlyName === "renamed");
    await svc.conversations(conv.sid).update({ friendlyName: "renamed" });
    await upd;

    // Typing reaches the other participant only.
    const typing = waitFor(bc, "typingStarted", (p) => p.identity === alice);
    await ac.typing();
    await typing;

    // Read horizon set in the SDK is visible over REST.
    await bc.setAllMessagesRead();
    const bp = (await svc.conversations(conv.sid).participants.list()).find((p) => p.identity === bob);
    assert.equal(bp.lastReadMessageIndex, 1);

    // REST participant removal is seen as participantLeft.
    const left = waitFor(ac, "participantLeft", (p) => p.identity === bob);
    await svc.conversations(conv.sid).participants(bp.sid).remove();
    await left;
  });

  test(`${label} (${version}): a conversation created by the SDK is visible over REST`, async (t) => {
    n++;
    const carol = `carol-${label}-${n}`;
    const cc = await login(Client, carol);
    t.after(() => cc.shutdown());
    const c = await cc.createConversation({ friendlyName: "from the SDK" });
    await c.join();
    await c.sendMessage("first");
    const r = await svc.conversations(c.sid).fetch();
    assert.equal(r.friendlyName, "from the SDK");
    const ps = await svc.conversations(c.sid).participants.list();
    assert.deepEqual(ps.map((p) => p.identity), [carol]);
    const ms = await svc.conversations(c.sid).messages.list();
    assert.deepEqual(ms.map((x) => [x.author, x.body]), [[carol, "first"]]);
  });
}
