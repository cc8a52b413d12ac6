-- my repertoire tree: the first 12 plies of my games by colour, and where I leave my main line
with tree_games as (
    -- a non-standard start (chess960, thematic) makes SAN paths incomparable: left out
    select game_id, color, result, score, expected
    from player_games
    where has_moves and initial_fen is null and color in ('white', 'black')
),

lines as (
    -- each game's first 12 plies as one list, then one row per prefix (cheaper than a window)
    select game_id, list(san order by ply) as line, list(is_player_move order by ply) as mine
    from moves
    where ply <= 12 and game_id in (select game_id from tree_games)
    group by game_id
),

with_parent as (
    -- ply 0 is the start position (path ''): the tree's root, reached by every game
    select
        l.game_id,
        k as ply,
        case when k > 0 then l.line[k] end as san,
        case when k > 0 then l.mine[k] end as is_player_move,
        case when k > 0 then array_to_string(l.line[1:k], ' ') else '' end as path,
        case when k > 0 then array_to_string(l.line[1:k - 1], ' ') end as parent_path,
        g.color,
        g.result,
        g.score,
        g.expected
    from lines as l
    inner join tree_games as g on l.game_id = g.game_id
    cross join unnest(range(0, len(l.line) + 1)) as r(k)
),

node_counts as (
    -- per colour, and for both colours together (color `all`: the tree of every game)
    select label(grouping(color), color) as color, ply, parent_path, path, san, count(*) as games
    from with_parent
    group by grouping sets ((color, ply, parent_path, path, san), (ply, parent_path, path, san))
),

ranked_children as (
    select
        node_counts.*,
        row_number() over (partition by color, ply, parent_path order by games desc, san) as rank
    from node_counts
),

top_child as (
    select color, ply, parent_path, san as top_san, games as top_games
    from ranked_children
    where rank = 1
),

deviations as (
    -- my move differs from the one I play most often from the same position
    select w.game_id, min(w.ply) as first_deviation
    from with_parent as w
    inner join top_child as t
        on w.color = t.color and w.ply = t.ply and w.parent_path = t.parent_path
    where w.is_player_move and w.san <> t.top_san
    group by w.game_id
),

nodes as (
    select
        label(grouping(w.color), w.color) as color,
        w.ply,
        w.path,
        any_value(w.san) as move,
        -- whose move it was and "my main line" only mean something within one colour
        case when grouping(w.color) = 0 then bool_and(w.is_player_move) end as my_move,
        results_block(w.result, w.score, w.expected) as results,
        case when grouping(w.color) = 0 then
            bool_and(d.first_deviation is null or d.first_deviation > w.ply)
        end as on_main_line,
        case when grouping(w.color) = 0 then
            count(*) filter (where d.first_deviation = w.ply)
        end as left_main_line_here
    from with_parent as w
    left join deviations as d on w.game_id = d.game_id
    group by grouping sets ((w.color, w.ply, w.path), (w.ply, w.path))
),

listed as (
    -- a path is published when at least max(2, ceil(0.1 % of the tree's games)) games reach it;
    -- games only fall with depth, so the listed paths form a tree again
    select n.color, n.ply, n.path
    from nodes as n
    inner join nodes as root on n.color = root.color and root.ply = 0
    where n.ply = 0 or n.results.games >= greatest(2, ceil(root.results.games / 1000.0))
),

deepest_listed as (
    -- per game of a colour tree, the ply of the deepest listed path on its line
    select w.game_id, max(w.ply) as ply
    from with_parent as w
    inner join listed as l on w.color = l.color and w.ply = l.ply and w.path = l.path
    group by w.game_id
),

left_below as (
    -- a departure on an unlisted path is counted at the deepest listed path above it, so the
    -- published departures still add up to every game that left the main line
    select w.color, w.path, count(*) as games
    from deviations as d
    inner join deepest_listed as dl on d.game_id = dl.game_id and dl.ply < d.first_deviation
    inner join with_parent as w on w.game_id = dl.game_id and w.ply = dl.ply
    group by w.color, w.path
),

final as (
    select
        $username as username,
        'all' as time_class,
        n.color as color,
        n.ply,
        n.path,
        n.move,
        n.my_move,
        unnest(n.results),
        t.top_san as next_move,
        t.top_games as next_move_games,
        n.on_main_line,
        n.left_main_line_here,
        case when n.color <> 'all' then coalesce(b.games, 0) end as left_main_line_below
    from nodes as n
    inner join listed as l on n.color = l.color and n.ply = l.ply and n.path = l.path
    left join top_child as t on n.color = t.color and t.ply = n.ply + 1 and t.parent_path = n.path
    left join left_below as b on n.color = b.color and n.path = b.path
)

select * from final
order by color, path
