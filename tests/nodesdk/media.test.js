"use strict";
// Media messages through twilio-node 6.2.0 and plain HTTP: twilio-node has no Media Content
// Service helper, so a backend uploads the raw file with fetch and Basic auth (as Twilio's
// curl example does), then creates the message with MediaSid through the SDK.

const { describe, it } = require("node:test");
const assert = require("node:assert/strict");
const { PARLEY_URL, ACCOUNT_SID, AUTH_TOKEN, newClient, assertRestError, newConversation } = require("./helpers");

const ME = /^ME[0-9a-f]{32}$/;
const basic = "Basic " + Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString("base64");

async function upload(serviceSid, bytes, contentType, filename) {
  const res = await fetch(`${PARLEY_URL}/v1/Services/${serviceSid}/Media?Filename=${encodeURIComponent(filename)}`, {
    method: "POST",
    headers: { Authorization: basic, "Content-Type": contentType },
    body: bytes,
  });
  assert.equal(res.status, 201);
  assert.match(res.headers.get("content-type"), /^application\/json/);
  return res.json();
}

describe("media messages", () => {
  it("uploads media, sends it with MediaSid and reads it back", async () => {
    const { v1 } = newClient();
    const conversation = await newConversation(v1, "media: upload and send");
    const serviceSid = conversation.chatServiceSid;
    const bytes = Buffer.alloc(300 * 1024, 7); // two chunks
    const media = await upload(serviceSid, bytes, "image/jpeg", "photo.jpg");
    assert.match(media.sid, ME);
    assert.equal(media.service_sid, serviceSid);
    assert.equal(media.size, bytes.length);
    assert.equal(media.content_type, "image/jpeg");
    assert.equal(media.filename, "photo.jpg");
    assert.equal(media.category, "media");
    assert.equal(media.message_sid, null);
    assert.equal(media.links.content, `/v1/Services/${serviceSid}/Media/${media.sid}/Content`);

    const c = v1.conversations(conversation.sid);
    await c.participants.create({ identity: "alice" });
    const m = await c.messages.create({ author: "alice", mediaSid: media.sid });
    assert.equal(m.body, null);
    assert.deepEqual(m.media, [{ sid: media.sid, size: bytes.length, content_type: "image/jpeg", filename: "photo.jpg" }]);
    const fetched = await c.messages(m.sid).fetch();
    assert.deepEqual(fetched.media, m.media);
    const listed = await c.messages.list();
    assert.deepEqual(listed.find((x) => x.sid === m.sid).media, m.media);

    // The media is now the message's, and its content comes back through a temporary URL
    // that needs no credentials.
    const res = await fetch(`${PARLEY_URL}/v1/Services/${serviceSid}/Media/${media.sid}`, { headers: { Authorization: basic } });
    assert.equal(res.status, 200);
    const linked = await res.json();
    assert.equal(linked.channel_sid, conversation.sid);
    assert.equal(linked.message_sid, m.sid);
    const content = await fetch(linked.links.content_direct_temporary);
    assert.equal(content.status, 200);
    assert.equal(content.headers.get("content-type"), "image/jpeg");
    assert.ok(Buffer.from(await content.arrayBuffer()).equals(bytes));

    // Sent media cannot be attached again; removing the message removes its media.
    await assertRestError(c.messages.create({ mediaSid: media.sid }), 400, 50508, "reused MediaSid");
    await assertRestError(c.messages.create({ mediaSid: "ME00000000000000000000000000000099" }), 400, 50507, "unknown MediaSid");
    await c.messages(m.sid).remove();
    const gone = await fetch(`${PARLEY_URL}/v1/Services/${serviceSid}/Media/${media.sid}`, { headers: { Authorization: basic } });
    assert.equal(gone.status, 404);
    assert.equal((await gone.json()).code, 4041);
  });

  it("refuses an upload without a content type", async () => {
    const { v1 } = newClient();
    const conversation = await newConversation(v1, "media: bad upload");
    const res = await fetch(`${PARLEY_URL}/v1/Services/${conversation.chatServiceSid}/Media`, {
      method: "POST",
      headers: { Authorization: basic, "Content-Type": "" },
      body: new Uint8Array([1, 2, 3]),
    });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).code, 50511);
  });
});
