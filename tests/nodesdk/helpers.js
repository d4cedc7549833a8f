"use strict";
// Shared helpers of the twilio-node SDK tests. The Go harness (nodesdk_test.go) starts Parley
// and runs `node --test` here with PARLEY_URL, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TZ=UTC.

const assert = require("node:assert/strict");
const twilio = require("twilio");

function requiredEnv(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(
      `${name} is not set: run these tests through the Go harness ` +
        "(go test ./tests/nodesdk/), which starts Parley and sets PARLEY_URL, " +
        "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TZ=UTC",
    );
  }
  return v;
}

const PARLEY_URL = requiredEnv("PARLEY_URL").replace(/\/+$/, "");
const ACCOUNT_SID = requiredEnv("TWILIO_ACCOUNT_SID");
const AUTH_TOKEN = requiredEnv("TWILIO_AUTH_TOKEN");
const PARLEY = new URL(PARLEY_URL);

// Twilio's SID patterns, as Parley must emit them (lower-case hex).
const SID = {
  AC: /^AC[0-9a-f]{32}$/,
  IS: /^IS[0-9a-f]{32}$/,
  CH: /^CH[0-9a-f]{32}$/,
  MB: /^MB[0-9a-f]{32}$/,
  RL: /^RL[0-9a-f]{32}$/,
};

// The only date format every SDK turns into a native date (sdk-clients.md §0.4).
const DATE_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

// record wraps client.request (the one method every SDK call and every next-page GET goes
// through) so that each HTTP exchange is appended to `into`: the request the SDK made and the
// response (statusCode, body as parsed by axios, headers) it got.
function record(client, into = []) {
  const send = client.request.bind(client);
  client.request = async (opts) => {
    const exchange = {
      method: opts.method,
      uri: opts.uri,
      params: opts.params,
      data: opts.data,
      headers: { ...(opts.headers || {}) },
    };
    into.push(exchange);
    const res = await send(opts);
    exchange.statusCode = res.statusCode;
    exchange.body = res.body;
    exchange.responseHeaders = res.headers;
    return res;
  };
  return into;
}

// newClient returns a twilio-node client pointed at Parley (sdk-clients.md §1.2, recipe A)
// and the list its HTTP exchanges are recorded in.
function newClient() {
  const client = twilio(ACCOUNT_SID, AUTH_TOKEN);
  client.conversations.baseUrl = PARLEY_URL;
  const exchanges = record(client);
  return { client, exchanges, v1: client.conversations.v1 };
}

// assertLocalUrl checks that u is an absolute URL on Parley's own scheme and host, with the
// given path and (when given) exactly the given query parameters.
function assertLocalUrl(u, path, query, what = "url") {
  assert.equal(typeof u, "string", `${what}: expected an absolute URL string, got ${JSON.stringify(u)}`);
  let parsed;
  try {
    parsed = new URL(u);
  } catch {
    assert.fail(`${what}: ${JSON.stringify(u)} is not an absolute URL`);
  }
  assert.equal(parsed.protocol, PARLEY.protocol, `${what}: ${u} is not on ${PARLEY_URL} (scheme)`);
  assert.equal(parsed.host, PARLEY.host, `${what}: ${u} is not on ${PARLEY_URL} (host)`);
  assert.equal(parsed.pathname, path, `${what}: ${u} has the wrong path`);
  assert.equal(parsed.hash, "", `${what}: ${u} has a fragment`);
  if (query !== undefined) {
    assert.deepEqual(Object.fromEntries(parsed.searchParams), query, `${what}: ${u} has the wrong query`);
  }
  return parsed;
}

// assertRestError awaits p and checks it rejects with twilio.RestException of the given
// HTTP status and Twilio error code, with Twilio's more_info link and a message.
async function assertRestError(p, status, code, what) {
  let err;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `${what}: expected a RestException ${status}/${code}, but the call succeeded`);
  assert.ok(
    err instanceof twilio.RestException,
    `${what}: expected twilio.RestException, got ${err && err.constructor && err.constructor.name}: ${err}`,
  );
  assert.deepEqual(
    { status: err.status, code: err.code },
    { status, code },
    `${what}: wrong status/code (message: ${err.message})`,
  );
  assert.equal(err.moreInfo, `https://www.twilio.com/docs/errors/${code}`, `${what}: moreInfo`);
  assert.ok(typeof err.message === "string" && err.message.length > 0, `${what}: empty message`);
  return err;
}

// newConversation creates a conversation through the SDK for one test to use alone.
async function newConversation(v1, friendlyName) {
  const c = await v1.conversations.create({ friendlyName });
  assert.match(c.sid, SID.CH);
  return c;
}

module.exports = {
  twilio,
  PARLEY_URL,
  PARLEY,
  ACCOUNT_SID,
  AUTH_TOKEN,
  SID,
  DATE_RE,
  record,
  newClient,
  assertLocalUrl,
  assertRestError,
  newConversation,
};
