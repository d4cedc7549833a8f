"use strict";
// Runs each JavaScript example of the seed page — Twilio's "Conversation Participant
// Resource" reference (https://www.twilio.com/docs/conversations/api/conversation-participant-resource)
// — VERBATIM against Parley with the official twilio-node SDK, and compares every HTTP
// response with the page's "Output" block field by field.
//
// The only changes made to an example's source (see substitute()):
//   (a) two lines inserted after `const client = twilio(accountSid, authToken);`:
//         client.conversations.baseUrl = process.env.PARLEY_URL;   // point the SDK at Parley
//         __parleyRecord(client);                                  // record HTTP exchanges
//   (b) the placeholders, replaced by real values created beforehand through the SDK:
//         "CHXXX…" / "ConversationSid"  -> a real conversation SID
//         "MBXXX…" / "Sid"              -> a real participant SID
//         "<Your Twilio Number>"        -> "+15017122661"
//         "<Chat User Identity>"        -> CHAT_IDENTITY
//       ("alice" stays "alice": she is created first.)
// Each example runs in a vm context with `require`, `process`, a capturing `console` and the
// main realm's `Date` (so twilio-node's `instanceof Date` serialisation sees the example's
// `new Date(...)`). The value of the example's last statement — the promise its async
// function returns — is awaited.
//
// Output comparison rules (compareParticipant / compareList):
//   * sid, account_sid, conversation_sid, role_sid: values ignored, ^XX[0-9a-f]{32}$ checked
//     (and, where the example names the resource, that it is that resource);
//   * date_created / date_updated: format YYYY-MM-DDTHH:MM:SSZ exactly, except a date the
//     example sets itself (dateUpdated: new Date("2019-05-15 13:37:35") -> 2019-05-15T13:37:35Z,
//     TZ=UTC);
//   * url and the meta URLs: absolute, on PARLEY_URL's scheme and host, with the right path;
//   * every other field: deep-equal to the Output, except the documentation artefacts listed
//     in ARTEFACTS, where the page's own text is asserted instead.

const { describe, it, before } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const vm = require("node:vm");
const {
  PARLEY_URL,
  ACCOUNT_SID,
  SID,
  DATE_RE,
  record,
  newClient,
  assertLocalUrl,
  assertRestError,
  newConversation,
} = require("./helpers");

const TWILIO_NUMBER = "+15017122661";
const CHAT_IDENTITY = "seed-chat-user";

// The eight twilio-node examples of the seed page, in page order, with their Output blocks,
// copied verbatim (the page's line numbers removed; the page shows the code unindented).
// Set PARLEY_SEED_PAGE=/path/to/participant-resource.txt to re-check them against the page.
const EXAMPLES = [
  {
    id: "create-sms",
    title: "Add a Conversation Participant (SMS)",
    code: String.raw`// Download the helper library from https://www.twilio.com/docs/node/install
const twilio = require("twilio"); // Or, for ESM: import twilio from "twilio";

// Find your Account SID and Auth Token at twilio.com/console
// and set the environment variables. See http://twil.io/secure
const accountSid = process.env.TWILIO_ACCOUNT_SID;
const authToken = process.env.TWILIO_AUTH_TOKEN;
const client = twilio(accountSid, authToken);

async function createConversationParticipant() {
const participant = await client.conversations.v1
.conversations("CHXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX")
.participants.create({
"messagingBinding.address": "+15558675310",
"messagingBinding.proxyAddress": "<Your Twilio Number>",
});

console.log(participant.sid);
}

createConversationParticipant();`,
    output: String.raw`{
"account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"conversation_sid": "CHXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
"sid": "MBaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"identity": null,
"attributes": "{ \"role\": \"driver\" }",
"messaging_binding": {
"type": "sms",
"address": "+15558675310",
"proxy_address": "+15017122661"
},
"role_sid": "RLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"date_created": "2015-12-16T22:18:37Z",
"date_updated": "2015-12-16T22:18:38Z",
"url": "https://conversations.twilio.com/v1/Conversations/CHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Participants/MBaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"last_read_message_index": null,
"last_read_timestamp": null
}`,
  },
  {
    id: "create-chat",
    title: "Add a Conversation Participant (Chat)",
    code: String.raw`// Download the helper library from https://www.twilio.com/docs/node/install
const twilio = require("twilio"); // Or, for ESM: import twilio from "twilio";

// Find your Account SID and Auth Token at twilio.com/console
// and set the environment variables. See http://twil.io/secure
const accountSid = process.env.TWILIO_ACCOUNT_SID;
const authToken = process.env.TWILIO_AUTH_TOKEN;
const client = twilio(accountSid, authToken);

async function createConversationParticipant() {
const participant = await client.conversations.v1
.conversations("ConversationSid")
.participants.create({ identity: "<Chat User Identity>" });

console.log(participant.sid);
}

createConversationParticipant();`,
    output: String.raw`{
"account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"conversation_sid": "ConversationSid",
"sid": "MBaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"identity": "<Chat User Identity>",
"attributes": "{ \"role\": \"driver\" }",
"messaging_binding": null,
"role_sid": "RLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"date_created": "2015-12-16T22:18:37Z",
"date_updated": "2015-12-16T22:18:38Z",
"url": "https://conversations.twilio.com/v1/Conversations/CHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Participants/MBaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"last_read_message_index": null,
"last_read_timestamp": null
}`,
  },
  {
    id: "fetch",
    title: "Fetch a ConversationParticipant resource",
    code: String.raw`// Download the helper library from https://www.twilio.com/docs/node/install
const twilio = require("twilio"); // Or, for ESM: import twilio from "twilio";

// Find your Account SID and Auth Token at twilio.com/console
// and set the environment variables. See http://twil.io/secure
const accountSid = process.env.TWILIO_ACCOUNT_SID;
const authToken = process.env.TWILIO_AUTH_TOKEN;
const client = twilio(accountSid, authToken);

async function fetchConversationParticipant() {
const participant = await client.conversations.v1
.conversations("CHXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX")
.participants("MBXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX")
.fetch();

console.log(participant.accountSid);
}

fetchConversationParticipant();`,
    output: String.raw`{
"account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"conversation_sid": "CHXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
"sid": "MBXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
"identity": null,
"attributes": "{ \"role\": \"driver\" }",
"messaging_binding": {
"type": "sms",
"address": "+15558675310",
"proxy_address": "+15017122661"
},
"role_sid": "RLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"date_created": "2016-03-24T21:05:50Z",
"date_updated": "2016-03-24T21:05:50Z",
"url": "https://conversations.twilio.com/v1/Conversations/CHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Participants/MBaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"last_read_message_index": null,
"last_read_timestamp": null
}`,
  },
  {
    id: "fetch-by-identity",
    title: "Fetch Conversation Participant by identity",
    code: String.raw`// Download the helper library from https://www.twilio.com/docs/node/install
const twilio = require("twilio"); // Or, for ESM: import twilio from "twilio";

// Find your Account SID and Auth Token at twilio.com/console
// and set the environment variables. See http://twil.io/secure
const accountSid = process.env.TWILIO_ACCOUNT_SID;
const authToken = process.env.TWILIO_AUTH_TOKEN;
const client = twilio(accountSid, authToken);

async function fetchConversationParticipant() {
const participant = await client.conversations.v1
.conversations("ConversationSid")
.participants("alice")
.fetch();

console.log(participant.accountSid);
}

fetchConversationParticipant();`,
    output: String.raw`{
"account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"conversation_sid": "ConversationSid",
"sid": "alice",
"identity": "alice",
"attributes": "{ \"role\": \"driver\" }",
"messaging_binding": {
"type": "sms",
"address": "+15558675310",
"proxy_address": "+15017122661"
},
"role_sid": "RLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"date_created": "2016-03-24T21:05:50Z",
"date_updated": "2016-03-24T21:05:50Z",
"url": "https://conversations.twilio.com/v1/Conversations/CHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Participants/MBaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"last_read_message_index": null,
"last_read_timestamp": null
}`,
  },
  {
    id: "list",
    title: "Read multiple ConversationParticipant resources",
    code: String.raw`// Download the helper library from https://www.twilio.com/docs/node/install
const twilio = require("twilio"); // Or, for ESM: import twilio from "twilio";

// Find your Account SID and Auth Token at twilio.com/console
// and set the environment variables. See http://twil.io/secure
const accountSid = process.env.TWILIO_ACCOUNT_SID;
const authToken = process.env.TWILIO_AUTH_TOKEN;
const client = twilio(accountSid, authToken);

async function listConversationParticipant() {
const participants = await client.conversations.v1
.conversations("CHXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX")
.participants.list({ limit: 20 });

participants.forEach((p) => console.log(p.accountSid));
}

listConversationParticipant();`,
    output: String.raw`{
"meta": {
"page": 0,
"page_size": 50,
"first_page_url": "https://conversations.twilio.com/v1/Conversations/CHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Participants?PageSize=50&Page=0",
"previous_page_url": null,
"url": "https://conversations.twilio.com/v1/Conversations/CHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Participants?PageSize=50&Page=0",
"next_page_url": null,
"key": "participants"
},
"participants": [
{
"account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"conversation_sid": "CHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"sid": "MBaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"identity": null,
"attributes": "{ \"role\": \"driver\" }",
"messaging_binding": {
"type": "sms",
"address": "+15558675310",
"proxy_address": "+15017122661"
},
"role_sid": "RLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"date_created": "2016-03-24T21:05:50Z",
"date_updated": "2016-03-24T21:05:50Z",
"url": "https://conversations.twilio.com/v1/Conversations/CHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Participants/MBaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"last_read_message_index": null,
"last_read_timestamp": null
},
{
"account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"conversation_sid": "CHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"sid": "MBaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"identity": "IDENTITY",
"attributes": "{ \"role\": \"driver\" }",
"messaging_binding": null,
"role_sid": "RLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"date_created": "2016-03-24T21:05:50Z",
"date_updated": "2016-03-24T21:05:50Z",
"url": "https://conversations.twilio.com/v1/Conversations/CHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Participants/MBaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"last_read_message_index": null,
"last_read_timestamp": null
}
]
}`,
  },
  {
    id: "update-date-updated",
    title: "Update a ConversationParticipant resource (dateUpdated)",
    code: String.raw`// Download the helper library from https://www.twilio.com/docs/node/install
const twilio = require("twilio"); // Or, for ESM: import twilio from "twilio";

// Find your Account SID and Auth Token at twilio.com/console
// and set the environment variables. See http://twil.io/secure
const accountSid = process.env.TWILIO_ACCOUNT_SID;
const authToken = process.env.TWILIO_AUTH_TOKEN;
const client = twilio(accountSid, authToken);

async function updateConversationParticipant() {
const participant = await client.conversations.v1
.conversations("ConversationSid")
.participants("Sid")
.update({ dateUpdated: new Date("2019-05-15 13:37:35") });

console.log(participant.accountSid);
}

updateConversationParticipant();`,
    output: String.raw`{
"account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"conversation_sid": "ConversationSid",
"sid": "Sid",
"identity": null,
"attributes": "{ \"role\": \"driver\" }",
"messaging_binding": {
"type": "sms",
"address": "+15558675310",
"proxy_address": "+15017122661"
},
"role_sid": "RLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"date_created": "2015-12-16T22:18:37Z",
"date_updated": "2019-05-15T13:37:35Z",
"url": "https://conversations.twilio.com/v1/Conversations/CHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Participants/MBaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"last_read_message_index": null,
"last_read_timestamp": null
}`,
  },
  {
    id: "update-attributes",
    title: "Update attributes for a Conversation Participant",
    code: String.raw`// Download the helper library from https://www.twilio.com/docs/node/install
const twilio = require("twilio"); // Or, for ESM: import twilio from "twilio";

// Find your Account SID and Auth Token at twilio.com/console
// and set the environment variables. See http://twil.io/secure
const accountSid = process.env.TWILIO_ACCOUNT_SID;
const authToken = process.env.TWILIO_AUTH_TOKEN;
const client = twilio(accountSid, authToken);

async function updateConversationParticipant() {
const participant = await client.conversations.v1
.conversations("ConversationSid")
.participants("Sid")
.update({ attributes: JSON.stringify({ role: "driver" }) });

console.log(participant.accountSid);
}

updateConversationParticipant();`,
    output: String.raw`{
"account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"conversation_sid": "ConversationSid",
"sid": "Sid",
"identity": null,
"attributes": "{\"role\": \"driver\"}",
"messaging_binding": {
"type": "sms",
"address": "+15558675310",
"proxy_address": "+15017122661"
},
"role_sid": "RLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"date_created": "2015-12-16T22:18:37Z",
"date_updated": "2015-12-16T22:18:38Z",
"url": "https://conversations.twilio.com/v1/Conversations/CHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Participants/MBaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"last_read_message_index": null,
"last_read_timestamp": null
}`,
  },
  {
    id: "delete",
    title: "Delete a ConversationParticipant resource",
    code: String.raw`// Download the helper library from https://www.twilio.com/docs/node/install
const twilio = require("twilio"); // Or, for ESM: import twilio from "twilio";

// Find your Account SID and Auth Token at twilio.com/console
// and set the environment variables. See http://twil.io/secure
const accountSid = process.env.TWILIO_ACCOUNT_SID;
const authToken = process.env.TWILIO_AUTH_TOKEN;
const client = twilio(accountSid, authToken);

async function deleteConversationParticipant() {
await client.conversations.v1
.conversations("CHXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX")
.participants("MBXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX")
.remove();
}

deleteConversationParticipant();`,
    output: null,
  },
];

// Documentation artefacts: places where a seed Output contradicts the page's own text. For
// these fields the test asserts what the text specifies (expect), not what the Output shows
// (seed). `seed` is checked against the Output, so the table cannot drift from the page.
const UNSET_ATTRIBUTES =
  'page, attributes: "Note that if the attributes are not set "{}" will be returned." ' +
  "The example (and the fixtures) set no attributes.";
const ARTEFACTS = [
  { example: "create-sms", path: "attributes", seed: '{ "role": "driver" }', expect: () => "{}", why: UNSET_ATTRIBUTES },
  { example: "create-chat", path: "attributes", seed: '{ "role": "driver" }', expect: () => "{}", why: UNSET_ATTRIBUTES },
  { example: "fetch", path: "attributes", seed: '{ "role": "driver" }', expect: () => "{}", why: UNSET_ATTRIBUTES },
  { example: "fetch-by-identity", path: "attributes", seed: '{ "role": "driver" }', expect: () => "{}", why: UNSET_ATTRIBUTES },
  {
    example: "fetch-by-identity",
    path: "sid",
    seed: "alice",
    expect: (s) => s.alice.sid,
    why:
      'page, sid: "A 34 character string that uniquely identifies this resource", ' +
      "Pattern ^MB[0-9a-fA-F]{32}$; the identity is only accepted in place of the SID in the URL.",
  },
  {
    example: "fetch-by-identity",
    path: "messaging_binding",
    seed: { type: "sms", address: "+15558675310", proxy_address: "+15017122661" },
    expect: () => null,
    why:
      "alice is a chat (identity) participant. Page: identity is non-null if (and only if) the participant " +
      "uses the Conversations SDK; MessagingBinding.Address/ProxyAddress are only null for such participants; " +
      "the page's own chat-create Output shows messaging_binding: null.",
  },
  { example: "list", path: "participants[0].attributes", seed: '{ "role": "driver" }', expect: () => "{}", why: UNSET_ATTRIBUTES },
  { example: "list", path: "participants[1].attributes", seed: '{ "role": "driver" }', expect: () => "{}", why: UNSET_ATTRIBUTES },
  {
    example: "list",
    path: "meta.page_size",
    seed: 50,
    expect: (s) => s.sentPageSize,
    why:
      "the example calls list({ limit: 20 }), and twilio-node then sends PageSize=20 (limit becomes the page " +
      'size when no pageSize is given); page, PageSize: "How many resources to return in each list page. ' +
      'The default is 50" — the default applies only when no PageSize is sent.',
  },
  { example: "list", path: "meta.first_page_url?PageSize", seed: "50", expect: (s) => String(s.sentPageSize), why: "same as meta.page_size" },
  { example: "list", path: "meta.url?PageSize", seed: "50", expect: (s) => String(s.sentPageSize), why: "same as meta.page_size" },
  { example: "update-date-updated", path: "attributes", seed: '{ "role": "driver" }', expect: () => "{}", why: UNSET_ATTRIBUTES },
  {
    example: "update-attributes",
    path: "attributes",
    seed: '{"role": "driver"}',
    expect: () => JSON.stringify({ role: "driver" }),
    why:
      'the example sends JSON.stringify({ role: "driver" }) = {"role":"driver"} (no space); the Output shows it ' +
      're-spaced. Page: "An optional string metadata field you can use to store any data you wish" — the ' +
      "string is stored and returned as sent (it is also checked to be JSON-equal to the Output's).",
  },
];

// Placeholders inside the Outputs that stand for values the examples choose.
const OUTPUT_IDENTITIES = { "<Chat User Identity>": CHAT_IDENTITY, IDENTITY: CHAT_IDENTITY };

function artefact(example, path) {
  return ARTEFACTS.find((a) => a.example === example && a.path === path);
}

// ---- running an example verbatim ----

const ANCHOR = "const client = twilio(accountSid, authToken);";
const BASE_URL_LINE = "client.conversations.baseUrl = process.env.PARLEY_URL;";
const HOOK_LINE = "__parleyRecord(client);";

function count(haystack, needle) {
  return haystack.split(needle).length - 1;
}

// substitute applies the only two permitted edits to an example's source: the base URL (and
// recording hook) lines, and the placeholders. values: { conversation, participant }.
function substitute(code, values) {
  assert.equal(count(code, ANCHOR), 1, `the example must contain ${ANCHOR} exactly once`);
  let out = code.replace(ANCHOR, `${ANCHOR}\n${BASE_URL_LINE}\n${HOOK_LINE}`);
  const placeholders = [
    ["CHXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", values.conversation],
    ["ConversationSid", values.conversation],
    ["MBXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", values.participant],
    ["Sid", values.participant],
    ["<Your Twilio Number>", TWILIO_NUMBER],
    ["<Chat User Identity>", CHAT_IDENTITY],
  ];
  for (const [placeholder, value] of placeholders) {
    const literal = JSON.stringify(placeholder); // only whole string literals are replaced
    if (count(out, literal) === 0) continue;
    assert.ok(typeof value === "string" && value !== "", `no value for placeholder ${literal} (an earlier step failed?)`);
    out = out.split(literal).join(JSON.stringify(value));
  }
  assert.doesNotMatch(out, /X{32}|"<[^"]*>"|"(ConversationSid|Sid)"/, "a placeholder is left in the example");
  assert.equal(out.split("\n").length, code.split("\n").length + 2, "only two lines may be added");
  return out;
}

// runExample runs the substituted example and returns its console.log calls, its HTTP
// exchanges and the value its promise resolved to.
async function runExample(example, values) {
  const source = substitute(example.code, values);
  const logs = [];
  const exchanges = [];
  const sandbox = {
    require, // resolves "twilio" from tests/nodesdk/node_modules
    process,
    console: {
      log: (...args) => logs.push(args),
      info: (...args) => logs.push(args),
      warn: (...args) => logs.push(args),
      error: (...args) => logs.push(args),
    },
    Date, // the main realm's Date: twilio-node serialises dates with `instanceof Date`
    __parleyRecord: (client) => record(client, exchanges),
  };
  vm.createContext(sandbox);
  const completion = new vm.Script(source, { filename: `seed-example-${example.id}.js` }).runInContext(sandbox);
  assert.equal(typeof (completion && completion.then), "function", "the example's last statement must yield its promise");
  const result = await completion;
  return { logs, exchanges, result, source };
}

// onlyExchange returns the single HTTP exchange an example made, checking method and URL.
function onlyExchange(run, method, path) {
  assert.equal(run.exchanges.length, 1, `expected exactly one HTTP request, got ${run.exchanges.map((e) => `${e.method} ${e.uri}`).join(", ")}`);
  const ex = run.exchanges[0];
  assert.equal(ex.method, method);
  assert.equal(ex.uri, PARLEY_URL + path, "request URL");
  if (ex.statusCode !== 204) {
    assert.match(String(ex.responseHeaders["content-type"]), /^application\/json\b/, "response Content-Type");
  }
  return ex;
}

// ---- comparing with the Outputs ----

// checkArtefact asserts an artefact's expected value; it returns false when there is none.
function checkArtefact(exampleId, path, actual, seedValue, state) {
  const a = artefact(exampleId, path);
  if (!a) return false;
  assert.deepEqual(seedValue, a.seed, `ARTEFACTS table out of date for ${exampleId} ${path}`);
  assert.deepEqual(actual, a.expect(state), `${exampleId} ${path} (seed shows ${JSON.stringify(a.seed)}; ${a.why})`);
  return true;
}

// compareParticipant compares one participant resource with its seed Output.
// want: { conversation, sid?, dates? } — the resource the example names and any dates it set.
function compareParticipant(exampleId, prefix, actual, seed, state, want) {
  const where = `${exampleId} ${prefix || "body"}`;
  assert.equal(typeof actual, "object", `${where}: not an object`);
  assert.notEqual(actual, null, `${where}: null`);
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(seed).sort(), `${where}: field names differ from the Output`);
  for (const key of Object.keys(seed)) {
    const path = prefix + key;
    const got = actual[key];
    const exp = seed[key];
    if (checkArtefact(exampleId, path, got, exp, state)) continue;
    const msg = `${exampleId} ${path}`;
    switch (key) {
      case "account_sid":
        assert.match(got, SID.AC, msg);
        assert.equal(got, ACCOUNT_SID, `${msg}: not the requesting account`);
        break;
      case "conversation_sid":
        assert.match(got, SID.CH, msg);
        assert.equal(got, want.conversation, `${msg}: not the example's conversation`);
        break;
      case "sid":
        assert.match(got, SID.MB, msg);
        if (want.sid) assert.equal(got, want.sid, `${msg}: not the participant the example names`);
        break;
      case "role_sid":
        assert.match(exp, /^RL/, `${msg}: seed`);
        assert.match(got ?? "null", SID.RL, msg);
        break;
      case "date_created":
      case "date_updated":
        if (want.dates && want.dates[key]) assert.equal(got, want.dates[key], msg);
        else assert.match(got ?? "null", DATE_RE, msg);
        break;
      case "url":
        assert.match(exp, /\/v1\/Conversations\/CH\w{32}\/Participants\/MB\w{32}$/, `${msg}: seed`);
        assertLocalUrl(got, `/v1/Conversations/${actual.conversation_sid}/Participants/${actual.sid}`, {}, msg);
        break;
      case "identity":
        assert.deepEqual(got, exp !== null && exp in OUTPUT_IDENTITIES ? OUTPUT_IDENTITIES[exp] : exp, msg);
        break;
      default:
        assert.deepEqual(got, exp, msg);
    }
  }
}

// compareListURL checks a meta URL: Parley's host, the list path, the seed's query with the
// artefacts applied.
function compareListURL(exampleId, key, got, seedURL, listPath, state) {
  const seedQuery = Object.fromEntries(new URL(seedURL).searchParams);
  const want = {};
  for (const [k, v] of Object.entries(seedQuery)) {
    const a = artefact(exampleId, `meta.${key}?${k}`);
    if (a) assert.equal(v, a.seed, `ARTEFACTS table out of date for meta.${key}?${k}`);
    want[k] = a ? a.expect(state) : v;
  }
  assertLocalUrl(got, listPath, want, `${exampleId} meta.${key}`);
}

function seedOutput(example) {
  return JSON.parse(example.output);
}

// ---- the page check (optional) ----

// parseNumbered reads one numbered block of the page (a line number on its own line, then
// the code line, which is absent for an empty line) starting at lines[i] === "1".
function parseNumbered(lines, i) {
  const out = [];
  for (let n = 1; i < lines.length && lines[i] === String(n); n++) {
    i++;
    if (i >= lines.length || lines[i] === String(n + 1)) out.push("");
    else out.push(lines[i++]);
  }
  return [out.join("\n"), i];
}

function examplesOfPage(text) {
  const lines = text.split(/\r?\n/);
  const found = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== "1" || !(lines[i + 1] || "").startsWith("// Download the helper library")) continue;
    const [code, j] = parseNumbered(lines, i);
    let k = j;
    while (k < lines.length && lines[k] === "") k++;
    let output = null;
    if (lines[k] === "Output") {
      k++;
      while (k < lines.length && lines[k] === "") k++;
      [output] = parseNumbered(lines, k);
    }
    found.push({ code, output });
    i = j - 1;
  }
  return found;
}

// ---- the examples ----

describe("seed page: Conversation Participant resource — twilio-node examples, verbatim", () => {
  const state = {}; // values the examples are substituted with and check against
  let admin; // a client for fixtures and follow-up checks (not part of any example)

  before(async () => {
    assert.equal(
      new Date("2019-05-15 13:37:35").getTimezoneOffset(),
      0,
      "these tests must run with TZ=UTC (the Go harness sets it)",
    );
    admin = newClient();
    // The examples' own conversation: the SMS and chat participants of examples 1-2 join it,
    // so that the list of example 5 holds exactly the two participants of its Output.
    state.conversation = (await newConversation(admin.v1, "seed examples")).sid;
    // alice, for "fetch by identity", in a conversation of her own.
    state.aliceConversation = (await newConversation(admin.v1, "seed examples: alice")).sid;
    state.alice = await admin.v1.conversations(state.aliceConversation).participants.create({ identity: "alice" });
    assert.match(state.alice.sid, SID.MB);
  });

  it("the examples are the seed page's, verbatim", { skip: !process.env.PARLEY_SEED_PAGE && "set PARLEY_SEED_PAGE to the seed page text to check" }, () => {
    const page = examplesOfPage(fs.readFileSync(process.env.PARLEY_SEED_PAGE, "utf8"));
    assert.equal(page.length, EXAMPLES.length, "number of twilio-node examples on the page");
    page.forEach((p, i) => {
      assert.equal(EXAMPLES[i].code, p.code, `example ${i + 1} (${EXAMPLES[i].id}) source`);
      assert.equal(EXAMPLES[i].output, p.output, `example ${i + 1} (${EXAMPLES[i].id}) Output`);
    });
  });

  const example = (id) => EXAMPLES.find((e) => e.id === id);

  it("1. create SMS participant", async () => {
    const ex = example("create-sms");
    const run = await runExample(ex, { conversation: state.conversation });
    const x = onlyExchange(run, "post", `/v1/Conversations/${state.conversation}/Participants`);
    assert.deepEqual(x.data, { "MessagingBinding.Address": "+15558675310", "MessagingBinding.ProxyAddress": TWILIO_NUMBER });
    assert.equal(x.statusCode, 201);
    compareParticipant(ex.id, "", x.body, seedOutput(ex), state, { conversation: state.conversation });
    assert.deepEqual(run.logs, [[x.body.sid]], "console output: participant.sid");
    state.sms = x.body;
  });

  it("2. create chat participant", async () => {
    const ex = example("create-chat");
    const run = await runExample(ex, { conversation: state.conversation });
    const x = onlyExchange(run, "post", `/v1/Conversations/${state.conversation}/Participants`);
    assert.deepEqual(x.data, { Identity: CHAT_IDENTITY });
    assert.equal(x.statusCode, 201);
    compareParticipant(ex.id, "", x.body, seedOutput(ex), state, { conversation: state.conversation });
    assert.deepEqual(run.logs, [[x.body.sid]], "console output: participant.sid");
    state.chat = x.body;
  });

  it("3. fetch participant", async () => {
    const ex = example("fetch");
    const run = await runExample(ex, { conversation: state.conversation, participant: state.sms && state.sms.sid });
    const x = onlyExchange(run, "get", `/v1/Conversations/${state.conversation}/Participants/${state.sms.sid}`);
    assert.equal(x.statusCode, 200);
    compareParticipant(ex.id, "", x.body, seedOutput(ex), state, { conversation: state.conversation, sid: state.sms.sid });
    assert.deepEqual(run.logs, [[ACCOUNT_SID]], "console output: participant.accountSid");
  });

  it("4. fetch participant by identity", async () => {
    const ex = example("fetch-by-identity");
    const run = await runExample(ex, { conversation: state.aliceConversation });
    const x = onlyExchange(run, "get", `/v1/Conversations/${state.aliceConversation}/Participants/alice`);
    assert.equal(x.statusCode, 200);
    compareParticipant(ex.id, "", x.body, seedOutput(ex), state, { conversation: state.aliceConversation, sid: state.alice.sid });
    assert.deepEqual(run.logs, [[ACCOUNT_SID]], "console output: participant.accountSid");
  });

  it("5. list participants", async () => {
    const ex = example("list");
    const run = await runExample(ex, { conversation: state.conversation });
    const listPath = `/v1/Conversations/${state.conversation}/Participants`;
    const x = onlyExchange(run, "get", listPath);
    state.sentPageSize = x.params && x.params.PageSize;
    assert.equal(state.sentPageSize, 20, "twilio-node sends PageSize = limit when no pageSize is given");
    assert.equal(x.statusCode, 200);
    const seed = seedOutput(ex);
    const body = x.body;
    assert.deepEqual(Object.keys(body).sort(), Object.keys(seed).sort(), "list: top-level keys");
    // meta
    assert.deepEqual(Object.keys(body.meta).sort(), Object.keys(seed.meta).sort(), "list: meta keys");
    for (const key of Object.keys(seed.meta)) {
      const got = body.meta[key];
      const exp = seed.meta[key];
      if (checkArtefact(ex.id, `meta.${key}`, got, exp, state)) continue;
      if (typeof exp === "string" && exp.startsWith("https://")) compareListURL(ex.id, key, got, exp, listPath, state);
      else assert.deepEqual(got, exp, `list meta.${key}`);
    }
    assert.equal(body.meta.key, "participants");
    assert.equal(body.meta.page, 0);
    assert.equal(body.meta.next_page_url, null);
    assert.equal(body.meta.previous_page_url, null);
    // records: the SMS participant of example 1, then the chat participant of example 2
    assert.equal(body.participants.length, seed.participants.length, "list: number of participants");
    const want = [state.sms, state.chat];
    seed.participants.forEach((s, i) => {
      compareParticipant(ex.id, `participants[${i}].`, body.participants[i], s, state, {
        conversation: state.conversation,
        sid: want[i] && want[i].sid,
      });
    });
    assert.deepEqual(run.logs, [[ACCOUNT_SID], [ACCOUNT_SID]], "console output: one accountSid per participant");
  });

  it("6. update participant dateUpdated", async () => {
    const ex = example("update-date-updated");
    const run = await runExample(ex, { conversation: state.conversation, participant: state.sms && state.sms.sid });
    const x = onlyExchange(run, "post", `/v1/Conversations/${state.conversation}/Participants/${state.sms.sid}`);
    assert.deepEqual(x.data, { DateUpdated: "2019-05-15T13:37:35Z" }, "twilio-node serialises the Date (TZ=UTC)");
    assert.equal(x.statusCode, 200);
    compareParticipant(ex.id, "", x.body, seedOutput(ex), state, {
      conversation: state.conversation,
      sid: state.sms.sid,
      dates: { date_updated: "2019-05-15T13:37:35Z" }, // set by the example
    });
    assert.equal(x.body.date_created, state.sms.date_created, "date_created is unchanged by the update");
    assert.deepEqual(run.logs, [[ACCOUNT_SID]], "console output: participant.accountSid");
  });

  it("7. update participant attributes", async () => {
    const ex = example("update-attributes");
    const run = await runExample(ex, { conversation: state.conversation, participant: state.sms && state.sms.sid });
    const x = onlyExchange(run, "post", `/v1/Conversations/${state.conversation}/Participants/${state.sms.sid}`);
    assert.deepEqual(x.data, { Attributes: '{"role":"driver"}' });
    assert.equal(x.statusCode, 200);
    const seed = seedOutput(ex);
    compareParticipant(ex.id, "", x.body, seed, state, { conversation: state.conversation, sid: state.sms.sid });
    assert.deepEqual(JSON.parse(x.body.attributes), JSON.parse(seed.attributes), "attributes are JSON-equal to the Output's");
    assert.deepEqual(run.logs, [[ACCOUNT_SID]], "console output: participant.accountSid");
  });

  it("8. delete participant", async () => {
    const ex = example("delete");
    assert.equal(ex.output, null, "the page shows no Output for delete");
    const run = await runExample(ex, { conversation: state.conversation, participant: state.sms && state.sms.sid });
    const x = onlyExchange(run, "delete", `/v1/Conversations/${state.conversation}/Participants/${state.sms.sid}`);
    assert.equal(x.statusCode, 204, "DELETE answers 204");
    assert.equal(x.body, "", "DELETE answers with an empty body");
    assert.equal(run.result, undefined, "the example's promise resolved");
    assert.deepEqual(run.logs, [], "the example prints nothing");

    // Follow-up checks with a separate client (not part of the example).
    const { v1 } = admin;
    await assertRestError(v1.conversations(state.conversation).participants(state.sms.sid).fetch(), 404, 20404, "fetch after delete");
    const left = await v1.conversations(state.conversation).participants.list();
    assert.deepEqual(left.map((p) => p.sid), [state.chat.sid], "the deleted participant left the list");
    // remove() itself resolves to true (twilio-node: any 2xx).
    assert.equal(await v1.conversations(state.conversation).participants(state.chat.sid).remove(), true, "remove() resolves to true");
    assert.deepEqual(await v1.conversations(state.conversation).participants.list(), [], "the conversation is empty");
  });
});
