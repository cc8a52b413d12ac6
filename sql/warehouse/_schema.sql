-- one thread makes every floating-point sum add in the same order, so a re-run publishes
-- bit-identical numbers (with several threads the last digits of means vary run to run)
set threads = 1;

-- hours and days are taken in utc unless a summary converts to the player's zone explicitly
set timezone = 'UTC';

-- the frame contract (games in full, the moves columns the summaries read) as duckdb tables
create table games (
    game_id varchar,
    username varchar,
    month varchar,
    url varchar,
    end_time timestamptz,
    start_time timestamptz,
    rules varchar,
    rated boolean,
    time_class varchar,
    time_control varchar,
    base_seconds integer,
    increment_seconds integer,
    days_per_move integer,
    color varchar,
    rating integer,
    opponent varchar,
    opponent_rating integer,
    result varchar,
    score double,
    result_code varchar,
    opponent_result_code varchar,
    termination varchar,
    eco varchar,
    opening_family varchar,
    opening_variation varchar,
    eco_url varchar,
    plies integer,
    duration_seconds integer,
    accuracy double,
    opponent_accuracy double,
    tournament varchar,
    match varchar,
    initial_fen varchar,
    parse_error varchar
);

-- only the move columns some summary reads: loading the others (uci, piece, check flags, raw
-- clocks) would cost a third of the run for nothing
create table moves (
    game_id varchar,
    ply integer,
    move_number integer,
    is_player_move boolean,
    san varchar,
    captured varchar,
    castling varchar,
    time_spent_seconds double,
    clock_share double,
    material_balance integer,
    phase varchar
);

-- engine facts (transforms/engine.py over the lake's evals at the current engine settings):
-- per analysed ply, and per analysed game and colour; empty when nothing was analysed
create table engine_moves (
    game_id varchar,
    ply integer,
    color varchar,
    is_player_move boolean,
    phase varchar,
    clock_share double,
    cp_before integer,
    cp_after integer,
    win_before double,
    win_after double,
    accuracy double,
    cp_loss integer,
    judgement varchar,
    is_throw boolean,
    is_missed_win boolean
);

create table engine_games (
    game_id varchar,
    color varchar,
    engine_accuracy double,
    acpl double,
    analysed_moves integer
);
