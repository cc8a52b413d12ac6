-- core serving tables (sqlite): timestamps as fixed-width ISO 8601 UTC text, booleans as 0/1
create table players (
    username text primary key,
    snapshot_id text not null,
    published_at text not null,
    game_count integer not null,
    first_game_at text,
    last_game_at text,
    summaries text not null,
    published_bytes integer not null
) without rowid;

create table summary_definitions (
    name text primary key,
    version integer not null,
    title text not null,
    definition text not null,
    columns text not null,
    table_name text not null,
    updated_at text not null
) without rowid;

create table games (
    username text not null,
    game_id text not null,
    snapshot_id text not null,
    month text not null,
    url text,
    end_time text,
    start_time text,
    rules text,
    rated integer,
    time_class text,
    time_control text,
    base_seconds integer,
    increment_seconds integer,
    days_per_move integer,
    color text,
    rating integer,
    opponent text,
    opponent_rating integer,
    result text,
    score real,
    result_code text,
    opponent_result_code text,
    termination text,
    eco text,
    opening_family text,
    opening_variation text,
    eco_url text,
    plies integer,
    duration_seconds integer,
    accuracy real,
    opponent_accuracy real,
    tournament text,
    "match" text,
    initial_fen text,
    parse_error text,
    primary key (username, game_id)
) without rowid;
