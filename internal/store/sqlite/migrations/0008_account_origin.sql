-- How an account came to be, for the credential sync at startup (conv.SyncCredentials):
-- 'configured' (given by -account), 'generated' (the development account made when nothing is
-- configured), or '' for accounts written before this migration. An account that is no longer
-- configured keeps its row and data; its auth_token is cleared ('' never authenticates).
ALTER TABLE accounts ADD COLUMN origin TEXT NOT NULL DEFAULT '';
