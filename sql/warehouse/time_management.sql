-- how I use my clock, per phase: time per move, clock-share buckets, instant moves, time losses
with player_games as (
    -- move-based: games with a parse_error or without moves have nothing to read
    select game_id, time_class, color, result, termination
    from player_games
    where has_moves
),

my_moves as (
    select m.game_id, coalesce(m.phase, 'unknown') as phase, m.time_spent_seconds, m.clock_share
    from moves as m
    where m.is_player_move and m.game_id in (select game_id from player_games)
),

-- the phase and balance after the game's last ply, whoever made it: a game can end in a phase
-- where the player never moved (the opponent's last move enters the endgame, then I flag)
game_ends as (
    select
        m.game_id,
        arg_max(coalesce(m.phase, 'unknown'), m.ply) as final_phase,
        arg_max(m.material_balance, m.ply) as final_balance
    from moves as m
    where m.game_id in (select game_id from player_games)
    group by m.game_id
),

moved_phases as (
    select
        game_id,
        phase,
        count(*) as moves,
        count(time_spent_seconds) as timed_moves,
        sum(time_spent_seconds) as time_spent,
        count(*) filter (where time_spent_seconds < 1) as instant_moves,
        count(clock_share) as clock_moves,
        count(*) filter (where clock_share <= 0.03) as clock_le_3,
        count(*) filter (where clock_share > 0.03 and clock_share <= 0.10) as clock_3_10,
        count(*) filter (where clock_share > 0.10 and clock_share <= 0.25) as clock_10_25,
        count(*) filter (where clock_share > 0.25 and clock_share < 0.50) as clock_25_50,
        count(*) filter (where clock_share >= 0.50) as clock_ge_50
    from my_moves
    group by game_id, phase
),

-- every game gets a row for its final phase, with no moves when the player made none there,
-- so the per-phase time losses add up to the `all` row
per_phase as (
    select * from moved_phases
    union all
    select e.game_id, e.final_phase, 0, 0, null, 0, 0, 0, 0, 0, 0, 0
    from game_ends as e
    anti join moved_phases as p on e.game_id = p.game_id and e.final_phase = p.phase
),

-- one row per game and phase, plus one per game for phase `all`, so the grouping sets below
-- count games with count(*) instead of a costly count(distinct)
per_game_phase as (
    select * from per_phase
    union all
    select
        game_id, 'all' as phase, sum(moves), sum(timed_moves), sum(time_spent),
        sum(instant_moves), sum(clock_moves), sum(clock_le_3), sum(clock_3_10), sum(clock_10_25),
        sum(clock_25_50), sum(clock_ge_50)
    from per_phase
    group by game_id
),

-- shares within each game: moves of one game are not independent draws (one player, one clock,
-- one position), so the game is the unit of the interval; null when the game has no such moves
per_game_shares as (
    select
        per_game_phase.*,
        instant_moves / nullif(timed_moves, 0) as g_instant,
        clock_le_3 / nullif(clock_moves, 0) as g_le_3,
        clock_3_10 / nullif(clock_moves, 0) as g_3_10,
        clock_10_25 / nullif(clock_moves, 0) as g_10_25,
        clock_25_50 / nullif(clock_moves, 0) as g_25_50,
        clock_ge_50 / nullif(clock_moves, 0) as g_ge_50
    from per_game_phase
),

labelled as (
    select
        p.*,
        g.time_class,
        g.color,
        g.result = 'loss' and g.termination = 'timeout' as timeout_loss,
        -- "lost on time while winning": a piece or more up (balance >= +3) after the last ply
        g.result = 'loss' and g.termination = 'timeout' and e.final_balance >= 3
            as timeout_loss_ahead,
        p.phase = 'all' or p.phase = e.final_phase as ended_here
    from per_game_shares as p
    inner join player_games as g on p.game_id = g.game_id
    inner join game_ends as e on p.game_id = e.game_id
),

grouped as (
    select
        label(grouping(time_class), time_class) as time_class,
        label(grouping(color), color) as color,
        phase,
        count(*) as games,
        sum(moves) as moves,
        sum(timed_moves) as timed_moves,
        sum(time_spent) / nullif(sum(timed_moves), 0) as mean_time_per_move,
        sum(instant_moves) as instant_moves,
        count(g_instant) as timed_games,
        avg(g_instant) as instant_share,
        stddev_samp(g_instant) as instant_sd,
        sum(clock_moves) as clock_moves,
        count(g_ge_50) as clock_games,
        avg(g_le_3) as le_3,
        stddev_samp(g_le_3) as le_3_sd,
        avg(g_3_10) as s_3_10,
        stddev_samp(g_3_10) as s_3_10_sd,
        avg(g_10_25) as s_10_25,
        stddev_samp(g_10_25) as s_10_25_sd,
        avg(g_25_50) as s_25_50,
        stddev_samp(g_25_50) as s_25_50_sd,
        avg(g_ge_50) as ge_50,
        stddev_samp(g_ge_50) as ge_50_sd,
        count(*) filter (where timeout_loss and ended_here) as timeout_losses,
        count(*) filter (where timeout_loss_ahead and ended_here) as timeout_losses_ahead
    from labelled
    group by grouping sets ((time_class, color, phase), (time_class, phase), (color, phase), (phase))
),

-- a per-game share lies in [0, 1], so its interval is the mean score's: mean ± 1.96·sd/√games
-- clipped to [0, 1], widened to wilson where narrower (all games at 0 % would give [0, 0])
final as (
    select
        $username as username,
        time_class,
        color,
        phase,
        games,
        moves,
        timed_moves,
        mean_time_per_move,
        instant_moves,
        timed_games,
        instant_share,
        score_interval_low(instant_share, instant_sd, timed_games) as instant_share_low,
        score_interval_high(instant_share, instant_sd, timed_games) as instant_share_high,
        clock_moves,
        clock_games,
        le_3 as share_clock_le_3,
        score_interval_low(le_3, le_3_sd, clock_games) as share_clock_le_3_low,
        score_interval_high(le_3, le_3_sd, clock_games) as share_clock_le_3_high,
        s_3_10 as share_clock_3_10,
        score_interval_low(s_3_10, s_3_10_sd, clock_games) as share_clock_3_10_low,
        score_interval_high(s_3_10, s_3_10_sd, clock_games) as share_clock_3_10_high,
        s_10_25 as share_clock_10_25,
        score_interval_low(s_10_25, s_10_25_sd, clock_games) as share_clock_10_25_low,
        score_interval_high(s_10_25, s_10_25_sd, clock_games) as share_clock_10_25_high,
        s_25_50 as share_clock_25_50,
        score_interval_low(s_25_50, s_25_50_sd, clock_games) as share_clock_25_50_low,
        score_interval_high(s_25_50, s_25_50_sd, clock_games) as share_clock_25_50_high,
        ge_50 as share_clock_ge_50,
        score_interval_low(ge_50, ge_50_sd, clock_games) as share_clock_ge_50_low,
        score_interval_high(ge_50, ge_50_sd, clock_games) as share_clock_ge_50_high,
        timeout_losses,
        timeout_losses_ahead,
        games < 10 as low_sample
    from grouped
)

select * from final
order by time_class, color, phase
