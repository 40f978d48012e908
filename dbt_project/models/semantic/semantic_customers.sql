{#- customer_segments for the semantic layer: every column, plus the date of the run that
    segmented them (MetricFlow needs a time dimension) and the customer count of the run (the
    denominator of share_of_customers, so it stays the total whatever the group-by). -#}

{{ config(materialized='view', schema='semantic') }}

with

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

segmentation_runs as (

    select * from {{ ref('segmentation_runs') }}

),

latest_run as (

    select cast(max(run_started_at) as date) as segmented_on
    from segmentation_runs

),

final as (

    select
        customer_segments.*,
        latest_run.segmented_on,
        count(*) over () as all_customers
    from customer_segments
    cross join latest_run

)

select * from final
