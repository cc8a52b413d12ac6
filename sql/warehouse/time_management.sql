-- how I use my clock, per phase: time per move, clock-share buckets, instant moves, time losses
with player_games as (
    -- move-based: games with a parse_error or without moves have nothing to read
    select game_id, tc, co, result, termination
    from pg
    where has_moves
),

my_moves as (
    select m.game_id, coalesce(m.phase, 'unknown') as phase, m.time_spent_seconds, m.clock_share
    from moves as m
    where m.is_player_move and m.game_id in (select game_id from player_games)
),

game_ends as (
    select
        game_id,
        arg_max(coalesce(phase, 'unknown'), ply) as final_phase,
        arg_max(material_balance, ply) as final_balance
    from moves
    group by game_id
),

-- one row per game and phase, plus one per game for phase `all`, so the grouping sets below
-- count games with count(*) instead of a costly count(distinct)
per_phase as (
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

labelled as (
    select
        p.*,
        g.tc,
        g.co,
        g.result = 'loss' and g.termination = 'timeout' as timeout_loss,
        -- "lost on time while winning": a piece or more up (balance >= +3) after the last move
        g.result = 'loss' and g.termination = 'timeout' and e.final_balance >= 3
            as timeout_loss_ahead,
        p.phase = 'all' or p.phase = e.final_phase as ended_here
    from per_game_phase as p
    inner join player_games as g on p.game_id = g.game_id
    inner join game_ends as e on p.game_id = e.game_id
),

grouped as (
    select
        label(grouping(tc), tc) as time_class,
        label(grouping(co), co) as color,
        phase,
        count(*) as games,
        sum(moves) as moves,
        sum(timed_moves) as timed_moves,
        sum(time_spent) / nullif(sum(timed_moves), 0) as mean_time_per_move,
        sum(instant_moves) as instant_moves,
        sum(clock_moves) as clock_moves,
        sum(clock_le_3) as clock_le_3,
        sum(clock_3_10) as clock_3_10,
        sum(clock_10_25) as clock_10_25,
        sum(clock_25_50) as clock_25_50,
        sum(clock_ge_50) as clock_ge_50,
        count(*) filter (where timeout_loss and ended_here) as timeout_losses,
        count(*) filter (where timeout_loss_ahead and ended_here) as timeout_losses_ahead
    from labelled
    group by grouping sets ((tc, co, phase), (tc, phase), (co, phase), (phase))
),

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
        instant_moves / nullif(timed_moves, 0) as instant_share,
        wilson_low(instant_moves, timed_moves) as instant_share_low,
        wilson_high(instant_moves, timed_moves) as instant_share_high,
        clock_moves,
        clock_le_3 / nullif(clock_moves, 0) as share_clock_le_3,
        wilson_low(clock_le_3, clock_moves) as share_clock_le_3_low,
        wilson_high(clock_le_3, clock_moves) as share_clock_le_3_high,
        clock_3_10 / nullif(clock_moves, 0) as share_clock_3_10,
        wilson_low(clock_3_10, clock_moves) as share_clock_3_10_low,
        wilson_high(clock_3_10, clock_moves) as share_clock_3_10_high,
        clock_10_25 / nullif(clock_moves, 0) as share_clock_10_25,
        wilson_low(clock_10_25, clock_moves) as share_clock_10_25_low,
        wilson_high(clock_10_25, clock_moves) as share_clock_10_25_high,
        clock_25_50 / nullif(clock_moves, 0) as share_clock_25_50,
        wilson_low(clock_25_50, clock_moves) as share_clock_25_50_low,
        wilson_high(clock_25_50, clock_moves) as share_clock_25_50_high,
        clock_ge_50 / nullif(clock_moves, 0) as share_clock_ge_50,
        wilson_low(clock_ge_50, clock_moves) as share_clock_ge_50_low,
        wilson_high(clock_ge_50, clock_moves) as share_clock_ge_50_high,
        timeout_losses,
        timeout_losses_ahead,
        games < 10 as low_sample
    from grouped
)

select * from final
order by time_class, color, phase
