"use strict";
// twilio-node 6.2.0 against Parley's Users, User Conversations and ParticipantConversations, on
// both URL forms. Every test uses identities (and, for user lists, a Conversation Service) of
// its own, so the files can run in parallel on one server. The SMS numbers +155550500xx and
// +155550509xx belong to this file (bindings are account-wide).

const { describe, it } = require("node:test");
const assert = require("node:assert/strict");
const {
  ACCOUNT_SID,
  SID,
  DATE_RE,
  newClient,
  assertLocalUrl,
  assertRestError,
  newConversation,
} = require("./helpers");

const US = /^US[0-9a-f]{32}$/;

// newService creates a Conversation Service for one test and returns it with its configuration.
async function newService(v1, name) {
  const service = await v1.services.create({ friendlyName: name });
  assert.match(service.sid, SID.IS);
  const config = await v1.services(service.sid).configuration().fetch();
  return { service, config };
}

describe("users on the service URL form", () => {
  it("create, fetch by sid and identity, update, list with paging, remove", async () => {
    const { v1, exchanges } = newClient();
    const { service, config } = await newService(v1, "node users");
    const users = v1.services(service.sid).users;

    exchanges.length = 0;
    const alice = await users.create({
      identity: "node-alice",
      friendlyName: "Alice",
      attributes: JSON.stringify({ duty: "tech" }),
      xTwilioWebhookEnabled: "true",
    });
    assert.equal(exchanges[0].headers["X-Twilio-Webhook-Enabled"], "true", "the SDK sent the header");
    assert.equal(exchanges[0].statusCode, 201);
    assert.match(alice.sid, US);
    assert.equal(alice.accountSid, ACCOUNT_SID);
    assert.equal(alice.chatServiceSid, service.sid);
    assert.equal(alice.identity, "node-alice");
    assert.equal(alice.friendlyName, "Alice");
    assert.deepEqual(JSON.parse(alice.attributes), { duty: "tech" });
    assert.equal(alice.roleSid, config.defaultChatServiceRoleSid, "the default service role");
    assert.equal(alice.isOnline, null);
    assert.equal(alice.isNotifiable, null);
    assert.ok(alice.dateCreated instanceof Date && !isNaN(alice.dateCreated), "dateCreated is a Date");
    assert.match(exchanges[0].body.date_created, DATE_RE);
    const self = `/v1/Services/${service.sid}/Users/${alice.sid}`;
    assertLocalUrl(alice.url, self);
    assertLocalUrl(alice.links.user_conversations, `${self}/Conversations`);

    const bySid = await users(alice.sid).fetch();
    const byIdentity = await users("node-alice").fetch();
    assert.equal(bySid.sid, alice.sid);
    assert.equal(byIdentity.sid, alice.sid);

    const updated = await users(alice.sid).update({ friendlyName: "Alice B", attributes: "{}" });
    assert.equal(updated.friendlyName, "Alice B");
    assert.equal(updated.attributes, "{}");
    assert.equal(updated.identity, "node-alice");

    const created = [alice.sid];
    for (let i = 0; i < 4; i++) {
      created.push((await users.create({ identity: `node-user-${i}` })).sid);
    }
    exchanges.length = 0;
    const listed = await users.list({ pageSize: 2 });
    assert.deepEqual(listed.map((u) => u.sid), created, "creation order, across 3 pages");
    assert.equal(exchanges.length, 3);
    assert.equal(exchanges[0].body.meta.key, "users");
    exchanges.slice(1).forEach((e, i) => assert.equal(e.uri, exchanges[i].body.meta.next_page_url));
    listed.forEach((u) => assert.equal(u.isOnline, null, "a read reports is_online null"));

    assert.equal(await users("node-alice").remove(), true);
    await assertRestError(users(alice.sid).fetch(), 404, 20404, "fetch after remove");
    await assertRestError(users(alice.sid).remove(), 404, 20404, "remove again");
    assert.equal((await users.list()).length, 4);
  });
});

describe("users on the shortened URL form", () => {
  it("errors surface as RestException and change nothing", async () => {
    const { v1 } = newClient();
    const { config } = await newService(v1, "node user errors");
    const u = await v1.users.create({ identity: "node-err-user" });
    assertLocalUrl(u.url, `/v1/Users/${u.sid}`);
    await assertRestError(v1.users.create({ identity: "node-err-user" }), 409, 50201, "identity taken");
    // (the SDK itself refuses a missing identity; an empty one reaches the server)
    await assertRestError(v1.users.create({ identity: "", friendlyName: "no identity" }), 400, 20001, "empty identity");
    await assertRestError(v1.users.create({ identity: "x".repeat(257) }), 400, 50207, "identity too long");
    await assertRestError(
      v1.users.create({ identity: "node-err-2", roleSid: config.defaultChatServiceRoleSid }),
      400,
      50100,
      "a role of another service",
    );
    await assertRestError(v1.users(u.sid).update({ attributes: "{nope" }), 400, 50304, "attributes not JSON");
    await assertRestError(v1.users("US" + "f".repeat(32)).fetch(), 404, 20404, "unknown user");
    assert.equal((await v1.users(u.sid).fetch()).attributes, "{}", "a refused update changed nothing");
    await assertRestError(v1.users("node-err-2").fetch(), 404, 20404, "refused create stored nothing");
  });

  it("adding a chat participant creates its user; removing the user removes its participants", async () => {
    const { v1 } = newClient();
    const a = await newConversation(v1, "node users a");
    const b = await newConversation(v1, "node users b");
    const pa = await v1.conversations(a.sid).participants.create({ identity: "node-implicit" });
    const pb = await v1.conversations(b.sid).participants.create({ identity: "node-implicit" });
    const user = await v1.users("node-implicit").fetch();
    assert.match(user.sid, US);
    assert.equal(user.friendlyName, null);

    assert.equal(await v1.users(user.sid).remove({ xTwilioWebhookEnabled: "false" }), true);
    await assertRestError(v1.conversations(a.sid).participants(pa.sid).fetch(), 404, 20404, "participant in a");
    await assertRestError(v1.conversations(b.sid).participants(pb.sid).fetch(), 404, 20404, "participant in b");
    assert.equal((await v1.conversations(a.sid).fetch()).sid, a.sid, "the conversation stays");
  });
});

describe("user conversations", () => {
  it("list, fetch, update (the participant's read horizon) and remove", async () => {
    const { v1 } = newClient();
    const a = await v1.conversations.create({ friendlyName: "node uc a", uniqueName: "node-uc-a" });
    const b = await newConversation(v1, "node uc b");
    const pa = await v1.conversations(a.sid).participants.create({ identity: "node-uc-user" });
    const pb = await v1.conversations(b.sid).participants.create({ identity: "node-uc-user" });
    const user = await v1.users("node-uc-user").fetch();

    const list = await user.userConversations().list();
    assert.deepEqual(list.map((c) => c.conversationSid), [a.sid, b.sid], "join order");
    const uc = list[0];
    assert.equal(uc.participantSid, pa.sid);
    assert.equal(uc.userSid, user.sid);
    assert.equal(uc.friendlyName, "node uc a");
    assert.equal(uc.uniqueName, "node-uc-a");
    assert.equal(uc.conversationState, "active");
    assert.equal(uc.notificationLevel, "default");
    assert.equal(uc.createdBy, "system");
    assert.equal(uc.unreadMessagesCount, null);
    assert.equal(uc.lastReadMessageIndex, null);
    assert.deepEqual(uc.timers, {});
    assertLocalUrl(uc.url, `/v1/Users/${user.sid}/Conversations/${a.sid}`);
    assertLocalUrl(uc.links.participant, `/v1/Conversations/${a.sid}/Participants/${pa.sid}`);
    assertLocalUrl(uc.links.conversation, `/v1/Conversations/${a.sid}`);

    for (const body of ["one", "two", "three"]) {
      await v1.conversations(a.sid).messages.create({ body });
    }
    const when = new Date(Date.UTC(2016, 0, 2, 3, 4, 5));
    const updated = await v1
      .users("node-uc-user")
      .userConversations("node-uc-a")
      .update({ lastReadMessageIndex: 1, lastReadTimestamp: when, notificationLevel: "muted" });
    assert.equal(updated.lastReadMessageIndex, 1);
    assert.equal(updated.unreadMessagesCount, 1);
    assert.equal(updated.notificationLevel, "muted");
    const p = await v1.conversations(a.sid).participants(pa.sid).fetch();
    assert.equal(p.lastReadMessageIndex, 1, "written through to the participant");
    assert.equal(p.lastReadTimestamp, "2016-01-02T03:04:05Z");
    await assertRestError(
      v1.users(user.sid).userConversations(a.sid).update({ notificationLevel: "loud" }),
      400,
      50210,
      "bad notification level",
    );
    const fetched = await v1.users(user.sid).userConversations(a.sid).fetch();
    assert.equal(fetched.notificationLevel, "muted");

    assert.equal(await v1.users(user.sid).userConversations(b.sid).remove(), true);
    await assertRestError(v1.conversations(b.sid).participants(pb.sid).fetch(), 404, 20404, "left b");
    await assertRestError(v1.users(user.sid).userConversations(b.sid).fetch(), 404, 20404, "user conversation b");
    assert.deepEqual((await user.userConversations().list()).map((c) => c.conversationSid), [a.sid]);
  });

  it("service URL form", async () => {
    const { v1 } = newClient();
    const { service } = await newService(v1, "node uc service");
    const c = await v1.services(service.sid).conversations.create({ friendlyName: "node uc svc" });
    const p = await v1.services(service.sid).conversations(c.sid).participants.create({ identity: "node-uc-svc" });
    const user = await v1.services(service.sid).users("node-uc-svc").fetch();
    const list = await v1.services(service.sid).users(user.sid).userConversations.list();
    assert.equal(list.length, 1);
    assertLocalUrl(list[0].url, `/v1/Services/${service.sid}/Users/${user.sid}/Conversations/${c.sid}`);
    assertLocalUrl(list[0].links.participant, `/v1/Services/${service.sid}/Conversations/${c.sid}/Participants/${p.sid}`);
    await assertRestError(v1.users("node-uc-svc").fetch(), 404, 20404, "not in the default service");
  });
});

describe("participant conversations", () => {
  it("by identity and by address, sorted by conversation sid, paged by 2", async () => {
    const { v1, exchanges } = newClient();
    const convs = [];
    for (let i = 0; i < 3; i++) {
      const c = await newConversation(v1, `node pc ${i}`);
      convs.push(c.sid);
      await v1.conversations(c.sid).participants.create({ identity: "node-pc-user" });
      await v1.conversations(c.sid).participants.create({
        "messagingBinding.address": "+15555050010",
        "messagingBinding.proxyAddress": `+1555505090${i}`,
      });
    }
    await v1.conversations(convs[1]).update({ state: "closed" });
    const user = await v1.users("node-pc-user").fetch();
    const sorted = [...convs].sort();

    exchanges.length = 0;
    const byIdentity = await v1.participantConversations.list({ identity: "node-pc-user", pageSize: 2 });
    assert.deepEqual(byIdentity.map((c) => c.conversationSid), sorted);
    assert.equal(exchanges.length, 2, "two pages");
    assert.equal(exchanges[0].body.meta.key, "conversations");
    assertLocalUrl(exchanges[0].body.meta.next_page_url, "/v1/ParticipantConversations");
    assert.equal(new URL(exchanges[0].body.meta.next_page_url).searchParams.get("Identity"), "node-pc-user");
    for (const pc of byIdentity) {
      assert.equal(pc.participantIdentity, "node-pc-user");
      assert.equal(pc.participantUserSid, user.sid);
      assert.equal(pc.participantMessagingBinding, null);
      assert.equal(pc.conversationCreatedBy, "system");
      assert.equal(pc.conversationState, pc.conversationSid === convs[1] ? "closed" : "active");
      assertLocalUrl(pc.links.conversation, `/v1/Conversations/${pc.conversationSid}`);
    }

    const byAddress = await v1.participantConversations.list({ address: "+15555050010" });
    assert.deepEqual(byAddress.map((c) => c.conversationSid), sorted);
    for (const pc of byAddress) {
      assert.equal(pc.participantIdentity, null);
      assert.equal(pc.participantUserSid, null);
      assert.equal(pc.participantMessagingBinding.type, "sms");
      assert.equal(pc.participantMessagingBinding.address, "+15555050010");
      assert.match(pc.participantMessagingBinding.proxy_address, /^\+155550509\d\d$/);
      assert.equal(pc.participantMessagingBinding.projected_address, null);
    }

    await assertRestError(
      v1.participantConversations.list({ identity: "node-pc-user", address: "+15555050010" }),
      400,
      50451,
      "both Identity and Address",
    );
    await assertRestError(v1.participantConversations.list(), 400, 20001, "neither");
  });

  it("service URL form lists only that service", async () => {
    const { v1 } = newClient();
    const { service } = await newService(v1, "node pc service");
    const c = await v1.services(service.sid).conversations.create({});
    await v1.services(service.sid).conversations(c.sid).participants.create({ identity: "node-pc-svc" });
    await v1.conversations((await newConversation(v1, "node pc default")).sid).participants.create({ identity: "node-pc-svc" });
    const list = await v1.services(service.sid).participantConversations.list({ identity: "node-pc-svc" });
    assert.deepEqual(list.map((pc) => pc.conversationSid), [c.sid]);
    assertLocalUrl(list[0].links.conversation, `/v1/Services/${service.sid}/Conversations/${c.sid}`);
    assert.equal(list[0].chatServiceSid, service.sid);
  });
});
