// Drives Twilio's unmodified Conversations client SDK (3.x and 2.x, pinned in package.json)
// against Parley's twilsock gateway, connecting the way an app would:
//   new Client(token, { Twilsock: { uri: GATEWAY_URL } })
// Run by chatsdk_test.go, which starts the gateway and sets the environment:
// GATEWAY_URL, ACCOUNT_SID, KEY_SID, KEY_SECRET, SERVICE_SID.
"use strict";
const { test } = require("node:test");
const assert = require("node:assert/strict");
const twilio = require("twilio");

const env = process.env;
for (const k of ["GATEWAY_URL", "ACCOUNT_SID", "KEY_SID", "KEY_SECRET", "SERVICE_SID"]) {
  if (!env[k]) throw new Error(`${k} is not set; run this through chatsdk_test.go`);
}

const path = require("node:path");

// Each SDK version with the twilsock package it bundles (resolved from the SDK's own directory).
const versions = [
  ["3.x", "@twilio/conversations"],
  ["2.x", "conversations2"],
].map(([label, name]) => {
  const dir = path.dirname(require.resolve(`${name}/package.json`));
  const twilsock = require(require.resolve("twilsock", { paths: [dir] }));
  return [label, require(name), require(`${name}/package.json`).version, twilsock];
});

// mint returns an access token made by twilio-node's AccessToken + ChatGrant.
function mint({ identity, secret = env.KEY_SECRET, ttl }) {
  const { AccessToken } = twilio.jwt;
  const opts = { identity };
  if (ttl !== undefined) opts.ttl = ttl;
  const token = new AccessToken(env.ACCOUNT_SID, env.KEY_SID, secret, opts);
  token.addGrant(new AccessToken.ChatGrant({ serviceSid: env.SERVICE_SID }));
  return token.toJwt();
}

// once resolves with the first `event` whose argument satisfies pred.
function once(emitter, event, pred = () => true) {
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

function connect(Client, token) {
  const client = new Client(token, { Twilsock: { uri: env.GATEWAY_URL }, logLevel: "silent" });
  const states = [];
  client.on("connectionStateChanged", (s) => states.push(s));
  return { client, states };
}

for (const [label, sdk, version, twilsock] of versions) {
  const { Client } = sdk;

  test(`${label} (${version}): handshake, then the first upstream request`, async () => {
    const identity = `alice-${label}`;
    const { client, states } = connect(Client, mint({ identity }));
    try {
      await once(client, "connectionStateChanged", (s) => s === "connected");
      assert.equal(client.connectionState, "connected");
      assert.deepEqual(states.filter((s) => s !== "connecting"), ["connected"]);
      // The SDK next fetches Client/v2/Configuration through the socket; this transport-only
      // harness answers every upstream request 404, so the client's initialisation fails
      // (chatsdk_test.go checks that the request arrived, as this identity). flows.test.js
      // runs the SDK against the full server.
      await once(client, "stateChanged", (s) => s === "failed");
      assert.equal(client.connectionState, "connected");
      // A graceful client close ends the socket.
      const disconnected = once(client, "connectionStateChanged", (s) => s === "disconnected");
      await client.shutdown();
      await disconnected;
    } finally {
      await client.shutdown();
    }
  });

  test(`${label} (${version}): the SDK's twilsock: updateToken and an upstream error reply`, async () => {
    const identity = `dave-${label}`;
    const tw = new twilsock.TwilsockClient(mint({ identity }), "ip_messaging", { twilsock: { uri: env.GATEWAY_URL }, logLevel: "silent" });
    const connected = once(tw, "connected");
    tw.connect();
    try {
      await connected;
      await tw.updateToken(mint({ identity, ttl: 7200 }));
      assert.equal(tw.state, "connected");
      await assert.rejects(tw.get("https://aim.us1.twilio.com/Client/v2/Nothing?PageSize=5", {}), (err) => {
        assert.equal(err.status, 404);
        assert.equal(err.body.code, 20404);
        assert.equal(err.body.status, 404);
        return true;
      });
    } finally {
      await tw.disconnect();
    }
  });

  test(`${label} (${version}): a bad signature is denied with 20107`, async () => {
    const { client, states } = connect(Client, mint({ identity: "mallory", secret: "not-the-secret" }));
    const denied = once(client, "connectionStateChanged", (s) => s === "denied");
    try {
      const err = await once(client, "connectionError");
      assert.deepEqual(err, {
        terminal: true,
        message: "Connection error: Invalid Access Token signature",
        httpStatusCode: 401,
        errorCode: 20107,
      });
      await denied;
      assert.ok(!states.includes("connected"));
    } finally {
      await client.shutdown();
    }
  });

  test(`${label} (${version}): an expired token is denied with 20104 and tokenExpired`, async () => {
    const { client } = connect(Client, mint({ identity: "bob", ttl: -60 }));
    const expired = once(client, "tokenExpired");
    const denied = once(client, "connectionStateChanged", (s) => s === "denied");
    try {
      const err = await once(client, "connectionError");
      assert.equal(err.errorCode, 20104);
      assert.equal(err.httpStatusCode, 401);
      assert.equal(err.terminal, true);
      await expired;
      await denied;
    } finally {
      await client.shutdown();
    }
  });

  test(`${label} (${version}): tokenAboutToExpire, then tokenExpired at expiry`, async () => {
    // Valid for 2 s, inside the gateway's 3-minute warning window: the warning comes right
    // after init and the close 410 at expiry.
    const { client } = connect(Client, mint({ identity: "carol", ttl: 2 }));
    const warned = once(client, "tokenAboutToExpire");
    const expired = once(client, "tokenExpired");
    try {
      await once(client, "connectionStateChanged", (s) => s === "connected");
      await warned;
      await expired;
    } finally {
      await client.shutdown();
    }
  });
}
