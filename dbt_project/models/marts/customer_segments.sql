with

customers as (

    select * from {{ ref('stg_customers') }}

),

assignments as (

    select * from {{ ref('ml_customer_assignments') }}

),

ward_clusters as (

    select * from {{ ref('ml_ward_clusters') }}

),

segment_names as (

    select * from {{ ref('int_segment_names') }}

),

regions as (

    select * from {{ ref('regions') }}

),

channels as (

    select * from {{ ref('channels') }}

),

final as (

    select
        customers.customer_id,
        assignments.segment_id,
        segment_names.segment_name,
        assignments.distance_to_centroid,
        assignments.second_segment_id,
        assignments.distance_to_second_centroid,
        assignments.margin as assignment_margin,
        ward_clusters.ward_cluster,
        customers.minutes_watched,
        customers.minutes_was_missing,
        customers.customer_lifetime_value,
        customers.region_code,
        regions.region_name,
        customers.channel_code,
        channels.channel_name,
        customers.source_row_number
    from customers
    inner join assignments
        on customers.customer_id = assignments.customer_id
    inner join ward_clusters
        on customers.customer_id = ward_clusters.customer_id
    inner join segment_names
        on assignments.segment_id = segment_names.segment_id
    inner join regions
        on customers.region_code = regions.region_code
    inner join channels
        on customers.channel_code = channels.channel_code

)

select * from final
