"use strict";
// twilio-node 6.2.0 against the participant rules Twilio documents (issue 14): the error
// dictionary's 50416/50434/50437/50440/50441/50442, the Participant resource page ("'null'
// value will remove it"), the Group Texting guide's three participant types, the read horizon
// before any message, and what Parley accepts (PageSize, JSON bodies, E.164, MB identities).
// Each rule runs on both URL forms. Addresses +1555314xxxx / +1501731xxxx are this file's
// alone (bindings are account-wide and the files run in parallel).

const { describe, it } = require("node:test");
const assert = require("node:assert/strict");
const {
  PARLEY_URL,
  ACCOUNT_SID,
  AUTH_TOKEN,
  newClient,
  assertRestError,
  newConversation,
} = require("./helpers");

// forms returns, for a new conversation, its participants resource on both URL forms.
async function forms(v1, name) {
  const short = await newConversation(v1, `${name} (short)`);
  const long = await newConversation(v1, `${name} (long)`);
  return [
    { form: "short", sid: short.sid, participants: v1.conversations(short.sid).participants },
    {
      form: "long",
      sid: long.sid,
      participants: v1.services(long.chatServiceSid).conversations(long.sid).participants,
      path: `/v1/Services/${long.chatServiceSid}/Conversations/${long.sid}/Participants`,
    },
  ].map((f) => ({ ...f, path: f.path || `/v1/Conversations/${f.sid}/Participants` }));
}

describe("issue 14: participant rules", () => {
  it("1. the same address and proxy address twice: 409 / 50416 naming the conversation", async () => {
    const { v1 } = newClient();
    const fs = await forms(v1, "rules: 50416");
    for (const [i, f] of fs.entries()) {
      const pair = { "messagingBinding.address": `+155531400${i}1`, "messagingBinding.proxyAddress": `+150173100${i}1` };
      await f.participants.create(pair);
      const err = await assertRestError(f.participants.create(pair), 409, 50416, `${f.form}: same conversation`);
      assert.equal(err.message, `A binding for this participant and proxy address already exists in Conversation ${f.sid}`);
      const other = await newConversation(v1, "rules: 50416 other");
      const err2 = await assertRestError(
        v1.conversations(other.sid).participants.create(pair),
        409,
        50416,
        `${f.form}: another conversation`,
      );
      assert.ok(err2.message.endsWith(f.sid), `${f.form}: the message names the holder: ${err2.message}`);
    }
  });

  it("2. Group MMS: an unattached projected address is accepted, a chat participant without one is 50434", async () => {
    const { v1 } = newClient();
    for (const [i, f] of (await forms(v1, "rules: group types")).entries()) {
      const number = await f.participants.create({ "messagingBinding.projectedAddress": `+150173101${i}1` });
      assert.equal(number.identity, null, `${f.form}: no identity`);
      assert.deepEqual(number.messagingBinding, { type: "sms", projected_address: `+150173101${i}1` }, f.form);
      await f.participants.create({ identity: "agent", "messagingBinding.projectedAddress": `+150173101${i}1` });
      await f.participants.create({ "messagingBinding.address": `+155531401${i}1` });
      await assertRestError(f.participants.create({ identity: "plain" }), 400, 50434, `${f.form}: chat without projected`);
    }
  });

  it("3. update: 'null' removes the proxy address; 50440 and 50442 when there is none", async () => {
    const { v1 } = newClient();
    for (const [i, f] of (await forms(v1, "rules: binding updates")).entries()) {
      const sms = await f.participants.create({
        "messagingBinding.address": `+155531402${i}1`,
        "messagingBinding.proxyAddress": `+150173102${i}1`,
      });
      const removed = await f.participants(sms.sid).update({ "messagingBinding.proxyAddress": "null" });
      assert.deepEqual(removed.messagingBinding, { type: "sms", address: `+155531402${i}1` }, `${f.form}: removed`);
      await assertRestError(
        f.participants(sms.sid).update({ "messagingBinding.proxyAddress": "null" }),
        400,
        50440,
        `${f.form}: no proxy address to remove`,
      );
      const chat = await f.participants.create({ identity: "chatter" });
      await assertRestError(
        f.participants(chat.sid).update({ "messagingBinding.proxyAddress": "null" }),
        400,
        50440,
        `${f.form}: not an SMS participant`,
      );
      await assertRestError(
        f.participants(chat.sid).update({ "messagingBinding.proxyAddress": `+150173102${i}2` }),
        400,
        50441,
        `${f.form}: no user address`,
      );
      await assertRestError(
        f.participants(chat.sid).update({ "messagingBinding.projectedAddress": "null" }),
        400,
        50442,
        `${f.form}: no projected address to remove`,
      );
      const again = await f.participants(sms.sid).update({ "messagingBinding.proxyAddress": `+150173102${i}1` });
      assert.equal(again.messagingBinding.proxy_address, `+150173102${i}1`, `${f.form}: proxy address added back`);
    }
  });

  it("4. the same identity and projected address twice in a Group MMS conversation: 409 / 50437", async () => {
    const { v1 } = newClient();
    for (const [i, f] of (await forms(v1, "rules: 50437")).entries()) {
      const agent = { identity: "agent", "messagingBinding.projectedAddress": `+150173103${i}1` };
      await f.participants.create(agent);
      const err = await assertRestError(f.participants.create(agent), 409, 50437, `${f.form}: duplicate`);
      assert.match(err.message, /^Group Participant already exists/);
    }
  });

  it("5. a read horizon may be set before the first message", async () => {
    const { v1 } = newClient();
    for (const f of await forms(v1, "rules: read horizon")) {
      const p = await f.participants.create({ identity: "early-reader" });
      const u = await f.participants(p.sid).update({ lastReadMessageIndex: 0 });
      assert.equal(u.lastReadMessageIndex, 0, `${f.form}: 0 with no message`);
      const u2 = await f.participants(p.sid).update({ lastReadMessageIndex: 12 });
      assert.equal(u2.lastReadMessageIndex, 12, `${f.form}: 12 with no message`);
    }
  });

  it("7. PageSize over the list's maximum reads as 100; JSON bodies, numbers without '+' and MB identities are refused", async () => {
    const { v1, exchanges } = newClient();
    for (const [i, f] of (await forms(v1, "rules: accepted")).entries()) {
      exchanges.length = 0;
      await f.participants.page({ pageSize: 500 });
      assert.equal(exchanges[0].body.meta.page_size, 100, `${f.form}: page_size`);
      await assertRestError(f.participants.page({ pageSize: 0 }), 400, 20422, `${f.form}: PageSize 0`);

      const res = await fetch(PARLEY_URL + f.path, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Authorization: "Basic " + Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString("base64"),
        },
        body: JSON.stringify({ Identity: "json-user" }),
      });
      const body = await res.json();
      assert.equal(res.status, 400, `${f.form}: JSON body status`);
      assert.equal(body.code, 20001, `${f.form}: JSON body code`);
      assert.match(body.message, /application\/x-www-form-urlencoded/);
      await assertRestError(f.participants("json-user").fetch(), 404, 20404, `${f.form}: nothing created`);

      await assertRestError(
        f.participants.create({ "messagingBinding.address": `155531404${i}1`, "messagingBinding.proxyAddress": `+150173104${i}1` }),
        400,
        50407,
        `${f.form}: address without +`,
      );
      const err = await assertRestError(
        f.participants.create({ identity: "MB" + "0123456789abcdef".repeat(2) }),
        400,
        50203,
        `${f.form}: identity shaped like a participant SID`,
      );
      assert.match(err.message, /Participant SID/);
    }
  });
});
