"use strict";
// twilio-node 6.2.0 against Parley's Message and Delivery Receipt resources: every operation on
// both URL forms, index order and paging, the delivery summary and receipts (the outbox carrier
// sends SMS at once), and a removed participant's messages.
// Every test uses conversations of its own; the SMS numbers +1555990xxxx belong to this file.

const { describe, it } = require("node:test");
const assert = require("node:assert/strict");
const { PARLEY_URL, ACCOUNT_SID, AUTH_TOKEN, DATE_RE, newClient, assertLocalUrl, assertRestError, newConversation } = require("./helpers");

const IM = /^IM[0-9a-f]{32}$/;
const DY = /^DY[0-9a-f]{32}$/;

// eventually polls fn (async, returning a truthy value when done) for up to 10 s.
async function eventually(what, fn) {
  const deadline = Date.now() + 10000;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// outbox lists GET /parley/v1/Outbox (Parley's own endpoint, same credentials).
async function outbox(query = "") {
  const res = await fetch(`${PARLEY_URL}/parley/v1/Outbox?PageSize=1000&${query}`, {
    headers: { Authorization: "Basic " + Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString("base64") },
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.meta.key, "messages");
  return body.messages;
}

describe("messages on /v1/Conversations/{CH}/Messages", () => {
  it("create, fetch, list (asc, desc, paging), update and remove", async () => {
    const { v1, exchanges } = newClient();
    const conversation = await newConversation(v1, "messages: lifecycle");
    const c = v1.conversations(conversation.sid);
    const alice = await c.participants.create({ identity: "alice" });
    await c.participants.create({ identity: "bob" });

    exchanges.length = 0;
    const m0 = await c.messages.create({
      author: "alice",
      body: "Hello",
      attributes: JSON.stringify({ importance: "high" }),
      xTwilioWebhookEnabled: "true",
    });
    assert.equal(exchanges[0].statusCode, 201);
    assert.equal(exchanges[0].headers["X-Twilio-Webhook-Enabled"], "true");
    assert.match(m0.sid, IM);
    assert.equal(m0.index, 0);
    assert.equal(m0.author, "alice");
    assert.equal(m0.participantSid, alice.sid);
    assert.equal(m0.body, "Hello");
    assert.equal(m0.attributes, '{"importance":"high"}');
    assert.equal(m0.media, null);
    assert.equal(m0.contentSid, null);
    assert.equal(m0.delivery, null, "no SMS recipient: no delivery summary");
    assert.equal(m0.accountSid, ACCOUNT_SID);
    assert.equal(m0.conversationSid, conversation.sid);
    assert.ok(m0.dateCreated instanceof Date && m0.dateUpdated instanceof Date);
    assert.match(exchanges[0].body.date_created, DATE_RE);
    const path = `/v1/Conversations/${conversation.sid}/Messages/${m0.sid}`;
    assertLocalUrl(m0.url, path, {}, "url");
    assertLocalUrl(m0.links.delivery_receipts, path + "/Receipts", {}, "links.delivery_receipts");
    assert.equal("chatServiceSid" in exchanges[0].body, false, "no chat_service_sid on the shortened URL");

    const m1 = await c.messages.create({ body: "from the system" });
    assert.equal(m1.index, 1);
    assert.equal(m1.author, "system");
    assert.equal(m1.participantSid, null);
    assert.equal(m1.attributes, "{}");

    const fetched = await c.messages(m0.sid).fetch();
    assert.equal(fetched.sid, m0.sid);
    assert.equal(fetched.body, "Hello");

    for (let i = 2; i < 7; i++) await c.messages.create({ body: `m${i}` });
    const asc = await c.messages.list({ pageSize: 2 });
    assert.deepEqual(asc.map((m) => m.index), [0, 1, 2, 3, 4, 5, 6]);
    const desc = await c.messages.list({ order: "desc", pageSize: 3 });
    assert.deepEqual(desc.map((m) => m.index), [6, 5, 4, 3, 2, 1, 0]);
    const page = await c.messages.page({ order: "desc", pageSize: 3 });
    assert.deepEqual(page.instances.map((m) => m.index), [6, 5, 4]);
    const listPath = `/v1/Conversations/${conversation.sid}/Messages`;
    const next = assertLocalUrl(page.nextPageUrl, listPath, undefined, "nextPageUrl");
    assert.equal(next.searchParams.get("Order"), "desc");
    const page2 = await page.nextPage();
    assert.deepEqual(page2.instances.map((m) => m.index), [3, 2, 1]);
    const back = await page2.previousPage();
    assert.deepEqual(back.instances.map((m) => m.index), [6, 5, 4]);
    const seen = [];
    await c.messages.each({ order: "desc", pageSize: 4, callback: (m) => seen.push(m.index) });
    assert.deepEqual(seen, [6, 5, 4, 3, 2, 1, 0]);

    const updated = await c.messages(m1.sid).update({ body: "edited", attributes: '{"e":1}', author: "bob" });
    assert.equal(updated.body, "edited");
    assert.equal(updated.attributes, '{"e":1}');
    assert.equal(updated.author, "bob");
    assert.match(updated.participantSid, /^MB/);

    exchanges.length = 0;
    assert.equal(await c.messages(m1.sid).remove({ xTwilioWebhookEnabled: "true" }), true);
    assert.equal(exchanges[0].statusCode, 204);
    await assertRestError(c.messages(m1.sid).fetch(), 404, 20404, "fetch of a removed message");
    const after = await c.messages.create({ body: "after the gap" });
    assert.equal(after.index, 7, "a removed message's index is not reused");
    const indexes = (await c.messages.list()).map((m) => m.index);
    assert.deepEqual(indexes, [0, 2, 3, 4, 5, 6, 7]);
  });

  it("bad input is a RestException and changes nothing", async () => {
    const { v1 } = newClient();
    const conversation = await newConversation(v1, "messages: errors");
    const c = v1.conversations(conversation.sid);
    await assertRestError(c.messages.create({}), 400, 50503, "no body");
    await assertRestError(c.messages.create({ body: "x", attributes: "{nope" }), 400, 50304, "attributes not JSON");
    await assertRestError(c.messages.create({ body: "x".repeat(1601) }), 400, 50504, "body too long");
    await assertRestError(c.messages("IM" + "f".repeat(32)).fetch(), 404, 20404, "unknown message");
    await assertRestError(c.messages("IM" + "f".repeat(32)).update({ body: "x" }), 404, 20404, "update unknown");
    await assertRestError(c.messages("IM" + "f".repeat(32)).remove(), 404, 20404, "remove unknown");
    await assertRestError(v1.conversations("CH" + "f".repeat(32)).messages.list(), 404, 20404, "unknown conversation");
    assert.deepEqual(await c.messages.list(), [], "nothing was stored");
  });
});

describe("messages on /v1/Services/{IS}/Conversations/{CH}/Messages", () => {
  it("every operation, with chat_service_sid and service URLs", async () => {
    const { v1, exchanges } = newClient();
    const service = await v1.services.create({ friendlyName: "node messages" });
    const conversation = await v1.services(service.sid).conversations.create({ friendlyName: "svc messages" });
    const c = v1.services(service.sid).conversations(conversation.sid);
    await c.participants.create({ identity: "sam" });
    const sms = await c.participants.create({
      "messagingBinding.address": "+15559900001",
      "messagingBinding.proxyAddress": "+15559900009",
    });
    exchanges.length = 0;
    const m = await c.messages.create({ author: "sam", body: "to the phone" });
    assert.equal(m.chatServiceSid, service.sid);
    assert.equal(exchanges[0].body.chat_service_sid, service.sid);
    const path = `/v1/Services/${service.sid}/Conversations/${conversation.sid}/Messages/${m.sid}`;
    assertLocalUrl(m.url, path, {}, "url");
    assert.deepEqual(m.delivery, { total: 1, sent: "none", delivered: "none", read: "none", failed: "none", undelivered: "none" });

    assert.equal((await c.messages(m.sid).fetch()).body, "to the phone");
    assert.deepEqual((await c.messages.list({ order: "desc" })).map((x) => x.sid), [m.sid]);

    // The outbox sends it: one receipt, status sent, with the outbox's channel sid.
    const receipts = await eventually("the SMS receipt", async () => {
      const rs = await c.messages(m.sid).deliveryReceipts.list();
      return rs.length === 1 && rs[0].status === "sent" ? rs : null;
    });
    const r = receipts[0];
    assert.match(r.sid, DY);
    assert.equal(r.participantSid, sms.sid);
    assert.equal(r.messageSid, m.sid);
    assert.equal(r.chatServiceSid, service.sid);
    assert.match(r.channelMessageSid, /^SM[0-9a-f]{32}$/);
    assert.equal(r.errorCode, 0);
    assertLocalUrl(r.url, path + "/Receipts/" + r.sid, {}, "receipt url");
    const fetched = await c.messages(m.sid).deliveryReceipts(r.sid).fetch();
    assert.equal(fetched.status, "sent");
    const sent = await eventually("the outbox entry", async () => {
      const es = await outbox(`To=${encodeURIComponent("+15559900001")}`);
      return es.length >= 1 ? es : null;
    });
    assert.equal(sent.length, 1);
    assert.equal(sent[0].sid, r.channelMessageSid);
    assert.equal(sent[0].body, "to the phone");
    assert.equal(sent[0].from, "+15559900009");
    assert.equal((await c.messages(m.sid).fetch()).delivery.sent, "all");
    assert.equal((await c.messages(m.sid).update({ body: "edited" })).body, "edited");

    assert.equal(await c.messages(m.sid).remove(), true);
    await assertRestError(c.messages(m.sid).deliveryReceipts.list(), 404, 20404, "receipts of a removed message");
  });
});

describe("receipts on /v1/Conversations/{CH}/Messages/{IM}/Receipts", () => {
  it("list and fetch; the read horizon makes a receipt read", async () => {
    const { v1 } = newClient();
    const conversation = await newConversation(v1, "messages: receipts");
    const c = v1.conversations(conversation.sid);
    const phone = await c.participants.create({
      "messagingBinding.address": "+15559900002",
      "messagingBinding.proxyAddress": "+15559900009",
    });
    const m = await c.messages.create({ body: "read me" });
    const [r] = await eventually("the receipt", async () => {
      const rs = await c.messages(m.sid).deliveryReceipts.list({ pageSize: 10 });
      return rs.length === 1 ? rs : null;
    });
    assert.equal((await c.messages(m.sid).deliveryReceipts(r.sid).fetch()).status, "sent");
    const p = await c.participants(phone.sid).update({ lastReadMessageIndex: 50 });
    assert.equal(p.lastReadMessageIndex, 50, "a horizon beyond the last message is stored as given");
    assert.equal((await c.messages(m.sid).deliveryReceipts(r.sid).fetch()).status, "read");
    assert.equal((await c.messages(m.sid).fetch()).delivery.read, "all");
    await assertRestError(c.messages(m.sid).deliveryReceipts("DY" + "f".repeat(32)).fetch(), 404, 20404, "unknown receipt");
  });
});

describe("a removed participant", () => {
  it("gets the messages sent while it was in, and its own messages stay", async () => {
    const { v1 } = newClient();
    const conversation = await newConversation(v1, "messages: removal");
    const c = v1.conversations(conversation.sid);
    await c.participants.create({ identity: "ann" });
    const gone = await c.participants.create({
      "messagingBinding.address": "+15559900003",
      "messagingBinding.proxyAddress": "+15559900009",
    });
    const mine = await c.messages.create({ author: "+15559900003", body: "the phone wrote this" });
    assert.equal(mine.participantSid, gone.sid);
    const m1 = await c.messages.create({ author: "ann", body: "m1" });
    await eventually("m1 sent to the phone", async () => (await outbox("To=%2B15559900003")).length === 1);
    await c.participants(gone.sid).remove();
    const m2 = await c.messages.create({ author: "ann", body: "m2" });
    assert.equal(m2.delivery, null, "m2 has no SMS recipient left");
    // Give the dispatcher time to act on anything it might (wrongly) have for the phone.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual((await outbox("To=%2B15559900003")).map((e) => e.body), ["m1"]);
    const kept = await c.messages(mine.sid).fetch();
    assert.equal(kept.author, "+15559900003");
    assert.equal(kept.participantSid, gone.sid);
    const rs = await c.messages(m1.sid).deliveryReceipts.list();
    assert.deepEqual(rs.map((r) => r.participantSid), [gone.sid], "m1's receipt stays after the removal");
  });
});
