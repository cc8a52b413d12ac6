-- shared helpers run before every summary: interval and results macros, the per-game base
-- `player_games`, live sessions `live_sessions`

-- wilson 95 % score interval for a share p of n (z = 1.96, z² = 3.8416); a float p·(1 - p) can
-- dip a hair below 0 at p = 1, hence greatest(0, ...)
create or replace macro wilson_p_low(p, n) as
    case when n > 0 then greatest(0.0,
        (p + 1.9208 / n - 1.96 * sqrt(greatest(0.0, p * (1 - p)) / n + 0.9604 / (n * n)))
        / (1 + 3.8416 / n)) end;

create or replace macro wilson_p_high(p, n) as
    case when n > 0 then least(1.0,
        (p + 1.9208 / n + 1.96 * sqrt(greatest(0.0, p * (1 - p)) / n + 0.9604 / (n * n)))
        / (1 + 3.8416 / n)) end;

-- the same for k successes out of n
create or replace macro wilson_low(k, n) as wilson_p_low(k / n, n);

create or replace macro wilson_high(k, n) as wilson_p_high(k / n, n);

-- mean ± 1.96·sd/√n clipped to [lo, hi]; one observation says nothing about spread, so [lo, hi]
create or replace macro mean_low(m, sd, n, lo, hi) as
    case when n > 1 then greatest(lo, least(hi, m - 1.96 * sd / sqrt(n))) when n = 1 then lo end;

create or replace macro mean_high(m, sd, n, lo, hi) as
    case when n > 1 then least(hi, greatest(lo, m + 1.96 * sd / sqrt(n))) when n = 1 then hi end;

-- interval of a mean score (1 / 0.5 / 0 per game): the spec's mean ± 1.96·sd/√n, widened to
-- at least the wilson interval of the score read as a share of n. the normal interval
-- collapses to a point when every game has the same result (sd = 0: 5 wins of 5 gave [1, 1]),
-- while a per-game score in [0, 1] with mean p can have any variance up to p·(1 - p): the
-- wilson interval is what that worst case (no draws) still allows
create or replace macro score_interval_low(m, sd, n) as
    least(mean_low(m, sd, n, 0.0, 1.0), wilson_p_low(m, n));

create or replace macro score_interval_high(m, sd, n) as
    greatest(mean_high(m, sd, n, 0.0, 1.0), wilson_p_high(m, n));

-- the published result columns of a group of games, in the registry's order
-- (transforms/registry.py _results_block): an aggregate, used as
-- `results_block(result, score, expected) as results` in a group by and expanded into its
-- columns with `unnest(results)`. a game without both ratings has a null expectation and so
-- drops out of expected_score and residual only
create or replace macro results_block(outcome, points, expectation) as struct_pack(
    games := count(*),
    wins := count(*) filter (where outcome = 'win'),
    draws := count(*) filter (where outcome = 'draw'),
    losses := count(*) filter (where outcome = 'loss'),
    score := avg(points),
    score_low := score_interval_low(avg(points), stddev_samp(points), count(*)),
    score_high := score_interval_high(avg(points), stddev_samp(points), count(*)),
    expected_score := avg(expectation),
    residual := avg(points - expectation),
    low_sample := count(*) < 10
);

-- the same columns for one game on its own (a best win, a worst loss)
create or replace macro game_results_block(outcome, points, expectation) as struct_pack(
    games := 1::bigint,
    wins := (outcome = 'win')::bigint,
    draws := (outcome = 'draw')::bigint,
    losses := (outcome = 'loss')::bigint,
    score := points,
    score_low := score_interval_low(points, null, 1),
    score_high := score_interval_high(points, null, 1),
    expected_score := expectation,
    residual := points - expectation,
    low_sample := true
);

-- elo expected score of a player rated me against opp
create or replace macro elo_expected(me, opp) as 1.0 / (1.0 + power(10.0, (opp - me) / 400.0));

-- fide handbook 8.1.1 table of dp by score fraction p: ±800 only at exactly 100 % / 0 %; any
-- other p is looked up at p rounded half-up to 2 decimals and capped at the 0.99 / 0.01 entries
-- (±677), so 199 of 200 (0.995) is +677, not +800. the 1e-9 keeps a half point from falling a
-- float hair short (149 / 200 = 0.745 is 74.4999… percent in binary, FIDE reads it as 0.75)
create or replace macro fide_dp_percent(q) as
    sign(q - 50) * ([0, 7, 14, 21, 29, 36, 43, 50, 57, 65, 72, 80, 87, 95, 102, 110, 117, 125, 133,
        141, 149, 158, 166, 175, 184, 193, 202, 211, 220, 230, 240, 251, 262, 273, 284, 296, 309,
        322, 336, 351, 366, 383, 401, 422, 444, 470, 501, 538, 589, 677])[abs(q - 50) + 1];

create or replace macro fide_dp(p) as
    case
        when p >= 1 then 800
        when p <= 0 then -800
        else fide_dp_percent(
            least(99, greatest(1, cast(floor(p * 100 + 0.5 + 1e-9) as integer))))
    end;

create or replace macro label(is_rolled_up, value) as
    case when is_rolled_up = 1 then 'all' else value end;

create or replace table player_games as
with source as (
    -- chess.com ratings start at 100: a lower number (bots listed at 1) is a placeholder, so it
    -- is treated as unknown rather than fed to the elo expectation
    select
        * replace (
            case when rating >= 100 then rating end as rating,
            case when opponent_rating >= 100 then opponent_rating end as opponent_rating
        )
    from games
),

based as (
    select
        -- time class and colour never null in what the summaries group by
        source.* replace (
            coalesce(source.time_class, 'unknown') as time_class,
            coalesce(source.color, 'unknown') as color
        ),
        source.rating is not null and source.opponent_rating is not null as has_ratings,
        case
            when source.rating is not null and source.opponent_rating is not null
                then elo_expected(source.rating, source.opponent_rating)
        end as expected,
        source.opponent_rating - source.rating as rating_diff,
        -- move-based summaries read only games whose moves are in the moves table
        source.parse_error is null and coalesce(source.plies, 0) > 0
            and source.game_id in (select game_id from moves where ply = 1) as has_moves,
        coalesce(source.start_time, source.end_time) as began
    from source
)

select * from based;

create or replace table live_sessions as
with live as (
    select game_id, time_class, color, result, score, expected, began, end_time
    from player_games
    where time_class <> 'daily' and end_time is not null
),

ordered as (
    select
        live.*,
        max(end_time) over (
            order by began, end_time, game_id rows between unbounded preceding and 1 preceding
        ) as prev_end
    from live
),

flagged as (
    select
        ordered.*,
        -- a game starting exactly 60 minutes after the last one ended stays in the session
        case when prev_end is null or began > prev_end + interval 60 minute then 1 else 0 end
            as new_session
    from ordered
),

numbered as (
    select
        flagged.*,
        sum(new_session) over (order by began, end_time, game_id rows unbounded preceding)
            as session_id
    from flagged
),

positioned as (
    select
        numbered.*,
        row_number() over w as index_in_session,
        lag(result) over w as prev_result,
        case when new_session = 0 then greatest(0.0, epoch(began - prev_end) / 60.0) end
            as minutes_since_last,
        sum(case when result = 'loss' then 0 else 1 end) over (w rows unbounded preceding)
            as non_loss_run
    from numbered
    window w as (partition by session_id order by began, end_time, game_id)
),

streaked as (
    select
        positioned.*,
        case when result = 'loss' then count(*) filter (where result = 'loss') over (
            partition by session_id, non_loss_run order by began, end_time, game_id
            rows unbounded preceding) else 0 end as loss_run
    from positioned
),

final as (
    select
        game_id, time_class, color, result, score, expected, began, end_time, session_id,
        index_in_session, prev_result, minutes_since_last,
        lag(loss_run) over (partition by session_id order by began, end_time, game_id)
            as losses_before
    from streaked
)

select * from final;
