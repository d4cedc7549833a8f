// Two Parley replicas on one PostgreSQL database: a client connected to replica B sees live
// what the REST API changes on replica A. Run by flows_test.go (TestReplicas), which sets
// GATEWAY_URL (B), PARLEY_URL (A), ACCOUNT_SID, AUTH_TOKEN, KEY_SID, KEY_SECRET, SERVICE_SID.
"use strict";
const { test } = require("node:test");
const assert = require("node:assert/strict");
const twilio = require("twilio");
const { Client } = require("@twilio/conversations");

const env = process.env;
const rest = twilio(env.ACCOUNT_SID, env.AUTH_TOKEN);
rest.conversations.baseUrl = env.PARLEY_URL;
const svc = rest.conversations.v1.services(env.SERVICE_SID);

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

test("a REST message on replica A reaches a client of replica B live", async (t) => {
  const { AccessToken } = twilio.jwt;
  const token = new AccessToken(env.ACCOUNT_SID, env.KEY_SID, env.KEY_SECRET, { identity: "rita" });
  token.addGrant(new AccessToken.ChatGrant({ serviceSid: env.SERVICE_SID }));
  const conv = await svc.conversations.create({ friendlyName: "replicas" });
  await svc.conversations(conv.sid).participants.create({ identity: "rita" });
  const client = new Client(token.toJwt(), { Twilsock: { uri: env.GATEWAY_URL }, logLevel: "silent" });
  t.after(() => client.shutdown());
  if (client.state !== "initialized") {
    assert.equal(await waitFor(client, "stateChanged", (s) => s === "initialized" || s === "failed"), "initialized");
  }
  await client.getSubscribedConversations();
  const c = await client.getConversationBySid(conv.sid);
  await c.getMessages();
  // The first message may come through the subscription's replay; once it is in, the
  // subscription is established and the second can only come live.
  for (const body of ["first from replica A", "second from replica A"]) {
    const got = waitFor(c, "messageAdded", (m) => m.body === body);
    await svc.conversations(conv.sid).messages.create({ author: "system", body });
    await got;
  }
});
