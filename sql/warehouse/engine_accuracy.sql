-- engine accuracy (lichess' method) and acpl of the player's analysed games, with coverage
with player_games as (
    -- move-based: only games whose moves are in the moves table can be analysed
    select game_id, time_class, color, month
    from player_games
    where has_moves
),

analysed as (
    -- a game counts as analysed when every position of it was evaluated (engine_games)
    select e.game_id, e.engine_accuracy
    from engine_games as e
    inner join player_games as p on e.game_id = p.game_id and e.color = p.color
),

game_phases as (
    -- every game once per phase the player moved in, and once as phase `all`
    select distinct m.game_id, coalesce(m.phase, 'unknown') as phase
    from moves as m
    where m.is_player_move and m.game_id in (select game_id from player_games)
    union all
    select game_id, 'all' as phase from player_games
),

phase_moves as (
    select game_id, coalesce(phase, 'unknown') as phase, accuracy, cp_loss
    from engine_moves
    where is_player_move and game_id in (select game_id from analysed)
    union all
    select game_id, 'all' as phase, accuracy, cp_loss
    from engine_moves
    where is_player_move and game_id in (select game_id from analysed)
),

engine_phase as (
    select game_id, phase, avg(accuracy) as move_accuracy, avg(cp_loss) as acpl,
        count(*) as analysed_moves
    from phase_moves
    group by game_id, phase
),

per_game as (
    select
        p.time_class, p.color, p.month, gp.phase,
        a.game_id is not null as is_analysed,
        ep.move_accuracy,
        ep.acpl,
        coalesce(ep.analysed_moves, 0) as analysed_moves,
        case when gp.phase = 'all' then a.engine_accuracy end as game_accuracy
    from player_games as p
    inner join game_phases as gp on p.game_id = gp.game_id
    left join analysed as a on p.game_id = a.game_id
    left join engine_phase as ep on gp.game_id = ep.game_id and gp.phase = ep.phase
),

grouped as (
    select
        label(grouping(time_class), time_class) as time_class,
        label(grouping(color), color) as color,
        phase,
        label(grouping(month), month) as month,
        count(*) as games,
        count(*) filter (where is_analysed) as analysed_games,
        sum(analysed_moves) as analysed_moves,
        count(game_accuracy) as accuracy_games,
        avg(game_accuracy) as game_accuracy,
        stddev_samp(game_accuracy) as game_accuracy_sd,
        count(move_accuracy) as move_games,
        avg(move_accuracy) as move_accuracy,
        stddev_samp(move_accuracy) as move_accuracy_sd,
        avg(acpl) as acpl,
        stddev_samp(acpl) as acpl_sd
    from per_game
    group by grouping sets (
        (time_class, color, phase), (time_class, phase), (color, phase), (phase),
        (time_class, month, phase), (month, phase)
    )
    having count(*) > 0
),

final as (
    select
        $username as username,
        time_class,
        color,
        phase,
        month,
        games,
        analysed_games,
        analysed_games / games as coverage,
        wilson_low(analysed_games, games) as coverage_low,
        wilson_high(analysed_games, games) as coverage_high,
        analysed_moves,
        game_accuracy,
        mean_low(game_accuracy, game_accuracy_sd, accuracy_games, 0.0, 100.0)
            as game_accuracy_low,
        mean_high(game_accuracy, game_accuracy_sd, accuracy_games, 0.0, 100.0)
            as game_accuracy_high,
        move_accuracy,
        mean_low(move_accuracy, move_accuracy_sd, move_games, 0.0, 100.0) as move_accuracy_low,
        mean_high(move_accuracy, move_accuracy_sd, move_games, 0.0, 100.0) as move_accuracy_high,
        acpl,
        mean_low(acpl, acpl_sd, move_games, 0.0, 1000.0) as acpl_low,
        mean_high(acpl, acpl_sd, move_games, 0.0, 1000.0) as acpl_high,
        analysed_games < 10 as low_sample
    from grouped
)

select * from final
order by time_class, color, phase, month
