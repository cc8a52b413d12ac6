-- my repertoire tree: the first 12 plies of my games by colour, and where I leave my main line
with tree_games as (
    -- a non-standard start (chess960, thematic) makes SAN paths incomparable: left out
    select game_id, co, result, score, expected
    from pg
    where has_moves and initial_fen is null and co in ('white', 'black')
),

lines as (
    -- each game's first 12 plies as one list, then one row per prefix (cheaper than a window)
    select game_id, list(san order by ply) as line, list(is_player_move order by ply) as mine
    from moves
    where ply <= 12 and game_id in (select game_id from tree_games)
    group by game_id
),

with_parent as (
    select
        l.game_id,
        k as ply,
        l.line[k] as san,
        l.mine[k] as is_player_move,
        array_to_string(l.line[1:k], ' ') as path,
        array_to_string(l.line[1:k - 1], ' ') as parent_path,
        g.co,
        g.result,
        g.score,
        g.expected
    from lines as l
    inner join tree_games as g on l.game_id = g.game_id
    cross join unnest(range(1, len(l.line) + 1)) as r(k)
),

node_counts as (
    -- per colour, and for both colours together (color `all`: the tree of every game)
    select label(grouping(co), co) as co, ply, parent_path, path, san, count(*) as games
    from with_parent
    group by grouping sets ((co, ply, parent_path, path, san), (ply, parent_path, path, san))
),

ranked_children as (
    select
        node_counts.*,
        row_number() over (partition by co, ply, parent_path order by games desc, san) as rank
    from node_counts
),

top_child as (
    select co, ply, parent_path, san as top_san, games as top_games
    from ranked_children
    where rank = 1
),

deviations as (
    -- my move differs from the one I play most often from the same position
    select w.game_id, min(w.ply) as first_deviation
    from with_parent as w
    inner join top_child as t
        on w.co = t.co and w.ply = t.ply and w.parent_path = t.parent_path
    where w.is_player_move and w.san <> t.top_san
    group by w.game_id
),

nodes as (
    select
        label(grouping(w.co), w.co) as co,
        w.ply,
        w.path,
        any_value(w.san) as move,
        -- whose move it was and "my main line" only mean something within one colour
        case when grouping(w.co) = 0 then bool_and(w.is_player_move) end as my_move,
        count(*) as games,
        count(*) filter (where w.result = 'win') as wins,
        count(*) filter (where w.result = 'draw') as draws,
        count(*) filter (where w.result = 'loss') as losses,
        avg(w.score) as score,
        stddev_samp(w.score) as score_sd,
        avg(w.expected) as expected_score,
        avg(w.score - w.expected) as residual,
        case when grouping(w.co) = 0 then
            bool_and(d.first_deviation is null or d.first_deviation > w.ply)
        end as on_main_line,
        case when grouping(w.co) = 0 then
            count(*) filter (where d.first_deviation = w.ply)
        end as left_main_line_here
    from with_parent as w
    left join deviations as d on w.game_id = d.game_id
    group by grouping sets ((w.co, w.ply, w.path), (w.ply, w.path))
),

final as (
    select
        $username as username,
        'all' as time_class,
        n.co as color,
        n.ply,
        n.path,
        n.move,
        n.my_move,
        n.games,
        n.wins,
        n.draws,
        n.losses,
        n.score,
        score_interval_low(n.score, n.score_sd, n.games) as score_low,
        score_interval_high(n.score, n.score_sd, n.games) as score_high,
        n.expected_score,
        n.residual,
        n.games < 10 as low_sample,
        t.top_san as next_move,
        t.top_games as next_move_games,
        n.on_main_line,
        n.left_main_line_here
    from nodes as n
    left join top_child as t on n.co = t.co and t.ply = n.ply + 1 and t.parent_path = n.path
    -- paths played once are noise and would dominate the published size
    where n.games >= 2
)

select * from final
order by color, path
