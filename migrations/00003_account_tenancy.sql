-- +goose Up

-- Accounts belong to an organization (the caller's tenant). Rows projected
-- before tenancy keep '' and are seen by no caller.
ALTER TABLE accounts ADD COLUMN organization text NOT NULL DEFAULT '';
ALTER TABLE accounts ALTER COLUMN organization DROP DEFAULT;

-- Every account query is confined to one organization.
DROP INDEX accounts_owner_id;
DROP INDEX accounts_status_id;
CREATE INDEX accounts_organization_id ON accounts (organization, id);
CREATE INDEX accounts_organization_owner_id ON accounts (organization, owner, id);
CREATE INDEX accounts_organization_status_id ON accounts (organization, status, id);

-- +goose Down
DROP INDEX accounts_organization_status_id;
DROP INDEX accounts_organization_owner_id;
DROP INDEX accounts_organization_id;
CREATE INDEX accounts_owner_id ON accounts (owner, id);
CREATE INDEX accounts_status_id ON accounts (status, id);
ALTER TABLE accounts DROP COLUMN organization;
