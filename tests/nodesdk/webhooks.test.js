"use strict";
// Webhooks through twilio-node 6.2.0: conversation-scoped and service-level webhook
// configuration, X-Twilio-Webhook-Enabled (absent, false, true), and every request Parley
// sends checked with the SDK's own twilio.validateRequest. Receivers listen on 127.0.0.1 only.
// This file uses conversations and a service of its own (never the account-level
// configuration), so it can run in parallel with the other files on one server.

const { describe, it, after } = require("node:test");
const assert = require("node:assert/strict");
const http = require("node:http");
const {
  twilio,
  PARLEY_URL,
  ACCOUNT_SID,
  AUTH_TOKEN,
  SID,
  newClient,
  assertLocalUrl,
  assertRestError,
  newConversation,
} = require("./helpers");

// startReceiver starts an HTTP server on 127.0.0.1 that records every request: method, the
// full URL it was called with, the form (or query) parameters and X-Twilio-Signature.
async function startReceiver() {
  const got = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const url = `http://127.0.0.1:${server.address().port}${req.url}`;
      const params = req.method === "POST" ? Object.fromEntries(new URLSearchParams(body)) : {};
      got.push({ method: req.method, url, params, signature: req.headers["x-twilio-signature"], headers: req.headers });
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end("ok");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    got,
    base,
    close: () => new Promise((resolve) => server.close(resolve)),
    // waitFor resolves once n requests arrived (Parley sends them right after commit).
    async waitFor(n, timeoutMs = 10000) {
      const end = Date.now() + timeoutMs;
      while (got.length < n) {
        if (Date.now() > end) {
          assert.fail(`receiver got ${got.length} webhook requests, want ${n}: ${got.map((r) => r.params.EventType)}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      return got;
    },
  };
}

// parley GETs one of Parley's own endpoints with the account's credentials.
async function parley(path) {
  const res = await fetch(PARLEY_URL + path, {
    headers: { Authorization: "Basic " + Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString("base64") },
  });
  return { status: res.status, body: await res.json() };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe("conversation-scoped webhook", () => {
  let rx;
  after(async () => rx && rx.close());

  it("sends signed post-event webhooks only for X-Twilio-Webhook-Enabled: true", async () => {
    rx = await startReceiver();
    const { v1 } = newClient();
    const conversation = await newConversation(v1, "node webhooks");
    const ch = conversation.sid;
    const hookUrl = `${rx.base}/conv?src=node`;
    const filters = ["onParticipantAdded", "onParticipantUpdated", "onParticipantRemoved", "onConversationUpdated"];
    const wh = await v1.conversations(ch).webhooks.create({
      target: "webhook",
      "configuration.url": hookUrl,
      "configuration.method": "POST",
      "configuration.filters": filters,
    });
    assert.match(wh.sid, /^WH[0-9a-f]{32}$/);
    assert.equal(wh.target, "webhook");
    assert.equal(wh.conversationSid, ch);
    assert.equal(wh.accountSid, ACCOUNT_SID);
    assert.deepEqual(wh.configuration, { url: hookUrl, method: "post", filters });
    assertLocalUrl(wh.url, `/v1/Conversations/${ch}/Webhooks/${wh.sid}`);
    const listed = await v1.conversations(ch).webhooks.list();
    assert.deepEqual(listed.map((w) => w.sid), [wh.sid]);

    const participants = v1.conversations(ch).participants;
    await participants.create({ identity: "node-absent" });
    await participants.create({ identity: "node-false", xTwilioWebhookEnabled: "false" });
    const on = await participants.create({ identity: "node-true", xTwilioWebhookEnabled: "true" });
    await participants(on.sid).update({ attributes: JSON.stringify({ n: 1 }), xTwilioWebhookEnabled: "true" });
    await v1.conversations(ch).update({ friendlyName: "renamed", xTwilioWebhookEnabled: "true" });
    await participants(on.sid).update({ attributes: JSON.stringify({ n: 2 }) }); // no header: no webhook
    await participants(on.sid).remove({ xTwilioWebhookEnabled: "true" });

    const got = await rx.waitFor(4);
    await sleep(200); // nothing else may arrive
    assert.deepEqual(
      rx.got.map((r) => `${r.params.EventType}/${r.params.Identity || ""}`),
      ["onParticipantAdded/node-true", "onParticipantUpdated/node-true", "onConversationUpdated/", "onParticipantRemoved/node-true"],
    );
    for (const r of got) {
      const what = r.params.EventType;
      assert.equal(r.method, "POST", what);
      assert.equal(r.url, hookUrl, what);
      assert.equal(r.headers["content-type"], "application/x-www-form-urlencoded", what);
      assert.ok(twilio.validateRequest(AUTH_TOKEN, r.signature, r.url, r.params), `${what}: twilio.validateRequest rejects ${r.signature}`);
      assert.ok(!twilio.validateRequest("wrongtoken", r.signature, r.url, r.params), `${what}: a wrong token validates`);
      assert.equal(r.params.AccountSid, ACCOUNT_SID, what);
      assert.equal(r.params.ConversationSid, ch, what);
      assert.equal(r.params.Source, "API", what);
      assert.equal(r.params.RetryCount, "0", what);
      assert.match(r.params.ChatServiceSid, SID.IS, what);
    }
    assert.equal(got[0].params.ParticipantSid, on.sid);
    assert.equal(got[0].params["MessagingBinding.Type"], "CHAT");
    assert.equal(got[1].params.Attributes, '{"n":1}');
    assert.equal(got[2].params.FriendlyName, "renamed");
    assert.ok(got[3].params.DateRemoved, "onParticipantRemoved carries DateRemoved");

    // Parley's delivery log shows what was sent.
    const log = await parley(`/parley/v1/Webhooks/Deliveries?ConversationSid=${ch}`);
    assert.equal(log.status, 200);
    assert.equal(log.body.meta.key, "deliveries");
    assert.deepEqual(
      log.body.deliveries.map((d) => [d.event_type, d.status, d.attempts, d.scope, d.webhook_sid]),
      [
        ["onParticipantAdded", "delivered", 1, "conversation", wh.sid],
        ["onParticipantUpdated", "delivered", 1, "conversation", wh.sid],
        ["onConversationUpdated", "delivered", 1, "conversation", wh.sid],
        ["onParticipantRemoved", "delivered", 1, "conversation", wh.sid],
      ],
    );

    // Deleting the webhook stops it.
    await v1.conversations(ch).webhooks(wh.sid).remove();
    await participants.create({ identity: "node-after", xTwilioWebhookEnabled: "true" });
    await sleep(200);
    assert.equal(rx.got.length, 4);
  });

  it("refuses a sixth webhook (50361) and a URL over 512 characters (50372)", async () => {
    const { v1 } = newClient();
    const conversation = await newConversation(v1, "node webhook limits");
    const webhooks = v1.conversations(conversation.sid).webhooks;
    await assertRestError(
      webhooks.create({ target: "webhook", "configuration.url": "https://example.com/" + "x".repeat(500), "configuration.filters": ["onMessageAdded"] }),
      400,
      50372,
      "long URL",
    );
    for (let i = 0; i < 5; i++) {
      await webhooks.create({ target: "studio", "configuration.flowSid": "FWaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" });
    }
    await assertRestError(
      webhooks.create({ target: "studio", "configuration.flowSid": "FWaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }),
      400,
      50361,
      "sixth webhook",
    );
    const all = await webhooks.list();
    assert.equal(all.length, 5);
    assert.deepEqual(all[0].configuration, { flow_sid: "FWaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" });
  });
});

describe("service-level webhook configuration", () => {
  let rx;
  after(async () => rx && rx.close());

  it("GET webhooks carry the parameters in a signed URL", async () => {
    rx = await startReceiver();
    const { v1 } = newClient();
    const service = await v1.services.create({ friendlyName: "node webhook service" });
    const hooks = v1.services(service.sid).configuration.webhooks();
    const empty = await hooks.fetch();
    assert.equal(empty.postWebhookUrl, null);
    assert.equal(empty.filters, null);
    const cfg = await hooks.update({ postWebhookUrl: `${rx.base}/svc`, method: "GET", filters: ["onConversationAdded"] });
    assert.equal(cfg.postWebhookUrl, `${rx.base}/svc`);
    assert.equal(cfg.method, "GET");
    assert.deepEqual(cfg.filters, ["onConversationAdded"]);
    assert.equal(cfg.chatServiceSid, service.sid);
    assertLocalUrl(cfg.url, `/v1/Services/${service.sid}/Configuration/Webhooks`);

    await v1.services(service.sid).conversations.create({ friendlyName: "quiet" }); // no header
    const c = await v1.services(service.sid).conversations.create({ friendlyName: "a b&c", xTwilioWebhookEnabled: "true" });
    const [r] = await rx.waitFor(1);
    await sleep(200);
    assert.equal(rx.got.length, 1);
    assert.equal(r.method, "GET");
    const u = new URL(r.url);
    assert.equal(u.pathname, "/svc");
    assert.equal(u.searchParams.get("EventType"), "onConversationAdded");
    assert.equal(u.searchParams.get("ConversationSid"), c.sid);
    assert.equal(u.searchParams.get("FriendlyName"), "a b&c");
    assert.equal(u.searchParams.get("ChatServiceSid"), service.sid);
    assert.ok(twilio.validateRequest(AUTH_TOKEN, r.signature, r.url, {}), "twilio.validateRequest rejects the GET signature");
  });
});
