-- how I use my clock, per phase: time per move, clock-share buckets, instant moves, time losses
with player_games as (
    -- move-based: games with a parse_error or without moves have nothing to read
    select game_id, tc, co, result, termination
    from pg
    where has_moves
),

my_moves as (
    select m.game_id, g.tc, g.co, coalesce(m.phase, 'unknown') as phase, m.time_spent_seconds,
        m.clock_share
    from moves as m
    inner join player_games as g on m.game_id = g.game_id
    where m.is_player_move
),

game_ends as (
    select
        g.game_id, g.tc, g.co, g.result, g.termination,
        arg_max(coalesce(m.phase, 'unknown'), m.ply) as final_phase,
        arg_max(m.material_balance, m.ply) as final_balance
    from player_games as g
    inner join moves as m on m.game_id = g.game_id
    group by g.game_id, g.tc, g.co, g.result, g.termination
),

move_stats as (
    select
        label(grouping(tc), tc) as time_class,
        label(grouping(co), co) as color,
        label(grouping(phase), phase) as phase,
        count(distinct game_id) as games,
        count(*) as moves,
        count(time_spent_seconds) as timed_moves,
        avg(time_spent_seconds) as mean_time_per_move,
        median(time_spent_seconds) as median_time_per_move,
        count(*) filter (where time_spent_seconds < 1) as instant_moves,
        count(clock_share) as clock_moves,
        count(*) filter (where clock_share <= 0.03) as clock_le_3,
        count(*) filter (where clock_share > 0.03 and clock_share <= 0.10) as clock_3_10,
        count(*) filter (where clock_share > 0.10 and clock_share <= 0.25) as clock_10_25,
        count(*) filter (where clock_share > 0.25 and clock_share < 0.50) as clock_25_50,
        count(*) filter (where clock_share >= 0.50) as clock_ge_50
    from my_moves
    group by grouping sets (
        (tc, co, phase), (tc, phase), (co, phase), (phase), (tc, co), (tc), (co), ()
    )
    having count(*) > 0
),

end_stats as (
    select
        label(grouping(tc), tc) as time_class,
        label(grouping(co), co) as color,
        label(grouping(final_phase), final_phase) as phase,
        count(*) filter (where result = 'loss' and termination = 'timeout') as timeout_losses,
        -- "lost on time while winning": a piece or more up (balance ≥ +3) after the last move
        count(*) filter (
            where result = 'loss' and termination = 'timeout' and final_balance >= 3
        ) as timeout_losses_ahead
    from game_ends
    group by grouping sets (
        (tc, co, final_phase), (tc, final_phase), (co, final_phase), (final_phase),
        (tc, co), (tc), (co), ()
    )
),

final as (
    select
        $username as username,
        s.time_class,
        s.color,
        s.phase,
        s.games,
        s.moves,
        s.timed_moves,
        s.mean_time_per_move,
        s.median_time_per_move,
        s.instant_moves,
        s.instant_moves / nullif(s.timed_moves, 0) as instant_share,
        wilson_low(s.instant_moves, s.timed_moves) as instant_share_low,
        wilson_high(s.instant_moves, s.timed_moves) as instant_share_high,
        s.clock_moves,
        s.clock_le_3 / nullif(s.clock_moves, 0) as share_clock_le_3,
        wilson_low(s.clock_le_3, s.clock_moves) as share_clock_le_3_low,
        wilson_high(s.clock_le_3, s.clock_moves) as share_clock_le_3_high,
        s.clock_3_10 / nullif(s.clock_moves, 0) as share_clock_3_10,
        wilson_low(s.clock_3_10, s.clock_moves) as share_clock_3_10_low,
        wilson_high(s.clock_3_10, s.clock_moves) as share_clock_3_10_high,
        s.clock_10_25 / nullif(s.clock_moves, 0) as share_clock_10_25,
        wilson_low(s.clock_10_25, s.clock_moves) as share_clock_10_25_low,
        wilson_high(s.clock_10_25, s.clock_moves) as share_clock_10_25_high,
        s.clock_25_50 / nullif(s.clock_moves, 0) as share_clock_25_50,
        wilson_low(s.clock_25_50, s.clock_moves) as share_clock_25_50_low,
        wilson_high(s.clock_25_50, s.clock_moves) as share_clock_25_50_high,
        s.clock_ge_50 / nullif(s.clock_moves, 0) as share_clock_ge_50,
        wilson_low(s.clock_ge_50, s.clock_moves) as share_clock_ge_50_low,
        wilson_high(s.clock_ge_50, s.clock_moves) as share_clock_ge_50_high,
        coalesce(e.timeout_losses, 0) as timeout_losses,
        coalesce(e.timeout_losses_ahead, 0) as timeout_losses_ahead,
        s.games < 10 as low_sample
    from move_stats as s
    left join end_stats as e
        on s.time_class = e.time_class and s.color = e.color and s.phase = e.phase
)

select * from final
order by time_class, color, phase
