"use strict";
// twilio-node 6.2.0 against Parley's configuration resources: roles, the account and service
// configuration, service notifications, address configurations, credentials, bindings and
// ConversationWithParticipants.
// The account-wide settings (/v1/Configuration, /v1/Roles) are changed on the SECOND account
// (TWILIO_ACCOUNT2_SID), so that the files running beside this one on the same server are not
// affected. SMS numbers used here (+1555701xxxx, +1555702xxxx) belong to this file only.

const { describe, it } = require("node:test");
const assert = require("node:assert/strict");
const { twilio, PARLEY_URL, ACCOUNT_SID, SID, DATE_RE, newClient, assertLocalUrl, assertRestError } = require("./helpers");

const ACCOUNT2_SID = process.env.TWILIO_ACCOUNT2_SID;
const AUTH2_TOKEN = process.env.TWILIO_AUTH2_TOKEN;

// secondAccount returns a twilio-node client of the second account pointed at Parley.
function secondAccount() {
  assert.ok(ACCOUNT2_SID && AUTH2_TOKEN, "TWILIO_ACCOUNT2_SID/TWILIO_AUTH2_TOKEN are not set: run through the Go harness");
  const client = twilio(ACCOUNT2_SID, AUTH2_TOKEN);
  client.conversations.baseUrl = PARLEY_URL;
  return client.conversations.v1;
}

async function newService(v1, name) {
  const s = await v1.services.create({ friendlyName: name });
  assert.match(s.sid, SID.IS);
  return s;
}

describe("roles", () => {
  it("create, fetch, list, update (replacing the permissions) and delete on a service", async () => {
    const { v1 } = newClient();
    const svc = await newService(v1, "node roles");
    const roles = v1.services(svc.sid).roles;
    const r = await roles.create({ friendlyName: "moderator", type: "conversation", permission: ["removeParticipant", "deleteAnyMessage"] });
    assert.match(r.sid, SID.RL);
    assert.equal(r.chatServiceSid, svc.sid);
    assert.equal(r.type, "conversation");
    assert.deepEqual(r.permissions, ["removeParticipant", "deleteAnyMessage"]);
    assert.ok(r.dateCreated instanceof Date && !isNaN(r.dateCreated));
    assertLocalUrl(r.url, `/v1/Services/${svc.sid}/Roles/${r.sid}`);

    const updated = await roles(r.sid).update({ permission: ["sendMessage"] });
    assert.deepEqual(updated.permissions, ["sendMessage"]);
    const listed = await roles.list();
    assert.deepEqual(listed.map((x) => x.friendlyName), ["channel admin", "channel user", "service admin", "service user", "moderator"]);

    await assertRestError(roles.create({ friendlyName: "bad", type: "service", permission: ["sendMessage"] }), 400, 50104, "unknown permission");
    await assertRestError(roles.create({ friendlyName: "x".repeat(65), type: "service", permission: ["joinConversation"] }), 400, 50003, "long name");
    await assertRestError(roles(listed[0].sid).remove(), 409, 20409, "built-in role");

    // A role a participant holds stays until the participant leaves.
    const c = await v1.services(svc.sid).conversations.create({ friendlyName: "node roles" });
    const p = await v1.services(svc.sid).conversations(c.sid).participants.create({ identity: "mod", roleSid: r.sid });
    assert.equal(p.roleSid, r.sid);
    await assertRestError(roles(r.sid).remove(), 409, 20409, "role in use");
    await v1.services(svc.sid).conversations(c.sid).participants(p.sid).remove();
    assert.equal(await roles(r.sid).remove(), true);
    await assertRestError(roles(r.sid).fetch(), 404, 20404, "deleted role");
  });

  it("the shortened /v1/Roles URL uses the account's default service", async () => {
    const v1 = secondAccount();
    const cfg = await v1.configuration().fetch();
    const r = await v1.roles.create({ friendlyName: "node default", type: "service", permission: ["createConversation"] });
    assert.equal(r.chatServiceSid, cfg.defaultChatServiceSid);
    assertLocalUrl(r.url, `/v1/Roles/${r.sid}`);
    assert.deepEqual((await v1.roles(r.sid).fetch()).permissions, ["createConversation"]);
    assert.equal(await v1.roles(r.sid).remove(), true);
  });
});

describe("account configuration (second account)", () => {
  it("the default service and timers are used by the shortened URLs and new conversations", async () => {
    const v1 = secondAccount();
    const before = await v1.configuration().fetch();
    assert.equal(before.accountSid, ACCOUNT2_SID);
    assert.match(before.defaultChatServiceSid, SID.IS);
    assertLocalUrl(before.url, "/v1/Configuration");
    assertLocalUrl(before.links.service, `/v1/Services/${before.defaultChatServiceSid}/Configuration`);

    const svc = await newService(v1, "node default");
    const cfg = await v1.configuration().update({ defaultChatServiceSid: svc.sid, defaultInactiveTimer: "PT5M", defaultClosedTimer: "PT1H" });
    assert.equal(cfg.defaultChatServiceSid, svc.sid);
    assert.equal(cfg.defaultInactiveTimer, "PT5M");
    assert.equal(cfg.defaultClosedTimer, "PT1H");
    assert.equal(cfg.defaultMessagingServiceSid, null);

    const c = await v1.conversations.create({ friendlyName: "in the new default" });
    assert.equal(c.chatServiceSid, svc.sid);
    assert.match(c.timers.date_inactive, DATE_RE);
    assert.match(c.timers.date_closed, DATE_RE);
    const own = await v1.conversations.create({ friendlyName: "own timers", "timers.closed": "PT2H" });
    assert.ok(Date.parse(own.timers.date_closed) - Date.parse(c.timers.date_closed) >= 3600 * 1000);

    await assertRestError(v1.configuration().update({ defaultInactiveTimer: "PT10S" }), 400, 50375, "short inactive timer");
    await assertRestError(v1.configuration().update({ defaultChatServiceSid: "ISffffffffffffffffffffffffffffffff" }), 400, 50050, "unknown service");
    const restored = await v1.configuration().update({
      defaultChatServiceSid: before.defaultChatServiceSid,
      defaultInactiveTimer: "",
      defaultClosedTimer: "",
    });
    assert.equal(restored.defaultChatServiceSid, before.defaultChatServiceSid);
    assert.equal(restored.defaultInactiveTimer, null);
  });
});

describe("service configuration and notifications", () => {
  it("default roles must be roles of the right type; notifications are stored", async () => {
    const { v1 } = newClient();
    const svc = await newService(v1, "node config");
    const conf = v1.services(svc.sid).configuration;
    const orig = await conf().fetch();
    const agent = await v1.services(svc.sid).roles.create({ friendlyName: "agent", type: "conversation", permission: ["sendMessage"] });
    const updated = await conf().update({ defaultConversationRoleSid: agent.sid, reachabilityEnabled: true });
    assert.equal(updated.defaultConversationRoleSid, agent.sid);
    assert.equal(updated.defaultChatServiceRoleSid, orig.defaultChatServiceRoleSid);
    assert.equal(updated.reachabilityEnabled, true);
    await assertRestError(conf().update({ defaultChatServiceRoleSid: agent.sid }), 400, 50100, "conversation role as service role");
    await assertRestError(conf().update({ defaultConversationRoleSid: orig.defaultChatServiceRoleSid }), 400, 50109, "service role as conversation role");

    const n = await conf.notifications().update({
      logEnabled: true,
      "newMessage.enabled": true,
      "newMessage.template": "New message in ${CONVERSATION}",
      "newMessage.badgeCountEnabled": true,
      "newMessage.withMedia.enabled": true,
      "addedToConversation.sound": "ring",
    });
    assert.equal(n.accountSid, ACCOUNT_SID);
    assert.equal(n.chatServiceSid, svc.sid);
    assert.equal(n.logEnabled, true);
    assert.deepEqual(n.newMessage, {
      enabled: true,
      template: "New message in ${CONVERSATION}",
      sound: null,
      badge_count_enabled: true,
      with_media: { enabled: true, template: null },
    });
    assert.deepEqual(n.addedToConversation, { enabled: false, template: null, sound: "ring" });
    assert.deepEqual((await conf.notifications().fetch()).newMessage, n.newMessage);
    assertLocalUrl(n.url, `/v1/Services/${svc.sid}/Configuration/Notifications`);
  });
});

describe("address configurations, credentials and bindings", () => {
  it("address configurations: create, list by type, update, delete", async () => {
    const { v1 } = newClient();
    const svc = await newService(v1, "node inbound");
    const a = await v1.addressConfigurations.create({
      type: "sms",
      address: "+15557010001",
      friendlyName: "node",
      "autoCreation.enabled": true,
      "autoCreation.type": "webhook",
      "autoCreation.conversationServiceSid": svc.sid,
      "autoCreation.webhookUrl": "https://example.com/node",
      "autoCreation.webhookMethod": "post",
      "autoCreation.webhookFilters": ["onMessageAdded"],
    });
    assert.match(a.sid, /^IG[0-9a-f]{32}$/);
    assert.deepEqual(a.autoCreation, {
      enabled: true,
      type: "webhook",
      conversation_service_sid: svc.sid,
      webhook_url: "https://example.com/node",
      webhook_method: "POST",
      webhook_filters: ["onMessageAdded"],
    });
    const listed = await v1.addressConfigurations.list({ type: "sms" });
    assert.ok(listed.some((x) => x.sid === a.sid));
    const up = await v1.addressConfigurations(a.sid).update({ "autoCreation.type": "default", "autoCreation.enabled": false });
    assert.deepEqual(up.autoCreation, { enabled: false, type: "default", conversation_service_sid: svc.sid });
    await assertRestError(v1.addressConfigurations.create({ type: "sms", address: "+15557010001" }), 409, 20409, "duplicate address");
    assert.equal(await v1.addressConfigurations(a.sid).remove(), true);
    await assertRestError(v1.addressConfigurations(a.sid).fetch(), 404, 20404, "deleted address configuration");
  });

  it("credentials never return their secrets", async () => {
    const { v1, exchanges } = newClient();
    const c = await v1.credentials.create({ type: "fcm", friendlyName: "node fcm", secret: "node-secret-value" });
    assert.match(c.sid, /^CR[0-9a-f]{32}$/);
    assert.equal(c.type, "fcm");
    assert.equal(c.sandbox, "False");
    const fetched = await v1.credentials(c.sid).fetch();
    assert.equal(fetched.friendlyName, "node fcm");
    for (const e of exchanges) {
      assert.ok(!JSON.stringify(e.body).includes("node-secret-value"), `${e.method} ${e.uri} returned the secret`);
    }
    await assertRestError(v1.credentials.create({ type: "apn" }), 400, 20001, "apn without a certificate");
    assert.equal(await v1.credentials(c.sid).remove(), true);
  });

  it("bindings: a new service has none; filters are accepted", async () => {
    const { v1, exchanges } = newClient();
    const svc = await newService(v1, "node bindings");
    assert.deepEqual(await v1.services(svc.sid).bindings.list(), []);
    exchanges.length = 0;
    assert.deepEqual(await v1.services(svc.sid).bindings.list({ bindingType: ["fcm", "apn"], identity: ["alice"] }), []);
    assertLocalUrl(exchanges[0].body.meta.first_page_url, `/v1/Services/${svc.sid}/Bindings`, undefined);
    await assertRestError(v1.services(svc.sid).bindings("BSffffffffffffffffffffffffffffffff").fetch(), 404, 20404, "unknown binding");
  });
});

describe("conversation with participants", () => {
  it("creates the conversation and its participants together, or nothing", async () => {
    const { v1, exchanges } = newClient();
    const c = await v1.conversationWithParticipants.create({
      friendlyName: "node cwp",
      participant: [
        JSON.stringify({ identity: "node-cwp-alice" }),
        JSON.stringify({ messaging_binding: { address: "+15557020001", proxy_address: "+15557020002" } }),
      ],
    });
    assert.equal(exchanges[exchanges.length - 1].statusCode, 202);
    assert.match(c.sid, SID.CH);
    assertLocalUrl(c.url, `/v1/Conversations/${c.sid}`);
    const ps = await v1.conversations(c.sid).participants.list();
    assert.deepEqual(ps.map((p) => p.identity), ["node-cwp-alice", null]);
    assert.deepEqual(ps[1].messagingBinding, { type: "sms", address: "+15557020001", proxy_address: "+15557020002" });

    await assertRestError(
      v1.conversationWithParticipants.create({
        uniqueName: "node-cwp-never",
        participant: [JSON.stringify({ identity: "ok" }), JSON.stringify({ messaging_binding: { address: "+15557020001", proxy_address: "+15557020002" } })],
      }),
      409,
      50425,
      "pair in use",
    );
    await assertRestError(v1.conversationWithParticipants.create({ participant: ["{not json"] }), 400, 50424, "invalid JSON");
    await assertRestError(v1.conversations("node-cwp-never").fetch(), 404, 20404, "nothing created");
  });
});
