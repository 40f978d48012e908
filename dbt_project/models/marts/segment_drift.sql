{#- Spark tables are parquet here (no merge): rows are appended, each build adds a new run_id. -#}
{{ config(
    materialized='incremental',
    unique_key=none if target.type == 'spark' else 'run_id',
) }}

{#- How far this run moved from the previous one, one row per build (incremental): agreement
    on the customers of both runs (adjusted Rand index, from the transitions' contingency
    table), the largest centroid shift of a continuing segment (z units) and the population
    stability index of segment shares by id. The drift tests in _marts__models.yml read it.
    On the first run of a database the comparisons are null. -#}

with

transitions as (

    select * from {{ ref('int_segment_transitions') }}

),

kmeans_fit as (

    select * from {{ ref('ml_kmeans_fit') }}

),

common_cells as (

    select
        from_segment_id,
        to_segment_id,
        cast(count_customers as double) as n
    from transitions
    where from_segment_id is not null and to_segment_id is not null

),

from_sums as (

    select sum(n) as n
    from common_cells
    group by from_segment_id

),

to_sums as (

    select sum(n) as n
    from common_cells
    group by to_segment_id

),

pair_counts as (

    select
        (select sum(n * (n - 1) / 2) from common_cells) as cell_pairs,
        (select sum(n * (n - 1) / 2) from from_sums) as from_pairs,
        (select sum(n * (n - 1) / 2) from to_sums) as to_pairs,
        (select sum(n) * (sum(n) - 1) / 2 from common_cells) as all_pairs

),

agreement as (

    select
        (cell_pairs - from_pairs * to_pairs / all_pairs)
        / nullif((from_pairs + to_pairs) / 2 - from_pairs * to_pairs / all_pairs, 0)
            as adjusted_rand_index
    from pair_counts

),

previous_shares as (

    select
        from_segment_id as segment_id,
        cast(sum(count_customers) as double)
        / sum(sum(count_customers)) over () as share_of_customers
    from transitions
    where from_segment_id is not null
    group by from_segment_id

),

current_shares as (

    select
        to_segment_id as segment_id,
        cast(sum(count_customers) as double)
        / sum(sum(count_customers)) over () as share_of_customers
    from transitions
    where to_segment_id is not null
    group by to_segment_id

),

share_pairs as (

    -- A share of 0 (a segment born or retired) counts as 0.0001, the usual floor that keeps
    -- the logarithm finite.
    select
        greatest(coalesce(previous_shares.share_of_customers, 0), 0.0001) as previous_share,
        greatest(coalesce(current_shares.share_of_customers, 0), 0.0001) as current_share
    from current_shares
    full outer join previous_shares
        on current_shares.segment_id = previous_shares.segment_id

),

stability as (

    select
        sum((current_share - previous_share) * ln(current_share / previous_share))
            as population_stability_index
    from share_pairs

),

counts as (

    select
        coalesce(sum(count_customers) filter (where from_segment_id is not null), 0)
            as count_previous_customers,
        coalesce(sum(count_customers) filter (
            where from_segment_id is not null and to_segment_id is not null
        ), 0) as count_common_customers,
        coalesce(sum(count_customers) filter (where from_segment_id is null), 0)
            as count_new_customers,
        coalesce(sum(count_customers) filter (where to_segment_id is null), 0)
            as count_gone_customers,
        count(distinct from_segment_id) as previous_k
    from transitions

),

fit as (

    select
        any_value(k) as k,
        sum(count_customers) as count_customers,
        max(centroid_shift_z) filter (where lifecycle_event = 'continued')
            as max_centroid_shift_z,
        count(*) filter (where lifecycle_event = 'continued') as count_continued_segments
    from (
        select distinct
            segment_id,
            k,
            count_customers,
            centroid_shift_z,
            lifecycle_event
        from kmeans_fit
    ) as segments

),

final as (

    select
        '{{ invocation_id }}' as run_id,
        cast('{{ run_started_at }}' as timestamp) as run_started_at,
        fit.k,
        cast(
            case when counts.count_previous_customers > 0 then counts.previous_k end as integer
        ) as previous_k,
        cast(fit.count_customers as bigint) as count_customers,
        cast(counts.count_previous_customers as bigint) as count_previous_customers,
        cast(counts.count_common_customers as bigint) as count_common_customers,
        cast(counts.count_new_customers as bigint) as count_new_customers,
        cast(counts.count_gone_customers as bigint) as count_gone_customers,
        fit.count_continued_segments,
        agreement.adjusted_rand_index,
        fit.max_centroid_shift_z,
        case
            when counts.count_previous_customers > 0 then stability.population_stability_index
        end as population_stability_index,
        cast({{ drift_threshold('drift_min_ari') }} as double) as min_ari_threshold,
        cast({{ drift_threshold('drift_max_centroid_shift') }} as double)
            as max_centroid_shift_threshold,
        cast({{ drift_threshold('drift_max_psi') }} as double) as max_psi_threshold
    from fit
    cross join counts
    cross join agreement
    cross join stability

)

select * from final
