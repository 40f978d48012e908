{#- This run's customers against the previous run's: one row per (from segment, to segment)
    cell, with customers new in this run (from null) and gone since the last one (to null).
    No rows on a fresh database (no previous assignments). -#}

with

previous_assignments as (

    select * from {{ ref('ml_previous_assignments') }}

),

customer_assignments as (

    select * from {{ ref('ml_customer_assignments') }}

),

previous_runs as (

    select count(*) as count_previous_customers
    from previous_assignments

),

both_runs as (

    select
        previous_assignments.segment_id as from_segment_id,
        customer_assignments.segment_id as to_segment_id
    from customer_assignments
    full outer join previous_assignments
        on customer_assignments.customer_id = previous_assignments.customer_id

),

cells as (

    select
        from_segment_id,
        to_segment_id,
        count(*) as count_customers
    from both_runs
    group by from_segment_id, to_segment_id

),

common as (

    select
        from_segment_id,
        to_segment_id,
        count_customers,
        case
            when from_segment_id is not null and to_segment_id is not null
                then count_customers
        end as count_common_customers
    from cells

),

final as (

    select
        common.from_segment_id,
        common.to_segment_id,
        case
            when common.from_segment_id is null then 'new'
            when common.to_segment_id is null then 'gone'
            when common.from_segment_id = common.to_segment_id then 'stayed'
            else 'moved'
        end as transition_kind,
        common.count_customers,
        cast(common.count_common_customers as double)
        / sum(common.count_common_customers) over (partition by common.from_segment_id)
            as share_of_from_segment,
        cast(common.count_common_customers as double)
        / sum(common.count_common_customers) over (partition by common.to_segment_id)
            as share_of_to_segment,
        cast(common.count_common_customers as double)
        / sum(common.count_common_customers) over () as share_of_common_customers
    from common
    cross join previous_runs
    where previous_runs.count_previous_customers > 0

)

select * from final
