-- the ledger of applied migrations; created before anything else, identical in both dialects
create table if not exists schema_migrations (
    name text primary key,
    checksum text not null,
    applied_at text not null
);
