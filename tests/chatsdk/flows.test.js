// Chat flows: Twilio's unmodified Conversations client SDK (3.x and 2.x) and twilio-node's REST
// client against one Parley server (SQLite). Run by flows_test.go, which sets GATEWAY_URL,
// PARLEY_URL, ACCOUNT_SID, AUTH_TOKEN, KEY_SID, KEY_SECRET, SERVICE_SID.
"use strict";
const { test } = require("node:test");
const assert = require("node:assert/strict");
const http = require("node:http");
const path = require("node:path");
const net = require("node:net");
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
].map(([label, name]) => [label, require(name), require(`${name}/package.json`).version, name]);

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

async function login(Client, identity, uri = env.GATEWAY_URL) {
  const client = new Client(mint(identity), { Twilsock: { uri }, logLevel: "silent" });
  if (client.state !== "initialized") {
    const st = await waitFor(client, "stateChanged", (s) => s === "initialized" || s === "failed");
    assert.equal(st, "initialized", `${identity}: client initialisation failed`);
  }
  // The SDK loads the user's conversations after "initialized"; wait for that, so a test that
  // shuts the client down soon does not cut a request the SDK still waits for.
  await client.getSubscribedConversations();
  return client;
}

// cutter is a TCP proxy to the server whose connections can be cut, to drop a client's socket.
async function cutter() {
  const target = new URL(env.PARLEY_URL);
  const live = new Set();
  const srv = net.createServer((c) => {
    const u = net.connect(Number(target.port), target.hostname);
    live.add(c);
    live.add(u);
    const end = () => { c.destroy(); u.destroy(); live.delete(c); live.delete(u); };
    c.on("error", end).on("close", end);
    u.on("error", end).on("close", end);
    c.pipe(u);
    u.pipe(c);
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  return {
    uri: env.GATEWAY_URL.replace(/:\d+\//, `:${srv.address().port}/`),
    cut: () => { for (const s of live) s.destroy(); },
    close: () => { for (const s of live) s.destroy(); srv.close(); },
  };
}

// twilsockOf returns the SDK version's own twilsock package.
function twilsockOf(name) {
  const dir = path.dirname(require.resolve(`${name}/package.json`));
  return require(require.resolve("twilsock", { paths: [dir] }));
}

let n = 0;
for (const [label, sdk, version, pkg] of versions) {
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
    // Events describe changes after the client opened a conversation's messages and roster;
    // wait for both to be open (what came before is history, not events).
    await ac.getMessages();
    assert.deepEqual((await ac.getParticipants()).map((p) => p.identity), [alice]);

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
    await bc.getMessages();
    await bc.getParticipants();
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

  test(`${label} (${version}): a client whose socket drops catches up on what it missed`, async (t) => {
    n++;
    const dan = `dan-${label}-${n}`;
    const conv = await svc.conversations.create({ friendlyName: "drops" });
    await svc.conversations(conv.sid).participants.create({ identity: dan });
    const proxy = await cutter();
    t.after(() => proxy.close());
    const cd = await login(Client, dan, proxy.uri);
    t.after(() => cd.shutdown());
    const dc = await cd.getConversationBySid(conv.sid);
    await dc.getMessages(); // the messages list is open and subscribed
    const down = waitFor(cd, "connectionStateChanged", (s) => s !== "connected");
    proxy.cut();
    await down;
    // Sent while dan is offline: the reconnecting client replays it from its last event id.
    const missed = waitFor(dc, "messageAdded", (m) => m.body === "while you were away");
    await svc.conversations(conv.sid).messages.create({ author: "system", body: "while you were away" });
    await missed;
    const page = await dc.getMessages();
    assert.deepEqual(page.items.map((m) => m.body), ["while you were away"]);
  });

  test(`${label} (${version}): a pre-event webhook rejects an SDK message; nothing is stored`, async (t) => {
    n++;
    const erin = `erin-${label}-${n}`;
    const seen = [];
    const hook = http.createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d)).on("end", () => {
        const p = new URLSearchParams(body);
        seen.push([p.get("EventType"), p.get("Source"), p.get("ClientIdentity"), p.get("Body")]);
        res.statusCode = p.get("Body") === "forbidden words" ? 403 : 200;
        res.end();
      });
    });
    await new Promise((r) => hook.listen(0, "127.0.0.1", r));
    const hooks = rest.conversations.v1.services(env.SERVICE_SID).configuration.webhooks();
    await hooks.update({ preWebhookUrl: `http://127.0.0.1:${hook.address().port}/pre`, method: "POST", filters: ["onMessageAdd"] });
    t.after(async () => {
      await hooks.update({ preWebhookUrl: "", filters: [] });
      hook.close();
    });
    const conv = await svc.conversations.create({ friendlyName: "guarded" });
    await svc.conversations(conv.sid).participants.create({ identity: erin });
    const ce = await login(Client, erin);
    t.after(() => ce.shutdown());
    const ec = await ce.getConversationBySid(conv.sid);
    await assert.rejects(ec.sendMessage("forbidden words"));
    await ec.sendMessage("fine words");
    assert.deepEqual(seen, [
      ["onMessageAdd", "SDK", erin, "forbidden words"],
      ["onMessageAdd", "SDK", erin, "fine words"],
    ]);
    const ms = await svc.conversations(conv.sid).messages.list();
    assert.deepEqual(ms.map((m) => m.body), ["fine words"]);
  });

  test(`${label} (${version}): bad input gets protocol errors and changes nothing`, async () => {
    n++;
    const mallory = `mallory-${label}-${n}`;
    const conv = await svc.conversations.create({ friendlyName: "private" });
    await svc.conversations(conv.sid).participants.create({ identity: `victim-${n}` });
    const other = await rest.conversations.v1.services.create({ friendlyName: "other service" });
    const oconv = await rest.conversations.v1.services(other.sid).conversations.create({ friendlyName: "elsewhere" });

    const { TwilsockClient } = twilsockOf(pkg);
    const tw = new TwilsockClient(mint(mallory), "ip_messaging", { twilsock: { uri: env.GATEWAY_URL }, logLevel: "silent" });
    const pushes = [];
    tw.on("message", (type, payload) => pushes.push([type, payload]));
    const connected = waitFor(tw, "connected");
    tw.connect();
    await connected;
    try {
      const aim = `https://aim.us1.twilio.com/Client/v2/Services/${env.SERVICE_SID}`;
      const status = async (p) => p.then(() => 200, (e) => [e.status, e.body && e.body.code]);
      // Configuration first, as the SDK does (it creates the user's objects).
      await tw.get("https://aim.us1.twilio.com/Client/v2/Configuration", {});
      assert.deepEqual(await status(tw.get(`${aim}/Nothing`, {})), [404, 20404]);
      assert.deepEqual(await status(tw.get(`https://aim.us1.twilio.com/Client/v2/Services/${other.sid}/Conversations/${oconv.sid}`, {})), [404, 20404]);
      assert.deepEqual(await status(tw.get(`${aim}/Conversations/${oconv.sid}`, {})), [404, 20404]);
      assert.deepEqual(await status(tw.get(`${aim}/Users/victim-${n}/Conversations`, {})), [403, 50107]);
      // A conversation mallory is not in: he can peek at it, but not read its roster.
      const peek = (await tw.get(`${aim}/Conversations/${conv.sid}`, {})).body;
      const roster = peek.sync_objects.participants;
      assert.deepEqual(await status(tw.get(`https://cds.us1.twilio.com/v3/Maps/${roster}`, {})), [404, 54100]);
      assert.deepEqual(await status(tw.get(`https://cds.us1.twilio.com/v3/Lists/${peek.sync_objects.messages}`, {})), [404, 54100]);
      const failed = new Promise((resolve) => tw.on("message", (type, p) => p.event_type === "subscription_failed" && resolve(p)));
      const res = await tw.post("https://cds.us1.twilio.com/v4/Subscriptions", { "Content-Type": "application/json" },
        { event_protocol_version: 4, action: "establish", correlation_id: 7, retried_requests: 0, ttl_in_s: -1,
          requests: [{ object_sid: roster, object_type: "map", last_event_id: 0 }] }, "ip_messaging");
      assert.equal(res.status.code, 202);
      const f = await failed;
      assert.equal(f.correlation_id, 7);
      assert.equal(f.events[0].object_sid, roster);
      assert.equal(f.events[0].error.status, 404);
      // Writes into it are refused by the domain rules; nothing changes.
      assert.deepEqual(await status(tw.post(`https://cds.us1.twilio.com/v4/Subscriptions`, { "Content-Type": "application/json" }, "{not json", "ip_messaging")), [400, 54007]);
      const before = (await svc.conversations(conv.sid).messages.list()).length;
      assert.deepEqual(await status(tw.post(`${aim}/Conversations/${conv.sid}/Messages`, { "Content-Type": "application/json" }, { body: "intrusion" }, "ip_messaging")), [403, 50107]);
      assert.deepEqual(await status(tw.post(`${aim}/Conversations/${conv.sid}/Participants`, { "Content-Type": "application/json" }, { identity: "friend" }, "ip_messaging")), [403, 50107]);
      assert.deepEqual(await status(tw.post(`${aim}/Conversations/${conv.sid}`, { "Content-Type": "application/json" }, { friendly_name: "mine" }, "ip_messaging")), [403, 50107]);
      assert.equal((await svc.conversations(conv.sid).messages.list()).length, before);
      assert.deepEqual(await status(tw.post(`${aim}/Conversations/${conv.sid}/Participants`, { "Content-Type": "application/json" }, { identity: "{bad" , attributes: 5 }, "ip_messaging")), [400, 20001]);
      assert.equal((await svc.conversations(conv.sid).participants.list()).length, 1);
      assert.equal((await svc.conversations(conv.sid).fetch()).friendlyName, "private");
    } finally {
      await tw.disconnect();
    }
  });

  test(`${label} (${version}): a token from POST /parley/v1/Tokens logs in; bad token requests change nothing`, async (t) => {
    n++;
    const identity = `frank-${label}-${n}`;
    const post = (form) => fetch(`${env.PARLEY_URL}/parley/v1/Tokens`, {
      method: "POST",
      headers: { Authorization: "Basic " + Buffer.from(`${env.ACCOUNT_SID}:${env.AUTH_TOKEN}`).toString("base64"),
        "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form),
    });
    const res = await post({ Identity: identity, Ttl: "600" });
    assert.equal(res.status, 201);
    const body = await res.json();
    assert.equal(body.identity, identity);
    assert.equal(body.chat_service_sid, env.SERVICE_SID);
    const client = new Client(body.token, { Twilsock: { uri: env.GATEWAY_URL }, logLevel: "silent" });
    t.after(() => client.shutdown());
    if (client.state !== "initialized") {
      assert.equal(await waitFor(client, "stateChanged", (s) => s === "initialized" || s === "failed"), "initialized");
    }
    assert.equal(client.user.identity, identity);
    await client.getSubscribedConversations();
    for (const [form, status, code] of [
      [{}, 400, 20001],
      [{ Identity: "x", Ttl: "0" }, 400, 20422],
      [{ Identity: "x", Ttl: "86401" }, 400, 20422],
      [{ Identity: "x", Bogus: "1" }, 400, 20001],
      [{ Identity: "x", ServiceSid: "IS00000000000000000000000000000000" }, 404, 20404],
    ]) {
      const r = await post(form);
      assert.equal(r.status, status, JSON.stringify(form));
      assert.equal((await r.json()).code, code, JSON.stringify(form));
    }
  });

  test(`${label} (${version}): SDK edits and removals: message update/remove, user name, leave`, async (t) => {
    n++;
    const gina = `gina-${label}-${n}`, hal = `hal-${label}-${n}`;
    const conv = await svc.conversations.create({ friendlyName: "edits" });
    for (const id of [gina, hal]) await svc.conversations(conv.sid).participants.create({ identity: id });
    const cg = await login(Client, gina);
    t.after(() => cg.shutdown());
    const ch = await login(Client, hal);
    t.after(() => ch.shutdown());
    const gc = await cg.getConversationBySid(conv.sid);
    const hc = await ch.getConversationBySid(conv.sid);
    await gc.getMessages();
    await hc.getMessages();
    await hc.getParticipants();
    const added = waitFor(hc, "messageAdded", (m) => m.body === "typo");
    await gc.sendMessage("typo");
    const hm = await added;
    const gm = (await gc.getMessages()).items.find((m) => m.sid === hm.sid);

    const updated = waitFor(hc, "messageUpdated", ({ message }) => message.body === "fixed");
    await gm.updateBody("fixed");
    await updated;
    assert.equal((await svc.conversations(conv.sid).messages(hm.sid).fetch()).body, "fixed");
    // hal may not edit gina's message (channel user role): 403, nothing changes.
    await assert.rejects(hm.updateBody("hijacked"));
    assert.equal((await svc.conversations(conv.sid).messages(hm.sid).fetch()).body, "fixed");

    const removed = waitFor(hc, "messageRemoved", (m) => m.sid === hm.sid);
    await gm.remove();
    await removed;
    assert.equal((await svc.conversations(conv.sid).messages.list()).length, 0);

    await cg.user.updateFriendlyName("Gina G.");
    assert.equal((await svc.users(gina).fetch()).friendlyName, "Gina G.");

    const left = waitFor(gc, "participantLeft", (p) => p.identity === hal);
    await hc.leave();
    await left;
    assert.deepEqual((await svc.conversations(conv.sid).participants.list()).map((p) => p.identity), [gina]);
  });
}
