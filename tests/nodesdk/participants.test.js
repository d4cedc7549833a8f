"use strict";
// twilio-node 6.2.0 against Parley beyond the seed examples: paging (list/each/page/nextPage
// following Parley's absolute next_page_url), errors as RestException, the
// /v1/Services/{IS}/... URL form, X-Twilio-Webhook-Enabled, and removal.
// Every test uses conversations of its own, so the files can run in parallel on one server.
// (The SMS pair +15558675310/+15017122661 belongs to seed.test.js: bindings are account-wide.)

const { describe, it } = require("node:test");
const assert = require("node:assert/strict");
const {
  twilio,
  PARLEY_URL,
  PARLEY,
  ACCOUNT_SID,
  SID,
  DATE_RE,
  newClient,
  assertLocalUrl,
  assertRestError,
  newConversation,
} = require("./helpers");

// addChatParticipants creates identities prefix-0 .. prefix-(n-1) in order and returns them.
async function addChatParticipants(participants, prefix, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    out.push(await participants.create({ identity: `${prefix}-${i}` }));
  }
  return out;
}

describe("paging through 7 participants with pageSize 2", () => {
  it("list, each, page/nextPage and previousPage follow Parley's own absolute URLs", async () => {
    const { v1, exchanges } = newClient();
    const conversation = await newConversation(v1, "paging");
    const participants = v1.conversations(conversation.sid).participants;
    const created = await addChatParticipants(participants, "pager", 7);
    const sids = created.map((p) => p.sid);
    const listPath = `/v1/Conversations/${conversation.sid}/Participants`;

    // list(): 4 requests — the first built by the SDK, then next_page_url verbatim.
    exchanges.length = 0;
    const listed = await participants.list({ pageSize: 2 });
    assert.deepEqual(listed.map((p) => p.sid), sids, "list({pageSize: 2}) returns all 7 in join order");
    assert.deepEqual(listed.map((p) => p.identity), created.map((p) => p.identity));
    assert.equal(exchanges.length, 4, `list made ${exchanges.length} requests: ${exchanges.map((e) => e.uri).join(" ")}`);
    assert.equal(exchanges[0].uri, PARLEY_URL + listPath);
    assert.deepEqual(exchanges[0].params, { PageSize: 2 });
    exchanges.forEach((e, i) => {
      assert.equal(e.statusCode, 200, `page ${i}`);
      const meta = e.body.meta;
      assert.equal(meta.key, "participants", `page ${i} meta.key`);
      assert.equal(meta.page, i, `page ${i} meta.page`);
      assert.equal(meta.page_size, 2, `page ${i} meta.page_size`);
      assertLocalUrl(meta.first_page_url, listPath, { PageSize: "2", Page: "0" }, `page ${i} first_page_url`);
      assertLocalUrl(meta.url, listPath, undefined, `page ${i} url`);
      assert.equal(e.body.participants.length, i < 3 ? 2 : 1, `page ${i} size`);
      if (i > 0) {
        // the SDK requested exactly the previous page's next_page_url
        assert.equal(e.uri, exchanges[i - 1].body.meta.next_page_url, `page ${i} request URL`);
        const u = assertLocalUrl(e.uri, listPath, undefined, `page ${i} next_page_url`);
        assert.equal(u.searchParams.get("PageSize"), "2", "next_page_url carries PageSize");
        assert.equal(u.searchParams.get("Page"), String(i), "next_page_url carries Page");
        assert.notEqual(meta.previous_page_url, null, `page ${i} previous_page_url`);
        assertLocalUrl(meta.previous_page_url, listPath, undefined, `page ${i} previous_page_url`);
      } else {
        assert.equal(meta.previous_page_url, null, "page 0 previous_page_url");
      }
    });
    assert.equal(exchanges[3].body.meta.next_page_url, null, "the last page has no next_page_url");

    // list with a limit: stops after the limit, no request beyond the second page.
    exchanges.length = 0;
    const three = await participants.list({ limit: 3, pageSize: 2 });
    assert.deepEqual(three.map((p) => p.sid), sids.slice(0, 3));
    assert.equal(exchanges.length, 2, "limit 3 with pageSize 2 takes exactly 2 requests");

    // each(): the same 7, and its done callback fires once.
    const seen = [];
    let doneCalls = 0;
    await participants.each({
      pageSize: 2,
      callback: (p) => seen.push(p.sid),
      done: (err) => {
        doneCalls++;
        assert.ifError(err);
      },
    });
    assert.deepEqual(seen, sids, "each({pageSize: 2}) visits all 7 in order");
    assert.equal(doneCalls, 1, "each's done called once");

    // page() / nextPage(): 2, 2, 2, 1, then no next page.
    let page = await participants.page({ pageSize: 2 });
    const pages = [];
    const pageObjects = [];
    for (;;) {
      pages.push(page.instances.map((p) => p.sid));
      pageObjects.push(page);
      if (!page.nextPageUrl) break;
      const u = assertLocalUrl(page.nextPageUrl, listPath, undefined, "page().nextPageUrl");
      assert.equal(u.searchParams.get("PageSize"), "2");
      assert.ok(pages.length < 10, "nextPage() does not end");
      page = await page.nextPage();
    }
    assert.deepEqual(pages, [sids.slice(0, 2), sids.slice(2, 4), sids.slice(4, 6), sids.slice(6)]);
    assert.equal(page.nextPage(), undefined, "nextPage() on the last page is undefined");

    // previousPage() from the last page goes back one page.
    const last = pageObjects[3];
    assert.ok(last.previousPageUrl, "the last page has a previous_page_url");
    assertLocalUrl(last.previousPageUrl, listPath, undefined, "previousPageUrl");
    const back = await last.previousPage();
    assert.deepEqual(back.instances.map((p) => p.sid), sids.slice(4, 6), "previousPage() of page 3 is page 2");
    assert.equal(pageObjects[0].previousPage(), undefined, "page 0 has no previous page");
  });
});

describe("errors surface as twilio.RestException", () => {
  it("fetch of an unknown participant: 404 / 20404", async () => {
    const { v1 } = newClient();
    const conversation = await newConversation(v1, "errors: 404");
    const participants = v1.conversations(conversation.sid).participants;
    await assertRestError(participants("MB" + "f".repeat(32)).fetch(), 404, 20404, "unknown MB sid");
    await assertRestError(participants("nobody").fetch(), 404, 20404, "unknown identity");
    await assertRestError(participants("MB" + "f".repeat(32)).remove(), 404, 20404, "remove unknown MB sid");
    await assertRestError(
      v1.conversations("CH" + "f".repeat(32)).participants.list(),
      404,
      20404,
      "list of an unknown conversation",
    );
  });

  it("duplicate identity: 409 / 50433", async () => {
    const { v1 } = newClient();
    const conversation = await newConversation(v1, "errors: 409");
    const participants = v1.conversations(conversation.sid).participants;
    await participants.create({ identity: "dup" });
    await assertRestError(participants.create({ identity: "dup" }), 409, 50433, "second create of identity dup");
    const list = await participants.list();
    assert.deepEqual(list.map((p) => p.identity), ["dup"], "the failed create added nobody");
  });

  it("attributes that are not JSON: 400 / 50304 on create and update", async () => {
    const { v1 } = newClient();
    const conversation = await newConversation(v1, "errors: attributes");
    const participants = v1.conversations(conversation.sid).participants;
    await assertRestError(participants.create({ identity: "badattrs", attributes: "{not json" }), 400, 50304, "create");
    const p = await participants.create({ identity: "goodattrs", attributes: '{"ok":true}' });
    assert.equal(p.attributes, '{"ok":true}');
    await assertRestError(participants(p.sid).update({ attributes: "{not json" }), 400, 50304, "update");
    assert.equal((await participants(p.sid).fetch()).attributes, '{"ok":true}', "a failed update changes nothing");
  });

  it("identity of 257 characters: 400 / 50207 (256 is accepted)", async () => {
    const { v1 } = newClient();
    const conversation = await newConversation(v1, "errors: identity length");
    const participants = v1.conversations(conversation.sid).participants;
    await assertRestError(participants.create({ identity: "x".repeat(257) }), 400, 50207, "257-character identity");
    const ok = await participants.create({ identity: "y".repeat(256) });
    assert.equal(ok.identity, "y".repeat(256), "a 256-character identity is accepted");
  });
});

describe("the service URL form /v1/Services/{IS}/Conversations/{CH}/Participants", () => {
  it("create, fetch, list and remove through client.conversations.v1.services(IS)", async () => {
    const { v1, exchanges } = newClient();
    const conversation = await newConversation(v1, "service form");
    const IS = conversation.chatServiceSid;
    assert.match(IS, SID.IS, "a created conversation names its (default) service");
    const viaService = v1.services(IS).conversations(conversation.sid).participants;
    const viaShort = v1.conversations(conversation.sid).participants;
    const servicePath = `/v1/Services/${IS}/Conversations/${conversation.sid}/Participants`;

    exchanges.length = 0;
    const p = await viaService.create({ identity: "svc-user", attributes: '{"via":"service"}' });
    assert.equal(exchanges[0].uri, PARLEY_URL + servicePath, "the SDK used the service URL");
    assert.equal(exchanges[0].statusCode, 201);
    assert.match(p.sid, SID.MB);
    assert.equal(p.accountSid, ACCOUNT_SID);
    assert.equal(p.chatServiceSid, IS);
    assert.equal(p.conversationSid, conversation.sid);
    assert.equal(p.identity, "svc-user");
    assert.equal(p.attributes, '{"via":"service"}');
    assert.equal(p.messagingBinding, null);
    assert.match(p.roleSid, SID.RL);
    assert.ok(p.dateCreated instanceof Date && !Number.isNaN(p.dateCreated.getTime()), "dateCreated parsed");
    assert.match(exchanges[0].body.date_created, DATE_RE);
    assertLocalUrl(p.url, `${servicePath}/${p.sid}`, {}, "service-form url");

    const fetched = await viaService(p.sid).fetch();
    assert.equal(fetched.sid, p.sid);
    assert.equal(fetched.chatServiceSid, IS);
    assertLocalUrl(fetched.url, `${servicePath}/${p.sid}`, {}, "service-form fetch url");
    const byIdentity = await viaService("svc-user").fetch();
    assert.equal(byIdentity.sid, p.sid, "service form: fetch by identity");

    // the same participant through the shortened URL (default service)
    const short = await viaShort(p.sid).fetch();
    assert.equal(short.sid, p.sid);
    assertLocalUrl(short.url, `/v1/Conversations/${conversation.sid}/Participants/${p.sid}`, {}, "shortened-form url");

    const listed = await viaService.list();
    assert.deepEqual(listed.map((x) => x.sid), [p.sid], "service-form list");

    assert.equal(await viaService(p.sid).remove(), true, "service-form remove resolves to true");
    await assertRestError(viaShort(p.sid).fetch(), 404, 20404, "fetch after service-form remove");
    assert.deepEqual(await viaService.list(), [], "service-form list after remove");

    // a conversation is only reachable through its own service
    const other = await v1.services.create({ friendlyName: "another service" });
    assert.match(other.sid, SID.IS);
    assert.notEqual(other.sid, IS);
    await assertRestError(
      v1.services(other.sid).conversations(conversation.sid).participants.create({ identity: "elsewhere" }),
      404,
      20404,
      "create through a service the conversation is not in",
    );
    await assertRestError(
      v1.services(other.sid).conversations(conversation.sid).participants.list(),
      404,
      20404,
      "list through a service the conversation is not in",
    );

    // a service that is not the account's
    await assertRestError(
      v1.services("IS" + "f".repeat(32)).conversations(conversation.sid).participants.list(),
      404,
      20404,
      "unknown service",
    );
  });
});

describe("identities with reserved characters in the URL path", () => {
  it("fetch, update and remove by identity keep '+', '@' and ' ' intact", async () => {
    const { v1 } = newClient();
    const conversation = await newConversation(v1, "reserved identities");
    const participants = v1.conversations(conversation.sid).participants;
    const plus = await participants.create({ identity: "bob+1@example.com" });
    const space = await participants.create({ identity: "carol smith" });
    assert.equal(plus.identity, "bob+1@example.com");
    assert.equal(space.identity, "carol smith");

    const f1 = await participants("bob+1@example.com").fetch();
    assert.equal(f1.sid, plus.sid, "'+' in the path is not a space (sdk-clients.md §2.1)");
    const f2 = await participants("carol smith").fetch();
    assert.equal(f2.sid, space.sid);
    await assertRestError(participants("bob 1@example.com").fetch(), 404, 20404, "'bob 1@…' is not 'bob+1@…'");
    const u = await participants("bob+1@example.com").update({ attributes: '{"plus":1}' });
    assert.equal(u.sid, plus.sid);
    assert.equal(u.attributes, '{"plus":1}');
    assert.equal(await participants("carol smith").remove(), true);
    assert.deepEqual((await participants.list()).map((p) => p.sid), [plus.sid]);
  });
});

describe("X-Twilio-Webhook-Enabled", () => {
  it('xTwilioWebhookEnabled: "true" is sent and accepted on create, update and remove', async () => {
    const { v1, exchanges } = newClient();
    const conversation = await newConversation(v1, "webhook header");
    const participants = v1.conversations(conversation.sid).participants;

    exchanges.length = 0;
    const p = await participants.create({ identity: "hooked", xTwilioWebhookEnabled: "true" });
    assert.equal(p.identity, "hooked");
    const u = await participants(p.sid).update({ attributes: '{"hooked":true}', xTwilioWebhookEnabled: "true" });
    assert.equal(u.attributes, '{"hooked":true}');
    assert.equal(await participants(p.sid).remove({ xTwilioWebhookEnabled: "true" }), true);
    assert.deepEqual(
      exchanges.map((e) => [e.method, e.headers["X-Twilio-Webhook-Enabled"], e.statusCode]),
      [
        ["post", "true", 201],
        ["post", "true", 200],
        ["delete", "true", 204],
      ],
      "the header went out on all three calls and each succeeded",
    );
    assert.deepEqual(await participants.list(), []);
  });
});

describe("removal", () => {
  it("a removed participant leaves the list; the others stay in order", async () => {
    const { v1 } = newClient();
    const conversation = await newConversation(v1, "removal");
    const participants = v1.conversations(conversation.sid).participants;
    const [a, b, c] = await addChatParticipants(participants, "stay", 3);
    const sms = await participants.create({
      "messagingBinding.address": "+15550001001",
      "messagingBinding.proxyAddress": "+15550002002",
    });
    assert.deepEqual((await participants.list()).map((p) => p.sid), [a.sid, b.sid, c.sid, sms.sid]);

    assert.equal(await participants(b.sid).remove(), true);
    assert.deepEqual((await participants.list()).map((p) => p.sid), [a.sid, c.sid, sms.sid], "b left the list");
    await assertRestError(participants(b.sid).fetch(), 404, 20404, "fetch removed participant");
    await assertRestError(participants(b.sid).remove(), 404, 20404, "remove twice");

    // removal by identity works too
    assert.equal(await participants("stay-2").remove(), true);
    assert.deepEqual((await participants.list()).map((p) => p.sid), [a.sid, sms.sid], "stay-2 left the list");

    // an SMS participant's removal frees its (address, proxy address) pair
    assert.equal(await participants(sms.sid).remove(), true);
    const again = await participants.create({
      "messagingBinding.address": "+15550001001",
      "messagingBinding.proxyAddress": "+15550002002",
    });
    assert.notEqual(again.sid, sms.sid);
    assert.deepEqual(again.messagingBinding, { type: "sms", address: "+15550001001", proxy_address: "+15550002002" });
    assert.deepEqual((await participants.list()).map((p) => p.sid), [a.sid, again.sid]);
  });
});

// The host check above is meaningful only if PARLEY_URL is not Twilio's.
assert.notEqual(PARLEY.hostname, "conversations.twilio.com");
assert.equal(typeof twilio.RestException, "function");
