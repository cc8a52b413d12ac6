-- core serving tables (postgresql): the snapshot pointer per player, summary definitions, game facts
create table players (
    username text primary key,
    snapshot_id text not null,
    published_at timestamptz not null,
    game_count integer not null,
    first_game_at timestamptz,
    last_game_at timestamptz,
    summaries text not null,
    published_bytes bigint not null
);

create table summary_definitions (
    name text primary key,
    version integer not null,
    title text not null,
    definition text not null,
    columns text not null,
    table_name text not null,
    updated_at timestamptz not null
);

create table games (
    username text not null,
    game_id text not null,
    snapshot_id text not null,
    month text not null,
    url text,
    end_time timestamptz,
    start_time timestamptz,
    rules text,
    rated boolean,
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
    score double precision,
    result_code text,
    opponent_result_code text,
    termination text,
    eco text,
    opening_family text,
    opening_variation text,
    eco_url text,
    plies integer,
    duration_seconds integer,
    accuracy double precision,
    opponent_accuracy double precision,
    tournament text,
    "match" text,
    initial_fen text,
    parse_error text,
    primary key (username, game_id)
);
