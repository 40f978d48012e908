{#- Spark tables are parquet here (no merge): blocks are appended, each build adds a new run_id. -#}
{{ config(
    materialized='incremental',
    unique_key=none if target.type == 'spark' else ['run_id', 'segment_id'],
) }}

{#- The label map of every run: each segment id of the run with its lifecycle event
    (born, continued, split) and the previous segment it continues or split from, plus one
    row per id retired in the run (merged into the segment that took most of its customers,
    or retired). Incremental: one block per build. -#}

with

kmeans_fit as (

    select * from {{ ref('ml_kmeans_fit') }}

),

previous_fit as (

    select * from {{ ref('ml_previous_fit') }}

),

transitions as (

    select * from {{ ref('int_segment_transitions') }}

),

segments as (

    select distinct
        segment_id,
        segment_name,
        previous_segment_id,
        related_segment_id,
        centroid_shift_z,
        share_from_related,
        count_customers,
        lifecycle_event,
        id_assignment
    from kmeans_fit

),

run_facts as (

    select any_value(id_assignment) as id_assignment
    from kmeans_fit

),

previous_segments as (

    select distinct
        segment_id,
        segment_name
    from previous_fit

),

retired as (

    select
        previous_segments.segment_id,
        previous_segments.segment_name
    from previous_segments
    left join segments
        on previous_segments.segment_id = segments.segment_id
    where segments.segment_id is null

),

destinations as (

    -- Where most of a retired segment's returning customers went (ties: the lower id).
    select
        from_segment_id,
        to_segment_id,
        share_of_from_segment,
        row_number() over (
            partition by from_segment_id order by count_customers desc, to_segment_id asc
        ) as destination_rank
    from transitions
    where from_segment_id is not null and to_segment_id is not null

),

retired_rows as (

    select
        retired.segment_id,
        retired.segment_name,
        cast(null as integer) as previous_segment_id,
        destinations.to_segment_id as related_segment_id,
        cast(null as double) as centroid_shift_z,
        destinations.share_of_from_segment as share_from_related,
        cast(0 as bigint) as count_customers,
        case when destinations.to_segment_id is null then 'retired' else 'merged' end
            as lifecycle_event,
        run_facts.id_assignment
    from retired
    cross join run_facts
    left join destinations
        on
            retired.segment_id = destinations.from_segment_id
            and destinations.destination_rank = 1

),

all_rows as (

    select * from segments
    union all
    select * from retired_rows

),

final as (

    select
        '{{ invocation_id }}' as run_id,
        cast('{{ run_started_at }}' as timestamp) as run_started_at,
        segment_id,
        segment_name,
        previous_segment_id,
        centroid_shift_z,
        count_customers,
        id_assignment,
        lifecycle_event,
        related_segment_id,
        share_from_related
    from all_rows

)

select * from final
