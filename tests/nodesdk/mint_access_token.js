// Prints a chat Access Token minted by twilio-node's twilio.jwt.AccessToken + ChatGrant.
// Used by internal/accesstoken's tests (run there from Go). Environment:
// ACCOUNT_SID, KEY_SID, KEY_SECRET, IDENTITY, SERVICE_SID, optional TTL (seconds), ALG, REGION.
"use strict";
const twilio = require("twilio");

const { AccessToken } = twilio.jwt;
const { ChatGrant } = AccessToken;
const env = process.env;
const opts = { identity: env.IDENTITY };
if (env.TTL) opts.ttl = Number(env.TTL);
if (env.REGION) opts.region = env.REGION;
const token = new AccessToken(env.ACCOUNT_SID, env.KEY_SID, env.KEY_SECRET, opts);
token.addGrant(new ChatGrant({ serviceSid: env.SERVICE_SID }));
process.stdout.write(token.toJwt(env.ALG || undefined));
