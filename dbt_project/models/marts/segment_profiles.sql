with

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

segment_names as (

    select * from {{ ref('int_segment_names') }}

),

region_counts as (

    select
        segment_id,
        region_name,
        count(*) as count_customers
    from customer_segments
    group by segment_id, region_code, region_name
    qualify row_number() over (
        partition by segment_id order by count(*) desc, region_code
    ) = 1

),

channel_counts as (

    select
        segment_id,
        channel_name,
        count(*) as count_customers
    from customer_segments
    group by segment_id, channel_code, channel_name
    qualify row_number() over (
        partition by segment_id order by count(*) desc, channel_code
    ) = 1

),

segment_totals as (

    select
        segment_id,
        count(*) as count_customers,
        sum(customer_lifetime_value) as total_customer_lifetime_value,
        avg(customer_lifetime_value) as avg_customer_lifetime_value,
        median(customer_lifetime_value) as median_customer_lifetime_value,
        avg(minutes_watched) as avg_minutes_watched,
        median(minutes_watched) as median_minutes_watched,
        avg(distance_to_centroid) as avg_distance_to_centroid,
        cast(count_if(minutes_was_missing) as bigint) as count_minutes_missing
    from customer_segments
    group by segment_id

),

final as (

    select
        segment_totals.segment_id,
        segment_names.segment_name,
        segment_totals.count_customers,
        segment_totals.count_customers / sum(segment_totals.count_customers) over ()
            as share_of_customers,
        segment_totals.total_customer_lifetime_value,
        segment_totals.total_customer_lifetime_value
        / sum(segment_totals.total_customer_lifetime_value) over ()
            as share_of_customer_lifetime_value,
        segment_totals.avg_customer_lifetime_value,
        segment_totals.median_customer_lifetime_value,
        segment_totals.avg_minutes_watched,
        segment_totals.median_minutes_watched,
        region_counts.region_name as dominant_region_name,
        region_counts.count_customers / segment_totals.count_customers
            as share_in_dominant_region,
        channel_counts.channel_name as dominant_channel_name,
        channel_counts.count_customers / segment_totals.count_customers
            as share_in_dominant_channel,
        segment_totals.count_minutes_missing,
        segment_totals.avg_distance_to_centroid
    from segment_totals
    inner join segment_names
        on segment_totals.segment_id = segment_names.segment_id
    inner join region_counts
        on segment_totals.segment_id = region_counts.segment_id
    inner join channel_counts
        on segment_totals.segment_id = channel_counts.segment_id

)

select * from final
